import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { memoryStore, slidingWindow } from '../../src/index.js';
import { newStepOutcome, type StepInput } from '../../src/limiters/limiter.js';
import { slidingWindowExactAlgorithm, type RequestLog } from '../../src/limiters/sliding-window-exact.js';
import { FakeClock } from '../support/fake-clock.js';
import { EffectiveTime, clockMoves, costs, trace, unitsInWindow } from '../support/traces.js';

const setup = (limit: number, windowMs: number, precision?: 'exact' | 'approximate') => {
  const clock = new FakeClock(1_000_000);
  const store = memoryStore({ sweepInterval: 0 });
  const options = { limit, window: windowMs, store, clock, ...(precision ? { precision } : {}) };
  return { clock, store, limiter: slidingWindow(options) };
};

describe('slidingWindow exact', () => {
  it('never admits more than the limit in any window, even when the clock steps back (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.boolean(),
        fc.gen(),
        async (limit, windowMs, fractional, gen) => {
          const steps = gen(() => trace(clockMoves(600), costs(3, { fractional })));
          const { clock, limiter } = setup(limit, windowMs, 'exact');
          const time = new EffectiveTime();
          const admitted: { atMs: number; cost: number }[] = [];
          for (const { deltaMs, cost } of steps) {
            clock.set(clock.now() + deltaMs);
            if (!(await limiter.consume('k', cost)).allowed) continue;
            const atMs = time.admitted(clock.now());
            admitted.push({ atMs, cost });
            expect(unitsInWindow(admitted, atMs, windowMs)).toBeLessThanOrEqual(limit + 1e-9);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('retryAfterMs is exactly when enough old entries leave the window (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 2, max: 2000 }),
        trace(clockMoves(500, { back: false }), costs(3)),
        fc.integer({ min: 1, max: 3 }),
        async (limit, windowMs, steps, probeCost) => {
          const { clock, limiter } = setup(limit, windowMs, 'exact');
          for (const { deltaMs, cost } of steps) {
            clock.set(clock.now() + deltaMs);
            await limiter.consume('k', cost);
          }
          const refused = await limiter.consume('k', probeCost);
          if (refused.allowed || refused.retryAfterMs === Infinity) return;
          const atMs = clock.now();
          expect(refused.retryAfterMs).toBeGreaterThan(0);
          // One millisecond early is still refused (a refusal changes nothing), on time is admitted.
          clock.set(atMs + refused.retryAfterMs - 1);
          expect((await limiter.consume('k', probeCost)).allowed).toBe(false);
          clock.set(atMs + refused.retryAfterMs);
          expect((await limiter.consume('k', probeCost)).allowed).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps at most `limit` log entries per key, whatever the costs (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        trace(clockMoves(300), fc.integer({ min: 1, max: 300 }).map((n) => n / 100)),
        (limit, steps) => {
          const config = { limit, windowMs: 1000 };
          const input: StepInput = { nowMs: 0, cost: 1, commit: true, maxWaitMs: 0, token: '' };
          const out = newStepOutcome();
          let log: RequestLog | undefined;
          for (const { deltaMs, cost } of steps) {
            input.nowMs += deltaMs;
            input.cost = cost;
            log = slidingWindowExactAlgorithm.step(log, input, config, out);
            if (log) {
              expect(log.size).toBeLessThanOrEqual(limit);
              expect(log.entries.length / 2).toBeLessThanOrEqual(limit);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a check without commit leaves the log as it was', () => {
    const config = { limit: 2, windowMs: 1000 };
    const out = newStepOutcome();
    let log = slidingWindowExactAlgorithm.step(undefined, { nowMs: 0, cost: 2, commit: true, maxWaitMs: 0, token: '' }, config, out);
    const before = structuredClone(log);
    log = slidingWindowExactAlgorithm.step(log, { nowMs: 5000, cost: 1, commit: false, maxWaitMs: 0, token: '' }, config, out);
    expect(out.allowed).toBe(true);
    expect(log).toEqual(before);
    // The clock steps back: the entries a look into the future might have dropped still count.
    slidingWindowExactAlgorithm.step(log, { nowMs: 500, cost: 1, commit: true, maxWaitMs: 0, token: '' }, config, out);
    expect(out).toMatchObject({ allowed: false, retryAfterMs: 500 });
  });

  it('refund gives back the newest units and stats show them', async () => {
    const { clock, limiter } = setup(3, 1000, 'exact');
    await limiter.consume('k', 2);
    clock.set(clock.now() + 100);
    await limiter.consume('k', 1);
    await limiter.refund('k', 1);
    expect(await limiter.stats('k')).toMatchObject({ available: 1, lastUpdateMs: 1_000_000, resetMs: 900 });
    await limiter.refund('k', 5);
    expect(await limiter.stats('k')).toMatchObject({ available: 3, lastUpdateMs: undefined, resetMs: 0 });
  });
});

describe('slidingWindow approximate', () => {
  it('is the default precision', () => {
    const { limiter } = setup(5, 1000);
    expect(limiter.policies[0]!.algorithm).toBe('sliding-window-approximate');
  });

  it('stays within its documented bound: limit + f x previous count, aligned windows within the limit (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 2000 }),
        trace(clockMoves(600), costs(4, { fractional: true }), 200),
        async (limit, windowMs, steps) => {
          const { clock, limiter } = setup(limit, windowMs, 'approximate');
          const time = new EffectiveTime();
          const admitted: { atMs: number; cost: number }[] = [];
          const perAlignedWindow = new Map<number, number>();
          for (const { deltaMs, cost } of steps) {
            clock.set(clock.now() + deltaMs);
            if (!(await limiter.consume('k', cost)).allowed) continue;
            const atMs = time.admitted(clock.now());
            admitted.push({ atMs, cost });
            const index = Math.floor(atMs / windowMs);
            perAlignedWindow.set(index, (perAlignedWindow.get(index) ?? 0) + cost);
            expect(perAlignedWindow.get(index)!).toBeLessThanOrEqual(limit + 1e-6);
            const offset = (atMs - index * windowMs) / windowMs;
            const previous = perAlignedWindow.get(index - 1) ?? 0;
            const inSlidingWindow = unitsInWindow(admitted, atMs, windowMs);
            expect(inSlidingWindow).toBeLessThanOrEqual(limit + offset * previous + 1e-6);
            expect(inSlidingWindow).toBeLessThan(2 * limit);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the worst case comes near 2 x limit: a burst at the end of a window, then traffic at limit/window', async () => {
    const { clock, limiter } = setup(10, 1000, 'approximate');
    clock.set(1_000_999);
    expect((await limiter.consume('k', 10)).allowed).toBe(true);
    let admitted = 10;
    // In the next window the weight of the burst falls by 1 per 100 ms: one more call fits every 100 ms.
    for (let atMs = 1_001_000; atMs <= 1_001_998; atMs += 1) {
      clock.set(atMs);
      if ((await limiter.consume('k')).allowed) admitted++;
    }
    // All within (1_000_998, 1_001_998]: one sliding window of 1000 ms.
    expect(admitted).toBe(19);
    expect(admitted).toBeLessThan(2 * 10);
  });

  it('admits a steady rate under the limit in full, and holds a flood near the limit per window', async () => {
    const { clock, limiter } = setup(10, 1000, 'approximate');
    let admitted = 0;
    // 8 per second, evenly spread: the estimate before each call is 8 x (1 - k/8) + k = 8.
    for (let n = 0; n < 80; n++) {
      clock.set(1_000_000 + n * 125);
      if ((await limiter.consume('k')).allowed) admitted++;
    }
    expect(admitted).toBe(80);
    // A flood of 20 per second for 5 s: each aligned window admits at least 9 (the last call of a window sees
    // at most 10 x 0.05 of the previous one) and at most 10.
    const perWindow = new Map<number, number>();
    for (let atMs = 1_010_000; atMs < 1_015_000; atMs += 50) {
      clock.set(atMs);
      if ((await limiter.consume('k')).allowed) perWindow.set(Math.floor(atMs / 1000), (perWindow.get(Math.floor(atMs / 1000)) ?? 0) + 1);
    }
    expect(perWindow.size).toBe(5);
    for (const count of perWindow.values()) {
      expect(count).toBeGreaterThanOrEqual(9);
      expect(count).toBeLessThanOrEqual(10);
    }
  });
});
