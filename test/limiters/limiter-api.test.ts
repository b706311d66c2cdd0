/** The shared limiter API (PolicyLimiter), run on a rate limit (token bucket) and on a slot limit (concurrency). */
import { describe, expect, it } from 'vitest';
import {
  concurrency,
  memoryStore,
  tokenBucket,
  ConfigError,
  StoreUnavailableError,
  isRateLimitExceededError,
  isStoreUnavailableError,
  type FailMode,
  type PolicyLimiter,
  type Store,
} from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { failingStore } from '../support/failing-store.js';

interface Kind {
  name: string;
  /** A limiter that admits 2 units per key. */
  build(options: { clock: FakeClock; store: Store; failMode?: FailMode }): PolicyLimiter;
  refillPerSecond: number;
  /** resetMs after one unit was taken. */
  resetAfterOneMs: number;
  /** The retry time once both units were taken at the same instant. */
  retryWhenFullMs: number;
}

const kinds: Kind[] = [
  {
    name: 'token bucket',
    build: (options) => tokenBucket({ rate: 1, per: '1s', burst: 2, ...options }),
    refillPerSecond: 1,
    resetAfterOneMs: 1_000,
    retryWhenFullMs: 1_000,
  },
  {
    name: 'concurrency',
    build: (options) => concurrency({ max: 2, lease: '10s', ...options }),
    refillPerSecond: 0,
    resetAfterOneMs: 10_000,
    retryWhenFullMs: 10_000,
  },
];


