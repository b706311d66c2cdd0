/** Per-operation latency recording for contenders: a ring of timings, summarized as percentiles on collect. */
import { performance } from 'node:perf_hooks';
import type { Contender } from './contender.js';
import { percentile } from './stats.js';

const RING = 1 << 21;

/** Records one timing per operation; `collect` gives p50, p99 and p99.9 in microseconds since the last collect. */
export class LatencyRecorder {
  private readonly timings = new Float64Array(RING);
  private count = 0;

  record(ms: number): void {
    this.timings[this.count++ & (RING - 1)] = ms;
  }

  collect(): Record<string, number> {
    const n = Math.min(this.count, RING);
    const sorted = this.timings.slice(0, n).sort();
    this.count = 0;
    return {
      p50Us: percentile(sorted, 0.5) * 1000,
      p99Us: percentile(sorted, 0.99) * 1000,
      p999Us: percentile(sorted, 0.999) * 1000,
    };
  }
}

/** A contender timing each awaited call of `decide(key)` over a cycle of keys. */
export function timedAwaitedLoop(decide: (key: string) => Promise<unknown>, keys: readonly string[], close?: () => unknown): Contender {
  const recorder = new LatencyRecorder();
  let next = 0;
  return {
    async run(ops) {
      for (let i = 0; i < ops; i++) {
        const start = performance.now();
        await decide(keys[next]!);
        recorder.record(performance.now() - start);
        if (++next === keys.length) next = 0;
      }
    },
    collect: () => recorder.collect(),
    ...(close ? { close: async () => void (await close()) } : {}),
  };
}

/** The same for a synchronous call. */
export function timedSyncLoop(decide: (key: string) => unknown, keys: readonly string[]): Contender {
  const recorder = new LatencyRecorder();
  let next = 0;
  return {
    run(ops) {
      for (let i = 0; i < ops; i++) {
        const start = performance.now();
        decide(keys[next]!);
        recorder.record(performance.now() - start);
        if (++next === keys.length) next = 0;
      }
    },
    collect: () => recorder.collect(),
  };
}
