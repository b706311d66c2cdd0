import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fixedWindow, memoryStore } from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { EffectiveTime, clockMoves, costs, trace, unitsInWindow } from '../support/traces.js';

const setup = (limit: number, window: number | string) => {
  const clock = new FakeClock(1_000_000);
  const store = memoryStore({ sweepInterval: 0 });
  return { clock, store, limiter: fixedWindow({ limit, window: window as never, store, clock }) };
};

describe('fixedWindow', () => {
  it('opens a window at the first hit, not on a clock boundary', async () => {
    const { clock, limiter } = setup(2, '1s');
    clock.set(1_000_700);
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 1, resetMs: 1000 });
    clock.set(1_001_000); // a wall-clock second boundary: still the same window
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 0, resetMs: 700 });
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 700 });
    clock.set(1_001_700);
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 1, resetMs: 1000 });
  });

  it('reports stats without consuming', async () => {
    const { clock, limiter } = setup(5, 1000);
    await limiter.consume('k', 2);
    clock.set(clock.now() + 250);
    expect(await limiter.stats('k')).toEqual({ available: 3, max: 5, refillPerSecond: 5, lastUpdateMs: 1_000_000, resetMs: 750 });
    expect((await limiter.stats('k')).available).toBe(3);
    expect(await limiter.stats('fresh')).toMatchObject({ available: 5, lastUpdateMs: undefined, resetMs: 0 });
  });

  it('drops a key once its window is over', async () => {
    const { clock, store, limiter } = setup(5, 1000);
    await limiter.consume('k');
    expect(store.size()).toBe(1);
    store.sweep(clock.now() + 999);
    expect(store.size()).toBe(1);
    store.sweep(clock.now() + 1000);
    expect(store.size()).toBe(0);
  });

  it('never admits more than the limit in a window, even when the clock steps back (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 2000 }),
        trace(clockMoves(700), costs(4)),
        async (limit, windowMs, steps) => {
          const { clock, limiter } = setup(limit, windowMs);
          const time = new EffectiveTime();
          const admitted: { atMs: number; cost: number }[] = [];
          let windowStartMs = -Infinity;
          let inWindow = 0;
          for (const { deltaMs, cost } of steps) {
            clock.set(clock.now() + deltaMs);
            if (!(await limiter.consume('k', cost)).allowed) continue;
            const atMs = time.admitted(clock.now());
            admitted.push({ atMs, cost });
            // A window is opened by the first admission at or after the previous window's end.
            if (atMs >= windowStartMs + windowMs) {
              windowStartMs = atMs;
              inWindow = 0;
            }
            inWindow += cost;
            expect(inWindow).toBeLessThanOrEqual(limit);
            // Any interval of one window's length overlaps at most two windows.
            expect(unitsInWindow(admitted, atMs, windowMs)).toBeLessThanOrEqual(2 * limit);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('admits a whole new limit as soon as a window ends, so an interval straddling two windows can see 2 x limit', async () => {
    const { clock, limiter } = setup(3, 1000);
    await limiter.consume('k'); // opens [t, t + 1000)
    clock.set(clock.now() + 999);
    expect((await limiter.consume('k', 2)).allowed).toBe(true);
    clock.set(clock.now() + 1);
    expect((await limiter.consume('k', 3)).allowed).toBe(true);
  });
});
