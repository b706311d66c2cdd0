// A hybrid store riding out a Redis outage: run with `npx tsx examples/hybrid-store.ts` (needs redis-server on the
// PATH; the example starts its own on a free port and never touches a Redis on 6379).
import { hybridStore, redisStore, tokenBucket } from '../src/index.js';
import { startRedis } from '../test/support/redis.js';

const server = await startRedis();
const client = server.client({ retryStrategy: () => 50 });
const store = hybridStore({
  remote: redisStore({ client, timeout: '200ms' }),
  instances: 4, // this app runs on 4 machines: each takes a quarter of the limit while Redis is down
  probeInterval: '100ms',
  onFallback: (cause) => console.log(`-> fallback (${String((cause as Error).message)})`),
  onRecover: () => console.log('-> back on Redis'),
});
const limiter = tokenBucket({ rate: 100, per: '1m', burst: 100, store, name: 'api' });

const show = async (label: string, key: string, calls: number) => {
  let allowed = 0;
  let last;
  for (let i = 0; i < calls; i++) {
    last = await limiter.consume(key);
    if (last.allowed) allowed++;
  }
  console.log(`${label}: ${allowed}/${calls} allowed, limit ${last!.limit}, degraded ${last!.degraded === true}`);
};

await show('healthy', 'alice', 120);
const { remoteDecisions, denyCacheHits } = store.stats();
console.log(`  Redis decided ${remoteDecisions}, the deny cache answered ${denyCacheHits} without a round trip`);

await server.kill();
await show('Redis down', 'bob', 40);

await server.restart();
while (store.mode !== 'remote') await new Promise((resolve) => setTimeout(resolve, 20));
await show('Redis back', 'carol', 5);

const { lastError, ...counters } = store.stats();
console.log(counters, `last failure: ${(lastError as Error | undefined)?.message}`);
await store.close();
await server.stop();
