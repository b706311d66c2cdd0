/**
 * The hybrid store over real redis-server processes: the deny cache saves Redis calls (counted by INFO
 * commandstats), decisions fall back to scaled local limits when Redis is killed or stalls and return after a
 * restart, the key-value facet reads and writes through a local cache.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import {
  RateLimitExceededError,
  composite,
  concurrency,
  hybridStore,
  isStoreUnavailableError,
  memoryStore,
  redisStore,
  tokenBucket,
  type Decision,
  type HybridStore,
} from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { LIMITER_CASES } from '../support/limiter-cases.js';
import { findFreePort, startRedis, type RedisServer } from '../support/redis.js';
import { failOnUnhandledRejections } from '../support/unhandled.js';

let server: RedisServer;
let admin: Redis;
let nameCounter = 0;
const uniqueName = (label: string) => `hybrid-${label}-${process.pid}-${nameCounter++}`;
const stores: HybridStore[] = [];
const extraServers: RedisServer[] = [];
// Registered before the afterEach below, so it runs after it (hooks stack): stores are closed before the check.
failOnUnhandledRejections({ settleMs: 20 });

beforeAll(async () => {
  server = await startRedis();
  admin = server.client();
});

afterAll(async () => {
  await server?.stop();
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const extra of extraServers.splice(0)) await extra.stop();
});

function track(store: HybridStore): HybridStore {
  stores.push(store);
  return store;
}

async function ownServer(): Promise<RedisServer> {
  const own = await startRedis();
  extraServers.push(own);
  return own;
}

/** How many times Redis ran `command` (from INFO commandstats). */
async function commandCalls(client: Redis, command: string): Promise<number> {
  const info = await client.info('commandstats');
  const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
  return match ? Number(match[1]) : 0;
}

