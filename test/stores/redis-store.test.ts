import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import {
  ConfigError,
  PolicyLimiter,
  adaptive,
  composite,
  concurrency,
  slidingWindow,
  type Store,
  isStoreUnavailableError,
  memoryStore,
  redisStore,
  tokenBucket,
  type RedisStore,
} from '../../src/index.js';
import { CLIENT_CLOCK_TTL_SLACK_MS } from '../../src/stores/redis.js';
import { FakeClock } from '../support/fake-clock.js';
import { expectStepBackGrantsNothing } from '../support/clock-step-back.js';
import { LIMITER_CASES } from '../support/limiter-cases.js';
import { numericState, startRedis, type RedisServer } from '../support/redis.js';

let server: RedisServer;
let client: Redis;
let admin: Redis;
let nameCounter = 0;
const uniqueName = (label: string) => `${label}-${process.pid}-${nameCounter++}`;

beforeAll(async () => {
  server = await startRedis();
  client = server.client();
  admin = server.client();
});

afterAll(async () => {
  await server?.stop();
});

async function commandCalls(command: string): Promise<number> {
  const info = await admin.info('commandstats');
  const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
  return match ? Number(match[1]) : 0;
}

/** Two token buckets that must both admit. */
function twoPolicyLimiter(store: Store, clock: FakeClock, name: string): PolicyLimiter {
  return composite(
    tokenBucket({ rate: 5, per: '1s', burst: 5, store, clock, name: `${name}-a` }),
    tokenBucket({ rate: 2, per: '1s', burst: 3, store, clock, name: `${name}-b` }),
  );
}

/** A numeric, a log and a holder algorithm in one all-or-nothing decision. */
function mixedComposite(store: Store, clock: FakeClock, name: string): PolicyLimiter {
  return composite(
    tokenBucket({ rate: 4, per: '1s', burst: 4, store, clock, name: `${name}-bucket` }),
    slidingWindow({ limit: 3, window: '1s', precision: 'exact', store, clock, name: `${name}-log` }),
    concurrency({ max: 2, lease: '500ms', store, clock, name: `${name}-slots` }),
  );
}

