import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { consecutiveFailures, countWindow, samplingWindow } from '../../src/index.js';

/** A trace of outcomes: true = failure. */
const outcomes = fc.array(fc.boolean(), { minLength: 1, maxLength: 300 });

describe('breaker strategies against naive models (property)', () => {
  it('consecutiveFailures trips exactly at the n-th failure in a row', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), outcomes, (threshold, trace) => {
        const strategy = consecutiveFailures({ threshold });
        let run = 0;
        for (const failed of trace) {
          if (failed) {
            run++;
            expect(strategy.failure(0)).toBe(run >= threshold);
          } else {
            run = 0;
            strategy.success(0);
          }
        }
      }),
    );
  });

  it('countWindow trips when the last `size` outcomes hold enough failures and calls', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 30 }),
        outcomes,
        (size, failureRatio, minimumSeed, trace) => {
          const minimumCalls = Math.min(size, minimumSeed);
          const strategy = countWindow({ size, failureRatio, minimumCalls });
          const window: boolean[] = [];
          for (const failed of trace) {
            window.push(failed);
            if (window.length > size) window.shift();
            if (!failed) {
              strategy.success(0);
              continue;
            }
            const failures = window.filter(Boolean).length;
            const expected = window.length >= minimumCalls && failures >= failureRatio * window.length - 1e-9;
            expect(strategy.failure(0)).toBe(expected);
          }
        },
      ),
    );
  });

  it('samplingWindow trips on the failure ratio of the calls in the last `buckets` slices', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 10 }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.boolean()), { minLength: 1, maxLength: 200 }),
        (buckets, minimumThroughput, failureRatio, trace) => {
          const windowMs = 1_000;
          const bucketMs = windowMs / buckets;
          const strategy = samplingWindow({ window: windowMs, failureRatio, minimumThroughput, buckets });
          const seen: { id: number; failed: boolean }[] = [];
          let nowMs = 5_000;
          for (const [stepMs, failed] of trace) {
            nowMs += stepMs;
            const id = Math.floor(nowMs / bucketMs);
            seen.push({ id, failed });
            if (!failed) {
              strategy.success(nowMs);
              continue;
            }
            const inWindow = seen.filter((s) => s.id > id - buckets);
            const failures = inWindow.filter((s) => s.failed).length;
            const expected = inWindow.length >= minimumThroughput && failures >= failureRatio * inWindow.length - 1e-9;
            expect(strategy.failure(nowMs)).toBe(expected);
          }
        },
      ),
    );
  });

  it('samplingWindow treats a clock stepping backwards as standing still', () => {
    const strategy = samplingWindow({ window: '1s', minimumThroughput: 2, failureRatio: 1 });
    strategy.failure(10_000);
    expect(strategy.failure(2_000)).toBe(true); // counted in the 10 s slice, not a stale one
    expect(strategy.snapshot(10_000)).toMatchObject({ calls: 2, failures: 2 });
  });

  it('reset() forgets everything', () => {
    for (const strategy of [
      consecutiveFailures({ threshold: 2 }),
      countWindow({ size: 4, minimumCalls: 2 }),
      samplingWindow({ window: '1s', minimumThroughput: 2 }),
    ]) {
      strategy.failure(1);
      strategy.reset();
      expect(strategy.failure(1)).toBe(false);
      expect(strategy.snapshot(1)).toMatchObject({ calls: 1, failures: 1 });
    }
  });
});