/** Script calls: the Redis store sends EVAL the first time on a connection, EVALSHA after. */
async function scriptCalls(client: Redis): Promise<number> {
  return (await commandCalls(client, 'eval')) + (await commandCalls(client, 'evalsha'));
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('hybridStore deny cache on Redis', () => {
  it('answers a burst of refused requests without a Redis call, counting the retry time down', async () => {
    const clock = new FakeClock(1_000_000);
    const remote = redisStore({ client: server.client(), clock: 'client' });
    const store = track(hybridStore({ remote, clock }));
    const limiter = tokenBucket({ rate: 5, per: '1m', burst: 5, store, clock, name: uniqueName('burst') });
    for (let i = 0; i < 5; i++) expect((await limiter.consume('attacker')).allowed).toBe(true);
    const refusal = await limiter.consume('attacker');
    expect(refusal).toMatchObject({ allowed: false, limit: 5, remaining: 0, retryAfterMs: 12_000 });

    const before = await scriptCalls(admin);
    const burst = await Promise.all(Array.from({ length: 1_000 }, () => limiter.consume('attacker')));
    expect(await scriptCalls(admin)).toBe(before);
    expect(burst.every((d) => !d.allowed && d.limit === 5 && d.remaining === 0 && d.retryAfterMs === 12_000 && !d.degraded)).toBe(true);
    expect(store.stats().denyCacheHits).toBe(1_000);
    expect(store.stats().remoteDecisions).toBe(6);

    await clock.advance(5_000);
    expect(await limiter.consume('attacker')).toMatchObject({ allowed: false, retryAfterMs: 7_000 });
    expect(await scriptCalls(admin)).toBe(before);
    // Another key is not affected.
    expect((await limiter.consume('someone-else')).allowed).toBe(true);
    expect(await scriptCalls(admin)).toBe(before + 1);

    await clock.advance(7_000);
    expect((await limiter.consume('attacker')).allowed).toBe(true);
    expect(await scriptCalls(admin)).toBe(before + 2);
  });

  for (const testCase of LIMITER_CASES) {
    const cached = testCase.algorithm !== 'concurrency';
    it(`${testCase.algorithm}: a burst on an exhausted key ${cached ? 'makes no Redis call' : 'reaches Redis (a release may free a slot at any time)'}`, async () => {
      const clock = new FakeClock(1_000_000);
      const store = track(hybridStore({ remote: redisStore({ client: server.client(), clock: 'client' }), clock }));
      const limiter = testCase.make({ store, clock, limit: 5, windowMs: 60_000, name: uniqueName(`burst-${testCase.algorithm}`) });
      let refusal = await limiter.consume('attacker');
      for (let i = 0; refusal.allowed && i < 10; i++) refusal = await limiter.consume('attacker');
      expect(refusal.allowed).toBe(false);
      const before = await scriptCalls(admin);
      const burst = await Promise.all(Array.from({ length: 300 }, () => limiter.consume('attacker')));
      expect(burst.every((d) => !d.allowed && d.limit === 5 && d.degraded === undefined)).toBe(true);
      if (cached) {
        expect(await scriptCalls(admin)).toBe(before);
        expect(store.stats().denyCacheHits).toBe(300);
        expect(burst.every((d) => d.retryAfterMs > 0 && d.retryAfterMs <= refusal.retryAfterMs)).toBe(true);
      } else {
        expect(await scriptCalls(admin)).toBeGreaterThanOrEqual(before + Math.ceil(300 / 128));
        expect(store.stats().denyCacheHits).toBe(0);
      }
    });
  }

  it('every algorithm: over Redis, the same outcomes as a memory store alone for any trace (property)', async () => {
    const client = server.client();
    let totalHits = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            deltaMs: fc.constantFrom(0, 0, 10, 100, 400),
            key: fc.constantFrom('a', 'b'),
            cost: fc.integer({ min: 1, max: 3 }),
            refund: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
          }),
          { maxLength: 40 },
        ),
        async (trace) => {
          const clock = new FakeClock(1_000_000);
          const store = hybridStore({ remote: redisStore({ client, clock: 'client' }), clock });
          const plain = memoryStore({ sweepInterval: 0 });
          for (const testCase of LIMITER_CASES) {
            const name = uniqueName(`parity-${testCase.algorithm}`);
            const viaHybrid = testCase.make({ store, clock, limit: 4, windowMs: 1_000, name });
            const alone = testCase.make({ store: plain, clock, limit: 4, windowMs: 1_000, name });
            clock.set(1_000_000);
            for (const step of trace) {
              clock.set(clock.now() + step.deltaMs);
              if (step.refund) {
                await viaHybrid.refund(step.key, 1);
                await alone.refund(step.key, 1);
                continue;
              }
              const hitsBefore = store.stats().denyCacheHits;
              const got = await viaHybrid.consume(step.key, step.cost);
              const truth = await alone.consume(step.key, step.cost);
              if (store.stats().denyCacheHits > hitsBefore) {
                expect(got.allowed, testCase.algorithm).toBe(false);
                expect(truth.allowed, testCase.algorithm).toBe(false);
                expect(got.retryAfterMs, testCase.algorithm).toBeLessThanOrEqual(truth.retryAfterMs);
              } else {
                expect(got, testCase.algorithm).toEqual(truth);
              }
            }
          }
          totalHits += store.stats().denyCacheHits;
          await store.close();
        },
      ),
      { numRuns: 25 },
    );
    expect(totalHits).toBeGreaterThan(0);
  });

  it('control: without the deny cache the same burst reaches Redis', async () => {
    const clock = new FakeClock(1_000_000);
    const remote = redisStore({ client: server.client(), clock: 'client' });
    const store = track(hybridStore({ remote, clock, denyCache: false }));
    const limiter = tokenBucket({ rate: 5, per: '1m', burst: 5, store, clock, name: uniqueName('control') });
    for (let i = 0; i < 6; i++) await limiter.consume('attacker');
    const before = await scriptCalls(admin);
    const burst = await Promise.all(Array.from({ length: 1_000 }, () => limiter.consume('attacker')));
    expect(burst.every((d) => !d.allowed)).toBe(true);
    // Decisions issued together go out in batches of at most 128 per script call.
    expect(await scriptCalls(admin)).toBeGreaterThanOrEqual(before + Math.ceil(1_000 / 128));
    expect(store.stats().remoteDecisions).toBe(1_006);
  });

  it('a composite costs one script call per decision when nothing is cached, and none while its refusal holds', async () => {
    const clock = new FakeClock(1_000_000);
    const remote = redisStore({ client: server.client(), clock: 'client' });
    const store = track(hybridStore({ remote, clock }));
    const perSecond = tokenBucket({ rate: 2, per: '1s', burst: 2, store, clock, name: uniqueName('per-second') });
    const perHour = tokenBucket({ rate: 100, per: '1h', burst: 100, store, clock, name: uniqueName('per-hour') });
    const both = composite(perSecond, perHour);
    let calls = await scriptCalls(admin);
    for (let i = 0; i < 2; i++) {
      expect((await both.consume('k')).allowed).toBe(true);
      expect(await scriptCalls(admin)).toBe(++calls);
    }
    const refusal = await both.consume('k');
    expect(await scriptCalls(admin)).toBe(++calls);
    expect(refusal).toMatchObject({ allowed: false, retryAfterMs: 500 });
    await clock.advance(100);
    const local = await Promise.all(Array.from({ length: 100 }, () => both.consume('k')));
    expect(await scriptCalls(admin)).toBe(calls);
    for (const decision of local) {
      expect(decision).toMatchObject({ allowed: false, retryAfterMs: 400 });
      expect(decision.members?.map((m) => m.allowed)).toEqual([false, true]);
      // What the allowed member would have left had this call gone through, as Redis reported it.
      expect(decision.members?.[1]?.remaining).toBe(97);
    }
    await clock.advance(400);
    expect((await both.consume('k')).allowed).toBe(true);
    expect(await scriptCalls(admin)).toBe(calls + 1);
  });
});

