/** Properties every rate-limiting algorithm shares: a clock stepping back grants nothing; refunds stop at the limit. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fixedWindow, gcra, leakyBucket, memoryStore, slidingWindow, tokenBucket, type Limiter } from '../../src/index.js';
import type { Clock } from '../../src/time.js';
import { fixedWindowAlgorithm } from '../../src/limiters/fixed-window.js';
import { gcraAlgorithm } from '../../src/limiters/gcra.js';
import { leakyBucketPoliceAlgorithm, leakyBucketShapeAlgorithm } from '../../src/limiters/leaky-bucket.js';
import { newStepOutcome, type NumericAlgorithm, type StepInput } from '../../src/limiters/limiter.js';
import { slidingWindowApproximateAlgorithm } from '../../src/limiters/sliding-window-approximate.js';
import { slidingWindowExactAlgorithm, type RequestLog } from '../../src/limiters/sliding-window-exact.js';
import { tokenBucketAlgorithm } from '../../src/limiters/token-bucket.js';
import type { Store } from '../../src/stores/store.js';
import { FakeClock } from '../support/fake-clock.js';
import { expectStepBackGrantsNothing } from '../support/clock-step-back.js';
import { clockMoves, costs, trace, expectWithinRateBound } from '../support/traces.js';

interface Case {
  label: string;
  /** Every case holds at most 4 units at once. */
  make(common: { store: Store; clock: Clock }): Limiter;
}

const LIMIT = 4;
const cases: Case[] = [
  { label: 'tokenBucket', make: (common) => tokenBucket({ rate: 5, per: 1000, burst: LIMIT, ...common }) },
  { label: 'gcra', make: (common) => gcra({ rate: 5, per: 1000, burst: LIMIT, ...common }) },
  { label: 'fixedWindow', make: (common) => fixedWindow({ limit: LIMIT, window: 1000, ...common }) },
  { label: 'slidingWindow exact', make: (common) => slidingWindow({ limit: LIMIT, window: 1000, precision: 'exact', ...common }) },
  {
    label: 'slidingWindow approximate',
    make: (common) => slidingWindow({ limit: LIMIT, window: 1000, precision: 'approximate', ...common }),
  },
  { label: 'leakyBucket police', make: (common) => leakyBucket({ rate: 5, per: 1000, capacity: LIMIT, ...common }) },
  { label: 'leakyBucket shape', make: (common) => leakyBucket({ rate: 5, per: 1000, capacity: LIMIT, mode: 'shape', ...common }) },
];

const setup = (testCase: Case) => {
  const clock = new FakeClock(1_000_000);
  const store = memoryStore({ sweepInterval: 0 });
  return { clock, store, limiter: testCase.make({ store, clock }) };
};

