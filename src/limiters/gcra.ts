/**
 * GCRA (generic cell rate algorithm): each key keeps one number, its theoretical arrival time (TAT): when the key
 * would be fully rested if every admitted unit had arrived exactly on schedule, one per emission interval
 * (per / rate). A call of `cost` is admitted when pushing the TAT on by cost × interval keeps it within
 * burst × interval of now. It admits exactly what a token bucket with the same rate, per and burst admits.
 * State: [tatMs]; 0 (or any time in the past) means fresh.
 */
import type { CommonLimiterOptions, NumericAlgorithm, StepInput, StepOutcome } from './limiter.js';
import { limiterSettings, makePolicy, PolicyLimiter } from './policy-limiter.js';
import { checkNumber } from '../options.js';
import { parseDuration, type Duration } from '../time.js';

export interface GcraOptions extends CommonLimiterOptions {
  /** Units admitted per `per` on average. */
  rate: number;
  /** The period of `rate`. Default "1s". */
  per?: Duration;
  /** The most a key can take at once (a token bucket's capacity). Default: `rate`. */
  burst?: number;
}

/** Config fields, in the order a Lua twin takes them as ARGV: intervalMs, burst. */
export interface GcraConfig {
  /** The emission interval: ms per unit (per / rate). */
  intervalMs: number;
  burst: number;
}

/** Tolerance for float noise, in units. */
const EPSILON = 1e-9;

export const gcraAlgorithm: NumericAlgorithm<GcraConfig> = {
  kind: 'numeric',
  name: 'gcra',
  stateSize: 1,
  step(state: Float64Array, at: number, input: StepInput, config: GcraConfig, out: StepOutcome): void {
    const { nowMs, cost } = input;
    const { intervalMs, burst } = config;
    // A TAT in the past is a rested key. A clock stepping back only makes the TAT look further ahead: stricter.
    const tatMs = Math.max(state[at]!, nowMs);
    const toleranceMs = burst * intervalMs;
    const nextTatMs = tatMs + cost * intervalMs;
    const aheadMs = nextTatMs - nowMs;
    out.waitMs = 0;
    if (aheadMs <= toleranceMs + EPSILON * intervalMs) {
      out.allowed = true;
      out.remaining = Math.max(0, (toleranceMs - aheadMs) / intervalMs);
      out.retryAfterMs = 0;
      out.resetMs = aheadMs;
      if (input.commit && cost > 0) state[at] = nextTatMs;
    } else {
      out.allowed = false;
      out.remaining = Math.max(0, (toleranceMs - (tatMs - nowMs)) / intervalMs);
      out.retryAfterMs = cost > burst ? Infinity : aheadMs - toleranceMs;
      out.resetMs = tatMs - nowMs;
    }
  },
  refund(state, at, nowMs, cost, config) {
    const tatMs = state[at]! - cost * config.intervalMs;
    // Never earlier than now: a TAT in the past is already a full allowance.
    state[at] = tatMs > nowMs ? tatMs : 0;
  },
  expiresAt(state, at) {
    return state[at]!;
  },
  refillPerSecond(config) {
    return 1000 / config.intervalMs;
  },
};

export function gcra(options: GcraOptions): PolicyLimiter {
  const rate = checkNumber(options?.rate, 'rate');
  const perMs = parseDuration(options.per === undefined ? '1s' : options.per, 'per');
  const burst = checkNumber(options.burst === undefined ? rate : options.burst, 'burst');
  const settings = limiterSettings(options, 'gcra', ['rate', 'per', 'burst'], `${rate}per${perMs}ms-burst${burst}`);
  const intervalMs = perMs / rate;
  const policy = makePolicy(settings, {
    algorithm: gcraAlgorithm,
    config: { intervalMs, burst },
    limit: burst,
    windowMs: burst * intervalMs,
    defaultName: settings.name,
  });
  return new PolicyLimiter(settings, [policy]);
}
