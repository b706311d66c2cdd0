/**
 * The limiter model: an algorithm is a pure step over a small state; a store runs that step atomically for one
 * key; a limiter puts the public API (consume, acquire, refund, ...) on top of one or more policies.
 */
import type { Clock } from '../time.js';

export type AlgorithmName =
  | 'token-bucket'
  | 'sliding-window-exact'
  | 'sliding-window-approximate'
  | 'fixed-window'
  | 'leaky-bucket-police'
  | 'leaky-bucket-shape'
  | 'gcra'
  | 'concurrency';

/** What a policy is, in terms a response header or a log line can use. Shared by every decision of a limiter. */
export interface PolicyInfo {
  /** The limiter's name (also its store namespace and the policy name in RateLimit headers). */
  readonly name: string;
  readonly algorithm: AlgorithmName;
  /** The most a key can take at once (burst, window limit, capacity or max in flight). */
  readonly limit: number;
  /** The time over which `limit` is measured (window length, or the time to refill from empty). */
  readonly windowMs: number;
}

export interface Decision {
  readonly allowed: boolean;
  readonly limit: number;
  /** Whole units left after this decision (never negative). */
  readonly remaining: number;
  /** Milliseconds from now until the key is back to its full quota. */
  readonly resetMs: number;
  /** 0 when allowed; otherwise the exact wait until this cost would be admitted (Infinity: never). */
  readonly retryAfterMs: number;
  readonly policy: PolicyInfo;
  /** Set when the configured store did not decide: fail-open/closed, or a hybrid store's local fallback. */
  readonly degraded?: boolean;
  /** For a shaping limiter's reservation: how long the caller must wait before going ahead. */
  readonly waitMs?: number;
  /** For a composite: one decision per member, in member order. */
  readonly members?: readonly Decision[];
}

/** The per-call input of a step. One object is reused by a store; algorithms must not keep it. */
export interface StepInput {
  nowMs: number;
  cost: number;
  /** When false, compute the outcome without changing the state (used for stats and for composite checks). */
  commit: boolean;
  /** A shaping algorithm may admit a call that waits up to this long (a reservation); 0 means "now or never". */
  maxWaitMs: number;
  /** Identifies a concurrency holder so its slot can be released exactly. */
  token: string;
}

/** The result of a step, written into a reused object to keep the hot path allocation-free. */
export interface StepOutcome {
  allowed: boolean;
  /** Units available after the step (fractional for a token bucket). */
  remaining: number;
  resetMs: number;
  retryAfterMs: number;
  waitMs: number;
}

/**
 * An algorithm whose state is a fixed number of float64 slots, all zero meaning "fresh" (no state needed).
 * A memory store keeps these in one Float64Array, not an object per key.
 */
export interface NumericAlgorithm<C> {
  readonly kind: 'numeric';
  readonly name: AlgorithmName;
  readonly stateSize: number;
  step(state: Float64Array, offset: number, input: StepInput, config: C, out: StepOutcome): void;
  /** Gives back `cost` units (never beyond the limit). */
  refund(state: Float64Array, offset: number, nowMs: number, cost: number, config: C): void;
  /** The time after which the state is equivalent to fresh and can be dropped. */
  expiresAt(state: Float64Array, offset: number, config: C): number;
  lastUpdateMs?(state: Float64Array, offset: number): number | undefined;
  /** Units regained per second, for stats (0 when units come back only on release). */
  refillPerSecond(config: C): number;
}

/** An algorithm whose state is a variable-size object (a request log, a set of holders). */
export interface ObjectAlgorithm<C, S = unknown> {
  readonly kind: 'object';
  readonly name: AlgorithmName;
  /**
   * Admissions hold units until released (concurrency): each admission is stored under `StepInput.token`, and a
   * refund with that token frees exactly that holder. A permit's release refunds only such policies.
   */
  readonly holdsSlots?: boolean;
  /** Returns the new state (undefined when it is fresh again). Must not change `state` unless committing. */
  step(state: S | undefined, input: StepInput, config: C, out: StepOutcome): S | undefined;
  refund(state: S | undefined, nowMs: number, cost: number, config: C, token: string): S | undefined;
  expiresAt(state: S, config: C): number;
  lastUpdateMs?(state: S): number | undefined;
  refillPerSecond(config: C): number;
}

export type Algorithm<C = any> = NumericAlgorithm<C> | ObjectAlgorithm<C, any>;