describe.each(cases)('$label', (testCase) => {
  it('a clock stepping back after the key is exhausted grants nothing and changes nothing (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        trace(clockMoves(500, { back: false }), costs(3, { fractional: true }), 30),
        fc.array(fc.record({ backMs: fc.integer({ min: 1, max: 5000 }), cost: costs(LIMIT, { fractional: true }).map((c) => c + 1) }), {
          minLength: 1,
          maxLength: 10,
        }),
        async (prefix, backSteps) => {
          const { clock, limiter } = setup(testCase);
          for (const { deltaMs, cost } of prefix) {
            clock.set(clock.now() + deltaMs);
            await limiter.consume('k', cost);
          }
          await expectStepBackGrantsNothing(limiter, clock, backSteps, 2 * LIMIT);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refunds never raise a key above its limit (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            deltaMs: clockMoves(400),
            op: fc.constantFrom('consume', 'consume', 'refund'),
            cost: fc.integer({ min: 1, max: 3 * LIMIT * 10 }).map((tenths) => tenths / 10),
          }),
          { maxLength: 60 },
        ),
        async (steps) => {
          const { clock, limiter } = setup(testCase);
          for (const { deltaMs, op, cost } of steps) {
            clock.set(clock.now() + deltaMs);
            if (op === 'refund') await limiter.refund('k', cost);
            else await limiter.consume('k', cost);
            const { available, max } = await limiter.stats('k');
            expect(available).toBeGreaterThanOrEqual(0);
            expect(available).toBeLessThanOrEqual(max + 1e-9);
          }
          await limiter.refund('k', 100 * LIMIT);
          let admitted = 0;
          for (let i = 0; i < LIMIT + 2; i++) if ((await limiter.consume('k')).allowed) admitted++;
          expect(admitted).toBeLessThanOrEqual(LIMIT);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe.each(cases)('$label state expiry', (testCase) => {
  it('a key is dropped exactly when it is back to full, and then decides like a fresh key (property)', async () => {
    await fc.assert(
      fc.asyncProperty(trace(clockMoves(300, { back: false }), costs(3, { fractional: true }), 40), async (steps) => {
        const { clock, store, limiter } = setup(testCase);
        for (const { deltaMs, cost } of steps) {
          clock.set(clock.now() + deltaMs);
          await limiter.consume('k', cost);
        }
        const { resetMs } = await limiter.stats('k');
        const fullAtMs = clock.now() + resetMs;
        if (resetMs > 1) {
          store.sweep(fullAtMs - 1);
          expect(store.size()).toBe(1);
        }
        store.sweep(fullAtMs);
        expect(store.size()).toBe(0);
        clock.set(fullAtMs);
        const fresh = setup(testCase);
        fresh.clock.set(fullAtMs);
        expect(await limiter.consume('k', LIMIT)).toEqual(await fresh.limiter.consume('k', LIMIT));
      }),
      { numRuns: 150 },
    );
  });
});

describe('tokenBucket under a clock that steps back', () => {
  it('never admits more than burst + rate x elapsed, time taken as the latest admitted (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        trace(clockMoves(400), costs(5, { fractional: true }), 200),
        async (rate, burst, steps) => {
          const clock = new FakeClock(1_000_000);
          const limiter = tokenBucket({ rate, per: 1000, burst, clock, store: memoryStore({ sweepInterval: 0 }) });
          await expectWithinRateBound(limiter, clock, steps, { rate, perMs: 1000, burst });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('steps that must not write', () => {
  const numeric: [string, NumericAlgorithm<any>, unknown][] = [
    ['token-bucket', tokenBucketAlgorithm, { ratePerMs: 0.005, burst: LIMIT }],
    ['gcra', gcraAlgorithm, { intervalMs: 200, burst: LIMIT }],
    ['fixed-window', fixedWindowAlgorithm, { limit: LIMIT, windowMs: 1000 }],
    ['sliding-window-approximate', slidingWindowApproximateAlgorithm, { limit: LIMIT, windowMs: 1000 }],
    ['leaky-bucket-police', leakyBucketPoliceAlgorithm, { intervalMs: 200, capacity: LIMIT }],
    ['leaky-bucket-shape', leakyBucketShapeAlgorithm, { intervalMs: 200, capacity: LIMIT }],
  ];

  it.each(numeric)('%s: a check (commit false) or a refusal leaves the state as it was (property)', (_name, algorithm, config) => {
    fc.assert(
      fc.property(
        trace(clockMoves(400), costs(3, { fractional: true }), 40),
        fc.array(fc.record({ deltaMs: clockMoves(2000), cost: costs(2 * LIMIT, { fractional: true }), maxWaitMs: fc.nat(2000), commit: fc.boolean() }), {
          maxLength: 20,
        }),
        (prefix, probes) => {
          const state = new Float64Array(algorithm.stateSize + 1);
          const input: StepInput = { nowMs: 1_000_000, cost: 1, commit: true, maxWaitMs: 0, token: '' };
          const out = newStepOutcome();
          for (const { deltaMs, cost } of prefix) {
            input.nowMs += deltaMs;
            input.cost = cost;
            algorithm.step(state, 1, input, config, out);
          }
          for (const probe of probes) {
            const before = Array.from(state);
            input.nowMs += probe.deltaMs;
            input.cost = probe.cost;
            input.commit = probe.commit;
            input.maxWaitMs = probe.maxWaitMs;
            algorithm.step(state, 1, input, config, out);
            if (!probe.commit || !out.allowed) expect(Array.from(state)).toEqual(before);
            // Slot 0 belongs to another key: a step never writes outside its own slots.
            expect(state[0]).toBe(0);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('sliding-window-exact: a check or a refusal leaves the log as it was (property)', () => {
    fc.assert(
      fc.property(
        trace(clockMoves(400), costs(3, { fractional: true }), 40),
        fc.array(fc.record({ deltaMs: clockMoves(2000), cost: costs(2 * LIMIT, { fractional: true }), commit: fc.boolean() }), { maxLength: 20 }),
        (prefix, probes) => {
          const config = { limit: LIMIT, windowMs: 1000 };
          const input: StepInput = { nowMs: 1_000_000, cost: 1, commit: true, maxWaitMs: 0, token: '' };
          const out = newStepOutcome();
          let log: RequestLog | undefined;
          for (const { deltaMs, cost } of prefix) {
            input.nowMs += deltaMs;
            input.cost = cost;
            log = slidingWindowExactAlgorithm.step(log, input, config, out);
          }
          for (const probe of probes) {
            const before = structuredClone(log);
            input.nowMs += probe.deltaMs;
            input.cost = probe.cost;
            input.commit = probe.commit;
            const after = slidingWindowExactAlgorithm.step(log, input, config, out);
            if (!probe.commit || !out.allowed) expect(log).toEqual(before);
            else log = after;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
