/**
 * Runs the contenders of one comparison back to back in rotation (a, b, c, a, b, c, ...), so a slow phase of a
 * noisy host hits every contender alike, and turns the samples into rows with paired ratios.
 */
import { Child, benchDir } from './child.js';
import type { Sample } from './contender.js';
import type { Row } from './report.js';
import { pairedRatios, summarize } from './stats.js';

export interface Sampler {
  readonly name: string;
  /** Runs before the first round (JIT warm-up, filling a store). */
  warm(): Promise<void>;
  sample(): Promise<Sample>;
  close(): Promise<void>;
}

export interface RotationOptions {
  rounds: number;
  log?: (line: string) => void;
}

/** Samples every sampler once per round, in the same order each round. Returns the samples by sampler name. */
export async function rotate(samplers: readonly Sampler[], { rounds, log }: RotationOptions): Promise<Map<string, Sample[]>> {
  const results = new Map<string, Sample[]>(samplers.map((sampler) => [sampler.name, []]));
  for (const sampler of samplers) await sampler.warm();
  for (let round = 0; round < rounds; round++) {
    for (const sampler of samplers) results.get(sampler.name)!.push(await sampler.sample());
    log?.(`  round ${round + 1}/${rounds}`);
  }
  return results;
}

export interface HostSamplerOptions {
  /** The module (path relative to bench/) exporting the contender factory. */
  module: string;
  export: string;
  params?: unknown;
  sampleMs: number;
  warmupMs: number;
  /** The warm-up runs at least this many operations (e.g. one pass over every key, so the store is full). */
  warmupOps?: number;
  nodeFlags?: string[];
}

/** A contender in its own host process (bench/lib/host.ts). */
export async function hostSampler(name: string, options: HostSamplerOptions): Promise<Sampler & { child: Child }> {
  const child = await Child.start(name, `${benchDir}lib/host.ts`, { nodeFlags: options.nodeFlags ?? [] });
  await child.request({ type: 'init', module: `${benchDir}${options.module}`, export: options.export, params: options.params ?? {} });
  return {
    name,
    child,
    warm: async () => {
      await child.request({ type: 'sample', durationMs: options.warmupMs, minOps: options.warmupOps ?? 0 });
    },
    sample: () => child.request<Sample>({ type: 'sample', durationMs: options.sampleMs }),
    close: () => child.stop(),
  };
}

/** Starts every host at once (they idle until sampled), rotates them, stops them. */
export async function compareHosts(
  contenders: ReadonlyArray<{ name: string } & HostSamplerOptions>,
  options: RotationOptions,
): Promise<Map<string, Sample[]>> {
  const samplers = await Promise.all(contenders.map(({ name, ...rest }) => hostSampler(name, rest)));
  try {
    return await rotate(samplers, options);
  } finally {
    await Promise.all(samplers.map((sampler) => sampler.close()));
  }
}

export interface ThroughputRowsOptions {
  comparison: string;
  /** Unit of the throughput figure. Default 'ops/s'. */
  unit?: string;
  /** Paired ratios are given against each of these contenders. */
  ratiosVs?: readonly string[];
  notes?: Record<string, string>;
}

/** One row per contender: operations per second, CPU time per operation, and paired ratios against others. */
export function throughputRows(samples: Map<string, Sample[]>, options: ThroughputRowsOptions): Row[] {
  const rates = new Map([...samples].map(([name, list]) => [name, list.map((s) => (s.ops / s.wallNs) * 1e9)]));
  return [...samples].map(([name, list]) => {
    const ratios = (options.ratiosVs ?? [])
      .filter((vs) => vs !== name && rates.has(vs))
      .map((vs) => ({ vs, value: pairedRatios(rates.get(name)!, rates.get(vs)!) }));
    return {
      comparison: options.comparison,
      contender: name,
      unit: options.unit ?? 'ops/s',
      higherIsBetter: true,
      value: summarize(rates.get(name)!),
      cpuNsPerOp: summarize(list.map((s) => s.cpuNs / s.ops)),
      ratios,
      ...(options.notes?.[name] ? { note: options.notes[name] } : {}),
    };
  });
}

/** One row per contender: nanoseconds per operation (lower is better), with paired ratios against others. */
export function nsPerOpRows(samples: Map<string, Sample[]>, options: ThroughputRowsOptions): Row[] {
  const costs = new Map([...samples].map(([name, list]) => [name, list.map((s) => s.wallNs / s.ops)]));
  return [...samples].map(([name, list]) => {
    const ratios = (options.ratiosVs ?? [])
      .filter((vs) => vs !== name && costs.has(vs))
      .map((vs) => ({ vs, value: pairedRatios(costs.get(name)!, costs.get(vs)!) }));
    return {
      comparison: options.comparison,
      contender: name,
      unit: options.unit ?? 'ns/op',
      higherIsBetter: false,
      value: summarize(costs.get(name)!),
      cpuNsPerOp: summarize(list.map((s) => s.cpuNs / s.ops)),
      ratios,
      ...(options.notes?.[name] ? { note: options.notes[name] } : {}),
    };
  });
}
