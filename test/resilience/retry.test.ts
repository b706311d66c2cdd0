import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CircuitOpenError,
  ConfigError,
  RateLimitExceededError,
  parseRetryAfter,
  retry,
  retryAfterMsOf,
  type Jitter,
  type RetryEvent,
  type RetryOptions,
} from '../../src/index.js';
import { FakeClock, flushMicrotasks } from '../support/fake-clock.js';
import { failOnUnhandledRejections } from '../support/unhandled.js';

failOnUnhandledRejections();

/** Settles `promise` by moving the fake clock forward in steps until it is done. */
async function drive<T>(clock: FakeClock, promise: Promise<T>, stepMs = 60_000): Promise<PromiseSettledResult<T>> {
  let result: PromiseSettledResult<T> | undefined;
  promise.then(
    (value) => (result = { status: 'fulfilled', value }),
    (reason: unknown) => (result = { status: 'rejected', reason }),
  );
  for (let i = 0; i < 10_000 && result === undefined; i++) await clock.advance(stepMs);
  if (result === undefined) throw new Error('the promise never settled');
  return result;
}

/** A failing function that records when each attempt started (fake-clock ms). */
function failing(clock: FakeClock, makeError: (attempt: number) => unknown = () => new Error('flaky')) {
  const startsMs: number[] = [];
  const fn = ({ attempt }: { attempt: number }) => {
    startsMs.push(clock.now());
    throw makeError(attempt);
  };
  return { fn, startsMs };
}

const gaps = (startsMs: number[]) => startsMs.slice(1).map((ms, i) => ms - startsMs[i]!);

