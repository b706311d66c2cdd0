/**
 * The contenders of the resilience group, each in its own host process: a direct call of an async function, and
 * the same call through a circuit breaker or a retry wrapper (every call succeeds, so this is the pure overhead).
 */
import CircuitBreaker from 'opossum';
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker as cockatielBreaker, handleAll, retry as cockatielRetry } from 'cockatiel';
import { sluice } from './lib/sluice.js';
import type { Contender } from './lib/contender.js';

/** The protected operation: an async function that resolves at once. */
async function work(): Promise<number> {
  return 1;
}

/** Awaits `call()` `ops` times; a rejection is a failure of the comparison. */
function loop(call: () => Promise<unknown>): Contender {
  return {
    async run(ops) {
      for (let i = 0; i < ops; i++) await call();
    },
  };
}

export function direct(): Contender {
  return loop(work);
}

export function opossum({ timeout }: { timeout?: false }): Contender {
  // Defaults otherwise (rolling stats on). opossum's default 10 s timeout arms a timer on every call.
  const breaker = new CircuitBreaker(work, timeout === false ? { timeout: false } : {});
  return { ...loop(() => breaker.fire()), close: () => breaker.shutdown() };
}

export function cockatiel(): Contender {
  const policy = cockatielBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
  return loop(() => policy.execute(work));
}

export function cockatielRetryPolicy(): Contender {
  const policy = cockatielRetry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() });
  return loop(() => policy.execute(work));
}

/** Metrics are on by default (each call timed into a histogram); `metrics: false` measures the breaker alone. */
export function sluiceBreaker({ metrics }: { metrics?: false }): Contender {
  const breaker = sluice.circuitBreaker({ failureThreshold: 5, resetTimeout: '10s', ...(metrics === false ? { metrics } : {}) });
  return loop(() => breaker.execute(work));
}

/** The wrapper made once, as a hot path would use it. */
export function sluiceWithRetry(): Contender {
  const wrapped = sluice.withRetry(work, { maxRetries: 3 });
  return loop(wrapped);
}

/** retry(fn, options) per call: the options are checked on every call. */
export function sluiceRetryPerCall(): Contender {
  const options = { maxRetries: 3 };
  return loop(() => sluice.retry(work, options));
}