describe('hybridStore fallback when Redis fails', () => {
  for (const testCase of LIMITER_CASES) {
    it(`${testCase.algorithm}: killed Redis -> degraded decisions on limit / instances; restarted -> back to Redis`, async () => {
      const own = await ownServer();
      const client = own.client({ retryStrategy: () => 10 });
      const fallbackCauses: unknown[] = [];
      let recoveries = 0;
      const store = track(
        hybridStore({
          remote: redisStore({ client, timeout: 200 }),
          instances: 4,
          probeInterval: 10,
          onFallback: (cause) => fallbackCauses.push(cause),
          onRecover: () => recoveries++,
        }),
      );
      const disposedCalls: unknown[] = [];
      const dispose = store.onFallback((cause) => disposedCalls.push(cause));
      dispose();
      const limiter = testCase.make({ store, limit: 100, windowMs: 3_600_000, name: uniqueName(testCase.algorithm) });
      const policy = limiter.policyList[0]!;
      // A shaping limiter admits a burst only as reservations (what acquire() asks for).
      const take = async (): Promise<Decision> =>
        testCase.reserves
          ? await store.decide(policy, 'k', { nowMs: Date.now(), cost: 1, maxWaitMs: 2 * 3_600_000 })
          : await limiter.consume('k');
      const first = await take();
      expect(first).toMatchObject({ allowed: true, limit: 100 });
      expect(first.degraded).toBeUndefined();

      await own.kill();
      const down: Decision[] = [];
      for (let i = 0; i < 30; i++) down.push(await take());
      expect(down.every((d) => d.degraded === true && d.limit === 25)).toBe(true);
      expect(down.filter((d) => d.allowed)).toHaveLength(25);
      expect(down.slice(0, 25).every((d) => d.allowed)).toBe(true);
      expect(down[29]).toMatchObject({ allowed: false, remaining: 0 });
      expect(down[29]!.policy).toBe(limiter.policies[0]);
      expect(store.mode).toBe('fallback');
      expect(fallbackCauses).toHaveLength(1);
      expect(isStoreUnavailableError(fallbackCauses[0])).toBe(true);
      expect(disposedCalls).toEqual([]);
      const stats = store.stats();
      expect(stats).toMatchObject({ mode: 'fallback', fallbacks: 1, fallbackDecisions: 30, remoteDecisions: 1, recoveries: 0 });
      if (!testCase.reserves) {
        expect(limiter.metrics().degraded).toBe(30);
        expect(limiter.metrics().storeErrors).toBe(0);
      }

      await own.restart();
      await until(() => store.mode === 'remote');
      expect(recoveries).toBe(1);
      expect(store.stats().probes).toBeGreaterThanOrEqual(1);
      const back = await take();
      expect(back.degraded).toBeUndefined();
      // The restarted server is empty: the key starts full.
      expect(back).toMatchObject({ allowed: true, limit: 100, remaining: 99 });
    });
  }

  it('concurrency: a permit taken in fallback is released where it is held, even after the return to Redis', async () => {
    const own = await ownServer();
    const client = own.client({ retryStrategy: () => 10 });
    const store = track(hybridStore({ remote: redisStore({ client, timeout: 200 }), probeInterval: 10 }));
    const limiter = concurrency({ max: 2, lease: '1h', store, name: uniqueName('slots') });
    const remotePermit = await limiter.acquire('k', { timeout: 0 });
    await own.kill();
    await until(() => client.status !== 'ready');
    const localPermits = [await limiter.acquire('k', { timeout: 0 }), await limiter.acquire('k', { timeout: 0 })];
    await expect(limiter.acquire('k', { timeout: 0 })).rejects.toThrow(RateLimitExceededError);
    // The permit Redis granted cannot be released while Redis is down: release does not throw (its lease frees it).
    await remotePermit.release();
    expect(limiter.metrics().storeErrors).toBe(1);

    await own.restart();
    await until(() => store.mode === 'remote');
    for (const permit of localPermits) await permit.release();
    expect((await store.local.inspect(limiter.policyList[0]!, 'k', Date.now())).available).toBe(2);
    // Redis (restarted empty) holds nothing of those permits and still has both slots.
    expect(await limiter.stats('k')).toMatchObject({ available: 2, max: 2 });

    await own.kill();
    await until(() => client.status !== 'ready');
    const again = [await limiter.acquire('k', { timeout: 0 }), await limiter.acquire('k', { timeout: 0 })];
    expect(again).toHaveLength(2);
    expect(store.stats().fallbacks).toBe(2);
  });

  it('while in fallback no decision reaches Redis, and the probe waits for its interval (FakeClock)', async () => {
    const own = await ownServer();
    const clock = new FakeClock(0);
    const client = own.client({ retryStrategy: () => 10 });
    const store = track(hybridStore({ remote: redisStore({ client, timeout: 200 }), clock, probeInterval: '5s', instances: 2 }));
    const limiter = tokenBucket({ rate: 10, per: '1m', burst: 10, store, clock, name: uniqueName('quiet') });
    expect((await limiter.consume('k')).degraded).toBeUndefined();

    await own.kill();
    // Once the client knows, calls fail at once and nothing is left in flight to be resent after the restart.
    await until(() => client.status !== 'ready');
    expect((await limiter.consume('k')).degraded).toBe(true);
    await own.restart();
    await until(() => client.status === 'ready');
    const probeAdmin = own.client();
    // The harness PINGs a server it starts: count from here.
    const pings = await commandCalls(probeAdmin, 'ping');
    const decisions = await Promise.all(Array.from({ length: 50 }, (_, i) => limiter.consume(`k${i % 5}`)));
    expect(decisions.every((d) => d.degraded && d.limit === 5)).toBe(true);
    expect(await scriptCalls(probeAdmin)).toBe(0);
    expect(await commandCalls(probeAdmin, 'ping')).toBe(pings);
    expect(store.stats().probes).toBe(0);

    await clock.advance(4_999);
    expect(store.stats().probes).toBe(0);
    expect(store.mode).toBe('fallback');
    await clock.advance(1);
    await until(() => store.mode === 'remote');
    expect(store.stats()).toMatchObject({ probes: 1, probeFailures: 0, recoveries: 1 });
    expect(await commandCalls(probeAdmin, 'ping')).toBe(pings + 1);
    const back = await limiter.consume('k');
    expect(back).toMatchObject({ allowed: true, limit: 10 });
    expect(back.degraded).toBeUndefined();
    expect(await scriptCalls(probeAdmin)).toBe(1);
  });

  it('a probe that finds Redis still down probes again an interval later (FakeClock)', async () => {
    const own = await ownServer();
    const clock = new FakeClock(0);
    const client = own.client({ retryStrategy: () => 10 });
    const store = track(hybridStore({ remote: redisStore({ client, timeout: 200 }), clock, probeInterval: 1_000 }));
    const limiter = tokenBucket({ rate: 10, per: '1m', burst: 10, store, clock, name: uniqueName('reprobe') });
    await own.kill();
    expect((await limiter.consume('k')).degraded).toBe(true);
    for (let i = 1; i <= 3; i++) {
      await clock.advance(1_000);
      await until(() => store.stats().probeFailures === i);
      expect(store.stats().probes).toBe(i);
    }
    await own.restart();
    await until(() => client.status === 'ready');
    expect(store.mode).toBe('fallback');
    await clock.advance(1_000);
    await until(() => store.mode === 'remote');
    expect(store.stats()).toMatchObject({ probes: 4, probeFailures: 3, recoveries: 1 });
  });

  it('a stalled Redis costs one timeout; the decisions after it are local and fast', async () => {
    const own = await ownServer();
    const client = own.client({ retryStrategy: () => 10 });
    const store = track(hybridStore({ remote: redisStore({ client, timeout: 1_000 }), probeInterval: 10, instances: 2 }));
    const limiter = tokenBucket({ rate: 1, per: '1h', burst: 1_000, store, name: uniqueName('stall') });
    expect((await limiter.consume('k')).degraded).toBeUndefined();
    own.pause();
    try {
      let startedAt = performance.now();
      const first = await limiter.consume('k');
      expect(first).toMatchObject({ allowed: true, degraded: true, limit: 500 });
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(950);
      startedAt = performance.now();
      const later = await Promise.all(Array.from({ length: 500 }, () => limiter.consume('k')));
      // 500 local decisions together take well under one timeout: none of them waits for Redis.
      expect(performance.now() - startedAt).toBeLessThan(500);
      expect(later.filter((d) => d.allowed)).toHaveLength(499);
      expect(later.every((d) => d.degraded)).toBe(true);
      expect(store.stats().fallbacks).toBe(1);
    } finally {
      own.resume();
    }
    await until(() => store.mode === 'remote');
    expect((await limiter.consume('k')).degraded).toBeUndefined();
  });

  it('timeout with a remote store: a stalled remote costs the hybrid timeout, not the remote store\'s own', async () => {
    const own = await ownServer();
    const client = own.client({ retryStrategy: () => 10 });
    const store = track(hybridStore({ remote: redisStore({ client, timeout: '5s' }), timeout: 100, probeInterval: 10 }));
    const limiter = tokenBucket({ rate: 1, per: '1h', burst: 10, store, name: uniqueName('race') });
    expect((await limiter.consume('k')).degraded).toBeUndefined();
    own.pause();
    try {
      const startedAt = performance.now();
      const decision = await limiter.consume('k');
      const elapsedMs = performance.now() - startedAt;
      expect(decision).toMatchObject({ allowed: true, degraded: true });
      expect(elapsedMs).toBeGreaterThanOrEqual(95);
      // Far below the remote store's own 5 s timeout.
      expect(elapsedMs).toBeLessThan(2_500);
      expect(isStoreUnavailableError(store.stats().lastError)).toBe(true);
      expect(String((store.stats().lastError as Error).message)).toMatch(/within 100 ms/);
    } finally {
      own.resume();
    }
    await until(() => store.mode === 'remote');
  });

  it('a composite in fallback is all-or-nothing on the scaled limits', async () => {
    const own = await ownServer();
    const client = own.client({ retryStrategy: () => 10 });
    const store = track(hybridStore({ remote: redisStore({ client, timeout: 200 }), probeInterval: 10, instances: 2 }));
    const small = tokenBucket({ rate: 4, per: '1h', burst: 4, store, name: uniqueName('small') });
    const large = tokenBucket({ rate: 10, per: '1h', burst: 10, store, name: uniqueName('large') });
    const both = composite(small, large);
    expect((await both.consume('k')).degraded).toBeUndefined();
    await own.kill();
    const down: Decision[] = [];
    for (let i = 0; i < 4; i++) down.push(await both.consume('k'));
    expect(down.map((d) => d.allowed)).toEqual([true, true, false, false]);
    expect(down.every((d) => d.degraded)).toBe(true);
    expect(down[2]!.members?.map((m) => [m.allowed, m.limit, m.degraded])).toEqual([
      [false, 2, true],
      [true, 5, true],
    ]);
    // Nothing was taken from the large member by the refusals: 5 - 2 admitted = 3 left, 2 after this call.
    expect((await large.consume('k')).remaining).toBe(2);
  });

  it('fallback: false leaves a failure to the limiter failMode, unscaled, and keeps the deny cache', async () => {
    const own = await ownServer();
    const client = own.client({ retryStrategy: () => 10 });
    const store = track(hybridStore({ remote: redisStore({ client, timeout: 200 }), fallback: false, instances: 4 }));
    const limiter = tokenBucket({ rate: 1, per: '1h', burst: 2, store, failMode: 'closed', name: uniqueName('nofallback') });
    await limiter.consume('k');
    await limiter.consume('k');
    expect((await limiter.consume('k')).allowed).toBe(false);
    await own.kill();
    // The refusal is still known locally.
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, limit: 2 });
    expect(store.stats().denyCacheHits).toBe(1);
    const failed = await limiter.consume('other');
    expect(failed).toMatchObject({ allowed: false, degraded: true, limit: 2 });
    expect(limiter.metrics().storeErrors).toBe(1);
    expect(store.mode).toBe('remote');
    expect(store.stats().fallbacks).toBe(0);
  });

  it('a process left in fallback exits by itself: no timer of the store keeps it alive', async () => {
    const port = await findFreePort();
    const childScript = fileURLToPath(new URL('../support/hybrid-exit-child.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', childScript, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 15_000);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(code, stderr).toBe(0);
    const stats = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(stats).toMatchObject({ mode: 'fallback', fallbacks: 1, fallbackDecisions: 8, allowed: 5, degraded: 8, limits: [5] });
    expect(stats.probes).toBeGreaterThanOrEqual(2);
    expect(stats.probeFailures).toBe(stats.probes);
  });
});