describe('retry: backoff and jitter', () => {
  it('waits the exact exponential steps with jitter none, capped at maxDelay', async () => {
    const clock = new FakeClock(0);
    const { fn, startsMs } = failing(clock);
    const result = await drive(clock, retry(fn, { maxRetries: 6, baseDelay: 100, factor: 3, maxDelay: '5s', jitter: 'none', clock }));
    expect(result.status).toBe('rejected');
    expect(gaps(startsMs)).toEqual([100, 300, 900, 2_700, 5_000, 5_000]);
  });

  it('every delay lies within its jitter bounds, and the clock really waits that long (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Jitter>('full', 'equal', 'decorrelated', 'none'),
        fc.integer({ min: 1, max: 500 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.double({ min: 0, max: 0.999_999, noNaN: true }), { minLength: 8, maxLength: 8 }),
        async (jitter, baseDelay, factor, maxRetries, randoms) => {
          const maxDelay = baseDelay * 20;
          const clock = new FakeClock(0);
          let draw = 0;
          const events: RetryEvent[] = [];
          const { fn, startsMs } = failing(clock);
          const options: RetryOptions = {
            maxRetries,
            baseDelay,
            maxDelay,
            factor,
            jitter,
            clock,
            random: () => randoms[draw++ % randoms.length]!,
            onRetry: (event) => events.push(event),
          };
          const result = await drive(clock, retry(fn, options), maxDelay);
          expect(result.status).toBe('rejected');
          expect(startsMs).toHaveLength(maxRetries + 1);
          const delays = events.map((e) => e.delayMs);
          let previous = baseDelay;
          delays.forEach((delayMs, n) => {
            const stepMs = Math.min(maxDelay, baseDelay * factor ** n);
            const [low, high] =
              jitter === 'none'
                ? [stepMs, stepMs]
                : jitter === 'full'
                  ? [0, stepMs]
                  : jitter === 'equal'
                    ? [stepMs / 2, stepMs]
                    : [baseDelay, Math.min(maxDelay, Math.max(baseDelay, previous * 3))];
            expect(delayMs).toBeGreaterThanOrEqual(low - 1e-9);
            expect(delayMs).toBeLessThanOrEqual(high + 1e-9);
            previous = delayMs;
          });
          // The clock waited exactly the announced delays (integer fake-clock steps may round up by < 1 ms).
          gaps(startsMs).forEach((gapMs, n) => expect(Math.abs(gapMs - delays[n]!)).toBeLessThan(1));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('never starts an attempt after the deadline (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20_000 }),
        fc.constantFrom<Jitter>('full', 'equal', 'decorrelated', 'none'),
        fc.integer({ min: 0, max: 300 }),
        async (deadline, jitter, attemptMs) => {
          const clock = new FakeClock(50_000);
          const startsMs: number[] = [];
          const fn = async () => {
            startsMs.push(clock.now());
            await clock.sleep(attemptMs);
            throw new Error('down');
          };
          const result = await drive(clock, retry(fn, { maxRetries: 50, baseDelay: 100, jitter, deadline, clock }), 50);
          expect(result.status).toBe('rejected');
          expect((result as PromiseRejectedResult).reason.message).toBe('down');
          for (const startMs of startsMs) expect(startMs - 50_000).toBeLessThanOrEqual(deadline);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('gives up at once when the next wait would end past the deadline', async () => {
    const clock = new FakeClock(0);
    const { fn, startsMs } = failing(clock);
    const retries: number[] = [];
    const result = await drive(
      clock,
      retry(fn, { maxRetries: 10, baseDelay: 1_000, jitter: 'none', deadline: '3500ms', clock, onRetry: (e) => retries.push(e.delayMs) }),
      10,
    );
    expect(result.status).toBe('rejected');
    expect(startsMs).toEqual([0, 1_000, 3_000]); // the next wait (4 s) would end at 7 s > 3.5 s
    expect(retries).toEqual([1_000, 2_000]);
    expect(clock.now()).toBeLessThan(3_100); // it did not sleep in vain
  });
});

describe('retry: waits asked for by the failure', () => {
  const clockAtWholeSecond = () => new FakeClock(Date.UTC(2025, 0, 1, 12, 0, 0));

  it('honours Retry-After in seconds over its own backoff', async () => {
    const clock = clockAtWholeSecond();
    const error = Object.assign(new Error('429'), { response: { headers: new Headers({ 'Retry-After': '3' }) } });
    const { fn, startsMs } = failing(clock, () => error);
    const events: RetryEvent[] = [];
    await drive(clock, retry(fn, { maxRetries: 2, baseDelay: 10, maxDelay: 20, jitter: 'none', clock, onRetry: (e) => events.push(e) }), 100);
    expect(gaps(startsMs)).toEqual([3_000, 3_000]); // above maxDelay: the server's word wins
    expect(events.map((e) => e.retryAfterMs)).toEqual([3_000, 3_000]);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const clock = clockAtWholeSecond();
    const { fn, startsMs } = failing(clock, () => {
      const date = new Date(clock.now() + 5_000).toUTCString();
      return Object.assign(new Error('503'), { response: { headers: new Headers({ 'retry-after': date }) } });
    });
    await drive(clock, retry(fn, { maxRetries: 2, baseDelay: 10, jitter: 'none', clock }), 100);
    expect(gaps(startsMs)).toEqual([5_000, 5_000]);
  });

  it('reads plain-object headers (axios / got style) on error.response.headers or error.headers', () => {
    expect(retryAfterMsOf({ response: { headers: { 'retry-after': '7' } } })).toBe(7_000);
    expect(retryAfterMsOf({ headers: { 'Retry-After': ['2'] } })).toBe(2_000);
    expect(retryAfterMsOf({ headers: { 'Retry-After': 4 } })).toBe(4_000);
    expect(retryAfterMsOf(new Error('plain'))).toBeUndefined();
    expect(retryAfterMsOf('not an object')).toBeUndefined();
  });

  it("honours RateLimitExceededError's and CircuitOpenError's retryAfterMs", async () => {
    const clock = new FakeClock(0);
    const errors = [
      new RateLimitExceededError({ key: 'k', limit: 1, remaining: 0, retryAfterMs: 1_234 }),
      new CircuitOpenError(4_321),
    ];
    const { fn, startsMs } = failing(clock, (attempt) => errors[attempt - 1] ?? new Error('done'));
    await drive(clock, retry(fn, { maxRetries: 2, baseDelay: 1, jitter: 'none', clock }), 10);
    expect(gaps(startsMs)).toEqual([1_234, 4_321]);
  });

  it('gives up at once on a wait that can never end (retryAfterMs Infinity)', async () => {
    const clock = new FakeClock(0);
    const { fn, startsMs } = failing(clock, () => new CircuitOpenError(Infinity));
    const result = await drive(clock, retry(fn, { maxRetries: 5, clock }));
    expect(result.status).toBe('rejected');
    expect(startsMs).toHaveLength(1);
  });

  it('parseRetryAfter reads both forms and nothing else', () => {
    const nowMs = Date.UTC(2025, 0, 1);
    expect(parseRetryAfter('120', nowMs)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', nowMs)).toBe(0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', nowMs)).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', nowMs)).toBe(0); // in the past
    expect(parseRetryAfter('1.5', nowMs)).toBeUndefined();
    expect(parseRetryAfter('-1', nowMs)).toBeUndefined();
    expect(parseRetryAfter('soon', nowMs)).toBeUndefined();
    expect(parseRetryAfter(null, nowMs)).toBeUndefined();
  });
});

describe('retry: what is retried, and stopping', () => {
  it('returns the first success and passes attempt numbers', async () => {
    const clock = new FakeClock(0);
    const attempts: number[] = [];
    const result = await drive(
      clock,
      retry(
        ({ attempt }) => {
          attempts.push(attempt);
          if (attempt < 3) throw new Error('not yet');
          return 'done';
        },
        { clock },
      ),
    );
    expect(result).toEqual({ status: 'fulfilled', value: 'done' });
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('makes at most maxRetries + 1 attempts and throws the last error itself', async () => {
    const clock = new FakeClock(0);
    const { fn, startsMs } = failing(clock, (attempt) => new Error(`attempt ${attempt}`));
    const result = await drive(clock, retry(fn, { maxRetries: 2, clock }));
    expect(startsMs).toHaveLength(3);
    expect((result as PromiseRejectedResult).reason.message).toBe('attempt 3');
  });

  it('retries only what retryOn accepts, and never a ConfigError by default', async () => {
    const clock = new FakeClock(0);
    const transient = failing(clock, (attempt) => new Error(attempt === 1 ? 'transient' : 'fatal'));
    await drive(clock, retry(transient.fn, { clock, retryOn: (e) => (e as Error).message === 'transient' }));
    expect(transient.startsMs).toHaveLength(2);
    const config = failing(clock, () => new ConfigError('x', 'y', 1));
    await drive(clock, retry(config.fn, { clock }));
    expect(config.startsMs).toHaveLength(1);
  });

  it('an abort during the wait rejects at once with the reason and makes no further attempt', async () => {
    const clock = new FakeClock(0);
    const controller = new AbortController();
    const { fn, startsMs } = failing(clock);
    const outcome = retry(fn, { baseDelay: '10s', jitter: 'none', signal: controller.signal, clock }).catch((e: unknown) => e);
    await flushMicrotasks();
    expect(startsMs).toHaveLength(1);
    controller.abort(new Error('shutting down'));
    expect(((await outcome) as Error).message).toBe('shutting down');
    await clock.advance(60_000);
    expect(startsMs).toHaveLength(1);
  });

  it('does not retry a failure that happened after an abort', async () => {
    const clock = new FakeClock(0);
    const controller = new AbortController();
    let attempts = 0;
    const outcome = retry(
      async ({ signal }) => {
        attempts++;
        controller.abort();
        throw signal.reason;
      },
      { signal: controller.signal, clock },
    ).catch((e: unknown) => e);
    expect(await outcome).toBeInstanceOf(Error);
    expect(attempts).toBe(1);
  });

  it('throws ConfigError synchronously for bad options, not as a rejection', () => {
    expect(() => retry(async () => 1, { jitter: 'random' as never })).toThrow(ConfigError);
  });
});
