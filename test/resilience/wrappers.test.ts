import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  circuitBreaker,
  concurrency,
  isCircuitOpenError,
  isRateLimitExceededError,
  memoryStore,
  rateLimited,
  tokenBucket,
  withCircuitBreaker,
  withRetry,
  type Duration,
  type RateLimitExceededError,
} from '../../src/index.js';
import { FakeClock, flushMicrotasks } from '../support/fake-clock.js';
import { failOnUnhandledRejections } from '../support/unhandled.js';

failOnUnhandledRejections();

function limiterSetup(options: { rate: number; per?: Duration; burst?: number }) {
  const clock = new FakeClock(1_000_000);
  const limiter = tokenBucket({ ...options, clock, store: memoryStore({ sweepInterval: 0 }) });
  return { clock, limiter };
}

describe('rateLimited', () => {
  it('keys each call by the dynamic id computed from its arguments', async () => {
    const { clock, limiter } = limiterSetup({ rate: 2, per: '1s' });
    const sent: string[] = [];
    const send = rateLimited(async (accountId: string, body: string) => sent.push(`${accountId}:${body}`), {
      limiter,
      key: (accountId) => `account:${accountId}`,
    });
    await send('alice', 'a1');
    await send('alice', 'a2');
    const refused = await send('alice', 'a3').catch((e: unknown) => e);
    expect(isRateLimitExceededError(refused)).toBe(true);
    expect(refused).toMatchObject({ key: 'account:alice', limit: 2, remaining: 0, retryAfterMs: 500 });
    await send('bob', 'b1'); // another id has its own budget
    expect(sent).toEqual(['alice:a1', 'alice:a2', 'bob:b1']);
    clock.set(clock.now() + 500);
    await send('alice', 'a4');
    expect(sent).toContain('alice:a4');
  });

  it('wait: true waits for a token; a wait duration bounds it', async () => {
    const { clock, limiter } = limiterSetup({ rate: 1, per: '1s', burst: 1 });
    const calls: number[] = [];
    const patient = rateLimited(async (n: number) => calls.push(n), { limiter, key: 'k', wait: true });
    const bounded = rateLimited(async (n: number) => calls.push(n), { limiter, key: 'k', wait: '500ms' });
    await patient(1);
    const second = patient(2);
    await flushMicrotasks();
    expect(calls).toEqual([1]);
    await clock.advance(1_000);
    await second;
    expect(calls).toEqual([1, 2]);
    await expect(bounded(3)).rejects.toSatisfy(isRateLimitExceededError); // needs 1000 ms > 500 ms
    clock.set(clock.now() + 600);
    const third = bounded(4); // needs 400 ms <= 500 ms
    await clock.advance(400);
    await third;
    expect(calls).toEqual([1, 2, 4]);
  });

  it('holds a concurrency slot for exactly the call, and frees it when the call fails', async () => {
    const clock = new FakeClock(0);
    const slots = concurrency({ max: 2, lease: '1m', clock, store: memoryStore({ sweepInterval: 0 }) });
    const gates: (() => void)[] = [];
    const work = rateLimited(
      (fail: boolean) => new Promise<string>((resolve, reject) => gates.push(() => (fail ? reject(new Error('bad')) : resolve('done')))),
      { limiter: slots, key: 'db' },
    );
    const first = work(false);
    const second = work(true);
    await flushMicrotasks();
    await expect(work(false)).rejects.toSatisfy(isRateLimitExceededError); // both slots busy
    gates[1]!(); // the second call fails...
    await expect(second).rejects.toThrow('bad');
    const third = work(false); // ...and its slot is free again
    await flushMicrotasks();
    expect(gates).toHaveLength(3);
    gates[0]!();
    gates[2]!();
    expect([await first, await third]).toEqual(['done', 'done']);
    expect((await slots.stats('db')).available).toBe(2);
  });

  it('takes the cost computed from the arguments', async () => {
    const { limiter } = limiterSetup({ rate: 10, per: '1s' });
    const upload = rateLimited(async (bytes: number) => bytes, { limiter, key: 'k', cost: (bytes) => bytes / 100 });
    expect(await upload(600)).toBe(600);
    const refused = (await upload(500).catch((e: unknown) => e)) as RateLimitExceededError;
    expect(refused.remaining).toBe(4);
    expect(await upload(400)).toBe(400);
  });

  it('keeps `this` and the types of the wrapped function', async () => {
    const { limiter } = limiterSetup({ rate: 10 });
    class Client {
      prefix = 'user:';
      load = rateLimited(
        async function (this: Client, id: number, verbose?: boolean): Promise<string> {
          return `${this.prefix}${id}${verbose ? '!' : ''}`;
        },
        { limiter, key: function (this: Client, id) { return `${this.prefix}${id}`; } },
      );
    }
    const client = new Client();
    expect(await client.load(7, true)).toBe('user:7!');
    expectTypeOf(client.load).parameters.toEqualTypeOf<[id: number, verbose?: boolean]>();
    expectTypeOf(client.load).returns.toEqualTypeOf<Promise<string>>();
    const wrappedSync = rateLimited((a: string, b: number) => a.repeat(b), { limiter, key: 'k' });
    expectTypeOf(wrappedSync).returns.toEqualTypeOf<Promise<string>>();
    expect(await wrappedSync('ab', 2)).toBe('abab');
  });
});