describe('redisStore decisions', () => {
  for (const testCase of LIMITER_CASES) {
    it(`${testCase.algorithm}: the same trace gives the same decisions and stats as the memory store (property)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 6 }),
          fc.integer({ min: 50, max: 2_000 }),
          fc.array(
            fc.record({
              // Forward only: once a key's state has expired, the memory store drops it lazily and Redis at once,
              // which a clock stepping back could tell apart (both stay within the limit; see the next test).
              advanceMs: fc.integer({ min: 0, max: 400 }),
              key: fc.constantFrom('a', 'b'),
              cost: fc.constantFrom(0, 1, 1, 1, 2, 0.5, 0.25, 9),
              op: fc.constantFrom('consume', 'consume', 'consume', 'reserve', 'refund', 'reset'),
              maxWaitMs: fc.constantFrom(0, 300, 5_000),
            }),
            { minLength: 1, maxLength: 40 },
          ),
          async (limit, windowMs, trace) => {
            const clock = new FakeClock(1_700_000_000_000);
            const name = uniqueName(testCase.algorithm);
            const memory = memoryStore({ sweepInterval: 0 });
            const redis = redisStore({ client, clock: 'client' });
            const onMemory = testCase.make({ store: memory, clock, limit, windowMs, name });
            const onRedis = testCase.make({ store: redis, clock, limit, windowMs, name });
            for (const step of trace) {
              clock.set(clock.now() + step.advanceMs);
              if (step.op === 'consume') {
                expect(await onRedis.consume(step.key, step.cost)).toEqual(await onMemory.consume(step.key, step.cost));
              } else if (step.op === 'reserve') {
                // What acquire() does: a decision that may be admitted with a wait (shaping limiters).
                const call = { nowMs: clock.now(), cost: step.cost, maxWaitMs: step.maxWaitMs, token: `t${clock.now()}` };
                const policy = (limiter: typeof onMemory) => limiter.policyList[0]!;
                expect(await redis.decide(policy(onRedis), step.key, call)).toEqual(memory.decide(policy(onMemory), step.key, call));
              } else if (step.op === 'refund') {
                await onMemory.refund(step.key, step.cost);
                await onRedis.refund(step.key, step.cost);
              } else {
                await onMemory.reset(step.key);
                await onRedis.reset(step.key);
              }
              const [memoryStats, redisStats] = [await onMemory.stats(step.key), await onRedis.stats(step.key)];
              expect(redisStats.available).toBe(memoryStats.available);
              expect(redisStats.resetMs).toBe(memoryStats.resetMs);
            }
          },
        ),
        { numRuns: 40 },
      );
    });

    it(`${testCase.algorithm}: a clock stepping back after the key is exhausted grants nothing and changes nothing (property)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ advanceMs: fc.integer({ min: 0, max: 500 }), cost: fc.integer({ min: 1, max: 300 }).map((c) => c / 100) }), {
            maxLength: 20,
          }),
          fc.array(fc.record({ backMs: fc.integer({ min: 1, max: 5_000 }), cost: fc.integer({ min: 100, max: 500 }).map((c) => c / 100) }), {
            minLength: 1,
            maxLength: 6,
          }),
          async (prefix, backSteps) => {
            const clock = new FakeClock(1_700_000_000_000);
            const limiter = testCase.make({ store: redisStore({ client, clock: 'client' }), clock, limit: 4, windowMs: 1000, name: uniqueName('back') });
            for (const { advanceMs, cost } of prefix) {
              clock.set(clock.now() + advanceMs);
              await limiter.consume('k', cost);
            }
            await expectStepBackGrantsNothing(limiter, clock, backSteps, 8);
          },
        ),
        { numRuns: 25 },
      );
    });
  }

  it('uses Redis TIME by default: an app clock far off changes nothing', async () => {
    const store = redisStore({ client });
    const clock = new FakeClock(0);
    const limiter = tokenBucket({ rate: 1, per: '1h', burst: 2, store, clock, name: uniqueName('time') });
    expect((await limiter.consume('k')).allowed).toBe(true);
    clock.set(10 * 3_600_000);
    expect((await limiter.consume('k')).allowed).toBe(true);
    const refused = await limiter.consume('k');
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(3_590_000);
    const stats = await limiter.stats('k');
    expect(Math.abs(stats.lastUpdateMs! - Date.now())).toBeLessThan(5_000);
  });

  it('decides several policies all-or-nothing in one script call (composite)', async () => {
    const clock = new FakeClock(1_000_000);
    const name = uniqueName('composite');
    const onRedis = twoPolicyLimiter(redisStore({ client, clock: 'client' }), clock, name);
    const onMemory = twoPolicyLimiter(memoryStore({ sweepInterval: 0 }), clock, name);
    const before = await commandCalls('evalsha') + (await commandCalls('eval'));
    for (let i = 0; i < 5; i++) {
      const [actual, expected] = [await onRedis.consume('user'), await onMemory.consume('user')];
      expect(actual).toEqual(expected);
      expect(actual.members).toHaveLength(2);
    }
    const after = await commandCalls('evalsha') + (await commandCalls('eval'));
    // 5 decisions, 5 script calls (INFO itself is not a script call).
    expect(after - before).toBe(5);
    // b (burst 3) refused the 4th and 5th: a (burst 5) must not have been charged for them.
    const store = onRedis.store as RedisStore;
    const [policyA] = onRedis.policyList;
    expect((await numericState(admin, store.policyKey(policyA!, 'user')))?.[0]).toBe(3);
  });

  it('a composite of a bucket, an exact log and a concurrency limit decides like the memory store (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            advanceMs: fc.integer({ min: 0, max: 300 }),
            key: fc.constantFrom('a', 'b'),
            cost: fc.constantFrom(0, 1, 1, 2, 0.5),
            refund: fc.boolean(),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        async (trace) => {
          const clock = new FakeClock(1_700_000_000_000);
          const name = uniqueName('mixed');
          const onRedis = mixedComposite(redisStore({ client, clock: 'client' }), clock, name);
          const onMemory = mixedComposite(memoryStore({ sweepInterval: 0 }), clock, name);
          for (const step of trace) {
            clock.set(clock.now() + step.advanceMs);
            expect(await onRedis.consume(step.key, step.cost)).toEqual(await onMemory.consume(step.key, step.cost));
            if (step.refund) {
              await onRedis.refund(step.key, step.cost);
              await onMemory.refund(step.key, step.cost);
            }
          }
          expect(onRedis.metrics()).toMatchObject({ storeErrors: 0 });
        },
      ),
      { numRuns: 30 },
    );
  });

  it('an adaptive limiter passes its current rate with every decision', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const name = uniqueName('adaptive');
    const make = (store: Store) =>
      adaptive({
        initialRate: 4,
        minRate: 1,
        maxRate: 8,
        increaseStep: 2,
        decreaseFactor: 0.5,
        errorThreshold: 0.5,
        window: '1s',
        store,
        clock,
        name,
      });
    const onRedis = make(redisStore({ client, clock: 'client' }));
    const onMemory = make(memoryStore({ sweepInterval: 0 }));
    const both = async () => [await onRedis.consume('k'), await onMemory.consume('k')] as const;
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 6; i++) {
        const [actual, expected] = await both();
        expect(actual).toEqual(expected);
      }
      // Errors in even rounds lower the rate, clean odd rounds raise it.
      for (const limiter of [onRedis, onMemory]) {
        if (round % 2 === 0) limiter.reportError();
        else limiter.reportSuccess();
      }
      clock.set(clock.now() + 1_000);
      for (const limiter of [onRedis, onMemory]) limiter.reportSuccess();
    }
    expect(onRedis.currentRate).toBe(onMemory.currentRate);
    expect(onRedis.metrics().storeErrors).toBe(0);
  });

  it('sends many decisions in flight as batched script calls (one round trip for many)', async () => {
    const store = redisStore({ client });
    const limiter = tokenBucket({ rate: 1, per: '1h', burst: 1_000_000, store, name: uniqueName('batch') });
    const before = await commandCalls('evalsha') + (await commandCalls('eval'));
    const decisions = await Promise.all(Array.from({ length: 1_000 }, (_, i) => limiter.consume(`k${i % 50}`)));
    const after = await commandCalls('evalsha') + (await commandCalls('eval'));
    expect(decisions.every((d) => d.allowed)).toBe(true);
    expect(after - before).toBeLessThanOrEqual(Math.ceil(1_000 / store.maxBatchSize) + 1);
    expect(Math.floor((await limiter.stats('k0')).available)).toBe(1_000_000 - 20);
  });

  it('sets an expiry so idle keys vanish once their state is as good as fresh (plus headroom)', async () => {
    const store = redisStore({ client });
    const limiter = tokenBucket({ rate: 100, per: '1s', burst: 10, store, name: uniqueName('ttl') });
    // 5 tokens short: full again in 50 ms. The TTL is that plus as much headroom (at most a minute).
    await limiter.consume('k', 5);
    const key = store.policyKey(limiter.policyList[0]!, 'k');
    const ttl = await admin.pttl(key);
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(100);
    // A write whose state expires within that keeps the TTL (no PX churn on a busy key).
    await limiter.consume('k', 0.5);
    expect(await admin.pttl(key)).toBeLessThanOrEqual(ttl);
    await new Promise((resolve) => setTimeout(resolve, 130));
    expect(await admin.exists(key)).toBe(0);

    const longWindow = tokenBucket({ rate: 1, per: '1h', burst: 10, store, name: uniqueName('ttl') });
    await longWindow.consume('k', 2);
    const longTtl = await admin.pttl(store.policyKey(longWindow.policyList[0]!, 'k'));
    expect(longTtl).toBeGreaterThan(2 * 3_600_000);
    expect(longTtl).toBeLessThanOrEqual(2 * 3_600_000 + 60_000);

    const clientClock = redisStore({ client, clock: 'client' });
    const clock = new FakeClock(Date.now());
    const other = tokenBucket({ rate: 100, per: '1s', burst: 10, store: clientClock, clock, name: uniqueName('ttl') });
    await other.consume('k', 5);
    const slackTtl = await admin.pttl(clientClock.policyKey(other.policyList[0]!, 'k'));
    expect(slackTtl).toBeGreaterThan(CLIENT_CLOCK_TTL_SLACK_MS);
    expect(slackTtl).toBeLessThanOrEqual(CLIENT_CLOCK_TTL_SLACK_MS + 100);
  });

  it('stores nothing for a decision that leaves the state fresh', async () => {
    const store = redisStore({ client });
    const limiter = tokenBucket({ rate: 1, per: '1s', burst: 2, store, name: uniqueName('fresh') });
    await limiter.consume('k', 0);
    await limiter.stats('k');
    expect(await admin.exists(store.policyKey(limiter.policyList[0]!, 'k'))).toBe(0);
  });

  it('keys state as prefix:algorithm:name:{userKey}, hashing long and brace-holding keys', async () => {
    const store = redisStore({ client, prefix: 'app:' });
    const limiter = tokenBucket({ rate: 1, per: '1h', burst: 3, store, name: 'layout', prefix: 'p' });
    const policy = limiter.policyList[0]!;
    expect(store.policyKey(policy, 'user-1')).toBe('app:p:token-bucket:layout:{user-1}');
    expect(store.policyKey(policy, 'a}b')).toMatch(/^app:p:token-bucket:layout:\{sha256:[\w-]{43}\}$/);
    expect(store.policyKey(policy, '')).toMatch(/\{sha256:[\w-]{43}\}$/);
    expect(store.policyKey(policy, 'x'.repeat(256))).toBe(`app:p:token-bucket:layout:{${'x'.repeat(256)}}`);
    expect(store.policyKey(policy, 'é'.repeat(129))).toMatch(/\{sha256:/);
    const braces = tokenBucket({ rate: 1, store, name: 'we{ir}d' });
    expect(store.policyKey(braces.policyList[0]!, 'u')).toBe('app:sluice:token-bucket:we%7Bir%7Dd:{u}');
  });

  it('handles a 1 MiB user key: stored under a short digest, distinct from a key differing in its last byte', async () => {
    const store = redisStore({ client });
    const limiter = tokenBucket({ rate: 1, per: '1h', burst: 2, store, name: uniqueName('huge') });
    const huge = 'k'.repeat(1024 * 1024);
    const other = `${huge.slice(0, -1)}j`;
    expect((await limiter.consume(huge, 2)).allowed).toBe(true);
    expect((await limiter.consume(huge)).allowed).toBe(false);
    expect((await limiter.consume(other)).allowed).toBe(true);
    const key = store.policyKey(limiter.policyList[0]!, huge);
    expect(key.length).toBeLessThan(150);
    expect(await admin.exists(key)).toBe(1);
  });

  it('refunds and resets', async () => {
    const store = redisStore({ client });
    const limiter = tokenBucket({ rate: 1, per: '1h', burst: 3, store, name: uniqueName('refund') });
    await limiter.consume('k', 3);
    expect((await limiter.consume('k')).allowed).toBe(false);
    await limiter.refund('k', 2);
    expect(Math.floor((await limiter.stats('k')).available)).toBe(2);
    await limiter.reset('k');
    expect(await limiter.stats('k')).toMatchObject({ available: 3, lastUpdateMs: undefined, resetMs: 0 });
  });

  it('survives SCRIPT FLUSH mid-run: no error, no decision lost or counted twice', async () => {
    const store = redisStore({ client });
    const limiter = tokenBucket({ rate: 1, per: '1h', burst: 500, store, failMode: 'closed', name: uniqueName('flush') });
    const noScriptErrors = async () => Number(/errorstat_NOSCRIPT:count=(\d+)/.exec(await admin.info('errorstats'))?.[1] ?? 0);
    const noScriptBefore = await noScriptErrors();
    let admitted = 0;
    let flushes = 0;
    for (let round = 0; round < 20; round++) {
      const consumes = Array.from({ length: 41 }, () => limiter.consume('k'));
      // The flush races the batch on another connection: before, between or after its script calls.
      if (round % 4 === 1) flushes += (await admin.script('FLUSH')) === 'OK' ? 1 : 0;
      admitted += (await Promise.all(consumes)).filter((d) => d.allowed).length;
    }
    expect(flushes).toBe(5);
    // Each flush made at least the next script call meet NOSCRIPT, which was reloaded transparently.
    expect((await noScriptErrors()) - noScriptBefore).toBeGreaterThanOrEqual(5);
    expect(limiter.metrics().storeErrors).toBe(0);
    // 20 rounds x 41 consumes = 820 > 500: exactly the burst admitted.
    expect(admitted).toBe(500);
    const [deficit] = (await numericState(admin, store.policyKey(limiter.policyList[0]!, 'k')))!;
    expect(Math.round(deficit!)).toBe(500);
  });

  it('runs a Lua error of one decision as that decision failing, not the batch', async () => {
    const store = redisStore({ client });
    const limiter = tokenBucket({ rate: 1, per: '1h', burst: 5, store, failMode: 'closed', name: uniqueName('wrongtype') });
    await admin.hset(store.policyKey(limiter.policyList[0]!, 'broken'), 'field', 'value');
    const [broken, fine] = await Promise.all([limiter.consume('broken'), limiter.consume('fine')]);
    expect(broken).toMatchObject({ allowed: false, degraded: true });
    expect(isStoreUnavailableError(limiter.lastStoreError)).toBe(true);
    expect(limiter.lastStoreError?.message).toMatch(/WRONGTYPE/);
    expect(fine).toMatchObject({ allowed: true, remaining: 4 });
    expect(store.available).toBe(true);
  });
});

