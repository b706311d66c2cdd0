/**
 * A process whose hybrid store falls back (its Redis port has no server) and is then left alone, never closed:
 * it must exit by itself, so nothing the store started (probe timer, caches) keeps it alive
 * (test/stores/hybrid-redis.test.ts). argv[2]: the port. Prints one JSON line of the store's stats.
 */
import { Redis } from 'ioredis';
import { hybridStore } from '../../src/stores/hybrid.js';
import { redisStore } from '../../src/stores/redis.js';
import { tokenBucket } from '../../src/limiters/token-bucket.js';

const port = Number(process.argv[2]);
const client = new Redis({ host: '127.0.0.1', port, retryStrategy: () => null, enableOfflineQueue: false });
client.on('error', () => {});
const store = hybridStore({ remote: redisStore({ client, timeout: 200 }), instances: 2, probeInterval: 10 });
const limiter = tokenBucket({ rate: 10, per: '1m', burst: 10, store });

const decisions = [];
for (let i = 0; i < 8; i++) decisions.push(await limiter.consume('k'));
// Let a few probes run and fail.
await new Promise((resolve) => setTimeout(resolve, 100));
console.log(
  JSON.stringify({
    ...store.stats(),
    lastError: String(store.stats().lastError),
    allowed: decisions.filter((d) => d.allowed).length,
    degraded: decisions.filter((d) => d.degraded).length,
    limits: [...new Set(decisions.map((d) => d.limit))],
  }),
);