/** An algorithm bound to its configuration and namespace: what a store evaluates. */
export interface Policy<C = any> {
  /** `prefix:algorithm:name`: the store namespace of this policy's keys. */
  readonly id: string;
  readonly algorithm: Algorithm<C>;
  /** Numbers only, so a Lua twin can take them as ARGV. Mutable only for the adaptive limiter. */
  readonly config: C;
  readonly info: PolicyInfo;
}

export interface Permit {
  readonly key: string;
  readonly cost: number;
  /** Frees a concurrency slot; a no-op for pure rate limits. Idempotent. */
  release(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface AcquireOptions {
  cost?: number;
  /** The longest to wait; when the wait would be longer, acquire fails at once. Default: wait as long as needed. */
  timeout?: number | string;
  signal?: AbortSignal;
}

export interface LimiterStats {
  /** Units available now (fractional for a token bucket). */
  available: number;
  max: number;
  /** Units regained per second (0 for concurrency, which regains on release). */
  refillPerSecond: number;
  /** When the key's state was last written (undefined when the key holds no state). */
  lastUpdateMs: number | undefined;
  /** Milliseconds until the key is back to full. */
  resetMs: number;
}

export interface LimiterMetrics {
  accepted: number;
  rejected: number;
  acquisitions: number;
  waits: { count: number; totalMs: number; avgMs: number; maxMs: number };
  timeouts: number;
  inFlight: number;
  releases: number;
  /** Decisions the store could not make (answered by failMode). */
  storeErrors: number;
  degraded: number;
}

export type FailMode = 'open' | 'closed';

export interface Limiter {
  readonly name: string;
  readonly policies: readonly PolicyInfo[];
  /** Decides at once; never waits; resolves (never rejects) for "limited". */
  consume(key: string, cost?: number): Promise<Decision>;
  /**
   * The same decision without a promise when the store can answer synchronously (the memory store);
   * otherwise a promise. For callers on a hot path, such as the HTTP guard.
   */
  decide(key: string, cost?: number): Decision | Promise<Decision>;
  tryAcquire(key: string, cost?: number): Promise<boolean>;
  /** Waits until admitted; throws RateLimitExceededError on timeout or when the cost can never fit. */
  acquire(key: string, options?: AcquireOptions): Promise<Permit>;
  refund(key: string, cost?: number): Promise<void>;
  stats(key: string): Promise<LimiterStats>;
  reset(key: string): Promise<void>;
  metrics(): LimiterMetrics;
}

/** Options every limiter constructor accepts. */
export interface CommonLimiterOptions {
  store?: import('../stores/store.js').Store;
  /** Distinguishes limiters sharing a store. Default: derived from the algorithm and its parameters. */
  name?: string;
  /** Namespace prefix of store keys. Default "sluice". */
  prefix?: string;
  clock?: Clock;
  /** What to answer when the store cannot: admit ('open', default) or refuse ('closed'). */
  failMode?: FailMode;
  /** Where to record metrics: default the process-wide registry; a registry of your own; or false for none. */
  metrics?: import('../metrics/registry.js').MetricsOption;
  /** Receives structured log lines (refusals at debug, store failures at error); silent when unset. */
  logger?: import('../metrics/logger.js').Logger;
}

export const COMMON_OPTION_NAMES = ['store', 'name', 'prefix', 'clock', 'failMode', 'metrics', 'logger'] as const;

export function newStepOutcome(): StepOutcome {
  return { allowed: false, remaining: 0, resetMs: 0, retryAfterMs: 0, waitMs: 0 };
}

/** Rounds a millisecond figure up, forgiving float noise (100.0000000001 ms is 100 ms). */
export function ceilMs(ms: number): number {
  return ms === Infinity ? Infinity : Math.max(0, Math.ceil(ms - 1e-7));
}

export function decisionFrom(info: PolicyInfo, out: StepOutcome): Decision {
  const decision: Decision = {
    allowed: out.allowed,
    limit: info.limit,
    remaining: Math.max(0, Math.floor(out.remaining + 1e-9)),
    resetMs: ceilMs(out.resetMs),
    retryAfterMs: out.allowed ? 0 : ceilMs(out.retryAfterMs),
    policy: info,
  };
  return out.waitMs > 0 ? { ...decision, waitMs: ceilMs(out.waitMs) } : decision;
}
