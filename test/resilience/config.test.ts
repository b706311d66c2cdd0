// Every bad option of the resilience components throws ConfigError naming the field, at construction.
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  circuitBreaker,
  consecutiveFailures,
  countWindow,
  decorators,
  memoryStore,
  rateLimited,
  rateLimitedFetch,
  retry,
  samplingWindow,
  tokenBucket,
  withCircuitBreaker,
  withRetry,
} from '../../src/index.js';

const limiter = tokenBucket({ rate: 1, store: memoryStore({ sweepInterval: 0 }) });
const fn = async () => 1;

/** Asserts `build` throws a ConfigError whose field is `field`. */
function expectConfigError(build: () => unknown, field: string): void {
  let thrown: unknown;
  try {
    build();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected a ConfigError for ${field}`).toBeInstanceOf(ConfigError);
  expect((thrown as ConfigError).field).toBe(field);
  expect((thrown as ConfigError).message).toContain(field);
}

type Case = [field: string, build: () => unknown];

const cases: Record<string, Case[]> = {
  circuitBreaker: [
    ['circuitBreaker.failureTreshold', () => circuitBreaker({ failureTreshold: 3 } as never)],
    ['strategy', () => circuitBreaker({ strategy: { failure: () => true } as never })],
    ['failureThreshold', () => circuitBreaker({ failureThreshold: 0 })],
    ['failureThreshold', () => circuitBreaker({ failureThreshold: 2, strategy: consecutiveFailures() })],
    ['resetTimeout', () => circuitBreaker({ resetTimeout: 'soon' as never })],
    ['halfOpenMax', () => circuitBreaker({ halfOpenMax: 1.5 })],
    ['successThreshold', () => circuitBreaker({ successThreshold: -1 })],
    ['isFailure', () => circuitBreaker({ isFailure: 'all' as never })],
    ['timeout', () => circuitBreaker({ timeout: -5 })],
    ['backoff', () => circuitBreaker({ backoff: 2 as never })],
    ['backoff.factor', () => circuitBreaker({ backoff: { factor: 0.5 } })],
    ['backoff.max', () => circuitBreaker({ resetTimeout: '10s', backoff: { max: '1s' } })],
    ['backoff.maximum', () => circuitBreaker({ backoff: { maximum: '1m' } as never })],
    ['name', () => circuitBreaker({ name: '' })],
    ['clock', () => circuitBreaker({ clock: { now: () => 0 } as never })],
  ],
  strategies: [
    ['threshold', () => consecutiveFailures({ threshold: 0 })],
    ['consecutiveFailures.limit', () => consecutiveFailures({ limit: 3 } as never)],
    ['size', () => countWindow({ size: 0 })],
    ['failureRatio', () => countWindow({ size: 10, failureRatio: 1.5 })],
    ['minimumCalls', () => countWindow({ size: 10, minimumCalls: 11 })],
    ['countWindow.ratio', () => countWindow({ size: 10, ratio: 0.5 } as never)],
    ['window', () => samplingWindow({ window: 0 })],
    ['failureRatio', () => samplingWindow({ window: '1m', failureRatio: 0 })],
    ['minimumThroughput', () => samplingWindow({ window: '1m', minimumThroughput: 2.5 })],
    ['buckets', () => samplingWindow({ window: '1m', buckets: 0 })],
  ],
  retry: [
    ['retry.retries', () => retry(fn, { retries: 3 } as never)],
    ['fn', () => retry('not a function' as never)],
    ['maxRetries', () => retry(fn, { maxRetries: -1 })],
    ['baseDelay', () => retry(fn, { baseDelay: 'fast' as never })],
    ['maxDelay', () => retry(fn, { maxDelay: Number.NaN })],
    ['maxDelay', () => retry(fn, { baseDelay: '2s', maxDelay: '1s' })],
    ['factor', () => retry(fn, { factor: 0.5 })],
    ['jitter', () => retry(fn, { jitter: 'random' as never })],
    ['retryOn', () => retry(fn, { retryOn: true as never })],
    ['deadline', () => retry(fn, { deadline: 0 })],
    ['signal', () => retry(fn, { signal: {} as never })],
    ['onRetry', () => retry(fn, { onRetry: 'log' as never })],
    ['clock', () => retry(fn, { clock: {} as never })],
    ['random', () => retry(fn, { random: 0.5 as never })],
  ],
  wrappers: [
    ['rateLimited.keys', () => rateLimited(fn, { limiter, key: 'k', keys: 'x' } as never)],
    ['limiter', () => rateLimited(fn, { limiter: {} as never, key: 'k' })],
    ['key', () => rateLimited(fn, { limiter, key: '' })],
    ['wait', () => rateLimited(fn, { limiter, key: 'k', wait: 'forever' as never })],
    ['cost', () => rateLimited(fn, { limiter, key: 'k', cost: -1 })],
    ['fn', () => rateLimited('nope' as never, { limiter, key: 'k' })],
    ['fn', () => withCircuitBreaker(undefined as never)],
    ['halfOpenMax', () => withCircuitBreaker(fn, { halfOpenMax: 0 })],
    ['fn', () => withRetry(null as never)],
    ['jitter', () => withRetry(fn, { jitter: 'some' as never })],
    ['limiter', () => decorators.rateLimited({ limiter: undefined as never, key: 'k' })],
    ['timeout', () => decorators.circuitBreaker({ timeout: 'x' as never })],
    ['maxRetries', () => decorators.retry({ maxRetries: 1.5 })],
  ],
  rateLimitedFetch: [
    ['rateLimitedFetch.limit', () => rateLimitedFetch({ limiter, key: () => 'a', limit: 5 } as never)],
    ['limiter', () => rateLimitedFetch({ limiter: null as never, key: () => 'a' })],
    ['key', () => rateLimitedFetch({ limiter, key: 'account' as never })],
    ['fetch', () => rateLimitedFetch({ limiter, key: () => 'a', fetch: 'fetch' as never })],
    ['retry', () => rateLimitedFetch({ limiter, key: () => 'a', retry: 3 as never })],
    ['retry.maxRetries', () => rateLimitedFetch({ limiter, key: () => 'a', retry: { maxRetries: -2 } })],
    ['retry.tries', () => rateLimitedFetch({ limiter, key: () => 'a', retry: { tries: 2 } as never })],
    ['breaker', () => rateLimitedFetch({ limiter, key: () => 'a', breaker: 'on' as never })],
    ['breaker.resetTimeout', () => rateLimitedFetch({ limiter, key: () => 'a', breaker: { resetTimeout: -1 } })],
    ['breaker.threshold', () => rateLimitedFetch({ limiter, key: () => 'a', breaker: { threshold: 2 } as never })],
    ['timeout', () => rateLimitedFetch({ limiter, key: () => 'a', timeout: '30 seconds' as never })],
    ['maxAccounts', () => rateLimitedFetch({ limiter, key: () => 'a', maxAccounts: 0 })],
    ['clock', () => rateLimitedFetch({ limiter, key: () => 'a', clock: Date as never })],
  ],
};

describe('ConfigError for every bad option', () => {
  for (const [component, list] of Object.entries(cases)) {
    describe(component, () => {
      it.each(list)('%s', (field, build) => expectConfigError(build, field));
    });
  }

  it('the decorators reject anything but a class method', () => {
    const decorate = decorators.retry();
    expect(() => decorate(fn, { kind: 'field', name: 'x' } as never)).toThrow(ConfigError);
  });

  it('a key function returning no id fails the call with ConfigError', async () => {
    const client = rateLimitedFetch({ limiter, key: () => '' });
    await expect(client('http://127.0.0.1:9/')).rejects.toBeInstanceOf(ConfigError);
  });
});
