/** latency group: p50 and p99 of a single decision, per store (peers beside them for scale). */
import { startRedis } from '../test/support/redis.js';
import type { BenchGroup, GroupContext } from './lib/group.js';
import { pick } from './lib/group.js';
import type { Row } from './lib/report.js';
import { compareHosts } from './lib/rotation.js';
import { summarize } from './lib/stats.js';
import type { LatencyParams } from './latency-contenders.js';

const MODULE = 'latency-contenders.ts';

async function measure(
  context: GroupContext,
  comparison: string,
  contenders: ReadonlyArray<{ name: string; export: string }>,
  params: LatencyParams,
  sampleMs: number,
): Promise<Row[]> {
  context.log(comparison);
  const samples = await compareHosts(
    contenders.map((spec) => ({
      ...spec,
      module: MODULE,
      params,
      sampleMs,
      warmupMs: pick(context, 500, 30),
      warmupOps: params.keyCount,
    })),
    { rounds: context.rounds, log: context.log, shareProcess: context.quick },
  );
  return [...samples].map(([name, list]) => ({
    comparison,
    contender: name,
    unit: 'µs',
    higherIsBetter: false,
    value: summarize(list.map((s) => s.extra!.p50Us!)),
    p99Us: summarize(list.map((s) => s.extra!.p99Us!)),
    cpuNsPerOp: summarize(list.map((s) => s.cpuNs / s.ops)),
  }));
}

export const group: BenchGroup = {
  name: 'latency',
  async run(context) {
    const keyCount = 10_000;
    const rows: Row[] = [];
    rows.push(
      ...(await measure(
        context,
        `memory store: one decision at a time over ${keyCount / 1000}k keys`,
        [
          { name: 'clock reads only (the floor)', export: 'clockFloor' },
          { name: 'sluice memory store, sync decide()', export: 'memoryDecide' },
          { name: 'sluice memory store, await consume()', export: 'memoryConsume' },
          { name: 'RateLimiterMemory, await consume()', export: 'rateLimiterMemory' },
        ],
        { keyCount },
        pick(context, 300, 30),
      )),
    );
    const server = await startRedis();
    try {
      rows.push(
        ...(await measure(
          context,
          `Redis (local redis-server, loopback): one decision at a time over ${keyCount / 1000}k keys`,
          [
            { name: 'sluice redisStore, await consume()', export: 'redisConsume' },
            { name: 'sluice hybridStore, await consume() (admitted: asks Redis)', export: 'hybridConsume' },
            { name: 'RateLimiterRedis, await consume()', export: 'rateLimiterRedis' },
          ],
          { keyCount, port: server.port },
          pick(context, 1000, 60),
        )),
      );
    } finally {
      await server.stop();
    }
    const notes = [
      'Each operation is timed alone with performance.now(); the "clock reads only" row is the cost of timing itself, included in every other row. ' +
        'The figure is p50 (median over rounds, with the min and max over rounds); p99 is the median over rounds.',
      'The Redis rows run against a redis-server the bench starts on a free port of this machine (loopback): a round trip is most of their latency.',
    ];
    return { title: 'latency of a single decision', rows, goals: [], notes };
  },
};
