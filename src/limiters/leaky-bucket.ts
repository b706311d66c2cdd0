/**
 * Leaky bucket, in its two classic uses. 'police' (a meter): each call pours `cost` into a bucket of `capacity`
 * that drains at `rate` per `per`; a call that would overflow it is refused. 'shape' (a queue): admitted calls go
 * out at a constant rate, one unit per interval (per / rate), with at most `capacity` units waiting; `acquire()`
 * reserves a slot and sleeps until it, `consume()` admits only a call that can go at once.
 */
import type { CommonLimiterOptions, NumericAlgorithm, StepInput, StepOutcome } from './limiter.js';
import { limiterSettings, makePolicy, PolicyLimiter } from './policy-limiter.js';
import { checkNumber, checkOneOf } from '../options.js';
import { parseDuration, type Duration } from '../time.js';

export interface LeakyBucketOptions extends CommonLimiterOptions {
  /** Units drained (police) or let out (shape) per `per`. */
  rate: number;
  /** The period of `rate`. Default "1s". */
  per?: Duration;
  /** The bucket size (police) or the most units waiting (shape). Default: `rate`. */
  capacity?: number;
  /** Default 'police'. */
  mode?: 'police' | 'shape';
}

/** Config fields of both modes, in the order a Lua twin takes them as ARGV: intervalMs, capacity. */
export interface LeakyBucketConfig {
  /** Time to drain (police) or let out (shape) one unit: per / rate. */
  intervalMs: number;
  capacity: number;
}

/** Tolerance for float noise: in units, and in ms for waits. */
const EPSILON = 1e-9;
const EPSILON_MS = 1e-6;

/**
 * Police. State: [emptyAtMs], the time the bucket will be empty; the level now is (emptyAt - now) / interval.
 * 0, or any time in the past, is an empty bucket. (Stated in arrival times, this is GCRA: the two are the same
 * meter, which the vectors and the docs show.)
 */
export const leakyBucketPoliceAlgorithm: NumericAlgorithm<LeakyBucketConfig> = {
  kind: 'numeric',
  name: 'leaky-bucket-police',
  stateSize: 1,
  step(state: Float64Array, at: number, input: StepInput, config: LeakyBucketConfig, out: StepOutcome): void {
    const { nowMs, cost } = input;
    const { intervalMs, capacity } = config;
    // A clock stepping back sees a fuller bucket, never an emptier one.
    const emptyAtMs = Math.max(state[at]!, nowMs);
    const level = (emptyAtMs - nowMs) / intervalMs;
    out.waitMs = 0;
    if (level + cost <= capacity + EPSILON) {
      out.allowed = true;
      out.remaining = Math.max(0, capacity - level - cost);
      out.retryAfterMs = 0;
      out.resetMs = (level + cost) * intervalMs;
      if (input.commit && cost > 0) state[at] = emptyAtMs + cost * intervalMs;
    } else {
      out.allowed = false;
      out.remaining = Math.max(0, capacity - level);
      // Until enough has drained for this cost to fit.
      out.retryAfterMs = cost > capacity ? Infinity : (level + cost - capacity) * intervalMs;
      out.resetMs = level * intervalMs;
    }
  },
  refund(state, at, nowMs, cost, config) {
    const emptyAtMs = state[at]! - cost * config.intervalMs;
    state[at] = emptyAtMs > nowMs ? emptyAtMs : 0;
  },
  expiresAt(state, at) {
    return state[at]!;
  },
  refillPerSecond(config) {
    return 1000 / config.intervalMs;
  },
};

/**
 * Shape. State: [nextFreeAtMs], when the next unit may go out; 0 or a time in the past means nothing is waiting.
 * A call that can go now is admitted. Otherwise, with input.maxWaitMs > 0 (acquire passes its remaining timeout),
 * it is admitted as a reservation (out.waitMs = the wait) when the wait fits in maxWaitMs and the units waiting
 * ahead of it plus its cost fit in the capacity. A refund gives nothing back: admitted calls hold slots on a
 * schedule, and moving the schedule back would let two reserved calls start together. For the same reason a
 * reservation whose caller gives up (an aborted acquire) leaves its slot unused.
 */
export const leakyBucketShapeAlgorithm: NumericAlgorithm<LeakyBucketConfig> = {
  kind: 'numeric',
  name: 'leaky-bucket-shape',
  stateSize: 1,
  step(state: Float64Array, at: number, input: StepInput, config: LeakyBucketConfig, out: StepOutcome): void {
    const { nowMs, cost, maxWaitMs } = input;
    const { intervalMs, capacity } = config;
    const nextFreeAtMs = state[at]!;
    let waitMs = nextFreeAtMs - nowMs;
    if (waitMs <= EPSILON_MS) waitMs = 0;
    const waiting = waitMs / intervalMs;
    if (cost <= capacity + EPSILON && (waitMs === 0 || (waitMs <= maxWaitMs && waiting + cost <= capacity + EPSILON))) {
      out.allowed = true;
      out.waitMs = waitMs;
      out.remaining = Math.max(0, capacity - waiting - cost);
      out.retryAfterMs = 0;
      out.resetMs = waitMs + cost * intervalMs;
      if (input.commit && cost > 0) state[at] = nowMs + waitMs + cost * intervalMs;
      return;
    }
    out.allowed = false;
    out.waitMs = 0;
    out.remaining = Math.max(0, capacity - waiting);
    out.resetMs = waitMs;
    if (cost > capacity + EPSILON) out.retryAfterMs = Infinity;
    // Either the call cannot wait that long (then: when it could go at once), or the backlog is full (then: when
    // enough has gone out for this cost to fit behind the rest).
    else if (waitMs > maxWaitMs) out.retryAfterMs = waitMs;
    else out.retryAfterMs = (waiting + cost - capacity) * intervalMs;
  },
  refund() {
    // Deliberately nothing: see above.
  },
  expiresAt(state, at) {
    return state[at]!;
  },
  refillPerSecond(config) {
    return 1000 / config.intervalMs;
  },
};

export function leakyBucket(options: LeakyBucketOptions): PolicyLimiter {
  const rate = checkNumber(options?.rate, 'rate');
  const perMs = parseDuration(options.per === undefined ? '1s' : options.per, 'per');
  const capacity = checkNumber(options.capacity === undefined ? rate : options.capacity, 'capacity');
  const mode = checkOneOf(options.mode === undefined ? 'police' : options.mode, 'mode', ['police', 'shape'] as const);
  const settings = limiterSettings(
    options,
    'leakyBucket',
    ['rate', 'per', 'capacity', 'mode'],
    `${rate}per${perMs}ms-capacity${capacity}`,
  );
  const intervalMs = perMs / rate;
  const spec = { config: { intervalMs, capacity }, limit: capacity, windowMs: capacity * intervalMs, defaultName: settings.name };
  if (mode === 'police') return new PolicyLimiter(settings, [makePolicy(settings, { ...spec, algorithm: leakyBucketPoliceAlgorithm })]);
  return new PolicyLimiter(settings, [makePolicy(settings, { ...spec, algorithm: leakyBucketShapeAlgorithm })], { reserves: true });
}
