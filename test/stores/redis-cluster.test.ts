import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { composite, concurrency, memoryStore, redisStore, slidingWindow, tokenBucket, type PolicyLimiter, type Store } from '../../src/index.js';
import { slotOfTag } from '../../src/stores/redis-keys.js';
import { FakeClock } from '../support/fake-clock.js';
import { LIMITER_CASES } from '../support/limiter-cases.js';
import { startRedisCluster, type RedisCluster } from '../support/redis.js';

let cluster: RedisCluster;
let client: Cluster;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  client = cluster.client();
});

afterAll(async () => {
  await cluster?.stop();
});

const KEYS = Array.from({ length: 60 }, (_, i) => `user-${i}`);

/** Errors of a kind counted by Redis on every node (INFO errorstats), e.g. CROSSSLOT. */
async function errorCount(kind: string): Promise<number> {
  let total = 0;
  for (let i = 0; i < cluster.ports.length; i++) {
    const info = await cluster.nodeClient(i).info('errorstats');
    total += Number(new RegExp(`errorstat_${kind}:count=(\\d+)`).exec(info)?.[1] ?? 0);
  }
  return total;
}

async function keysPerNode(pattern: string): Promise<number[]> {
  const counts: number[] = [];
  for (let i = 0; i < cluster.ports.length; i++) counts.push((await cluster.nodeClient(i).keys(pattern)).length);
  return counts;
}

/** Two rates, a log and a concurrency limit: four policies, six Redis keys per user key, one slot. */
function compositeOf(store: Store, clock: FakeClock, name: string): PolicyLimiter {
  return composite(
    tokenBucket({ rate: 3, per: '1s', burst: 3, store, clock, name: `${name}-second` }),
    tokenBucket({ rate: 5, per: '1m', burst: 5, store, clock, name: `${name}-minute` }),
    slidingWindow({ limit: 4, window: '2s', precision: 'exact', store, clock, name: `${name}-log` }),
    concurrency({ max: 4, lease: '3s', store, clock, name: `${name}-slots` }),
  );
}

describe('redisStore on a 3-master Redis Cluster', () => {
  it('the test keys really spread over every master', () => {
    const slots = new Set(KEYS.map(slotOfTag));
    expect(slots.size).toBeGreaterThan(50);
    // 16384 slots split in 3 ranges by `--cluster create`.
    expect(new Set([...slots].map((slot) => Math.floor(slot / 5462))).size).toBe(3);
  });

  for (const testCase of LIMITER_CASES) {
    it(`${testCase.algorithm}: decisions over keys on every node equal the memory store's, no CROSSSLOT`, async () => {
      const crossSlotBefore = await errorCount('CROSSSLOT');
      const clock = new FakeClock(1_700_000_000_000);
      const name = `cluster-${testCase.algorithm}`;
      const onRedis = testCase.make({ store: redisStore({ client, clock: 'client' }), clock, limit: 3, windowMs: 1000, name });
      const onMemory = testCase.make({ store: memoryStore({ sweepInterval: 0 }), clock, limit: 3, windowMs: 1000, name });
      for (let round = 0; round < 5; round++) {
        clock.set(clock.now() + 150);
        // All keys at once: batched per slot, each batch one script call on the node owning the slot.
        const actual = await Promise.all(KEYS.map((key) => onRedis.consume(key)));
        const expected = KEYS.map((key) => onMemory.decide(key));
        expect(actual).toEqual(expected);
      }
      expect(onRedis.metrics().storeErrors).toBe(0);
      expect((await keysPerNode(`sluice:${testCase.algorithm}:${name}:*`)).every((count) => count > 0)).toBe(true);
      expect(await errorCount('CROSSSLOT')).toBe(crossSlotBefore);
    });
  }

  it('a composite decides its policies in one script call per key on the key slot, all-or-nothing', async () => {
    const crossSlotBefore = await errorCount('CROSSSLOT');
    const clock = new FakeClock(1_700_000_000_000);
    const onRedis = compositeOf(redisStore({ client, clock: 'client' }), clock, 'cluster-composite');
    const onMemory = compositeOf(memoryStore({ sweepInterval: 0 }), clock, 'cluster-composite');
    for (let round = 0; round < 8; round++) {
      clock.set(clock.now() + 400);
      const actual = await Promise.all(KEYS.map((key) => onRedis.consume(key)));
      const expected = KEYS.map((key) => onMemory.decide(key));
      expect(actual).toEqual(expected);
    }
    expect(onRedis.metrics()).toMatchObject({ storeErrors: 0 });
    expect(onRedis.metrics().rejected).toBeGreaterThan(0);
    for (const pattern of ['sluice:token-bucket:cluster-composite-*', 'sluice:sliding-window-exact:cluster-composite-*:meta', 'sluice:concurrency:cluster-composite-*:holders']) {
      expect((await keysPerNode(pattern)).every((count) => count > 0), pattern).toBe(true);
    }
    expect(await errorCount('CROSSSLOT')).toBe(crossSlotBefore);
  });

  it('uses Redis TIME on the node that owns the key', async () => {
    const limiter = tokenBucket({ rate: 2, per: '1h', burst: 2, store: redisStore({ client }), name: 'cluster-time' });
    const decisions = await Promise.all(KEYS.flatMap((key) => [limiter.consume(key), limiter.consume(key), limiter.consume(key)]));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(KEYS.length * 2);
    expect(limiter.metrics().storeErrors).toBe(0);
  });

  it('key-value facet: get, set with TTL, incr, decr, delete, exists on keys of every node', async () => {
    const store = redisStore({ client, prefix: 'kv:' });
    await Promise.all(KEYS.map((key, i) => store.set(key, `v${i}`)));
    expect(await Promise.all(KEYS.map((key) => store.get(key)))).toEqual(KEYS.map((_, i) => `v${i}`));
    expect((await keysPerNode('kv:*')).every((count) => count > 0)).toBe(true);
    await store.set('short', 'x', 30);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await store.exists('short')).toBe(false);
    expect(await Promise.all(KEYS.map((key) => store.incr(`n-${key}`, 2, 60_000)))).toEqual(KEYS.map(() => 2));
    expect(await Promise.all(KEYS.map((key) => store.decr(`n-${key}`)))).toEqual(KEYS.map(() => 1));
    expect(await client.pttl('kv:n-user-7')).toBeGreaterThan(50_000);
    expect(await Promise.all(KEYS.map((key) => store.delete(key)))).toEqual(KEYS.map(() => true));
    expect(await Promise.all(KEYS.map((key) => store.exists(key)))).toEqual(KEYS.map(() => false));
  });
});
