/** The guard on its own, driven with RequestFacts and a FakeClock (the adapters are covered by the conformance suite). */
import { describe, expect, it, vi } from 'vitest';
import {
  CircuitOpenError,
  RateLimitExceededError,
  createGuard,
  errorResponsePlan,
  memoryStore,
  tokenBucket,
  type Decision,
  type GuardResult,
  type Limiter,
  type RateLimitOptions,
  type RequestFacts,
  type Store,
} from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';

interface FakeRequest {
  headers: Record<string, string>;
}

function facts(overrides: Partial<RequestFacts> = {}, headers: Record<string, string> = {}): RequestFacts {
  return { method: 'GET', path: '/', socketAddress: '127.0.0.1', header: (name) => headers[name], ...overrides };
}

const request = (headers: Record<string, string> = {}): FakeRequest => ({ headers });

function setup(burst = 2, extra: Partial<RateLimitOptions<FakeRequest>> = {}) {
  const clock = new FakeClock(1_000_000);
  const store = memoryStore({ sweepInterval: 0 });
  const limiter = tokenBucket({ rate: burst, per: '1m', burst, name: 'api', store, clock });
  const guard = createGuard<FakeRequest>({ limiter, clock, ...extra });
  return { clock, store, limiter, guard };
}

const sync = (result: GuardResult | Promise<GuardResult>): GuardResult => {
  expect(result).not.toBeInstanceOf(Promise);
  return result as GuardResult;
};