describe('redisStore key-value facet', () => {
  it('get, set with TTL, incr, decr, delete, exists', async () => {
    const store = redisStore({ client, prefix: `${uniqueName('kv')}:` });
    expect(await store.get('a')).toBeUndefined();
    await store.set('a', 'one');
    expect(await store.get('a')).toBe('one');
    expect(await store.exists('a')).toBe(true);
    expect(await admin.get(`${store.prefix}a`)).toBe('one');
    await store.set('short', 'x', 30);
    expect(await admin.pttl(`${store.prefix}short`)).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await store.get('short')).toBeUndefined();
    expect(await store.incr('n')).toBe(1);
    expect(await store.incr('n', 5)).toBe(6);
    expect(await store.decr('n', 2)).toBe(4);
    expect(await store.incr('ttl', 1, 3_600_000)).toBe(1);
    const ttl = await admin.pttl(`${store.prefix}ttl`);
    expect(ttl).toBeGreaterThan(3_500_000);
    await admin.pexpire(`${store.prefix}ttl`, 5_000);
    expect(await store.incr('ttl', 1, 3_600_000)).toBe(2);
    expect(await admin.pttl(`${store.prefix}ttl`)).toBeLessThanOrEqual(5_000);
    await expect(store.incr('a')).rejects.toThrow(TypeError);
    await expect(store.incr('n', 0.5)).rejects.toThrow(TypeError);
    await expect(store.set('a', 'b', -1)).rejects.toThrow(ConfigError);
    expect(await store.delete('a')).toBe(true);
    expect(await store.delete('a')).toBe(false);
    expect(await store.exists('a')).toBe(false);
  });
});

