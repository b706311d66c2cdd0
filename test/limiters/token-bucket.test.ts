import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tokenBucket, memoryStore, ConfigError, isRateLimitExceededError } from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';

const setup = (options: { rate: number; per?: string | number; burst?: number }) => {
  const clock = new FakeClock(1_000_000);
  const store = memoryStore({ sweepInterval: 0 });
  return { clock, store, limiter: tokenBucket({ ...options, store, clock } as never) };
};

describe('tokenBucket', () => {
  it('admits a burst then refills at the rate', async () => {
    const { clock, limiter } = setup({ rate: 2, per: '1s', burst: 4 });
    for (let i = 0; i < 4; i++) expect((await limiter.consume('k')).allowed).toBe(true);
    const refused = await limiter.consume('k');
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 500, limit: 4 });
    clock.set(clock.now() + 499);
    expect((await limiter.consume('k')).allowed).toBe(false);
    clock.set(clock.now() + 1);
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('reports Infinity when the cost exceeds the burst', async () => {
    const { limiter } = setup({ rate: 1, burst: 3 });
    expect((await limiter.consume('k', 4)).retryAfterMs).toBe(Infinity);
    await expect(limiter.acquire('k', { cost: 4 })).rejects.toSatisfy(isRateLimitExceededError);
  });

  it('acquire sleeps until the retry time and fails fast past the timeout', async () => {
    const { clock, limiter } = setup({ rate: 1, per: '1s', burst: 1 });
    await limiter.acquire('k');
    await expect(limiter.acquire('k', { timeout: 500 })).rejects.toSatisfy(isRateLimitExceededError);
    const pending = limiter.acquire('k', { timeout: '2s' });
    await clock.advance(1000);
    const permit = await pending;
    expect(permit.key).toBe('k');
    expect(limiter.metrics()).toMatchObject({ acquisitions: 2, timeouts: 1 });
    expect(limiter.metrics().waits.maxMs).toBe(1000);
  });

  it('never admits more than burst + rate x elapsed (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.double({ min: 0.1, max: 5, noNaN: true })), { maxLength: 200 }),
        async (rate, burst, trace) => {
          const { clock, limiter } = setup({ rate, per: 1000, burst });
          const startMs = clock.now();
          let admitted = 0;
          for (const [stepMs, cost] of trace) {
            clock.set(clock.now() + stepMs);
            if ((await limiter.consume('k', cost)).allowed) admitted += cost;
            expect(admitted).toBeLessThanOrEqual(burst + (rate * (clock.now() - startMs)) / 1000 + 1e-6);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects bad options with ConfigError naming the field', () => {
    expect(() => tokenBucket({ rate: -1 })).toThrow(ConfigError);
    expect(() => tokenBucket({ rate: 1, per: '1 fortnight' as never })).toThrow(/per/);
    expect(() => tokenBucket({ rate: 1, burst: Number.NaN })).toThrow(/burst/);
    expect(() => tokenBucket({ rate: 1, brust: 2 } as never)).toThrow(/brust/);
  });

  it('memory store with maxKeys 1000 holds at most 1000 of 1,000,000 keys', async () => {
    const clock = new FakeClock(1);
    const store = memoryStore({ maxKeys: 1000, sweepInterval: 0 });
    const limiter = tokenBucket({ rate: 1, per: '1h', burst: 5, store, clock });
    for (let i = 0; i < 1_000_000; i++) limiter.decide(`k${i}`);
    expect(store.size()).toBeLessThanOrEqual(1000);
    expect(store.size()).toBe(1000);
  });
});

describe('tokenBucket after the clock steps back', () => {
  it('asks for the wait measured from the last update, not from the earlier now', async () => {
    const clock = new FakeClock(10_000);
    const limiter = tokenBucket({ rate: 1, per: '1s', burst: 2, store: memoryStore({ sweepInterval: 0 }), clock });
    await limiter.consume('k', 2);
    clock.set(9_000);
    const refused = await limiter.consume('k', 2);
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 3_000 });
    clock.set(12_000);
    expect((await limiter.consume('k', 2)).allowed).toBe(true);
  });
});
