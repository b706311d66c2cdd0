/**
 * TC39 standard method decorators (TypeScript 5 with `experimentalDecorators` off), thin sugar over the wrappers.
 * Exported from the package as the `decorators` namespace:
 *
 *   const { rateLimited, circuitBreaker, retry } = decorators;
 *   class Partner {
 *     @retry({ maxRetries: 3 })
 *     @circuitBreaker({ failureThreshold: 5 })
 *     @rateLimited({ limiter, key: (accountId: string) => accountId })
 *     async fetchOrders(accountId: string) { … }
 *   }
 *
 * Decorators apply from the method outwards, so written in this order they compose in the recommended order.
 * Options are checked when the class is defined; one breaker (or limiter) serves every instance.
 */
import { ConfigError } from '../errors.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { RetryOptions } from './retry.js';
import {
  breakerFrom,
  rateLimitedWrapper,
  retryWrapper,
  withCircuitBreaker,
  type BreakerOrOptions,
  type RateLimitedOptions,
  type Wrapped,
} from './wrappers.js';

/** A standard method decorator that turns a method into its async wrapped form. */
export type MethodDecorator<A extends unknown[] = any[]> = <This, R>(
  method: (this: This, ...args: A) => R,
  context: ClassMethodDecoratorContext<This, (this: This, ...args: A) => R>,
) => Wrapped<This, A, R>;

function checkMethod(context: { kind?: unknown } | undefined, decorator: string): void {
  if (context?.kind !== 'method') {
    throw new ConfigError(decorator, 'to decorate a class method (TC39 standard decorators)', context?.kind);
  }
}

/**
 * `@rateLimited({ limiter, key, wait, cost })`: the method's calls are rate-limited per computed key. The key (and
 * cost) function may take the method's leading arguments only: `key: (accountId: string) => accountId` fits a
 * method `(accountId: string, page: number)`.
 */
export function rateLimited<K extends unknown[] = any[]>(
  options: RateLimitedOptions<K>,
): <This, A extends [...K, ...unknown[]], R>(
  method: (this: This, ...args: A) => R,
  context: ClassMethodDecoratorContext<This, (this: This, ...args: A) => R>,
) => Wrapped<This, A, R> {
  const wrap = rateLimitedWrapper(options as RateLimitedOptions<any[]>);
  return (method, context) => {
    checkMethod(context, '@rateLimited');
    return wrap(method);
  };
}

/** `@circuitBreaker(breakerOrOptions)`: the method runs through one breaker shared by all instances. */
export function circuitBreaker(breakerOrOptions?: BreakerOrOptions): MethodDecorator & { readonly breaker: CircuitBreaker } {
  const breaker = breakerFrom(breakerOrOptions);
  const decorate: MethodDecorator = (method, context) => {
    checkMethod(context, '@circuitBreaker');
    return withCircuitBreaker(method, breaker);
  };
  return Object.assign(decorate, { breaker });
}

/** `@retry(options)`: failing calls of the method are retried with backoff. */
export function retry(options?: RetryOptions): MethodDecorator {
  const wrap = retryWrapper(options);
  return (method, context) => {
    checkMethod(context, '@retry');
    return wrap(method);
  };
}