describe('hybridStore key-value facet on Redis', () => {
  it('reads through a local cache for kvCacheTtl and writes through to Redis', async () => {
    const clock = new FakeClock(0);
    const store = track(hybridStore({ remote: redisStore({ client: server.client() }), clock, kvCacheTtl: 1_000 }));
    const key = uniqueName('kv');
    const counter = uniqueName('counter');
    // Baselines are taken after the admin client's own reads, which INFO counts too.
    const redisGets = () => commandCalls(admin, 'get');

    await store.set(key, 'one');
    expect(await admin.get(key)).toBe('one');
    let gets = await redisGets();
    expect(await store.get(key)).toBe('one');
    expect(await redisGets()).toBe(gets);

    // Another process writes: this one sees it once its local copy expires.
    await admin.set(key, 'two');
    expect(await store.get(key)).toBe('one');
    await clock.advance(999);
    expect(await store.get(key)).toBe('one');
    expect(await redisGets()).toBe(gets);
    await clock.advance(1);
    expect(await store.get(key)).toBe('two');
    expect(await store.get(key)).toBe('two');
    expect(await redisGets()).toBe(gets + 1);

    // Writes through this store update the local copy at once.
    await store.set(key, 'three');
    expect(await store.get(key)).toBe('three');
    expect(await store.incr(counter, 5)).toBe(5);
    expect(await store.get(counter)).toBe('5');
    expect(await store.decr(counter, 2)).toBe(3);
    expect(await store.get(counter)).toBe('3');
    const existsBefore = await commandCalls(admin, 'exists');
    expect(await store.exists(key)).toBe(true);
    expect(await commandCalls(admin, 'exists')).toBe(existsBefore);
    expect(await redisGets()).toBe(gets + 1);
    expect(await admin.get(counter)).toBe('3');
    expect(await admin.get(key)).toBe('three');
    gets = await redisGets();

    // A delete drops the local copy: the next read asks Redis.
    expect(await store.delete(key)).toBe(true);
    expect(await admin.exists(key)).toBe(0);
    expect(await store.get(key)).toBeUndefined();
    expect(await store.exists(key)).toBe(false);
    expect(await redisGets()).toBe(gets + 1);
    expect(store.stats().kvCacheHits).toBe(8);
  });

  it('keeps a value written with a TTL shorter than kvCacheTtl no longer than that TTL', async () => {
    const clock = new FakeClock(0);
    const store = track(hybridStore({ remote: redisStore({ client: server.client() }), clock, kvCacheTtl: '1m' }));
    const key = uniqueName('short');
    await store.set(key, 'v', 200);
    const gets = await commandCalls(admin, 'get');
    expect(await store.get(key)).toBe('v');
    expect(await commandCalls(admin, 'get')).toBe(gets);
    await clock.advance(200);
    await store.get(key);
    expect(await commandCalls(admin, 'get')).toBe(gets + 1);
  });

  it('concurrent reads of a key not cached share one GET; a write during a read wins', async () => {
    const store = track(hybridStore({ remote: redisStore({ client: server.client() }), clock: new FakeClock(0) }));
    const key = uniqueName('shared');
    await admin.set(key, 'v');
    const gets = await commandCalls(admin, 'get');
    const values = await Promise.all(Array.from({ length: 20 }, () => store.get(key)));
    expect(values.every((v) => v === 'v')).toBe(true);
    expect(await commandCalls(admin, 'get')).toBe(gets + 1);

    const other = uniqueName('raced');
    await admin.set(other, 'old');
    const read = store.get(other);
    const write = store.set(other, 'new');
    expect(await read).toBe('old');
    await write;
    expect(await store.get(other)).toBe('new');
  });

  it('in fallback serves cached values and refuses the rest at once with StoreUnavailableError', async () => {
    const own = await ownServer();
    const clock = new FakeClock(0);
    const store = track(
      hybridStore({ remote: redisStore({ client: own.client({ retryStrategy: () => 10 }), timeout: 2_000 }), clock, probeInterval: '1h' }),
    );
    await store.set('cached', 'yes');
    await own.kill();
    await expect(store.get('not-cached')).rejects.toSatisfy(isStoreUnavailableError);
    expect(store.mode).toBe('fallback');
    const startedAt = performance.now();
    expect(await store.get('cached')).toBe('yes');
    expect(await store.exists('cached')).toBe(true);
    await expect(store.get('not-cached')).rejects.toSatisfy(isStoreUnavailableError);
    await expect(store.set('cached', 'no')).rejects.toSatisfy(isStoreUnavailableError);
    await expect(store.incr('n')).rejects.toSatisfy(isStoreUnavailableError);
    await expect(store.delete('cached')).rejects.toSatisfy(isStoreUnavailableError);
    // All six answered without waiting for the 2 s remote timeout even once.
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(await store.get('cached')).toBe('yes');
  });
});

describe('hybridStore with a redis client', () => {
  it('builds the Redis store itself, passing the timeout, and does not close the client', async () => {
    const client = server.client();
    const store = track(hybridStore({ redis: client, timeout: '300ms', clock: new FakeClock(0) }));
    expect(store.remote.kind).toBe('redis');
    expect((store.remote as { timeoutMs?: number }).timeoutMs).toBe(300);
    const limiter = tokenBucket({ rate: 1, per: '1h', burst: 1, store, name: uniqueName('client') });
    expect((await limiter.consume('k')).allowed).toBe(true);
    expect(await store.probe()).toBe(true);
    await store.close();
    expect(client.status).toBe('ready');
  });
});
