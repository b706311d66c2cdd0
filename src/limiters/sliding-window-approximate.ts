/**
 * Approximate sliding window (Cloudflare's "sliding window counter"): counts in two aligned windows, the previous
 * one weighted by how much of it the sliding window still covers. O(1) state: [currentWindowStartMs, currentCount,
 * previousCount]; both counts 0 means fresh.
 *
 * Error bound (docs/concepts.md proves it): an aligned window never holds more than `limit`; a sliding window of
 * length `window` ending at offset f (0 <= f < 1, as a fraction of the aligned window it ends in) holds at most
 * `limit + f × previousCount` <= `limit + f × limit`, so always fewer than 2 × limit. The worst case is a full
 * burst at the very end of one window followed by traffic at limit/window. The estimate takes the previous
 * window's calls as evenly spread; for traffic that is, it is off by less than one call.
 */
import type { NumericAlgorithm, StepInput, StepOutcome } from './limiter.js';

/** Config fields, in the order a Lua twin takes them as ARGV: limit, windowMs. */
export interface SlidingWindowApproximateConfig {
  limit: number;
  windowMs: number;
}

/** Tolerance for float noise when comparing counts. */
const EPSILON = 1e-9;

export const slidingWindowApproximateAlgorithm: NumericAlgorithm<SlidingWindowApproximateConfig> = {
  kind: 'numeric',
  name: 'sliding-window-approximate',
  stateSize: 3,
  step(state: Float64Array, at: number, input: StepInput, config: SlidingWindowApproximateConfig, out: StepOutcome): void {
    const { nowMs, cost } = input;
    const { limit, windowMs } = config;
    let current = state[at + 1]!;
    let previous = state[at + 2]!;
    let index = Math.floor(nowMs / windowMs);
    if (current > 0 || previous > 0) {
      const storedIndex = Math.round(state[at]! / windowMs);
      // A clock stepping back into an earlier window is taken to be at the start of the stored one.
      if (index <= storedIndex) {
        index = storedIndex;
      } else if (index === storedIndex + 1) {
        previous = current;
        current = 0;
      } else {
        previous = 0;
        current = 0;
      }
    }
    const windowStartMs = index * windowMs;
    const offset = Math.min(1, Math.max(0, (nowMs - windowStartMs) / windowMs));
    const estimate = previous * (1 - offset) + current;
    out.waitMs = 0;
    if (estimate + cost <= limit + EPSILON) {
      current += cost;
      out.allowed = true;
      out.remaining = Math.max(0, limit - estimate - cost);
      out.retryAfterMs = 0;
      if (input.commit && cost > 0) {
        state[at] = windowStartMs;
        state[at + 1] = current;
        state[at + 2] = previous;
      }
    } else {
      out.allowed = false;
      out.remaining = Math.max(0, limit - estimate);
      out.retryAfterMs = cost > limit ? Infinity : retryAtMs(windowStartMs, current, previous, cost, config) - nowMs;
    }
    // Back to a full quota once the current count has also slid out of the window after this one.
    const fullAtMs = current > 0 ? windowStartMs + 2 * windowMs : previous > 0 ? windowStartMs + windowMs : nowMs;
    out.resetMs = Math.max(0, fullAtMs - nowMs);
  },
  refund(state, at, nowMs, cost, config) {
    const { windowMs } = config;
    let current = state[at + 1]!;
    let previous = state[at + 2]!;
    if (current <= 0 && previous <= 0) return;
    const storedIndex = Math.round(state[at]! / windowMs);
    const index = Math.max(storedIndex, Math.floor(nowMs / windowMs));
    if (index === storedIndex + 1) {
      previous = current;
      current = 0;
    } else if (index > storedIndex + 1) {
      previous = 0;
      current = 0;
    }
    // Give back from the current window first, then from the previous one; counts never go below zero.
    const fromCurrent = Math.min(current, cost);
    current -= fromCurrent;
    previous = Math.max(0, previous - (cost - fromCurrent));
    state[at] = current > 0 || previous > 0 ? index * windowMs : 0;
    state[at + 1] = current;
    state[at + 2] = previous;
  },
  expiresAt(state, at, config) {
    if (state[at + 1]! > 0) return state[at]! + 2 * config.windowMs;
    if (state[at + 2]! > 0) return state[at]! + config.windowMs;
    return 0;
  },
  refillPerSecond(config) {
    return (config.limit / config.windowMs) * 1000;
  },
};

/**
 * The earliest time a call of `cost` fits, given the counts of the aligned window starting at `windowStartMs`
 * (cost <= limit). Within this window only the previous count's weight falls; after it, the current count becomes
 * the previous one and falls in turn.
 */
function retryAtMs(
  windowStartMs: number,
  current: number,
  previous: number,
  cost: number,
  { limit, windowMs }: SlidingWindowApproximateConfig,
): number {
  if (current + cost <= limit + EPSILON) {
    // previous × (1 - offset) + current + cost <= limit
    return windowStartMs + windowMs * (1 - (limit - current - cost) / previous);
  }
  // In the next window: current × (1 - offset) + cost <= limit
  return windowStartMs + windowMs + windowMs * (1 - (limit - cost) / current);
}