const settle = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe.each(kinds)('the limiter API on a $name', (kind) => {
  const setup = (failMode?: FailMode) => {
    const clock = new FakeClock(1_000_000);
    const store = memoryStore({ sweepInterval: 0 });
    return { clock, store, limiter: kind.build({ clock, store, ...(failMode ? { failMode } : {}) }) };
  };

  it('tryAcquire answers with a boolean and charges when true', async () => {
    const { limiter } = setup();
    expect(await limiter.tryAcquire('k')).toBe(true);
    expect(await limiter.tryAcquire('k')).toBe(true);
    expect(await limiter.tryAcquire('k')).toBe(false);
    expect(await limiter.tryAcquire('other', 2)).toBe(true);
    expect(limiter.metrics()).toMatchObject({ accepted: 3, rejected: 1 });
  });

  it('consume never rejects for "limited" and says how long to wait', async () => {
    const { limiter } = setup();
    const decisions = await Promise.all(Array.from({ length: 10 }, () => limiter.consume('k')));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(2);
    for (const refused of decisions.slice(2)) {
      expect(refused).toMatchObject({ allowed: false, remaining: 0, limit: 2, retryAfterMs: kind.retryWhenFullMs });
      expect(refused.policy).toMatchObject({ limit: 2, algorithm: kind.name === 'concurrency' ? 'concurrency' : 'token-bucket' });
    }
    expect(await limiter.consume('k', 5)).toMatchObject({ allowed: false, retryAfterMs: Infinity });
  });

  it('acquire fails fast when the cost can never fit', async () => {
    const { clock, limiter } = setup();
    const result = await settle(limiter.acquire('k', { cost: 3, timeout: '1h' }));
    expect(result.ok).toBe(false);
    const error = !result.ok ? (result.error as { retryAfterMs: number; limit: number; key: string }) : undefined;
    expect(error).toSatisfy(isRateLimitExceededError);
    expect(error).toMatchObject({ retryAfterMs: Infinity, limit: 2, key: 'k' });
    expect(clock.pending).toBe(0);
    expect(limiter.metrics().timeouts).toBe(0);
  });

  it('acquire with timeout 0 fails at once when refused', async () => {
    const { clock, limiter } = setup();
    await limiter.consume('k', 2);
    await expect(limiter.acquire('k', { timeout: 0 })).rejects.toSatisfy(isRateLimitExceededError);
    expect(clock.pending).toBe(0);
    expect(limiter.metrics().timeouts).toBe(1);
    expect((await limiter.acquire('fresh', { timeout: 0 })).key).toBe('fresh');
  });

  if (kind.name === 'token bucket') {
    it('acquire fails fast, without sleeping, when the wait would pass the timeout', async () => {
      const { clock, limiter } = setup();
      await limiter.consume('k', 2);
      const result = await settle(limiter.acquire('k', { timeout: 999 }));
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error).toMatchObject({ retryAfterMs: 1_000 });
      expect(clock.pending).toBe(0);
      expect(clock.now()).toBe(1_000_000);
      const waited = limiter.acquire('k', { timeout: 1_000 });
      await clock.advance(1_000);
      expect((await waited).cost).toBe(1);
      expect(limiter.metrics()).toMatchObject({ timeouts: 1, acquisitions: 1, waits: { count: 1, maxMs: 1_000 } });
    });
  } else {
    it('acquire waits for a release until the timeout, then fails (a lease end is only the latest a slot frees)', async () => {
      const { clock, limiter } = setup();
      const held = await limiter.acquire('k', { cost: 2 });
      const failing = settle(limiter.acquire('k', { timeout: 999 }));
      await clock.advance(998);
      expect(clock.pending).toBe(1);
      await clock.advance(1);
      const result = await failing;
      expect(!result.ok && result.error).toSatisfy(isRateLimitExceededError);
      const admitted = limiter.acquire('k', { timeout: 999 });
      await clock.advance(500);
      await held.release();
      await clock.advance(0);
      expect((await admitted).cost).toBe(1);
      expect(limiter.metrics()).toMatchObject({ timeouts: 1, acquisitions: 2, waits: { count: 1, maxMs: 500 } });
    });
  }

  it('an AbortSignal cancels a sleeping acquire and leaves no waiter behind', async () => {
    const { clock, limiter } = setup();
    const held = await limiter.acquire('k', { cost: 2 });
    const controller = new AbortController();
    const reason = new Error('client went away');
    const waiting = settle(limiter.acquire('k', { signal: controller.signal }));
    await clock.advance(100);
    expect(clock.pending).toBe(1);
    controller.abort(reason);
    const result = await waiting;
    expect(result).toEqual({ ok: false, error: reason });
    expect(clock.pending).toBe(0);
    await held.release();
    // Nothing was taken by the cancelled acquirer: the whole quota comes back as before.
    clock.set(clock.now() + 10_000);
    expect((await limiter.stats('k')).available).toBe(2);
    expect(limiter.metrics()).toMatchObject({ acquisitions: 1, timeouts: 0, inFlight: 0 });
    // An already aborted signal rejects before deciding anything.
    await expect(limiter.acquire('k', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(limiter.metrics().accepted).toBe(1);
  });

  it('stats reads without charging', async () => {
    const { clock, limiter } = setup();
    expect(await limiter.stats('k')).toEqual({ available: 2, max: 2, refillPerSecond: kind.refillPerSecond, lastUpdateMs: undefined, resetMs: 0 });
    await limiter.consume('k');
    const nowMs = clock.now();
    expect(await limiter.stats('k')).toEqual({
      available: 1,
      max: 2,
      refillPerSecond: kind.refillPerSecond,
      lastUpdateMs: nowMs,
      resetMs: kind.resetAfterOneMs,
    });
    expect(await limiter.stats('k')).toMatchObject({ available: 1 });
    expect(limiter.metrics()).toMatchObject({ accepted: 1, rejected: 0 });
  });

  it('reset forgets a key (and wakes the waiters of a slot limit)', async () => {
    const { clock, limiter } = setup();
    const startMs = clock.now();
    await limiter.consume('k', 2);
    await limiter.consume('other', 2);
    const waiting = limiter.acquire('k');
    await clock.advance(10);
    await limiter.reset('k');
    await clock.advance(kind.name === 'concurrency' ? 0 : kind.retryWhenFullMs);
    expect((await waiting).key).toBe('k');
    // Only the waiter's unit is taken (a token bucket refilled 10 ms' worth meanwhile).
    expect(Math.floor((await limiter.stats('k')).available)).toBe(1);
    // Another key is untouched: it has only what it regained since.
    expect((await limiter.stats('other')).available).toBeCloseTo((kind.refillPerSecond * (clock.now() - startMs)) / 1000, 9);
  });

  it('refund gives back units, never beyond the limit', async () => {
    const { limiter } = setup();
    await limiter.consume('k', 2);
    await limiter.refund('k');
    expect((await limiter.stats('k')).available).toBe(1);
    await limiter.refund('k', 5);
    expect((await limiter.stats('k')).available).toBe(2);
    await limiter.refund('never-seen');
    expect((await limiter.stats('never-seen')).available).toBe(2);
  });

  it('metrics count accepted, rejected, acquisitions, waits, timeouts, in flight and releases', async () => {
    const { clock, limiter } = setup();
    expect(limiter.metrics()).toEqual({
      accepted: 0,
      rejected: 0,
      acquisitions: 0,
      waits: { count: 0, totalMs: 0, avgMs: 0, maxMs: 0 },
      timeouts: 0,
      inFlight: 0,
      releases: 0,
      storeErrors: 0,
      degraded: 0,
    });
    const first = await limiter.acquire('k');
    const second = await limiter.acquire('k');
    await limiter.consume('k');
    await expect(limiter.acquire('k', { timeout: 0 })).rejects.toSatisfy(isRateLimitExceededError);
    const third = limiter.acquire('k');
    await clock.advance(300);
    await first.release();
    await first.release();
    await clock.advance(kind.name === 'concurrency' ? 0 : 700);
    await third;
    const fourth = limiter.acquire('k');
    await clock.advance(100);
    await second.release();
    await clock.advance(kind.name === 'concurrency' ? 0 : 900);
    await fourth;
    const waitedMs = kind.name === 'concurrency' ? [300, 100] : [1_000, 1_000];
    expect(limiter.metrics()).toEqual({
      accepted: 4,
      // the consume, the timed-out acquire, and each waiter's first try
      rejected: 4,
      acquisitions: 4,
      waits: { count: 2, totalMs: waitedMs[0]! + waitedMs[1]!, avgMs: (waitedMs[0]! + waitedMs[1]!) / 2, maxMs: Math.max(...waitedMs) },
      timeouts: 1,
      inFlight: 2,
      releases: 2,
      storeErrors: 0,
      degraded: 0,
    });
  });

  it('bad cost and key arguments reject with ConfigError', async () => {
    const { limiter } = setup();
    const fieldOf = async (promise: Promise<unknown>) => {
      const result = await settle(promise);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error).toBeInstanceOf(ConfigError);
      return !result.ok && (result.error as ConfigError).field;
    };
    for (const cost of [-1, Number.NaN, Infinity, '1' as never]) {
      expect(await fieldOf(limiter.consume('k', cost))).toBe('cost');
      expect(await fieldOf(limiter.tryAcquire('k', cost))).toBe('cost');
      expect(await fieldOf(limiter.acquire('k', { cost }))).toBe('cost');
      expect(await fieldOf(limiter.refund('k', cost))).toBe('cost');
      expect(() => limiter.decide('k', cost)).toThrow(ConfigError);
    }
    for (const key of [undefined, null, 7, {}] as never[]) {
      expect(await fieldOf(limiter.consume(key))).toBe('key');
      expect(await fieldOf(limiter.tryAcquire(key))).toBe('key');
      expect(await fieldOf(limiter.acquire(key))).toBe('key');
      expect(await fieldOf(limiter.refund(key))).toBe('key');
      expect(await fieldOf(limiter.stats(key))).toBe('key');
      expect(await fieldOf(limiter.reset(key))).toBe('key');
    }
    expect(await fieldOf(limiter.acquire('k', { timeout: -5 }))).toBe('timeout');
    expect(await fieldOf(limiter.acquire('k', { timeout: 'later' as never }))).toBe('timeout');
    expect(await fieldOf(limiter.acquire('k', { costs: 2 } as never))).toBe('acquire.costs');
    expect(limiter.metrics()).toMatchObject({ accepted: 0, rejected: 0 });
  });

  for (const asynchronous of [false, true]) {
    describe(`failMode with a store that ${asynchronous ? 'rejects' : 'throws'}`, () => {
      const build = (failMode?: FailMode) => kind.build({ clock: new FakeClock(0), store: failingStore(asynchronous), ...(failMode ? { failMode } : {}) });

      it("'open' (the default) admits, marked degraded", async () => {
        const limiter = build();
        const decision = await limiter.consume('k');
        expect(decision).toMatchObject({ allowed: true, degraded: true, limit: 2, remaining: 2, retryAfterMs: 0 });
        expect(await limiter.tryAcquire('k')).toBe(true);
        expect(limiter.metrics()).toMatchObject({ accepted: 2, storeErrors: 2, degraded: 2 });
        expect(limiter.lastStoreError).toBeInstanceOf(StoreUnavailableError);
        expect((limiter.lastStoreError?.cause as Error).message).toBe('connection refused');
        // A permit's release never throws, even when the store cannot take the slot back (its lease will).
        const permit = await limiter.acquire('k');
        await expect(permit.release()).resolves.toBeUndefined();
        expect(limiter.metrics()).toMatchObject({ acquisitions: 1, releases: 1, inFlight: 0, storeErrors: kind.name === 'concurrency' ? 4 : 3 });
      });

      it("'closed' refuses, marked degraded, asking to retry in a second", async () => {
        const limiter = build('closed');
        expect(await limiter.consume('k')).toMatchObject({ allowed: false, degraded: true, remaining: 0, retryAfterMs: 1_000 });
        expect(await limiter.tryAcquire('k')).toBe(false);
        expect(limiter.metrics()).toMatchObject({ rejected: 2, storeErrors: 2, degraded: 2 });
        expect(limiter.lastStoreError).toSatisfy(isStoreUnavailableError);
      });
    });
  }
});
