import { describe, expect, it } from 'vitest';
import {
  CircuitOpenError,
  RateLimitExceededError,
  circuitBreaker,
  consecutiveFailures,
  countWindow,
  isCircuitOpenError,
  isTimeoutError,
  samplingWindow,
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type StateChangeEvent,
} from '../../src/index.js';
import { FakeClock, flushMicrotasks } from '../support/fake-clock.js';
import { failOnUnhandledRejections } from '../support/unhandled.js';

failOnUnhandledRejections();

const ok = () => Promise.resolve('ok');

function setup(options: CircuitBreakerOptions = {}) {
  const clock = new FakeClock(1_000_000);
  const breaker = circuitBreaker({ resetTimeout: '10s', clock, ...options });
  const changes: StateChangeEvent[] = [];
  breaker.onStateChange((event) => changes.push(event));
  return { clock, breaker, changes };
}

/** Runs a failing call and swallows its (expected) error, returning it. */
async function fail(breaker: CircuitBreaker, error: Error = new Error('boom')): Promise<unknown> {
  return breaker.execute(() => Promise.reject(error)).then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
}

describe('circuitBreaker: consecutive failures', () => {
  it('opens after the threshold, refuses while open, half-opens after resetTimeout, closes on a good trial', async () => {
    const { clock, breaker, changes } = setup({ failureThreshold: 3 });
    await fail(breaker);
    await fail(breaker);
    expect(breaker.state).toBe('closed');
    await breaker.execute(ok); // a success resets the run
    await fail(breaker);
    await fail(breaker);
    expect(breaker.state).toBe('closed');
    await fail(breaker);
    expect(breaker.state).toBe('open');
    expect(changes).toEqual([{ from: 'closed', to: 'open', reason: 'failures', openMs: 10_000 }]);

    let called = false;
    const refused = await breaker.execute(async () => (called = true)).catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect((refused as CircuitOpenError).retryAfterMs).toBe(10_000);

    clock.set(clock.now() + 9_999);
    expect(((await fail(breaker)) as CircuitOpenError).retryAfterMs).toBe(1);
    clock.set(clock.now() + 1);
    expect(await breaker.execute(ok)).toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(changes.map((c) => `${c.from}>${c.to}:${c.reason}`)).toEqual([
      'closed>open:failures',
      'open>half-open:reset-timeout',
      'half-open>closed:trial-succeeded',
    ]);
  });

  it('a failed trial opens the circuit again', async () => {
    const { clock, breaker, changes } = setup({ failureThreshold: 1 });
    await fail(breaker);
    clock.set(clock.now() + 10_000);
    await fail(breaker);
    expect(breaker.state).toBe('open');
    expect(changes.at(-1)).toMatchObject({ from: 'half-open', to: 'open', reason: 'trial-failed' });
    expect(breaker.stats()).toMatchObject({ opens: 2, retryAfterMs: 10_000 });
  });

  it('needs successThreshold good trials to close', async () => {
    const { clock, breaker } = setup({ failureThreshold: 1, successThreshold: 3 });
    await fail(breaker);
    clock.set(clock.now() + 10_000);
    await breaker.execute(ok);
    expect(breaker.state).toBe('half-open');
    await breaker.execute(ok);
    expect(breaker.state).toBe('half-open');
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
  });
});

describe('circuitBreaker: count window', () => {
  it('opens when the failure ratio of the last N calls is reached, never below minimumCalls', async () => {
    const { breaker } = setup({ strategy: countWindow({ size: 10, failureRatio: 0.5, minimumCalls: 4 }) });
    await fail(breaker);
    await fail(breaker);
    await fail(breaker);
    expect(breaker.state).toBe('closed'); // 3 calls < minimumCalls
    await breaker.execute(ok);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed'); // 3 of 5 failed, but the last outcome was a success
    expect(breaker.stats().strategy).toMatchObject({ name: 'count-window', calls: 5, failures: 3 });
    await fail(breaker); // 4 of 6 >= 0.5
    expect(breaker.state).toBe('open');
  });

  it('forgets outcomes that left the window', async () => {
    const { breaker } = setup({ strategy: countWindow({ size: 4, failureRatio: 0.75 }) });
    await fail(breaker);
    await fail(breaker);
    for (let i = 0; i < 4; i++) await breaker.execute(ok); // pushes both failures out
    await fail(breaker);
    await fail(breaker);
    expect(breaker.state).toBe('closed'); // 2 of 4
    await fail(breaker);
    expect(breaker.state).toBe('open'); // 3 of 4
  });

  it('starts afresh after closing', async () => {
    const { clock, breaker } = setup({ strategy: countWindow({ size: 4, failureRatio: 0.5, minimumCalls: 2 }) });
    await fail(breaker);
    await fail(breaker);
    expect(breaker.state).toBe('open');
    clock.set(clock.now() + 10_000);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().strategy).toMatchObject({ calls: 0, failures: 0 });
    await fail(breaker);
    expect(breaker.state).toBe('closed'); // 1 call < minimumCalls 2
  });
});