describe('withCircuitBreaker and withRetry', () => {
  it('withCircuitBreaker shares the given breaker and exposes it', async () => {
    const clock = new FakeClock(0);
    const breaker = circuitBreaker({ failureThreshold: 2, resetTimeout: '5s', clock });
    const getOrders = withCircuitBreaker(async (id: string): Promise<string> => {
      throw new Error(`orders ${id} down`);
    }, breaker);
    const getUsers = withCircuitBreaker(async (id: string) => `user ${id}`, breaker);
    expect(getOrders.breaker).toBe(breaker);
    await expect(getOrders('1')).rejects.toThrow('orders 1 down');
    await expect(getOrders('2')).rejects.toThrow('orders 2 down');
    await expect(getUsers('3')).rejects.toSatisfy(isCircuitOpenError); // one dependency, one breaker
    clock.set(5_000);
    expect(await getUsers('4')).toBe('user 4');
    expectTypeOf(getUsers).parameters.toEqualTypeOf<[id: string]>();
  });

  it('withCircuitBreaker builds a breaker from options', async () => {
    const wrapped = withCircuitBreaker(async () => 'ok', { failureThreshold: 1, name: 'made' });
    expect(wrapped.breaker.name).toBe('made');
    expect(await wrapped()).toBe('ok');
  });

  it('withRetry retries with the same this and arguments', async () => {
    const clock = new FakeClock(0);
    const seen: unknown[] = [];
    const target = {
      tries: 0,
      call: withRetry(
        async function (this: { tries: number }, a: number, b: number) {
          seen.push([this.tries, a, b]);
          if (++this.tries < 3) throw new Error('again');
          return a + b;
        },
        { baseDelay: 10, jitter: 'none', clock },
      ),
    };
    const result = target.call(2, 3);
    await clock.advance(10);
    await clock.advance(20);
    expect(await result).toBe(5);
    expect(seen).toEqual([[0, 2, 3], [1, 2, 3], [2, 2, 3]]);
  });
});

describe('composition: withRetry(withCircuitBreaker(rateLimited(fn)))', () => {
  it('retry waits out the open circuit and the rate limit; neither refusal counts against the dependency', async () => {
    const clock = new FakeClock(0);
    const limiter = tokenBucket({ rate: 1, per: '1s', burst: 1, clock, store: memoryStore({ sweepInterval: 0 }) });
    const breaker = circuitBreaker({ failureThreshold: 2, resetTimeout: '3s', clock });
    let healthyFromMs = 2_500;
    const callTimes: number[] = [];
    const dependency = async (id: string) => {
      callTimes.push(clock.now());
      if (clock.now() < healthyFromMs) throw new Error('503');
      return `data for ${id}`;
    };
    const fetchData = withRetry(withCircuitBreaker(rateLimited(dependency, { limiter, key: (id) => id }), breaker), {
      maxRetries: 10,
      baseDelay: 1,
      jitter: 'none',
      clock,
    });
    let settled = false;
    const result = fetchData('acme').finally(() => (settled = true));
    for (let i = 0; i < 100 && !settled; i++) await clock.advance(100);
    expect(await result).toBe('data for acme');
    // t=0 fails; the limiter defers the retry to t=1000, which fails and opens the circuit for 3 s;
    // retry waits the circuit's retryAfterMs and the trial at t=4000 succeeds.
    expect(callTimes).toEqual([0, 1_000, 4_000]);
    expect(breaker.stats()).toMatchObject({ failures: 2, state: 'closed' });
    healthyFromMs = Infinity;
  });
});
