/**
 * memory group: decisions per second on the memory store against rate-limiter-flexible's RateLimiterMemory,
 * express-rate-limit's MemoryStore and a bare awaited Map token bucket; heap bytes per tracked key; a bounded
 * store under 10M distinct keys.
 */
import type { Child } from './lib/child.js';
import type { BenchGroup, GroupContext } from './lib/group.js';
import { pick } from './lib/group.js';
import { ratioGoal, valueGoal } from './lib/goals.js';
import type { Goal, Row } from './lib/report.js';
import { compareHosts, initContender, startHost, throughputRows } from './lib/rotation.js';
import { summarize } from './lib/stats.js';
import { landedSluiceLimiters, SLUICE_LIMITER_OPTIONS, type BoundedHeapResult, type MemoryParams } from './memory-contenders.js';

const MODULE = 'memory-contenders.ts';
const BARE = 'bare Map token bucket';
const RLM = 'RateLimiterMemory';
const ERL = 'express-rate-limit MemoryStore';
const sluiceName = (algorithm: string) => `sluice ${algorithm}`;
const SYNC_DECIDE = 'sluice tokenBucket, sync decide()';
const METRICS_OFF = 'sluice tokenBucket, metrics: false';

interface ContenderSpec {
  name: string;
  export: string;
  params: MemoryParams;
}

function contenders(keyCount: number, algorithms: readonly string[], withSync: boolean): ContenderSpec[] {
  return [
    { name: BARE, export: 'bareMap', params: { keyCount } },
    ...algorithms.map((algorithm) => ({ name: sluiceName(algorithm), export: 'sluiceLimiter', params: { keyCount, algorithm } })),
    ...(withSync
      ? [
          { name: SYNC_DECIDE, export: 'sluiceLimiter', params: { keyCount, algorithm: 'tokenBucket', api: 'decide' as const } },
          { name: METRICS_OFF, export: 'sluiceLimiter', params: { keyCount, algorithm: 'tokenBucket', metrics: false as const } },
        ]
      : []),
    { name: RLM, export: 'rateLimiterMemory', params: { keyCount } },
    { name: ERL, export: 'expressRateLimitMemoryStore', params: { keyCount } },
  ];
}

async function throughput(context: GroupContext, comparison: string, keyCount: number, algorithms: readonly string[]): Promise<Row[]> {
  context.log(comparison);
  const samples = await compareHosts(
    contenders(keyCount, algorithms, true).map((spec) => ({
      ...spec,
      module: MODULE,
      sampleMs: pick(context, 300, 30),
      warmupMs: pick(context, 500, 30),
      warmupOps: keyCount,
    })),
    { rounds: context.rounds, log: context.log, shareProcess: context.quick },
  );
  for (const [name, list] of samples) {
    const refused = list.reduce((sum, s) => sum + (s.extra?.refused ?? 0), 0);
    if (refused > 0) throw new Error(`${name} refused ${refused} decisions: the comparison must admit every decision`);
  }
  return throughputRows(samples, { comparison, unit: 'decisions/s', ratiosVs: [BARE, RLM, METRICS_OFF] });
}

/** Each contender alone in a fresh process with --expose-gc: heap after minus heap before, over the keys. */
async function heapPerKey(context: GroupContext, comparison: string, count: number, algorithms: readonly string[]): Promise<Row[]> {
  context.log(comparison);
  // Bytes do not depend on CPU contention, so the processes measure at the same time. A quick run measures every
  // contender in one process, one after the other.
  const specs = contenders(0, algorithms, false);
  const heapOf = async (host: Child, spec: ContenderSpec): Promise<Row> => {
    await initContender(host, spec.name, { module: MODULE, export: spec.export, params: spec.params });
    const bytes = await host.request<number>({ type: 'measure', name: spec.name, measurement: 'heapPerKey', args: { count } });
    return { comparison, contender: spec.name, unit: 'B/key', higherIsBetter: false, value: summarize([bytes]) };
  };
  if (context.quick) {
    const host = await startHost('heap', ['--expose-gc']);
    try {
      const rows: Row[] = [];
      for (const spec of specs) rows.push(await heapOf(host, spec));
      return rows;
    } finally {
      await host.stop();
    }
  }
  return Promise.all(
    specs.map(async (spec) => {
      const host = await startHost(spec.name, ['--expose-gc']);
      try {
        return await heapOf(host, spec);
      } finally {
        await host.stop();
      }
    }),
  );
}

async function boundedHeap(context: GroupContext, comparison: string, count: number, maxKeys: number, checkpoint: number): Promise<BoundedHeapResult> {
  context.log(comparison);
  const child = await startHost('bounded', ['--expose-gc']);
  try {
    await initContender(child, 'bounded', { module: MODULE, export: 'sluiceLimiter', params: { keyCount: 0, maxKeys } });
    return await child.request<BoundedHeapResult>({ type: 'measure', name: 'bounded', measurement: 'boundedHeap', args: { count, checkpoint } });
  } finally {
    await child.stop();
  }
}