describe('circuitBreaker: sampling window', () => {
  it('opens on the failure ratio within the time window once the throughput is reached', async () => {
    const { breaker } = setup({
      strategy: samplingWindow({ window: '10s', failureRatio: 0.5, minimumThroughput: 6, buckets: 10 }),
    });
    for (let i = 0; i < 3; i++) await breaker.execute(ok);
    await fail(breaker);
    await fail(breaker);
    expect(breaker.state).toBe('closed'); // 5 calls < 6
    await fail(breaker);
    expect(breaker.state).toBe('open'); // 3 of 6 = 0.5
  });

  it('forgets calls older than the window', async () => {
    const { clock, breaker } = setup({
      strategy: samplingWindow({ window: '10s', failureRatio: 0.5, minimumThroughput: 4, buckets: 10 }),
    });
    await fail(breaker);
    await fail(breaker);
    await fail(breaker);
    clock.set(clock.now() + 11_000); // those three leave the window
    await breaker.execute(ok);
    await breaker.execute(ok);
    await breaker.execute(ok);
    await fail(breaker);
    expect(breaker.state).toBe('closed'); // 1 of 4
    expect(breaker.stats().strategy).toMatchObject({ calls: 4, failures: 1 });
    await fail(breaker);
    expect(breaker.state).toBe('closed'); // 2 of 5
    await fail(breaker);
    expect(breaker.state).toBe('open'); // 3 of 6
  });

  it('reads the clock for the strategy, and a quiet period below the throughput never opens', async () => {
    const { clock, breaker } = setup({ strategy: samplingWindow({ window: '1s', minimumThroughput: 3 }) });
    for (let i = 0; i < 10; i++) {
      await fail(breaker);
      await fail(breaker);
      clock.set(clock.now() + 1_500);
    }
    expect(breaker.state).toBe('closed');
  });
});

describe('circuitBreaker: half-open admission', () => {
  it('admits exactly halfOpenMax of 100 concurrent calls and refuses the rest with retryAfterMs', async () => {
    for (const halfOpenMax of [1, 3, 10]) {
      const { clock, breaker } = setup({ failureThreshold: 1, halfOpenMax, successThreshold: 1 });
      await fail(breaker);
      clock.set(clock.now() + 10_000);
      let started = 0;
      const gates: (() => void)[] = [];
      const calls = Array.from({ length: 100 }, () =>
        breaker.execute(
          () =>
            new Promise<string>((resolve) => {
              started++;
              gates.push(() => resolve('trial'));
            }),
        ),
      );
      const settled = Promise.allSettled(calls);
      await flushMicrotasks();
      expect(started).toBe(halfOpenMax);
      expect(breaker.state).toBe('half-open');
      expect(breaker.stats().halfOpenTrials).toBe(halfOpenMax);
      for (const open of gates) open();
      const results = await settled;
      const fulfilled = results.filter((r) => r.status === 'fulfilled');
      const rejected = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
      expect(fulfilled).toHaveLength(halfOpenMax);
      expect(rejected).toHaveLength(100 - halfOpenMax);
      for (const reason of rejected) {
        expect(reason).toBeInstanceOf(CircuitOpenError);
        expect((reason as CircuitOpenError).retryAfterMs).toBeGreaterThan(0);
      }
      expect(breaker.state).toBe('closed');
      expect(breaker.stats().rejections).toBe(100 - halfOpenMax);
    }
  });

  it('ignores the late outcome of a trial from an earlier half-open period', async () => {
    const { clock, breaker } = setup({ failureThreshold: 1, halfOpenMax: 2 });
    await fail(breaker);
    clock.set(clock.now() + 10_000);
    let releaseSlow!: () => void;
    const slow = breaker.execute(() => new Promise<string>((resolve) => (releaseSlow = () => resolve('late'))));
    await fail(breaker); // second trial fails: open again
    expect(breaker.state).toBe('open');
    releaseSlow();
    expect(await slow).toBe('late');
    expect(breaker.state).toBe('open'); // the late success did not close it
  });
});

