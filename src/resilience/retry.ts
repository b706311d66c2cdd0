/**
 * Retry with exponential backoff and jitter. A wait the failure itself asks for (RateLimitExceededError or
 * CircuitOpenError `retryAfterMs`, an HTTP Retry-After header) replaces the computed backoff.
 */
import { ConfigError, isConfigError } from '../errors.js';
import { checkFunction, checkKnownOptions, checkNumber, checkOneOf } from '../options.js';
import { parseDuration, systemClock, type Clock, type Duration } from '../time.js';
import { checkClock } from './circuit-breaker.js';

export type Jitter = 'full' | 'equal' | 'decorrelated' | 'none';

export interface RetryEvent {
  /** The attempt that failed (1 = the first call). */
  readonly attempt: number;
  readonly error: unknown;
  /** How long it waits before the next attempt. */
  readonly delayMs: number;
  /** Set when the wait came from the error (retryAfterMs or Retry-After) instead of the backoff. */
  readonly retryAfterMs: number | undefined;
}

export interface RetryOptions {
  /** Retries after the first attempt (so at most maxRetries + 1 calls). Default 3. */
  maxRetries?: number;
  /** The first backoff step. Default "100ms". */
  baseDelay?: Duration;
  /**
   * No computed backoff exceeds this (a server's Retry-After may; bound the total with `deadline`).
   * Default "30s", or baseDelay when that is longer.
   */
  maxDelay?: Duration;
  /** Growth per retry: step n is baseDelay × factor^n. Default 2. */
  factor?: number;
  /**
   * 'full' (default): random in [0, step]. 'equal': step/2 + random in [0, step/2]. 'decorrelated': random in
   * [baseDelay, 3 × previous delay], at most maxDelay. 'none': exactly the step.
   */
  jitter?: Jitter;
  /** Which errors are retried. Default: every error but ConfigError (a bug retrying cannot fix). */
  retryOn?: (error: unknown, attempt: number) => boolean;
  /** The time budget from the first attempt: no attempt starts after it, and no wait runs past it. */
  deadline?: Duration;
  /** Aborting stops at once: no further attempt, a pending wait rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called before each wait. */
  onRetry?: (event: RetryEvent) => void;
  clock?: Clock;
  /** The random source for jitter, in [0, 1). Default Math.random. */
  random?: () => number;
}

/** What each attempt receives. */
export interface RetryContext {
  /** 1 for the first call. */
  readonly attempt: number;
  /** The `signal` option, or a signal that never aborts. */
  readonly signal: AbortSignal;
}

const OPTION_NAMES = [
  'maxRetries',
  'baseDelay',
  'maxDelay',
  'factor',
  'jitter',
  'retryOn',
  'deadline',
  'signal',
  'onRetry',
  'clock',
  'random',
] as const;

const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/** Options checked once; `run` is what retry() and withRetry() execute. */
export interface RetrySchedule {
  /** Runs attempts; `runSignal` (e.g. one request's signal) stops this run in addition to the `signal` option. */
  run<T>(attempt: (context: RetryContext) => T | PromiseLike<T>, runSignal?: AbortSignal): Promise<T>;
  /** The backoff wait before retry number `retryIndex` (0-based), given the previous wait. */
  backoffMs(retryIndex: number, previousMs: number): number;
}

export function defaultRetryOn(error: unknown): boolean {
  return !isConfigError(error);
}

