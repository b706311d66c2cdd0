/**
 * One of many processes hammering one key per algorithm on a shared Redis (test/stores/redis-exactness.test.ts).
 * argv[2]: JSON { port, runId, children, consumes, limit, windowMs, inFlight }. Prints "ready", waits for "go" on
 * stdin, then prints one JSON line: { [algorithm]: { admitted, refused, degraded } }. Before each algorithm every
 * process meets at a barrier in Redis, so no process runs ahead and takes a whole limit alone.
 */
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { redisStore } from '../../src/stores/redis.js';
import { LIMITER_CASES } from './limiter-cases.js';

interface ChildParams {
  port: number;
  runId: string;
  children: number;
  consumes: number;
  limit: number;
  windowMs: number;
  inFlight: number;
}

const params = JSON.parse(process.argv[2]!) as ChildParams;
const client = new Redis({ host: '127.0.0.1', port: params.port, enableOfflineQueue: false });
client.on('error', () => {});
const store = redisStore({ client, timeout: 10_000 });

async function hammer(consume: () => Promise<{ allowed: boolean; degraded?: boolean }>) {
  const counts = { admitted: 0, refused: 0, degraded: 0 };
  let next = 0;
  await Promise.all(
    Array.from({ length: params.inFlight }, async () => {
      while (next < params.consumes) {
        next++;
        const decision = await consume();
        if (decision.degraded) counts.degraded++;
        else if (decision.allowed) counts.admitted++;
        else counts.refused++;
      }
    }),
  );
  return counts;
}

await new Promise<void>((resolve) => client.once('ready', () => resolve()));

async function barrier(name: string): Promise<void> {
  const key = `exactness-barrier:${params.runId}:${name}`;
  await client.incr(key);
  while (Number(await client.get(key)) < params.children) await new Promise((resolve) => setTimeout(resolve, 2));
}

process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
const results: Record<string, unknown> = {};
for (const testCase of LIMITER_CASES) {
  await barrier(testCase.algorithm);
  const limiter = testCase.make({
    store,
    limit: params.limit,
    windowMs: params.windowMs,
    name: `exact-${params.runId}`,
  });
  const [policy] = limiter.policyList;
  // A shaping limiter admits through consume() only what can go at once: count its reservations instead.
  results[testCase.algorithm] = await hammer(() =>
    testCase.reserves
      ? store.decide(policy!, 'one-key', { nowMs: Date.now(), cost: 1, maxWaitMs: 10 * params.windowMs })
      : limiter.consume('one-key'),
  );
}
process.stdout.write(`${JSON.stringify(results)}\n`);
lines.close();
client.disconnect();