describe('guard', () => {
  it('evaluates synchronously on the memory store: no promise on the hot path', () => {
    const { guard } = setup(1);
    const admitted = sync(guard.evaluate(facts(), request()));
    expect(admitted.plan).toBeUndefined();
    expect(admitted.info).toMatchObject({ key: '127.0.0.1', allowed: true, remaining: 0, limit: 1, cost: 1, blocked: false });
    expect(admitted.headers).toEqual({ 'RateLimit-Policy': '"api";q=1;w=60', RateLimit: '"api";r=0;t=60' });
    const refused = sync(guard.evaluate(facts(), request()));
    expect(refused.plan?.status).toBe(429);
  });

  it('goes asynchronous only where an option is: an async key', async () => {
    const { guard } = setup(1, { key: async (req) => req.headers['x-user'] });
    const pending = guard.evaluate(facts(), request({ 'x-user': 'u1' }));
    expect(pending).toBeInstanceOf(Promise);
    expect((await pending).info?.key).toBe('u1');
  });

  it('charges the cost (number or function) and refuses what does not fit', async () => {
    const { guard } = setup(5, { cost: (req) => Number(req.headers.cost) });
    expect(sync(guard.evaluate(facts(), request({ cost: '3' }))).info?.remaining).toBe(2);
    expect(sync(guard.evaluate(facts(), request({ cost: '3' }))).plan?.status).toBe(429);
    expect(sync(guard.evaluate(facts(), request({ cost: '2' }))).info?.remaining).toBe(0);
    expect(() => guard.evaluate(facts(), request({ cost: 'lots' }))).toThrow(TypeError);
  });

  it('a cost that can never fit gets a finite Retry-After', () => {
    const { guard } = setup(2, { cost: 5 });
    const refused = sync(guard.evaluate(facts(), request()));
    expect(refused.plan?.headers['Retry-After']).toBe('60');
  });

  it('errors of the user callbacks are passed on, not swallowed', async () => {
    const { guard } = setup(1, {
      key: () => {
        throw new Error('no session');
      },
    });
    expect(() => guard.evaluate(facts(), request())).toThrow('no session');
    const asyncGuard = setup(1, { skip: async () => Promise.reject(new Error('skip failed')) }).guard;
    await expect(asyncGuard.evaluate(facts(), request())).rejects.toThrow('skip failed');
  });

  it('onNearLimit fires once when use crosses the threshold; onExceeded on every refusal', () => {
    const near: number[] = [];
    const exceeded: number[] = [];
    const { guard } = setup(10, {
      nearLimitThreshold: 0.7,
      onNearLimit: (_req, info) => near.push(info.remaining),
      onExceeded: (_req, info) => exceeded.push(info.retryAfterMs),
    });
    for (let i = 0; i < 12; i++) guard.evaluate(facts(), request());
    expect(near).toEqual([3]);
    expect(exceeded).toEqual([6000, 6000]);
  });

  it('a hook that throws goes to onError and does not break the request', async () => {
    const errors: unknown[] = [];
    const { guard } = setup(1, {
      onNearLimit: () => {
        throw new Error('hook bug');
      },
      onExceeded: async () => Promise.reject(new Error('async hook bug')),
      onError: (error) => errors.push((error as Error).message),
    });
    expect(sync(guard.evaluate(facts(), request())).plan).toBeUndefined();
    expect(sync(guard.evaluate(facts(), request())).plan?.status).toBe(429);
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual(['hook bug', 'async hook bug']);
  });

  it('without onError, store failures are reported once on the console', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const broken = { ...memoryStore({ sweepInterval: 0 }), synchronous: true } as unknown as Store;
      (broken as { decide: unknown }).decide = () => {
        throw new Error('down');
      };
      const limiter = tokenBucket({ rate: 1, store: broken });
      const guard = createGuard({ limiter });
      for (let i = 0; i < 3; i++) expect(sync(guard.evaluate(facts(), request())).plan).toBeUndefined();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/sluice: rate limiting failed/);
    } finally {
      warn.mockRestore();
    }
  });

  describe('degraded decisions and failMode', () => {
    const brokenStore = (): Store => {
      const store = memoryStore({ sweepInterval: 0 }) as unknown as Store & { decide: Store['decide'] };
      store.decide = () => {
        throw new Error('down');
      };
      return store;
    };
    const degradedLimiter = (failMode: 'open' | 'closed') => tokenBucket({ rate: 1, store: brokenStore(), failMode });

    it('unset: the limiter decides (its failMode closed refuses with 429)', () => {
      const guard = createGuard({ limiter: degradedLimiter('closed'), onError: () => undefined });
      expect(sync(guard.evaluate(facts(), request())).plan?.status).toBe(429);
      const open = createGuard({ limiter: degradedLimiter('open'), onError: () => undefined });
      const admitted = sync(open.evaluate(facts(), request()));
      expect(admitted.plan).toBeUndefined();
      expect(admitted.headers).toBeUndefined();
    });

    it("'open' admits a degraded refusal; 'closed' refuses a degraded admission with 503", () => {
      const open = createGuard({ limiter: degradedLimiter('closed'), failMode: 'open', onError: () => undefined });
      expect(sync(open.evaluate(facts(), request())).plan).toBeUndefined();
      const closed = createGuard({ limiter: degradedLimiter('open'), failMode: 'closed', onError: () => undefined });
      const refused = sync(closed.evaluate(facts(), request()));
      expect(refused.plan?.status).toBe(503);
      expect(refused.plan?.headers['Retry-After']).toBe('1');
    });

    it('onError receives the store failure', () => {
      const errors: unknown[] = [];
      const guard = createGuard({ limiter: degradedLimiter('open'), onError: (error) => errors.push(error) });
      guard.evaluate(facts(), request());
      expect((errors[0] as Error).name).toBe('StoreUnavailableError');
      expect(((errors[0] as Error).cause as Error).message).toBe('down');
    });
  });

  it('several limiters: a refusal refunds the others; a failure of one fails open for it alone', () => {
    const clock = new FakeClock(0);
    const store = memoryStore({ sweepInterval: 0 });
    const wide = tokenBucket({ rate: 10, per: '1m', name: 'wide', store, clock });
    const narrow = tokenBucket({ rate: 1, per: '1m', name: 'narrow', store, clock });
    const guard = createGuard({ limiter: [wide, narrow], clock });
    sync(guard.evaluate(facts(), request()));
    const refused = sync(guard.evaluate(facts(), request()));
    expect(refused.plan?.status).toBe(429);
    expect(JSON.parse(refused.plan!.body!)['violated-policies']).toEqual(['narrow']);
    // The refused request's unit went back to "wide": 9 left, not 8, and the header says so.
    expect(refused.plan?.headers.RateLimit).toMatch(/^"wide";r=9;t=\d+, "narrow";r=0;t=60$/);
    expect(sync(createGuard({ limiter: wide, clock }).evaluate(facts(), request())).info?.remaining).toBe(8);
    // A limiter that throws is skipped (failMode open): the other one still limits.
    const throwing = {
      name: 'bad',
      policies: narrow.policies,
      decide: () => {
        throw new Error('bug');
      },
      refund: async () => undefined,
    } as unknown as Limiter;
    const mixed = createGuard({ limiter: [throwing, tokenBucket({ rate: 1, per: '1m', name: 'ok', store, clock })], clock, onError: () => undefined });
    expect(sync(mixed.evaluate(facts(), request())).info?.policy.name).toBe('ok');
    expect(sync(mixed.evaluate(facts(), request())).plan?.status).toBe(429);
  });

  it('blockFor grows with repeated offences up to max, and forgets them after forgetAfter', () => {
    const { clock, guard } = setup(1, { blockFor: { duration: '1m', growth: 2, max: '3m', forgetAfter: '1h' } });
    const retryAfter = () => sync(guard.evaluate(facts(), request())).plan?.headers['Retry-After'];
    const offend = () => {
      clock.set(clock.now() + 10 * 60_000);
      expect(retryAfter()).toBeUndefined();
      return retryAfter();
    };
    expect(offend()).toBe('60');
    expect(offend()).toBe('120');
    expect(offend()).toBe('180');
    expect(offend()).toBe('180');
    clock.set(clock.now() + 2 * 3_600_000);
    expect(offend()).toBe('60');
  });

  it('blockFor on a shared store: a block set by one process refuses in another', async () => {
    const clock = new FakeClock(5_000);
    const backing = memoryStore({ sweepInterval: 0, clock });
    // Two stores over one backing map, as two processes over one Redis: asynchronous, so the guard must ask.
    const shared = (): Store =>
      new Proxy(backing, { get: (target, name) => (name === 'synchronous' ? false : Reflect.get(target, name, target)) }) as Store;
    const processA = createGuard({ limiter: tokenBucket({ rate: 1, per: '1m', name: 'api', store: shared(), clock }), blockFor: '10m', clock });
    const processB = createGuard({ limiter: tokenBucket({ rate: 1, per: '1m', name: 'api', store: shared(), clock }), blockFor: '10m', clock });
    const otherApp = createGuard({ limiter: tokenBucket({ rate: 1, per: '1m', name: 'other', store: shared(), clock }), blockFor: '10m', clock });
    await processA.evaluate(facts(), request());
    expect((await processA.evaluate(facts(), request())).plan?.headers['Retry-After']).toBe('600');
    await new Promise((resolve) => setImmediate(resolve));
    clock.set(clock.now() + 120_000); // the bucket is full again; only the block refuses
    expect((await otherApp.evaluate(facts(), request())).plan).toBeUndefined();
    const refused = await processB.evaluate(facts(), request());
    expect(refused.plan?.status).toBe(429);
    expect(refused.info?.blocked).toBe(true);
  });

  it('resetKey forgets counters in every namespace the guard served, and the block', async () => {
    const { guard } = setup(1, { blockFor: '1h' });
    const route = facts({ routeId: '/login' });
    guard.evaluate(facts(), request());
    guard.evaluate(route, request());
    expect(sync(guard.evaluate(facts(), request())).plan?.status).toBe(429);
    expect(sync(guard.evaluate(route, request())).plan?.status).toBe(429);
    await guard.resetKey('127.0.0.1');
    expect(sync(guard.evaluate(facts(), request())).plan).toBeUndefined();
    expect(sync(guard.evaluate(route, request())).plan).toBeUndefined();
  });

  it('releases a concurrency slot when the response ends, and refunds by status when asked', () => {
    let inFlight = 0;
    const slots: Limiter = {
      name: 'slots',
      policies: [{ name: 'slots', algorithm: 'concurrency', limit: 1, windowMs: 0 }],
      decide(): Decision {
        const allowed = inFlight < 1;
        if (allowed) inFlight++;
        return { allowed, limit: 1, remaining: 1 - inFlight, resetMs: 0, retryAfterMs: allowed ? 0 : 1000, policy: slots.policies[0]! };
      },
      refund: async () => {
        inFlight--;
      },
      reset: async () => {
        inFlight = 0;
      },
    } as unknown as Limiter;
    const guard = createGuard({ limiter: slots });
    const first = sync(guard.evaluate(facts(), request()));
    expect(sync(guard.evaluate(facts(), request())).plan?.status).toBe(429);
    first.onResponse!(200);
    first.onResponse!(200); // idempotent
    expect(inFlight).toBe(0);
    expect(sync(guard.evaluate(facts(), request())).plan).toBeUndefined();
  });

  it('allowlist matches IPv4-mapped addresses and CIDRs given in either form', () => {
    const { guard } = setup(1, { allowlist: ['::ffff:10.0.0.0/104', '2001:db8::/32'] });
    for (let i = 0; i < 3; i++) {
      expect(sync(guard.evaluate(facts({ socketAddress: '::ffff:10.1.2.3' }), request())).info).toBeUndefined();
      expect(sync(guard.evaluate(facts({ socketAddress: '10.9.9.9' }), request())).info).toBeUndefined();
      expect(sync(guard.evaluate(facts({ socketAddress: '2001:db8::5' }), request())).info).toBeUndefined();
    }
    expect(sync(guard.evaluate(facts({ socketAddress: '11.0.0.1' }), request())).info).toBeDefined();
  });

  it('shadow mode never refuses, not even a blocked key', () => {
    const { guard } = setup(1, { shadow: true, blockFor: '1h' });
    for (let i = 0; i < 4; i++) expect(sync(guard.evaluate(facts(), request())).plan).toBeUndefined();
    const last = sync(guard.evaluate(facts(), request()));
    expect(last.info).toMatchObject({ allowed: false, blocked: true });
    expect(last.headers?.['Retry-After']).toBeUndefined();
  });
});

