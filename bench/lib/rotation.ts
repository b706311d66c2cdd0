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

/** Starts a host process (bench/lib/host.ts). */
export function startHost(label: string, nodeFlags: readonly string[] = []): Promise<Child> {
  return Child.start(label, `${benchDir}lib/host.ts`, { nodeFlags: [...nodeFlags] });
}

/** Builds contender `name` in `host` (a process of its own, or one shared by a quick run). */
export async function initContender(host: Child, name: string, options: Pick<HostSamplerOptions, 'module' | 'export' | 'params'>): Promise<void> {
  await host.request({ type: 'init', name, module: `${benchDir}${options.module}`, export: options.export, params: options.params ?? {} });
}

/** A contender in a host process. `shared` hosts are stopped by their owner, not by the sampler. */
export async function hostSampler(name: string, options: HostSamplerOptions, shared?: Child): Promise<Sampler & { child: Child }> {
  const child = shared ?? (await startHost(name, options.nodeFlags));
  await initContender(child, name, options);
  return {
    name,
    child,
    warm: async () => {
      await child.request({ type: 'sample', name, durationMs: options.warmupMs, minOps: options.warmupOps ?? 0 });
    },
    sample: () => child.request<Sample>({ type: 'sample', name, durationMs: options.sampleMs }),
    close: () => (shared ? Promise.resolve() : child.stop()),
  };
}

/**
 * Starts every contender's host (they idle until sampled), rotates them, stops them. With `shareProcess` (a quick
 * smoke run) all contenders live in one process: faster to start, but their figures are not comparable.
 */
export async function compareHosts(
  contenders: ReadonlyArray<{ name: string } & HostSamplerOptions>,
  options: RotationOptions & { shareProcess?: boolean },
): Promise<Map<string, Sample[]>> {
  const shared = options.shareProcess ? await startHost('shared host', contenders[0]?.nodeFlags) : undefined;
  const samplers: Sampler[] = [];
  try {
    if (shared) for (const { name, ...rest } of contenders) samplers.push(await hostSampler(name, rest, shared));
    else samplers.push(...(await Promise.all(contenders.map(({ name, ...rest }) => hostSampler(name, rest)))));
    return await rotate(samplers, options);
  } finally {
    await Promise.all(samplers.map((sampler) => sampler.close()));
    await shared?.stop();
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
