/**
 * Shrinks a policy to a share of its limit, for a process that must decide alone what several processes normally
 * decide together (a hybrid store's fallback while Redis is down): each of `instances` processes gets 1/instances
 * of the capacity and of the refill rate.
 */
import type { AlgorithmName, Policy, PolicyInfo } from '../limiters/limiter.js';
import type { ConcurrencyConfig } from '../limiters/concurrency.js';
import type { FixedWindowConfig } from '../limiters/fixed-window.js';
import type { GcraConfig } from '../limiters/gcra.js';
import type { LeakyBucketConfig } from '../limiters/leaky-bucket.js';
import type { SlidingWindowApproximateConfig } from '../limiters/sliding-window-approximate.js';
import type { SlidingWindowExactConfig } from '../limiters/sliding-window-exact.js';
import type { TokenBucketConfig } from '../limiters/token-bucket.js';

interface Scaled<C> {
  config: C;
  /** The scaled capacity, as PolicyInfo.limit reports it. */
  limit: number;
  windowMs: number;
}

type Scaler<C> = (config: C, factor: number) => Scaled<C>;

/**
 * A share of a capacity. Never below one unit (unless the capacity itself is smaller): a limit of 2 shared by 5
 * processes still lets each admit a call, rather than none at all.
 */
export function shareOf(units: number, factor: number): number {
  return Math.max(units * factor, Math.min(units, 1));
}

const windowScaler: Scaler<FixedWindowConfig | SlidingWindowExactConfig | SlidingWindowApproximateConfig> = (config, factor) => {
  const limit = shareOf(config.limit, factor);
  return { config: { ...config, limit }, limit, windowMs: config.windowMs };
};

const leakyScaler: Scaler<LeakyBucketConfig> = (config, factor) => {
  const capacity = shareOf(config.capacity, factor);
  const intervalMs = config.intervalMs / factor;
  return { config: { ...config, intervalMs, capacity }, limit: capacity, windowMs: capacity * intervalMs };
};

/**
 * One entry per algorithm (the Record type makes a new algorithm fail to compile until it has one): how its
 * configuration scales by a factor in (0, 1].
 */
const SCALERS: { [A in AlgorithmName]: Scaler<any> } = {
  'token-bucket': ((config, factor) => {
    const burst = shareOf(config.burst, factor);
    const ratePerMs = config.ratePerMs * factor;
    return { config: { ...config, ratePerMs, burst }, limit: burst, windowMs: burst / ratePerMs };
  }) satisfies Scaler<TokenBucketConfig>,
  'fixed-window': windowScaler,
  'sliding-window-exact': windowScaler,
  'sliding-window-approximate': windowScaler,
  'leaky-bucket-police': leakyScaler,
  'leaky-bucket-shape': leakyScaler,
  gcra: ((config, factor) => {
    const burst = shareOf(config.burst, factor);
    const intervalMs = config.intervalMs / factor;
    return { config: { ...config, intervalMs, burst }, limit: burst, windowMs: burst * intervalMs };
  }) satisfies Scaler<GcraConfig>,
  concurrency: ((config, factor) => {
    const max = shareOf(config.max, factor);
    return { config: { ...config, max }, limit: max, windowMs: config.leaseMs };
  }) satisfies Scaler<ConcurrencyConfig>,
};

/** A policy configuration's values in field order (to notice later that an adaptive limiter changed them). */
export function configValues(config: unknown): unknown[] {
  const values: unknown[] = [];
  for (const field in config as object) values.push((config as Record<string, unknown>)[field]);
  return values;
}

/** True when `config` still holds `values` (from configValues), without allocating. */
export function sameConfig(config: unknown, values: readonly unknown[]): boolean {
  let index = 0;
  for (const field in config as object) {
    if ((config as Record<string, unknown>)[field] !== values[index++]) return false;
  }
  return index === values.length;
}

/**
 * The policy with its limit and rate multiplied by `factor` (same id, algorithm and name, so its keys are the
 * policy's own). `factor` 1 gives the policy itself.
 */
export function scalePolicy<C>(policy: Policy<C>, factor: number): Policy<C> {
  if (factor === 1) return policy;
  const scaled = SCALERS[policy.algorithm.name](policy.config, factor) as Scaled<C>;
  const info: PolicyInfo = Object.freeze({ ...policy.info, limit: scaled.limit, windowMs: scaled.windowMs });
  return { id: policy.id, algorithm: policy.algorithm, config: scaled.config, info };
}
