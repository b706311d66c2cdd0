// Every way a resilience component refuses or fails a call rejects with an Error instance, and none of them
// leaves an unhandled rejection behind.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  circuitBreaker,
  memoryStore,
  rateLimited,
  rateLimitedFetch,
  retry,
  tokenBucket,
  withCircuitBreaker,
  withRetry,
} from '../../src/index.js';
import { FakeClock, flushMicrotasks } from '../support/fake-clock.js';
import { failOnUnhandledRejections } from '../support/unhandled.js';

const unhandled = failOnUnhandledRejections();

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('rejections', () => {
  it('are Error instances on every path, and none goes unhandled', async () => {
    const clock = new FakeClock(0);
    const store = memoryStore({ sweepInterval: 0 });
    const limiter = tokenBucket({ rate: 1, per: '1m', burst: 1, clock, store });
    const never = () => new Promise<never>(() => {});
    const outcomes: Promise<PromiseSettledResult<unknown>>[] = [];
    const paths: string[] = [];
    /** Observes the promise at once, as a caller awaiting it would: a later await must not hide an unhandled one. */
    const track = (path: string, promise: Promise<unknown>) => {
      paths.push(path);
      outcomes.push(
        promise.then(
          (value): PromiseSettledResult<unknown> => ({ status: 'fulfilled', value }),
          (reason: unknown): PromiseSettledResult<unknown> => ({ status: 'rejected', reason }),
        ),
      );
    };

    // Breaker: open, half-open full, isolated, timeout, caller abort (default reason), already aborted.
    const open = circuitBreaker({ failureThreshold: 1, resetTimeout: '1s', clock });
    await open.execute(() => Promise.reject(new Error('first'))).catch(() => {});
    track('breaker open', open.execute(async () => 1));
    clock.set(1_000);
    const trial = open.execute(never);
    track('breaker half-open full', open.execute(async () => 1));
    const isolated = circuitBreaker({ clock });
    const release = isolated.isolate();
    track('breaker isolated', isolated.execute(async () => 1));
    const timed = circuitBreaker({ timeout: 100, clock });
    track('breaker timeout', timed.execute(never));
    const abortable = new AbortController();
    track('breaker caller abort', circuitBreaker({ clock }).execute(never, abortable.signal));
    track('breaker already aborted', circuitBreaker({ clock }).execute(async () => 1, AbortSignal.abort()));

    // Retry: gives up, aborted while waiting.
    track('retry gave up', retry(() => Promise.reject(new Error('always')), { maxRetries: 1, baseDelay: 10, clock }));
    const stopRetry = new AbortController();
    track('retry aborted', retry(() => Promise.reject(new Error('x')), { baseDelay: '1h', signal: stopRetry.signal, clock }));

    // Wrappers: refused at once, refused after the wait bound, breaker wrapper, retry wrapper.
    const limited = rateLimited(async () => 1, { limiter, key: 'k' });
    await limited();
    track('rateLimited refused', limited());
    track('rateLimited wait too long', rateLimited(async () => 1, { limiter, key: 'k', wait: '1s' })());
    track('withCircuitBreaker open', withCircuitBreaker(async () => 1, open)());
    track('withRetry gave up', withRetry(() => Promise.reject(new Error('no')), { maxRetries: 0, clock })());

    // Outbound client: limiter refusal, network error, open breaker, caller abort.
    const port = await closedPort();
    const refusing = rateLimitedFetch({ limiter, key: () => 'k', timeout: 0, clock });
    track('fetch token wait', refusing(`http://127.0.0.1:${port}/`));
    const network = rateLimitedFetch({ limiter: tokenBucket({ rate: 100, clock, store }), key: () => 'n', clock });
    track('fetch network error', network(`http://127.0.0.1:${port}/`));
    const behindOpen = rateLimitedFetch({ limiter: tokenBucket({ rate: 100, clock, store }), key: () => 'o', breaker: open, clock });
    track('fetch open circuit', behindOpen(`http://127.0.0.1:${port}/`));
    track('fetch aborted', network(`http://127.0.0.1:${port}/`, { signal: AbortSignal.abort() }));

    await flushMicrotasks();
    abortable.abort();
    stopRetry.abort();
    await clock.advance(1_000);
    const settled = await Promise.all(outcomes);
    settled.forEach((result, i) => {
      expect(result.status, paths[i]).toBe('rejected');
      expect((result as PromiseRejectedResult).reason, paths[i]).toBeInstanceOf(Error);
    });
    expect(paths).toHaveLength(16);
    release();
    void trial.catch(() => {});
    await flushMicrotasks();
    expect(unhandled.seen).toEqual([]);
  });
});