/** Validates retry options once (throws ConfigError) and returns the schedule that runs attempts. */
export function retrySchedule(options: RetryOptions = {}): RetrySchedule {
  checkKnownOptions(options, 'retry', OPTION_NAMES);
  const maxRetries = checkNumber(options.maxRetries ?? 3, 'maxRetries', { integer: true, exclusiveMin: false });
  const baseDelayMs = parseDuration(options.baseDelay ?? '100ms', 'baseDelay', { allowZero: true });
  const maxDelayMs =
    options.maxDelay === undefined ? Math.max(30_000, baseDelayMs) : parseDuration(options.maxDelay, 'maxDelay', { allowZero: true });
  if (maxDelayMs < baseDelayMs) throw new ConfigError('maxDelay', `a duration >= baseDelay (${baseDelayMs} ms)`, options.maxDelay);
  const factor = checkNumber(options.factor ?? 2, 'factor', { min: 1, exclusiveMin: false });
  const jitter = checkOneOf(options.jitter ?? 'full', 'jitter', ['full', 'equal', 'decorrelated', 'none'] as const);
  const retryOn = options.retryOn === undefined ? defaultRetryOn : checkFunction<NonNullable<RetryOptions['retryOn']>>(options.retryOn, 'retryOn');
  const deadlineMs = options.deadline === undefined ? Infinity : parseDuration(options.deadline, 'deadline', { allowInfinity: true });
  const optionSignal = options.signal;
  if (optionSignal !== undefined && !(optionSignal instanceof AbortSignal)) throw new ConfigError('signal', 'an AbortSignal', optionSignal);
  const onRetry = options.onRetry === undefined ? undefined : checkFunction<NonNullable<RetryOptions['onRetry']>>(options.onRetry, 'onRetry');
  const clock = checkClock(options.clock ?? systemClock);
  const random = options.random === undefined ? Math.random : checkFunction<() => number>(options.random, 'random');

  const backoffMs = (retryIndex: number, previousMs: number): number => {
    const stepMs = Math.min(maxDelayMs, baseDelayMs * factor ** retryIndex);
    switch (jitter) {
      case 'none':
        return stepMs;
      case 'full':
        return unit(random()) * stepMs;
      case 'equal':
        return stepMs / 2 + (unit(random()) * stepMs) / 2;
      case 'decorrelated': {
        const upperMs = Math.max(baseDelayMs, previousMs * 3);
        return Math.min(maxDelayMs, baseDelayMs + unit(random()) * (upperMs - baseDelayMs));
      }
    }
  };

  const run = async <T>(attempt: (context: RetryContext) => T | PromiseLike<T>, runSignal?: AbortSignal): Promise<T> => {
    const signal =
      runSignal === undefined ? optionSignal : optionSignal === undefined ? runSignal : AbortSignal.any([optionSignal, runSignal]);
    const startMs = clock.now();
    let previousMs = baseDelayMs;
    for (let attemptNumber = 1; ; attemptNumber++) {
      signal?.throwIfAborted();
      try {
        return await attempt({ attempt: attemptNumber, signal: signal ?? NEVER_ABORTED });
      } catch (error) {
        if (signal?.aborted || attemptNumber > maxRetries || !retryOn(error, attemptNumber)) throw error;
        const nowMs = clock.now();
        const retryAfterMs = retryAfterMsOf(error, nowMs);
        let delayMs: number;
        if (retryAfterMs === undefined) {
          delayMs = backoffMs(attemptNumber - 1, previousMs);
          previousMs = delayMs;
        } else {
          delayMs = retryAfterMs;
        }
        // Give up now rather than wait for an attempt that could only start after the deadline.
        if (!Number.isFinite(delayMs) || nowMs + delayMs - startMs > deadlineMs) throw error;
        onRetry?.({ attempt: attemptNumber, error, delayMs, retryAfterMs });
        await clock.sleep(delayMs, signal);
      }
    }
  };

  return { run, backoffMs };
}

/**
 * Calls `fn` until it succeeds, retrying failures that `retryOn` accepts with backoff. Throws the last error when
 * it gives up. Bad options throw ConfigError at once (not as a rejection).
 */
export function retry<T>(fn: (context: RetryContext) => T | PromiseLike<T>, options?: RetryOptions): Promise<T> {
  checkFunction(fn, 'fn');
  return retrySchedule(options).run(fn);
}

/**
 * The wait a failure asks for, in ms, or undefined when it does not say:
 * 1. a numeric `retryAfterMs` property (RateLimitExceededError, CircuitOpenError, or any error of yours);
 * 2. else a Retry-After header on `error.response.headers` or `error.headers` — a fetch `Headers` (anything
 *    with `get(name)`) or a plain object of header names (any case) to values, as axios and got errors carry.
 */
export function retryAfterMsOf(error: unknown, nowMs: number = Date.now()): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const carrier = error as { retryAfterMs?: unknown; response?: { headers?: unknown }; headers?: unknown };
  if (typeof carrier.retryAfterMs === 'number' && carrier.retryAfterMs >= 0) return carrier.retryAfterMs;
  const headers = carrier.response?.headers ?? carrier.headers;
  const value = headerValue(headers, 'retry-after');
  return value === undefined ? undefined : parseRetryAfter(value, nowMs);
}

/**
 * Parses an HTTP Retry-After value: delay-seconds ("120") or an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT").
 * Returns ms from `nowMs` (0 for a date in the past), or undefined when the value is neither.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date always names a weekday or month; this keeps "12.5" or "-1" from parsing as a date.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const dateMs = Date.parse(text);
  return Number.isNaN(dateMs) ? undefined : Math.max(0, dateMs - nowMs);
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const value = (headers as { get(name: string): unknown }).get(name);
    return typeof value === 'string' ? value : undefined;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
    if (typeof value === 'number') return String(value);
  }
  return undefined;
}

/** Keeps a random source's output in [0, 1] even if a test supplies something odd. */
function unit(value: number): number {
  return value > 1 ? 1 : value > 0 ? value : 0;
}
