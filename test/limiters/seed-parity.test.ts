// Each row of docs/seeds.md, run: the seeds' calls and what they map to.
import { describe, expect, it } from 'vitest';
import {
  adaptive,
  composite,
  ConfigError,
  isRateLimitExceededError,
  leakyBucket,
  memoryStore,
  slidingWindow,
  tokenBucket,
} from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';

const fresh = () => ({ clock: new FakeClock(1_000_000), store: memoryStore({ sweepInterval: 0 }) });

describe('thread-safe TokenBucket parity', () => {
  it('allow / try_consume with fractions / wait / validation', async () => {
    const { clock, store } = fresh();
    const bucket = tokenBucket({ rate: 2, per: '1s', burst: 3, store, clock });
    expect(await bucket.tryAcquire('global')).toBe(true);
    expect(await bucket.tryAcquire('global', 0.5)).toBe(true);
    expect((await bucket.stats('global')).available).toBeCloseTo(1.5, 9);
    expect(await bucket.tryAcquire('global', 1.5)).toBe(true);
    expect(await bucket.tryAcquire('global', 0.25)).toBe(false);
    const waiting = bucket.acquire('global', { cost: 1 });
    await clock.advance(500);
    await expect(waiting).resolves.toMatchObject({ cost: 1 });
    await expect(bucket.acquire('global', { cost: 4 })).rejects.toSatisfy(isRateLimitExceededError);
    expect(() => tokenBucket({ rate: 0, burst: 3 })).toThrow(ConfigError);
    expect(() => tokenBucket({ rate: 1, burst: -3 })).toThrow(ConfigError);
  });
});

describe('PHP per-account leaky bucket parity', () => {
  it('status, retry after seconds and reset per account', async () => {
    const { clock, store } = fresh();
    const perAccount = leakyBucket({ rate: 1, per: '2s', capacity: 2, store, clock });
    await perAccount.consume('acct-1');
    await perAccount.consume('acct-1');
    const refused = await perAccount.consume('acct-1');
    expect(refused.allowed).toBe(false);
    expect(Math.ceil(refused.retryAfterMs / 1000)).toBe(2);
    expect((await perAccount.stats('acct-1')).available).toBe(0);
    expect((await perAccount.stats('acct-2')).available).toBe(2);
    await perAccount.reset('acct-1');
    expect((await perAccount.consume('acct-1')).allowed).toBe(true);
  });
});

describe('aioflux limiter parity', () => {
  it('acquire / try_acquire / release / get_stats / reset across limiter kinds', async () => {
    const { clock, store } = fresh();
    const perSecond = tokenBucket({ rate: 5, burst: 5, store, clock, name: 'a' });
    const perMinute = slidingWindow({ limit: 6, window: '1m', precision: 'exact', store, clock, name: 'b' });
    const both = composite(perSecond, perMinute);
    for (let i = 0; i < 5; i++) expect(await both.tryAcquire('k')).toBe(true);
    expect(await both.tryAcquire('k')).toBe(false);
    // The refusal took nothing from the sliding window: one unit is still left there.
    expect((await perMinute.stats('k')).available).toBe(1);
    const pending = both.acquire('k', { timeout: '1s' });
    await clock.advance(200);
    const permit = await pending;
    await permit.release();
    // The acquire saw one refusal (the bucket was empty), slept 200 ms, then was admitted.
    expect(both.metrics()).toMatchObject({ accepted: 6, rejected: 2, acquisitions: 1, releases: 1 });
    expect(both.metrics().waits.maxMs).toBe(200);
    await both.reset('k');
    expect((await perMinute.stats('k')).available).toBe(6);
  });

  it('adaptive report_success / report_error move the rate', () => {
    const { clock, store } = fresh();
    const limiter = adaptive({
      initialRate: 10, minRate: 1, maxRate: 20, increaseStep: 1, decreaseFactor: 0.5, errorThreshold: 0.5,
      window: '1s', store, clock,
    });
    limiter.reportError();
    limiter.reportError();
    clock.set(clock.now() + 1_000);
    limiter.reportSuccess(5);
    expect(limiter.currentRate).toBe(5);
  });
});
