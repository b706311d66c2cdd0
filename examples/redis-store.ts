/**
 * Two "app servers" (two clients, two stores) share one limit through Redis: together they admit exactly the
 * limit. Then Redis goes away and each limiter answers with its failMode.
 *
 * Run with a Redis you may write to:  REDIS_URL=redis://127.0.0.1:6380 npx tsx examples/redis-store.ts
 */
import { Redis } from 'ioredis';
import { composite, concurrency, redisStore, tokenBucket } from '../src/index.js';

const url = process.env.REDIS_URL;
if (!url) {
  console.log('Set REDIS_URL to a Redis this example may write to (keys under "example:"), e.g. redis://127.0.0.1:6380');
  process.exit(0);
}

const servers = ['app-1', 'app-2'].map((name) => {
  const client = new Redis(url, { retryStrategy: () => 100 });
  client.on('error', () => {});
  const store = redisStore({ client, prefix: 'example:', timeout: '200ms' });
  // 5 per second, at most 2 in flight, for each user — counted across both servers.
  const perUser = composite(
    tokenBucket({ rate: 5, per: '1s', burst: 5, store, name: 'user-rate' }),
    concurrency({ max: 2, lease: '10s', store, name: 'user-slots' }),
  );
  return { name, client, store, perUser };
});

const decisions = await Promise.all(
  Array.from({ length: 8 }, (_, i) => servers[i % 2]!.perUser.consume('alice')),
);
decisions.forEach((decision, i) =>
  console.log(`${servers[i % 2]!.name}: ${decision.allowed ? 'admitted' : `refused, retry in ${decision.retryAfterMs} ms`}`),
);
console.log(`admitted together: ${decisions.filter((d) => d.allowed).length} (the concurrency limit is 2)`);

for (const { perUser } of servers) await perUser.reset('alice');
for (const { client } of servers) client.disconnect();
const offline = await servers[0]!.perUser.consume('alice');
console.log('Redis unreachable:', { allowed: offline.allowed, degraded: offline.degraded }, String(servers[0]!.perUser.lastStoreError?.message));