describe('redisStore options', () => {
  it('rejects bad options with ConfigError naming the field', () => {
    const bad: [unknown, string][] = [
      [undefined, 'redisStore'],
      [{}, 'client'],
      [{ client: {} }, 'client'],
      [{ client: 'redis://localhost' }, 'client'],
      [{ client, clock: 'app' }, 'clock'],
      [{ client, timeout: 0 }, 'timeout'],
      [{ client, timeout: '1 fortnight' }, 'timeout'],
      [{ client, maxBatchSize: 0 }, 'maxBatchSize'],
      [{ client, maxBatchSize: 1.5 }, 'maxBatchSize'],
      [{ client, prefix: 'a{b}' }, 'prefix'],
      [{ client, prefix: 3 }, 'prefix'],
      [{ client, prefix: null }, 'prefix'],
      [{ client, clock: null }, 'clock'],
      [{ client, timeout: null }, 'timeout'],
      [{ client, maxBatchSize: null }, 'maxBatchSize'],
      [{ client: null }, 'client'],
      [{ client, timout: 5 }, 'redisStore.timout'],
      [{ client: server.client({ lazyConnect: true, keyPrefix: '{app}:' }) }, 'client'],
    ];
    for (const [options, field] of bad) {
      let error: unknown;
      try {
        redisStore(options as never);
      } catch (caught) {
        error = caught;
      }
      expect(error, JSON.stringify(field)).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
    }
  });

  it('refuses an algorithm without a Lua twin with a ConfigError, not a fail-open decision', async () => {
    const store = redisStore({ client });
    const limiter = tokenBucket({ rate: 1, store, name: uniqueName('alien') });
    const policy = { ...limiter.policyList[0]!, algorithm: { ...limiter.policyList[0]!.algorithm, name: 'alien' as never } };
    const alien = new PolicyLimiter({ store, clock: { now: Date.now, sleep: async () => {} }, failMode: 'open', name: 'alien', prefix: 'x' }, [policy]);
    await expect(alien.consume('k')).rejects.toThrow(ConfigError);
  });
});