describe('circuitBreaker: timeout and signals', () => {
  it('aborts the call signal on timeout, rejects with a TimeoutError and counts a failure', async () => {
    const { clock, breaker } = setup({ timeout: '2s', failureThreshold: 1 });
    let seen: AbortSignal | undefined;
    const call = breaker.execute(
      (signal) =>
        new Promise<string>((resolve, reject) => {
          seen = signal;
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    );
    const outcome = call.catch((e: unknown) => e);
    await clock.advance(1_999);
    expect(seen!.aborted).toBe(false);
    await clock.advance(1);
    expect(seen!.aborted).toBe(true);
    const error = await outcome;
    expect(error).toBeInstanceOf(Error);
    expect(isTimeoutError(error)).toBe(true);
    expect(seen!.reason).toBe(error);
    expect(breaker.state).toBe('open');
    expect(breaker.stats()).toMatchObject({ timeouts: 1, failures: 1 });
  });

  it('rejects at the timeout even when the call ignores its signal', async () => {
    const { clock, breaker } = setup({ timeout: 500 });
    const outcome = breaker.execute(() => new Promise<never>(() => {})).catch((e: unknown) => e);
    await clock.advance(500);
    expect(isTimeoutError(await outcome)).toBe(true);
  });

  it('a call that finishes in time clears its timer and is a success', async () => {
    const { clock, breaker } = setup({ timeout: 500 });
    expect(await breaker.execute(async () => 'fast')).toBe('fast');
    expect(clock.pending).toBe(0);
    expect(breaker.stats()).toMatchObject({ successes: 1, timeouts: 0 });
  });

  it("the caller's signal aborts the call's signal; an aborted call is neither success nor failure", async () => {
    const { breaker } = setup({ failureThreshold: 1 });
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const outcome = breaker
      .execute((signal) => {
        seen = signal;
        return new Promise<never>(() => {});
      }, controller.signal)
      .catch((e: unknown) => e);
    await flushMicrotasks();
    controller.abort(new Error('caller gave up'));
    expect(((await outcome) as Error).message).toBe('caller gave up');
    expect(seen!.aborted).toBe(true);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats()).toMatchObject({ ignored: 1, failures: 0, successes: 0 });
  });

  it('an already aborted signal is refused before the call runs', async () => {
    const { breaker } = setup();
    let called = false;
    const error = await breaker
      .execute(async () => (called = true), AbortSignal.abort(new Error('already')))
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect((error as Error).message).toBe('already');
  });
});

describe('circuitBreaker: isFailure', () => {
  it('counts only the errors isFailure selects; the others are successes and still thrown', async () => {
    class NotFound extends Error {}
    const { breaker } = setup({ failureThreshold: 2, isFailure: (error) => !(error instanceof NotFound) });
    for (let i = 0; i < 5; i++) expect(await fail(breaker, new NotFound('404'))).toBeInstanceOf(NotFound);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats()).toMatchObject({ successes: 5, failures: 0 });
    await fail(breaker);
    await fail(breaker);
    expect(breaker.state).toBe('open');
  });

  it("counts sluice's own refusals (rate limit, inner circuit) as neither success nor failure", async () => {
    const { clock, breaker } = setup({ failureThreshold: 2, isFailure: () => true });
    await fail(breaker);
    await fail(breaker, new RateLimitExceededError({ key: 'k', limit: 1, remaining: 0, retryAfterMs: 5 }));
    await fail(breaker, new CircuitOpenError(5));
    expect(breaker.state).toBe('closed'); // not failures...
    expect(breaker.stats()).toMatchObject({ failures: 1, successes: 0, ignored: 2 });
    await fail(breaker);
    expect(breaker.state).toBe('open'); // ...nor successes that would have reset the run
    clock.set(clock.now() + 10_000);
    await fail(breaker, new RateLimitExceededError({ key: 'k', limit: 1, remaining: 0, retryAfterMs: 5 }));
    expect(breaker.state).toBe('half-open'); // a refused trial frees its slot without deciding
    expect(breaker.stats().halfOpenTrials).toBe(0);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
  });

  it('a half-open trial failing with an error isFailure ignores closes the circuit', async () => {
    const { clock, breaker } = setup({ failureThreshold: 1, isFailure: (e) => (e as Error).message !== 'fine' });
    await fail(breaker);
    clock.set(clock.now() + 10_000);
    await fail(breaker, new Error('fine'));
    expect(breaker.state).toBe('closed');
  });

  it('counts a synchronous throw like a rejection', async () => {
    const { breaker } = setup({ failureThreshold: 1 });
    const error = await breaker
      .execute(() => {
        throw new Error('sync');
      })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('sync');
    expect(breaker.state).toBe('open');
  });
});

