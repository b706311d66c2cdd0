/**
 * Token bucket: a key holds up to `burst` tokens, refilled continuously at `rate` per `per`; a call takes `cost`
 * tokens (fractions allowed). State: [deficit, lastMs], where deficit = burst - tokens, so all-zero is a full bucket.
 */
import type { CommonLimiterOptions, NumericAlgorithm, StepInput, StepOutcome } from './limiter.js';
import { limiterSettings, makePolicy, PolicyLimiter } from './policy-limiter.js';
import { checkNumber } from '../options.js';
import { parseDuration, type Duration } from '../time.js';

export interface TokenBucketOptions extends CommonLimiterOptions {
  /** Tokens added per `per`. */
  rate: number;
  /** The refill period. Default "1s". */
  per?: Duration;
  /** Bucket capacity: the most a key can spend at once. Default: `rate`. */
  burst?: number;
}

export interface TokenBucketConfig {
  ratePerMs: number;
  burst: number;
}

/** Tolerance for float noise when comparing token counts. */
const EPSILON = 1e-9;

export const tokenBucketAlgorithm: NumericAlgorithm<TokenBucketConfig> = {
  kind: 'numeric',
  name: 'token-bucket',
  stateSize: 2,
  step(state: Float64Array, at: number, input: StepInput, config: TokenBucketConfig, out: StepOutcome): void {
    const { nowMs, cost } = input;
    const { ratePerMs, burst } = config;
    const lastMs = state[at + 1]!;
    let deficit = state[at]!;
    // A clock that steps backwards refills nothing.
    if (deficit > 0 && nowMs > lastMs) deficit = Math.max(0, deficit - (nowMs - lastMs) * ratePerMs);
    const available = burst - deficit;
    out.waitMs = 0;
    if (cost <= available + EPSILON) {
      deficit = Math.max(0, deficit + cost);
      out.allowed = true;
      out.remaining = Math.max(0, available - cost);
      out.retryAfterMs = 0;
      if (input.commit) {
        state[at] = deficit;
        state[at + 1] = nowMs > lastMs ? nowMs : lastMs;
      }
    } else {
      out.allowed = false;
      out.remaining = available;
      // After a backwards clock step no refill happens until the clock passes lastMs again.
      const catchUpMs = lastMs > nowMs ? lastMs - nowMs : 0;
      out.retryAfterMs = cost > burst ? Infinity : (cost - available) / ratePerMs + catchUpMs;
    }
    out.resetMs = deficit / ratePerMs;
  },
  refund(state, at, nowMs, cost, config) {
    const lastMs = state[at + 1]!;
    let deficit = state[at]!;
    if (nowMs > lastMs) deficit = Math.max(0, deficit - (nowMs - lastMs) * config.ratePerMs);
    state[at] = Math.max(0, deficit - cost);
    state[at + 1] = nowMs > lastMs ? nowMs : lastMs;
  },
  expiresAt(state, at, config) {
    return state[at + 1]! + state[at]! / config.ratePerMs;
  },
  lastUpdateMs(state, at) {
    return state[at + 1];
  },
  refillPerSecond(config) {
    return config.ratePerMs * 1000;
  },
};

export function tokenBucket(options: TokenBucketOptions): PolicyLimiter {
  checkNumber(options?.rate, 'rate');
  const rate = options.rate;
  const perMs = parseDuration(options.per === undefined ? '1s' : options.per, 'per');
  const burst = checkNumber(options.burst === undefined ? rate : options.burst, 'burst');
  const settings = limiterSettings(options, 'tokenBucket', ['rate', 'per', 'burst'], `${rate}per${perMs}ms-burst${burst}`);
  const config: TokenBucketConfig = { ratePerMs: rate / perMs, burst };
  const policy = makePolicy(settings, {
    algorithm: tokenBucketAlgorithm,
    config,
    limit: burst,
    windowMs: (burst / rate) * perMs,
    defaultName: settings.name,
  });
  return new PolicyLimiter(settings, [policy]);
}
