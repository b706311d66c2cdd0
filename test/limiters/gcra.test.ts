import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gcra, memoryStore, tokenBucket } from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { clockMoves, costs, trace, expectWithinRateBound } from '../support/traces.js';

const setup = (options: { rate: number; per?: number | string; burst?: number }) => {
  const clock = new FakeClock(1_000_000);
  const store = memoryStore({ sweepInterval: 0 });
  return { clock, store, limiter: gcra({ ...options, store, clock } as never) };
};

describe('gcra', () => {
  it('keeps one number per key: the theoretical arrival time', async () => {
    const { clock, limiter } = setup({ rate: 10, per: '1s', burst: 2 });
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 1, resetMs: 100 });
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 0, resetMs: 200 });
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 100 });
    clock.set(clock.now() + 100);
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 0 });
    expect(await limiter.stats('k')).toMatchObject({ available: 0, max: 2, refillPerSecond: 10, resetMs: 200 });
  });

  it('agrees with a token bucket of the same rate, per and burst on random traces (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.constantFrom(1000, 60_000, 333, 7),
        fc.integer({ min: 1, max: 10 }),
        fc.array(
          fc.record({
            deltaMs: clockMoves(800, { back: false }),
            cost: fc.oneof(costs(12), costs(3, { fractional: true })),
            op: fc.constantFrom('consume', 'consume', 'consume', 'consume', 'refund', 'reset'),
            key: fc.constantFrom('a', 'b'),
          }),
          { maxLength: 150 },
        ),
        async (rate, per, burst, steps) => {
          const clock = new FakeClock(1_000_000);
          const store = memoryStore({ sweepInterval: 0 });
          const byGcra = gcra({ rate, per, burst, store, clock });
          const byBucket = tokenBucket({ rate, per, burst, store, clock });
          for (const { deltaMs, cost, op, key } of steps) {
            clock.set(clock.now() + deltaMs);
            if (op === 'refund') {
              await byGcra.refund(key, cost);
              await byBucket.refund(key, cost);
              continue;
            }
            if (op === 'reset') {
              await byGcra.reset(key);
              await byBucket.reset(key);
              continue;
            }
            const a = await byGcra.consume(key, cost);
            const b = await byBucket.consume(key, cost);
            expect(a.allowed).toBe(b.allowed);
            expect(a.remaining).toBe(b.remaining);
            expect(a.limit).toBe(b.limit);
            if (b.retryAfterMs === Infinity) expect(a.retryAfterMs).toBe(Infinity);
            else expect(Math.abs(a.retryAfterMs - b.retryAfterMs)).toBeLessThanOrEqual(1);
            expect(Math.abs(a.resetMs - b.resetMs)).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never admits more than burst + rate x elapsed, even when the clock steps back (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        trace(clockMoves(400), costs(5, { fractional: true }), 200),
        async (rate, burst, steps) => {
          const { clock, limiter } = setup({ rate, per: 1000, burst });
          await expectWithinRateBound(limiter, clock, steps, { rate, perMs: 1000, burst });
        },
      ),
      { numRuns: 300 },
    );
  });
});