describe('errorResponsePlan', () => {
  it('RateLimitExceededError -> 429 with headers in the chosen mode', () => {
    const error = new RateLimitExceededError({ key: 'k', limit: 5, remaining: 0, retryAfterMs: 1500, policy: 'upstream' });
    const plan = errorResponsePlan(error, { headers: 'draft-6' })!;
    expect(plan.status).toBe(429);
    expect(plan.headers).toMatchObject({ 'RateLimit-Limit': '5', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '2', 'Retry-After': '2' });
    expect(plan.headers['RateLimit-Policy']).toBeUndefined();
    expect(JSON.parse(plan.body!)).toMatchObject({ status: 429, 'violated-policies': ['upstream'], 'retry-after': 2 });
  });

  it('CircuitOpenError -> 503 with Retry-After; other errors are not handled', () => {
    const plan = errorResponsePlan(new CircuitOpenError(300))!;
    expect([plan.status, plan.headers['Retry-After']]).toEqual([503, '1']);
    expect(errorResponsePlan(new Error('other'))).toBeUndefined();
    expect(errorResponsePlan('a string')).toBeUndefined();
  });

  it('recognises errors by brand, across copies of the library', () => {
    const foreign = Object.assign(new Error('copy'), { [Symbol.for('sluice.error')]: 'CIRCUIT_OPEN', retryAfterMs: 2000 });
    expect(errorResponsePlan(foreign)?.status).toBe(503);
  });
});

describe('guard timeouts', () => {
  it('a penalty-box read that never answers counts as not blocked after the timeout', async () => {
    const errors: unknown[] = [];
    const hanging = memoryStore({ sweepInterval: 0 }) as unknown as Store;
    const asyncStore = new Proxy(hanging, {
      get: (target, name) => {
        if (name === 'synchronous') return false;
        if (name === 'get') return () => new Promise(() => undefined);
        return Reflect.get(target, name, target);
      },
    }) as Store;
    const guard = createGuard({ limiter: tokenBucket({ rate: 5, store: asyncStore }), blockFor: '1m', timeout: 30, onError: (error) => errors.push(error) });
    const result = await guard.evaluate(facts(), request());
    expect(result.plan).toBeUndefined();
    expect(result.info?.remaining).toBe(4);
    expect((errors[0] as Error).name).toBe('StoreUnavailableError');
  });
});
