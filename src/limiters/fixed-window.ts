/**
 * Fixed window: at most `limit` units per window of length `window`. A key's window starts at its first hit (as
 * with rate-limiter-flexible or Redis INCR + PEXPIRE), not on a wall-clock boundary, and a new one starts at the
 * first hit after it ends. State: [windowStartMs, count]; count 0 means fresh (the start is then meaningless).
 */
import type { CommonLimiterOptions, NumericAlgorithm, StepInput, StepOutcome } from './limiter.js';
import { limiterSettings, makePolicy, PolicyLimiter } from './policy-limiter.js';
import { checkNumber } from '../options.js';
import { parseDuration, type Duration } from '../time.js';

export interface FixedWindowOptions extends CommonLimiterOptions {
  /** Units admitted per window (a whole number). */
  limit: number;
  /** The window length. */
  window: Duration;
}

/** Config fields, in the order a Lua twin takes them as ARGV: limit, windowMs. */
export interface FixedWindowConfig {
  limit: number;
  windowMs: number;
}

/** Tolerance for float noise when comparing fractional costs. */
const EPSILON = 1e-9;

export const fixedWindowAlgorithm: NumericAlgorithm<FixedWindowConfig> = {
  kind: 'numeric',
  name: 'fixed-window',
  stateSize: 2,
  step(state: Float64Array, at: number, input: StepInput, config: FixedWindowConfig, out: StepOutcome): void {
    const { nowMs, cost } = input;
    const { limit, windowMs } = config;
    let startMs = state[at]!;
    let count = state[at + 1]!;
    // A clock that steps back before the window's start stays in that window: it never opens a new one early.
    if (count <= 0 || nowMs >= startMs + windowMs) {
      startMs = nowMs;
      count = 0;
    }
    out.waitMs = 0;
    if (count + cost <= limit + EPSILON) {
      count += cost;
      out.allowed = true;
      out.remaining = Math.max(0, limit - count);
      out.retryAfterMs = 0;
      if (input.commit && cost > 0) {
        state[at] = startMs;
        state[at + 1] = count;
      }
    } else {
      out.allowed = false;
      out.remaining = Math.max(0, limit - count);
      // The next window starts empty, so any cost up to the limit fits then.
      out.retryAfterMs = cost > limit ? Infinity : startMs + windowMs - nowMs;
    }
    out.resetMs = count > 0 ? startMs + windowMs - nowMs : 0;
  },
  refund(state, at, nowMs, cost, config) {
    const startMs = state[at]!;
    const count = state[at + 1]!;
    const left = nowMs >= startMs + config.windowMs ? 0 : count - cost;
    if (left > 0) {
      state[at + 1] = left;
    } else {
      state[at] = 0;
      state[at + 1] = 0;
    }
  },
  expiresAt(state, at, config) {
    return state[at + 1]! > 0 ? state[at]! + config.windowMs : 0;
  },
  /** The start of the current window: the hit that opened it. */
  lastUpdateMs(state, at) {
    return state[at + 1]! > 0 ? state[at]! : undefined;
  },
  refillPerSecond(config) {
    return (config.limit / config.windowMs) * 1000;
  },
};

export function fixedWindow(options: FixedWindowOptions): PolicyLimiter {
  const limit = checkNumber(options?.limit, 'limit', { integer: true });
  const windowMs = parseDuration(options.window, 'window');
  const settings = limiterSettings(options, 'fixedWindow', ['limit', 'window'], `${limit}per${windowMs}ms`);
  const policy = makePolicy(settings, {
    algorithm: fixedWindowAlgorithm,
    config: { limit, windowMs },
    limit,
    windowMs,
    defaultName: settings.name,
  });
  return new PolicyLimiter(settings, [policy]);
}
