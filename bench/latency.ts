/** latency group: p50 and p99 of a single decision, per store (peers beside them for scale). */
import type { BenchGroup } from './lib/group.js';
import { pick } from './lib/group.js';
import type { Row } from './lib/report.js';
import { compareHosts } from './lib/rotation.js';
import { summarize } from './lib/stats.js';

const MODULE = 'latency-contenders.ts';

export const group: BenchGroup = {
  name: 'latency',
  async run(context) {
    const keyCount = 10_000;
    const MEMORY = `one decision at a time over ${keyCount / 1000}k keys, in process`;
    context.log(MEMORY);
    const contenders = [
      { name: 'clock reads only (the floor)', export: 'clockFloor' },
      { name: 'sluice memory store, sync decide()', export: 'memoryDecide' },
      { name: 'sluice memory store, await consume()', export: 'memoryConsume' },
      { name: 'RateLimiterMemory, await consume()', export: 'rateLimiterMemory' },
    ];
    const samples = await compareHosts(
      contenders.map((spec) => ({
        ...spec,
        module: MODULE,
        params: { keyCount },
        sampleMs: pick(context, 300, 30),
        warmupMs: pick(context, 500, 30),
        warmupOps: keyCount,
      })),
      { rounds: context.rounds, log: context.log },
    );
    const rows: Row[] = [...samples].map(([name, list]) => ({
      comparison: MEMORY,
      contender: name,
      unit: 'µs',
      higherIsBetter: false,
      value: summarize(list.map((s) => s.extra!.p50Us!)),
      p99Us: summarize(list.map((s) => s.extra!.p99Us!)),
      cpuNsPerOp: summarize(list.map((s) => s.cpuNs / s.ops)),
    }));
    const notes = [
      'Each operation is timed alone with performance.now(); the "clock reads only" row is the cost of timing itself, included in every other row. The figure is p50 (median over rounds, with the min and max over rounds); p99 is the median over rounds.',
      'Redis and hybrid stores are added here when they land on main.',
    ];
    return { title: 'latency of a single decision', rows, goals: [], notes };
  },
};