describe('circuitBreaker: backoff, manual control, events, stats', () => {
  it('grows the open time after each failed trial, up to max, and starts over once closed', async () => {
    const { clock, breaker, changes } = setup({ failureThreshold: 1, resetTimeout: '1s', backoff: { factor: 2, max: '5s' } });
    await fail(breaker);
    const openTimes = [breaker.stats().openMs];
    for (let i = 0; i < 4; i++) {
      clock.set(clock.now() + breaker.stats().retryAfterMs);
      await fail(breaker);
      openTimes.push(breaker.stats().openMs);
    }
    expect(openTimes).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    expect(changes.filter((c) => c.to === 'open').map((c) => c.openMs)).toEqual(openTimes);
    clock.set(clock.now() + 5_000);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    await fail(breaker);
    expect(breaker.stats().openMs).toBe(1_000);
  });

  it('open() and close() switch the state by hand', async () => {
    const { clock, breaker, changes } = setup();
    breaker.open();
    expect(breaker.state).toBe('open');
    await expect(breaker.execute(ok)).rejects.toSatisfy(isCircuitOpenError);
    breaker.close();
    expect(await breaker.execute(ok)).toBe('ok');
    breaker.open();
    clock.set(clock.now() + 10_000);
    expect(await breaker.execute(ok)).toBe('ok'); // the usual trial after resetTimeout
    expect(changes.map((c) => c.reason)).toEqual(['manual', 'manual', 'manual', 'reset-timeout', 'trial-succeeded']);
  });

  it('isolate() holds the circuit open until every handle is released', async () => {
    const { clock, breaker, changes } = setup();
    const first = breaker.isolate();
    const second = breaker.isolate();
    expect(breaker.state).toBe('isolated');
    clock.set(clock.now() + 1_000_000);
    const error = await breaker.execute(ok).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).retryAfterMs).toBe(Infinity);
    breaker.close(); // no effect while isolated
    expect(breaker.state).toBe('isolated');
    first();
    first(); // releasing twice counts once
    expect(breaker.state).toBe('isolated');
    second[Symbol.dispose]();
    expect(breaker.state).toBe('closed');
    expect(changes.map((c) => `${c.to}:${c.reason}`)).toEqual(['isolated:isolated', 'closed:released']);
  });

  it('events fire with their payloads and stop after the disposer is called', async () => {
    const { clock, breaker } = setup({ failureThreshold: 2 });
    const successes: number[] = [];
    const failures: string[] = [];
    const rejections: string[] = [];
    const offSuccess = breaker.onSuccess((e) => successes.push(e.durationMs));
    const offFailure = breaker.onFailure((e) => failures.push((e.error as Error).message));
    const offRejection = breaker.onRejection((e) => rejections.push(e.state));
    await breaker.execute(async () => {
      await clock.advance(25);
      return 1;
    });
    await fail(breaker, new Error('a'));
    await fail(breaker, new Error('b'));
    await fail(breaker);
    expect(successes).toEqual([25]);
    expect(failures).toEqual(['a', 'b']);
    expect(rejections).toEqual(['open']);
    offSuccess();
    offFailure();
    offRejection();
    breaker.close();
    await breaker.execute(ok);
    await fail(breaker);
    await fail(breaker);
    await fail(breaker);
    expect([successes.length, failures.length, rejections.length]).toEqual([1, 2, 1]);
  });

  it('a throwing listener does not break the breaker', async () => {
    const { breaker } = setup({ failureThreshold: 1 });
    const thrown: unknown[] = [];
    const onUncaught = (error: unknown) => thrown.push(error);
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onUncaught);
    try {
      breaker.onStateChange(() => {
        throw new Error('listener bug');
      });
      await fail(breaker);
      expect(breaker.state).toBe('open');
      await flushMicrotasks();
    } finally {
      process.off('uncaughtException', onUncaught);
      for (const listener of listeners) process.on('uncaughtException', listener);
    }
    expect(thrown).toHaveLength(1);
    expect((thrown[0] as Error).message).toBe('listener bug');
  });

  it('stats() counts calls, outcomes and the strategy view', async () => {
    const { breaker } = setup({ failureThreshold: 3, name: 'partner' });
    await breaker.execute(ok);
    await fail(breaker);
    expect(breaker.stats()).toMatchObject({
      name: 'partner',
      state: 'closed',
      calls: 2,
      successes: 1,
      failures: 1,
      rejections: 0,
      opens: 0,
      openedAtMs: undefined,
      retryAfterMs: 0,
      strategy: { name: 'consecutive-failures', failures: 1, threshold: 3 },
    });
  });

  it('accepts a synchronous function and plain values', async () => {
    const { breaker } = setup();
    expect(await breaker.execute(() => 42)).toBe(42);
  });

  it('refuses to share one strategy object between two breakers', () => {
    const strategy = consecutiveFailures({ threshold: 2 });
    circuitBreaker({ strategy });
    expect(() => circuitBreaker({ strategy })).toThrow(/strategy/);
  });
});
