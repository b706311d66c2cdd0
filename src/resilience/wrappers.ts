/**
 * Function wrappers: rate-limit, circuit-break or retry any function while keeping its argument and return types.
 * They compose; the recommended order, outermost first, is
 * `withRetry(withCircuitBreaker(rateLimited(fn, …), …), …)` (see docs/resilience.md for why).
 */
import { ConfigError } from '../errors.js';
import type { Limiter } from '../limiters/limiter.js';
import { checkFunction, checkKnownOptions } from '../options.js';
import { parseDuration, type Duration } from '../time.js';
import { CircuitBreaker, isCircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';
import { retrySchedule, type RetryOptions } from './retry.js';

/** The async form of a function: same `this` and arguments, the result as a promise. */
export type Wrapped<This, A extends unknown[], R> = (this: This, ...args: A) => Promise<Awaited<R>>;

export interface RateLimitedOptions<A extends unknown[] = any[]> {
  limiter: Limiter;
  /** The limiter key: a fixed string, or computed from the call's arguments (e.g. a user or account id). */
  key: string | ((...args: A) => string);
  /**
   * false (default): refuse at once with RateLimitExceededError when over the limit. true: wait as long as
   * needed. A duration: wait at most that long (fails at once when the wait would be longer).
   */
  wait?: boolean | Duration;
  /** Units one call takes: a number or computed from the arguments. Default 1. */
  cost?: number | ((...args: A) => number);
}

/** Validates rate-limit options once and returns the function that wraps any `fn` with them. */
export function rateLimitedWrapper<A extends unknown[]>(
  options: RateLimitedOptions<A>,
): <This, R>(fn: (this: This, ...args: A) => R) => Wrapped<This, A, R> {
  checkKnownOptions(options, 'rateLimited', ['limiter', 'key', 'wait', 'cost']);
  const limiter = options?.limiter;
  if (typeof limiter !== 'object' || limiter === null || typeof limiter.acquire !== 'function') {
    throw new ConfigError('limiter', 'a limiter (tokenBucket(), slidingWindow(), ...)', limiter);
  }
  const key = options.key;
  if (typeof key !== 'function' && (typeof key !== 'string' || key.length === 0)) {
    throw new ConfigError('key', 'a non-empty string or a function of the arguments returning one', key);
  }
  const wait = options.wait ?? false;
  const timeout: number | undefined =
    wait === false ? 0 : wait === true ? undefined : parseDuration(wait, 'wait', { allowZero: true, allowInfinity: true });
  const cost = options.cost ?? 1;
  if (typeof cost !== 'function' && (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0)) {
    throw new ConfigError('cost', 'a finite number >= 0 or a function of the arguments returning one', cost);
  }

  return <This, R>(fn: (this: This, ...args: A) => R): Wrapped<This, A, R> => {
    checkFunction(fn, 'fn');
    return async function rateLimitedCall(this: This, ...args: A): Promise<Awaited<R>> {
      const id = typeof key === 'function' ? key.apply(this, args) : key;
      const units = typeof cost === 'function' ? cost.apply(this, args) : cost;
      const permit = await limiter.acquire(id, { cost: units, timeout });
      try {
        return await fn.apply(this, args);
      } finally {
        await permit.release();
      }
    };
  };
}

/**
 * Wraps `fn` so each call first takes `cost` from `limiter` under the key computed from the call's arguments.
 * Over the limit it throws RateLimitExceededError (with `retryAfterMs`), or waits when `wait` says so.
 */
export function rateLimited<F extends (this: any, ...args: any[]) => unknown>(
  fn: F,
  options: RateLimitedOptions<Parameters<F>>,
): Wrapped<ThisParameterType<F>, Parameters<F>, ReturnType<F>> {
  // The options are typed from `fn` alone, so a key function may take fewer arguments than fn does.
  return rateLimitedWrapper(options)(fn as (this: ThisParameterType<F>, ...args: Parameters<F>) => ReturnType<F>);
}

/** A breaker, or the options to make one. */
export type BreakerOrOptions = CircuitBreaker | CircuitBreakerOptions;

export function breakerFrom(breakerOrOptions: BreakerOrOptions | undefined): CircuitBreaker {
  return isCircuitBreaker(breakerOrOptions) ? breakerOrOptions : new CircuitBreaker(breakerOrOptions);
}

/**
 * Wraps `fn` so every call runs through a circuit breaker: the one given (share it between functions that call
 * the same dependency) or a new one made from the options. The wrapper exposes it as `.breaker`.
 */
export function withCircuitBreaker<This, A extends unknown[], R>(
  fn: (this: This, ...args: A) => R,
  breakerOrOptions?: BreakerOrOptions,
): Wrapped<This, A, R> & { readonly breaker: CircuitBreaker } {
  checkFunction(fn, 'fn');
  const breaker = breakerFrom(breakerOrOptions);
  const wrapped = function circuitBrokenCall(this: This, ...args: A): Promise<Awaited<R>> {
    return breaker.execute(() => fn.apply(this, args) as Awaited<R> | PromiseLike<Awaited<R>>);
  };
  return Object.assign(wrapped, { breaker });
}

/** Validates retry options once and returns the function that wraps any `fn` with them. */
export function retryWrapper(options?: RetryOptions): <This, A extends unknown[], R>(fn: (this: This, ...args: A) => R) => Wrapped<This, A, R> {
  const schedule = retrySchedule(options);
  return <This, A extends unknown[], R>(fn: (this: This, ...args: A) => R): Wrapped<This, A, R> => {
    checkFunction(fn, 'fn');
    return function retriedCall(this: This, ...args: A): Promise<Awaited<R>> {
      return schedule.run(() => fn.apply(this, args) as Awaited<R> | PromiseLike<Awaited<R>>);
    };
  };
}

/** Wraps `fn` so a failing call is retried with backoff (see RetryOptions). Options are checked once, here. */
export function withRetry<This, A extends unknown[], R>(
  fn: (this: This, ...args: A) => R,
  options?: RetryOptions,
): Wrapped<This, A, R> {
  checkFunction(fn, 'fn');
  return retryWrapper(options)(fn);
}
