import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { adaptive, memoryStore, type AdaptiveOptions } from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { configErrorField } from '../support/config-error.js';

const base = {
  initialRate: 100,
  minRate: 10,
  maxRate: 200,
  increaseStep: 5,
  decreaseFactor: 0.5,
  errorThreshold: 0.2,
  window: '10s',
} as const;

const setup = (options: Partial<AdaptiveOptions> = {}) => {
  const clock = new FakeClock(1_000_000);
  const store = memoryStore({ sweepInterval: 0 });
  return { clock, store, limiter: adaptive({ ...base, ...options, store, clock }) };
};


describe('adaptive', () => {
  it('multiplies the rate down after a window with too many errors', () => {
    const { clock, limiter } = setup();
    for (let i = 0; i < 8; i++) limiter.reportSuccess();
    clock.set(clock.now() + 9_999);
    limiter.reportError();
    limiter.reportError();
    expect(limiter.currentRate).toBe(100);
    // The next outcome after the window ends judges it: 2 errors of 10 is the threshold (0.2).
    clock.set(clock.now() + 1);
    limiter.reportSuccess();
    expect(limiter.currentRate).toBe(50);
    // Another burst halves it again, never below minRate.
    for (const _ of [1, 2, 3, 4]) {
      limiter.reportError();
      clock.set(clock.now() + 10_000);
      limiter.reportError();
    }
    expect(limiter.currentRate).toBe(10);
  });

  it('steps the rate up after each clean window, never above maxRate', () => {
    const { clock, limiter } = setup({ initialRate: 190 });
    limiter.reportSuccess();
    limiter.reportError(); // 1 error of 10 is under the threshold: still a clean window.
    for (let i = 0; i < 8; i++) limiter.reportSuccess();
    clock.set(clock.now() + 10_000);
    limiter.reportSuccess();
    expect(limiter.currentRate).toBe(195);
    clock.set(clock.now() + 10_000);
    limiter.reportSuccess();
    expect(limiter.currentRate).toBe(200);
    clock.set(clock.now() + 10_000);
    limiter.reportSuccess();
    expect(limiter.currentRate).toBe(200);
  });

  it('does not adjust without outcomes, however long it waits', () => {
    const { clock, limiter } = setup();
    clock.set(clock.now() + 3_600_000);
    limiter.reportError();
    expect(limiter.currentRate).toBe(100);
  });

  it('treats a window slower than latencyTarget as gone wrong', () => {
    const { clock, limiter } = setup({ latencyTarget: '250ms' });
    limiter.reportSuccess(200);
    limiter.reportSuccess(400);
    limiter.reportSuccess(); // no latency given: not part of the mean
    clock.set(clock.now() + 10_000);
    limiter.reportSuccess(100);
    expect(limiter.currentRate).toBe(50);
    limiter.reportSuccess(250);
    clock.set(clock.now() + 10_000);
    limiter.reportSuccess();
    expect(limiter.currentRate).toBe(55);
    // Without a target, latency does not matter.
    const { clock: clock2, limiter: plain } = setup();
    plain.reportSuccess(60_000);
    clock2.set(clock2.now() + 10_000);
    plain.reportSuccess();
    expect(plain.currentRate).toBe(105);
  });

  it('moves only by the AIMD rule and stays within bounds (property)', () => {
    type Step = { advanceMs: number; outcome: 'success' | 'error'; latencyMs: number | undefined };
    fc.assert(
      fc.property(
        fc.record({
          minRate: fc.integer({ min: 1, max: 50 }),
          span: fc.integer({ min: 0, max: 200 }),
          increaseStep: fc.double({ min: 0.1, max: 30, noNaN: true }),
          decreaseFactor: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
          errorThreshold: fc.double({ min: 0.01, max: 1, noNaN: true }),
          windowMs: fc.integer({ min: 1, max: 5_000 }),
          latencyTarget: fc.option(fc.integer({ min: 1, max: 500 }), { nil: undefined }),
        }),
        fc.array(
          fc.record({
            advanceMs: fc.integer({ min: 0, max: 3_000 }),
            outcome: fc.constantFrom('success' as const, 'error' as const),
            latencyMs: fc.option(fc.integer({ min: 0, max: 1_000 }), { nil: undefined }),
          }),
          { maxLength: 300 },
        ),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (params, steps: Step[], startAt) => {
          const { minRate, span, windowMs, latencyTarget, ...rest } = params;
          const maxRate = minRate + span;
          const initialRate = minRate + startAt * span;
          const clock = new FakeClock(0);
          const limiter = adaptive({
            ...rest,
            minRate,
            maxRate,
            initialRate,
            window: windowMs,
            latencyTarget,
            store: memoryStore({ sweepInterval: 0 }),
            clock,
          });
          // The documented rule, written independently.
          let rate = initialRate;
          let window: { startMs: number; successes: number; errors: number; latencies: number[] } | undefined;
          for (const step of steps) {
            clock.set(clock.now() + step.advanceMs);
            if (window && clock.now() - window.startMs >= windowMs) {
              const errorShare = window.errors / (window.errors + window.successes);
              const meanLatency = window.latencies.length ? window.latencies.reduce((a, b) => a + b, 0) / window.latencies.length : 0;
              const wrong = errorShare >= rest.errorThreshold || (latencyTarget !== undefined && meanLatency > latencyTarget);
              rate = Math.min(maxRate, Math.max(minRate, wrong ? rate * rest.decreaseFactor : rate + rest.increaseStep));
              window = undefined;
            }
            window ??= { startMs: clock.now(), successes: 0, errors: 0, latencies: [] };
            if (step.outcome === 'error') {
              window.errors++;
              limiter.reportError();
            } else {
              window.successes++;
              if (step.latencyMs !== undefined) window.latencies.push(step.latencyMs);
              limiter.reportSuccess(step.latencyMs);
            }
            expect(limiter.currentRate).toBeGreaterThanOrEqual(minRate);
            expect(limiter.currentRate).toBeLessThanOrEqual(maxRate);
            expect(limiter.currentRate).toBeCloseTo(rate, 9);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('its bucket follows the rate: capacity and refill change with it', async () => {
    const { clock, limiter } = setup({ initialRate: 10, minRate: 1, maxRate: 20, window: '1s' });
    expect(await limiter.stats('fresh')).toMatchObject({ available: 10, max: 10, refillPerSecond: 10, currentRate: 10 });
    limiter.reportError();
    clock.set(clock.now() + 1_000);
    limiter.reportSuccess();
    expect(limiter.currentRate).toBe(5);
    expect(limiter.policies[0]).toMatchObject({ limit: 5, windowMs: 1_000, algorithm: 'token-bucket' });
    for (let i = 0; i < 5; i++) expect((await limiter.consume('k')).allowed).toBe(true);
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, limit: 5, retryAfterMs: 200 });
    expect(await limiter.stats('k')).toMatchObject({ available: 0, max: 5, refillPerSecond: 5, currentRate: 5 });
    // A key that spent tokens before a drop owes the difference: never shown below zero.
    const fixed = setup({ initialRate: 10, minRate: 1, maxRate: 20, window: '1s', burst: 4 });
    expect(await fixed.limiter.stats('k')).toMatchObject({ max: 4, refillPerSecond: 10 });
    fixed.limiter.reportSuccess();
    fixed.clock.set(fixed.clock.now() + 1_000);
    fixed.limiter.reportSuccess();
    expect(await fixed.limiter.stats('k')).toMatchObject({ max: 4, refillPerSecond: 15, currentRate: 15 });
  });

  it('shows a lowered capacity as empty, never negative, while a key owes tokens', async () => {
    const { clock, limiter } = setup({ initialRate: 10, minRate: 1, maxRate: 20, window: '1s' });
    for (let i = 0; i < 10; i++) await limiter.consume('k');
    limiter.reportError();
    clock.set(clock.now() + 1_000);
    limiter.reportError();
    // One second refilled 5 of 10 spent at the new rate of 5 per second: 5 still owed, capacity 5.
    expect(await limiter.stats('k')).toMatchObject({ available: 0, max: 5 });
    expect((await limiter.consume('k')).allowed).toBe(false);
    clock.set(clock.now() + 1_200);
    expect((await limiter.consume('k')).allowed).toBe(true);
  });

  it('rejects a bad latency report', () => {
    const { limiter } = setup();
    for (const latency of [-1, Number.NaN, Infinity, '5' as never]) {
      expect(configErrorField(() => limiter.reportSuccess(latency))).toBe('latencyMs');
    }
  });

  it('rejects bad options with ConfigError naming the field', () => {
    const field = (options: Record<string, unknown>) => configErrorField(() => adaptive({ ...base, ...options } as never));
    expect(configErrorField(() => adaptive(undefined as never))).toBe('minRate');
    for (const bad of [0, -1, Number.NaN, Infinity, '10', undefined]) {
      expect(field({ minRate: bad })).toBe('minRate');
      expect(field({ maxRate: bad })).toBe('maxRate');
      expect(field({ initialRate: bad })).toBe('initialRate');
      expect(field({ increaseStep: bad })).toBe('increaseStep');
      expect(field({ decreaseFactor: bad })).toBe('decreaseFactor');
      expect(field({ errorThreshold: bad })).toBe('errorThreshold');
      expect(field({ burst: bad === undefined ? null : bad })).toBe('burst');
    }
    expect(field({ maxRate: 5 })).toBe('maxRate'); // below minRate
    expect(field({ initialRate: 5 })).toBe('initialRate'); // below minRate
    expect(field({ initialRate: 500 })).toBe('initialRate'); // above maxRate
    expect(field({ decreaseFactor: 1 })).toBe('decreaseFactor');
    expect(field({ decreaseFactor: 1.5 })).toBe('decreaseFactor');
    expect(field({ errorThreshold: 1.01 })).toBe('errorThreshold');
    for (const bad of [0, -5, Infinity, '10 minutes', undefined, null]) expect(field({ window: bad })).toBe('window');
    for (const bad of [0, -5, Infinity, 'soon']) expect(field({ latencyTarget: bad })).toBe('latencyTarget');
    for (const bad of [0, -5, Infinity, '1 fortnight']) expect(field({ per: bad })).toBe('per');
    expect(field({ windw: '1s' })).toBe('adaptive.windw');
    expect(field({ failMode: 'sometimes' })).toBe('failMode');
    expect(field({ name: '' })).toBe('name');
    expect(field({ store: 'redis' })).toBe('store');
    expect(field({ clock: { now: () => 0 } })).toBe('clock');
    expect(adaptive({ ...base, errorThreshold: 1, decreaseFactor: 0.01, minRate: 100, maxRate: 100, initialRate: 100 }).currentRate).toBe(100);
  });
});
