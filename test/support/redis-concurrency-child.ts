/**
 * One of several processes sharing a concurrency limit on Redis (test/stores/redis-concurrency.test.ts). Each worker
 * acquires a slot, counts itself in a shared Redis counter while it holds the slot, and releases.
 * argv[2]: JSON { port, name, max, leaseMs, workers, holds, holdMs }. Waits for a line on stdin, then prints
 * { acquired, maxSeen, failures } as one JSON line.
 */
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { concurrency } from '../../src/limiters/concurrency.js';
import { redisStore } from '../../src/stores/redis.js';

interface ChildParams {
  port: number;
  name: string;
  max: number;
  leaseMs: number;
  workers: number;
  holds: number;
  holdMs: number;
}

const params = JSON.parse(process.argv[2]!) as ChildParams;
const client = new Redis({ host: '127.0.0.1', port: params.port });
const counter = new Redis({ host: '127.0.0.1', port: params.port });
client.on('error', () => {});
counter.on('error', () => {});
const limiter = concurrency({
  max: params.max,
  lease: params.leaseMs,
  store: redisStore({ client, timeout: 5_000 }),
  failMode: 'closed',
  name: params.name,
});

await Promise.all([client, counter].map((c) => new Promise<void>((resolve) => c.once('ready', () => resolve()))));
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));

let acquired = 0;
let maxSeen = 0;
const failures: string[] = [];
await Promise.all(
  Array.from({ length: params.workers }, async () => {
    for (let i = 0; i < params.holds; i++) {
      try {
        await using _permit = await limiter.acquire('shared', { timeout: 20_000 });
        acquired++;
        const holding = await counter.incr(`${params.name}:holding`);
        if (holding > maxSeen) maxSeen = holding;
        await new Promise((resolve) => setTimeout(resolve, params.holdMs));
        await counter.decr(`${params.name}:holding`);
      } catch (error) {
        failures.push(String(error));
      }
    }
  }),
);
process.stdout.write(`${JSON.stringify({ acquired, maxSeen, failures, storeErrors: limiter.metrics().storeErrors })}\n`);
lines.close();
client.disconnect();
counter.disconnect();