export const group: BenchGroup = {
  name: 'memory',
  async run(context) {
    const algorithms = landedSluiceLimiters();
    const keyCount = pick(context, 1_000_000, 20_000);
    const keysLabel = context.quick ? `${keyCount / 1000}k` : '1M';
    const HOT = 'one hot key, each decision awaited';
    const KEYS = `${keysLabel} distinct keys, each decision awaited`;
    const HEAP = `heap bytes per tracked key at ${keysLabel} keys (keys included)`;
    const rows: Row[] = [];
    rows.push(...(await throughput(context, HOT, 1, algorithms)));
    rows.push(...(await throughput(context, KEYS, keyCount, algorithms)));
    rows.push(...(await heapPerKey(context, HEAP, keyCount, algorithms)));

    const manyKeys = pick(context, 10_000_000, 200_000);
    const maxKeys = pick(context, 100_000, 10_000);
    const checkpoint = manyKeys / 10;
    const BOUNDED = `${manyKeys / 1e6}M distinct keys on memoryStore({ maxKeys: ${maxKeys / 1000}k }), sync decide()`;
    const bounded = await boundedHeap(context, BOUNDED, manyKeys, maxKeys, checkpoint);
    const one = (contender: string, unit: string, value: number, higherIsBetter = false): Row => ({
      comparison: BOUNDED,
      contender,
      unit,
      higherIsBetter,
      value: summarize([value]),
    });
    rows.push(
      one('decisions (every one a new key, evicting)', 'decisions/s', bounded.decisionsPerSec, true),
      one('peak heap growth during the run', 'MB', bounded.peakHeapMB),
      one(`retained after ${checkpoint / 1e6}M keys`, 'MB', bounded.retainedAtCheckpointMB),
      one(`retained after ${manyKeys / 1e6}M keys`, 'MB', bounded.retainedAtEndMB),
      one('keys held at the end', 'keys', bounded.keysHeld),
    );

    const goals: Goal[] = [];
    for (const algorithm of algorithms) {
      const contender = sluiceName(algorithm);
      goals.push(
        ratioGoal(rows, { id: `memory.hot.rlm.${algorithm}`, text: `${contender} ≥ 2× RateLimiterMemory, one hot key`, comparison: HOT, contender, vs: RLM, atLeast: 2 }),
      );
    }
    const headline = sluiceName('tokenBucket');
    goals.push(
      ratioGoal(rows, { id: 'memory.hot.bare', text: `${headline} ≥ 85% of the bare awaited Map loop, one hot key`, comparison: HOT, contender: headline, vs: BARE, atLeast: 0.85 }),
      ratioGoal(rows, { id: 'memory.keys.rlm', text: `${headline} ≥ 2× RateLimiterMemory over ${keysLabel} keys`, comparison: KEYS, contender: headline, vs: RLM, atLeast: 2 }),
    );
    for (const algorithm of algorithms) {
      const contender = sluiceName(algorithm);
      goals.push(valueGoal(rows, { id: `memory.heap.${algorithm}`, text: `${contender} ≤ 80 B per tracked key`, comparison: HEAP, contender, atMost: 80 }));
    }
    const bound = bounded.retainedAtCheckpointMB * 1.1 + 1;
    goals.push({
      id: 'memory.bounded',
      text: `${manyKeys / 1e6}M keys with maxKeys ${maxKeys / 1000}k stay bounded (keys held ≤ maxKeys; retained heap at the end ≤ 1.1× + 1 MB of that after ${checkpoint / 1e6}M)`,
      measured: `${bounded.keysHeld} keys; retained ${bounded.retainedAtEndMB.toFixed(1)} MB vs ${bounded.retainedAtCheckpointMB.toFixed(1)} MB; peak growth ${bounded.peakHeapMB.toFixed(1)} MB`,
      pass: bounded.keysHeld <= maxKeys && bounded.retainedAtEndMB <= bound,
    });
    goals.push(
      ratioGoal(rows, { id: 'memory.metrics', text: `metrics on (the default) costs ≤ 10% of ${headline}'s decisions/s, one hot key`, comparison: HOT, contender: headline, vs: METRICS_OFF, atLeast: 0.9 }),
    );

    const notes = [
      'Every contender admits every decision and runs alone in its own process; samples rotate between the processes. ' +
        'Keys are IPv4 strings (10.x.y.z). Peers: RateLimiterMemory({ points: 1e9, duration: 3600 }); express-rate-limit MemoryStore with windowMs 1 h ' +
        '(its middleware compares the count with the limit; here the loop does).',
      `sluice contenders: ${algorithms.map((name) => SLUICE_LIMITER_OPTIONS[name]).join('; ')} — limits no run reaches, refill slow enough that every key keeps its state.`,
      'The bare loop is an async function over a Map of { tokens, lastMs } objects: clock read, lookup, refill, take; it resolves a boolean where a limiter resolves a decision object.',
      'Heap per key is (heapUsed + arrayBuffers) after two forced collections, minus the same before, divided by the keys; the key strings are made inside the measured span. ' +
        'The exact sliding window keeps a log per key (a ring of [time, cost] pairs), so its bytes per key are not comparable with fixed-size states.',
      'concurrency, adaptive and composite limiters are not in this group: they hold slots or wrap the algorithms above.',
      'Metrics are on by default (the default registry): every sluice row records them except "metrics: false", the baseline of the metrics goal.',
    ];
    return { title: 'decisions on the memory store', rows, goals, notes };
  },
};
