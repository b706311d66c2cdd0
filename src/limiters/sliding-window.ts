/**
 * The sliding window limiter: at most `limit` units in any window of length `window`, either exactly (a per-key
 * log, memory O(limit) per key) or approximately (two weighted counters, O(1) per key; the default).
 */
import type { CommonLimiterOptions } from './limiter.js';
import { limiterSettings, makePolicy, PolicyLimiter } from './policy-limiter.js';
import { slidingWindowApproximateAlgorithm } from './sliding-window-approximate.js';
import { slidingWindowExactAlgorithm } from './sliding-window-exact.js';
import { checkNumber, checkOneOf } from '../options.js';
import { parseDuration, type Duration } from '../time.js';

export interface SlidingWindowOptions extends CommonLimiterOptions {
  /** Units admitted in any window of length `window` (a whole number). */
  limit: number;
  window: Duration;
  /**
   * 'approximate' (default): 24 bytes per key whatever the limit; an aligned window never exceeds the limit, a
   * sliding one stays below 2 × limit in the worst case (see docs/concepts.md). 'exact': never more than `limit`
   * in any window, at the cost of a log of up to `limit` entries (16 bytes each) per key.
   */
  precision?: 'exact' | 'approximate';
}

export function slidingWindow(options: SlidingWindowOptions): PolicyLimiter {
  const limit = checkNumber(options?.limit, 'limit', { integer: true });
  const windowMs = parseDuration(options.window, 'window');
  const precision = checkOneOf(options.precision === undefined ? 'approximate' : options.precision, 'precision', ['exact', 'approximate'] as const);
  const settings = limiterSettings(options, 'slidingWindow', ['limit', 'window', 'precision'], `${limit}per${windowMs}ms`);
  const spec = { config: { limit, windowMs }, limit, windowMs, defaultName: settings.name };
  const policy =
    precision === 'exact'
      ? makePolicy(settings, { ...spec, algorithm: slidingWindowExactAlgorithm })
      : makePolicy(settings, { ...spec, algorithm: slidingWindowApproximateAlgorithm });
  return new PolicyLimiter(settings, [policy]);
}
