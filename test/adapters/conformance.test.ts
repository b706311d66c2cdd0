/**
 * One conformance suite, run against Express, Fastify, Koa and Hono on real servers (127.0.0.1, port 0): the same
 * requests must give the same statuses, headers and bodies whichever framework serves them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  concurrency,
  fixedWindow,
  memoryStore,
  slidingWindow,
  tokenBucket,
  type Decision,
  type Store,
  type TokenBucketOptions,
} from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { failingStore } from '../support/failing-store.js';
import { drivers, type AppSpec, type Driver, type RunningApp } from './drivers/index.js';

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

async function call(app: RunningApp, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  const response = await fetch(app.url + path, { method, headers });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** A store whose every decision fails: thrown synchronously, rejected, or never answered. */
function brokenStore(how: 'throw' | 'reject' | 'hang'): Store {
  if (how !== 'hang') return failingStore(how === 'reject', 'store is down');
  return { ...failingStore(true), decide: () => new Promise<Decision>(() => undefined) };
}

describe.each(drivers)('conformance: $name', (driver: Driver) => {
  let running: RunningApp[] = [];
  const start = async (spec: AppSpec) => {
    const app = await driver.start(spec);
    running.push(app);
    return app;
  };
  afterEach(async () => {
    await Promise.all(running.map((app) => app.close()));
    running = [];
  });

  /** A token bucket on its own store and a fake clock: `burst` requests, refilling `burst` per minute. */
  const bucket = (burst: number, extra: Partial<TokenBucketOptions> = {}) => {
    const clock = new FakeClock(1_700_000_000_000);
    const limiter = tokenBucket({ rate: burst, per: '1m', burst, name: 'api', store: memoryStore({ sweepInterval: 0 }), clock, ...extra });
    return { clock, limiter };
  };

  describe('headers in every mode', () => {
    const expected: Record<string, { ok: Record<string, string>; refused: Record<string, string> }> = {
      ietf: {
        ok: { 'ratelimit-policy': '"api";q=2;w=60', ratelimit: '"api";r=1;t=30' },
        refused: { 'ratelimit-policy': '"api";q=2;w=60', ratelimit: '"api";r=0;t=30' },
      },
      'draft-8': {
        ok: { 'ratelimit-policy': '"api";q=2;w=60', ratelimit: '"api";r=1;t=30' },
        refused: { 'ratelimit-policy': '"api";q=2;w=60', ratelimit: '"api";r=0;t=60' },
      },
      'draft-7': {
        ok: { 'ratelimit-policy': '2;w=60', ratelimit: 'limit=2, remaining=1, reset=30' },
        refused: { 'ratelimit-policy': '2;w=60', ratelimit: 'limit=2, remaining=0, reset=60' },
      },
      'draft-6': {
        ok: { 'ratelimit-policy': '2;w=60', 'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-reset': '30' },
        refused: { 'ratelimit-policy': '2;w=60', 'ratelimit-limit': '2', 'ratelimit-remaining': '0', 'ratelimit-reset': '60' },
      },
      legacy: {
        ok: { 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': String(1_700_000_000 + 30) },
        refused: { 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(1_700_000_000 + 60) },
      },
    };
    const allNames = ['ratelimit', 'ratelimit-policy', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'];

    it.each(Object.keys(expected))('%s: 200s then a 429 with the right headers and Retry-After', async (mode) => {
      const { clock, limiter } = bucket(2);
      const app = await start({ global: { limiter, headers: mode, clock }, routes: [{ path: '/' }] });
      const first = await call(app, '/');
      expect(first.status).toBe(200);
      for (const [name, value] of Object.entries(expected[mode]!.ok)) expect(first.headers.get(name), name).toBe(value);
      for (const name of allNames.filter((n) => !(n in expected[mode]!.ok))) expect(first.headers.get(name), name).toBeNull();
      expect(first.headers.get('retry-after')).toBeNull();
      expect((await call(app, '/')).status).toBe(200);
      const refused = await call(app, '/');
      expect(refused.status).toBe(429);
      for (const [name, value] of Object.entries(expected[mode]!.refused)) expect(refused.headers.get(name), name).toBe(value);
      expect(refused.headers.get('retry-after')).toBe('30');
    });

    it('false: no rate-limit headers, but Retry-After on the refusal', async () => {
      const { limiter } = bucket(1);
      const app = await start({ global: { limiter, headers: false }, routes: [{ path: '/' }] });
      const ok = await call(app, '/');
      for (const name of allNames) expect(ok.headers.get(name)).toBeNull();
      const refused = await call(app, '/');
      expect(refused.status).toBe(429);
      for (const name of allNames) expect(refused.headers.get(name)).toBeNull();
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    });

    it('Retry-After is whole seconds, rounded up, never 0', async () => {
      // 1000 per second: the wait for the next unit is 1 ms, announced as 1 second.
      const limiter = tokenBucket({ rate: 1000, per: '1s', burst: 1, store: memoryStore({ sweepInterval: 0 }), clock: new FakeClock(5) });
      const app = await start({ global: { limiter }, routes: [{ path: '/' }] });
      await call(app, '/');
      const refused = await call(app, '/');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
    });
  });

  it('refusals are RFC 9457 problem details', async () => {
    const { limiter } = bucket(1);
    const app = await start({ global: { limiter }, routes: [{ path: '/' }] });
    await call(app, '/');
    const refused = await call(app, '/');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.json).toEqual({
      type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
      title: 'Too Many Requests',
      status: 429,
      detail: 'Rate limit exceeded: retry in 60 seconds.',
      'violated-policies': ['api'],
      'retry-after': 60,
    });
  });

  it('message (string, object, function) and onLimited override the body', async () => {
    const text = bucket(1).limiter;
    const object = bucket(1).limiter;
    const fn = bucket(1).limiter;
    const custom = bucket(1).limiter;
    const app = await start({
      routes: [
        { path: '/text', limit: { limiter: text, message: 'slow down' } },
        { path: '/object', limit: { limiter: object, message: { error: 'slow down' } } },
        { path: '/fn', limit: { limiter: fn, message: async (_request: unknown, info: { key: string }) => ({ key: info.key }) } },
        {
          path: '/custom',
          limit: { limiter: custom, onLimited: () => ({ status: 503, headers: { 'X-Custom': 'yes' }, body: 'custom' }) },
        },
      ],
    });
    for (const path of ['/text', '/object', '/fn', '/custom']) await call(app, path);
    const asText = await call(app, '/text');
    expect([asText.status, asText.text, asText.headers.get('content-type')]).toEqual([429, 'slow down', 'text/plain; charset=utf-8']);
    const asObject = await call(app, '/object');
    expect([asObject.status, asObject.json]).toEqual([429, { error: 'slow down' }]);
    expect(asObject.headers.get('content-type')).toMatch(/^application\/json/);
    const asFunction = await call(app, '/fn');
    expect([asFunction.status, asFunction.json]).toEqual([429, { key: '127.0.0.1' }]);
    const asCustom = await call(app, '/custom');
    expect([asCustom.status, asCustom.text, asCustom.headers.get('x-custom')]).toEqual([503, 'custom', 'yes']);
    expect(asCustom.headers.get('retry-after')).toBe('60');
  });

  it('per-route and global counters are independent, even with one limiter object', async () => {
    const { limiter } = bucket(4);
    const app = await start({
      global: { limiter },
      routes: [{ path: '/strict', limit: { limiter } }, { path: '/other' }],
    });
    // Each /strict request is counted once globally and once for the route: 4 fit, not 2.
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call(app, '/strict')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    expect((await call(app, '/other')).status).toBe(429);
  });

  it('a route limit is stricter than the global one and exposes its own info', async () => {
    const global = bucket(10).limiter;
    const strict = tokenBucket({ rate: 2, per: '1m', name: 'login', store: memoryStore({ sweepInterval: 0 }), clock: new FakeClock(1) });
    const app = await start({ global: { limiter: global }, routes: [{ path: '/login', method: 'POST', limit: { limiter: strict } }, { path: '/' }] });
    expect((await call(app, '/login', {}, 'POST')).json.rateLimit).toMatchObject({ limit: 2, remaining: 1 });
    expect((await call(app, '/login', {}, 'POST')).status).toBe(200);
    const refused = await call(app, '/login', {}, 'POST');
    expect(refused.status).toBe(429);
    expect(refused.json['violated-policies']).toEqual(['login']);
    // Both guards' policies are listed: the global one first, then the route's.
    expect(refused.headers.get('ratelimit-policy')).toBe('"api";q=10;w=60, "login";q=2;w=60');
    expect(refused.headers.get('ratelimit')).toBe('"api";r=7;t=18, "login";r=0;t=30');
    const home = await call(app, '/');
    expect(home.status).toBe(200);
    expect(home.json.rateLimit).toMatchObject({ key: '127.0.0.1', limit: 10, remaining: 6 });
  });

  it('guards given the same scope share counters', async () => {
    const { limiter } = bucket(3);
    const app = await start({
      routes: [
        { path: '/a', limit: { limiter, scope: 'pair' } },
        { path: '/b', limit: { limiter, scope: 'pair' } },
        { path: '/c', limit: { limiter } },
      ],
    });
    const statuses = [];
    for (const path of ['/a', '/b', '/a', '/b']) statuses.push((await call(app, path)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await call(app, '/c')).status).toBe(200);
  });

  it('skip lets requests through uncounted', async () => {
    const { limiter } = bucket(1);
    const skipHeader = driver.header('x-skip');
    const app = await start({ global: { limiter, skip: (request: unknown) => skipHeader(request) === 'yes' }, routes: [{ path: '/' }] });
    for (let i = 0; i < 3; i++) {
      const skipped = await call(app, '/', { 'x-skip': 'yes' });
      expect(skipped.status).toBe(200);
      expect(skipped.headers.get('ratelimit')).toBeNull();
      expect(skipped.json.rateLimit).toBeNull();
    }
    expect((await call(app, '/')).status).toBe(200);
    expect((await call(app, '/')).status).toBe(429);
  });

  it('allowlist: keys, IPs and CIDRs are never limited', async () => {
    const account = driver.header('x-account');
    const byKey = bucket(1).limiter;
    const byIp = bucket(1).limiter;
    const byCidr = bucket(1).limiter;
    const app = await start({
      routes: [
        { path: '/key', limit: { limiter: byKey, key: account, allowlist: ['vip'] } },
        { path: '/ip', limit: { limiter: byIp, allowlist: ['127.0.0.1'] } },
        { path: '/cidr', limit: { limiter: byCidr, allowlist: ['10.0.0.0/8', '127.0.0.0/8'] } },
      ],
    });
    for (let i = 0; i < 3; i++) {
      expect((await call(app, '/key', { 'x-account': 'vip' })).status).toBe(200);
      expect((await call(app, '/ip')).status).toBe(200);
      expect((await call(app, '/cidr')).status).toBe(200);
    }
    expect((await call(app, '/key', { 'x-account': 'regular' })).status).toBe(200);
    expect((await call(app, '/key', { 'x-account': 'regular' })).status).toBe(429);
  });

  it('include and exclude choose the limited paths', async () => {
    const { limiter } = bucket(1);
    const app = await start({
      global: { limiter, include: ['/api/*'], exclude: [/\/health$/] },
      routes: [{ path: '/api/items' }, { path: '/api/health' }, { path: '/public' }],
    });
    for (let i = 0; i < 3; i++) {
      expect((await call(app, '/public')).status).toBe(200);
      expect((await call(app, '/api/health')).status).toBe(200);
    }
    expect((await call(app, '/api/items?page=2')).status).toBe(200);
    expect((await call(app, '/api/items')).status).toBe(429);
  });

  it('custom and async key functions separate clients', async () => {
    const account = driver.header('x-account');
    const sync = bucket(1).limiter;
    const async = bucket(1).limiter;
    const app = await start({
      routes: [
        { path: '/sync', limit: { limiter: sync, key: account } },
        { path: '/async', limit: { limiter: async, key: async (request: unknown) => `acct-${account(request)}` } },
        { path: '/header', limit: { limiter: bucket(1).limiter, key: { header: 'x-api-key' } } },
      ],
    });
    for (const path of ['/sync', '/async']) {
      const first = await call(app, path, { 'x-account': 'a' });
      expect(first.status).toBe(200);
      expect(first.json.rateLimit.key).toBe(path === '/sync' ? 'a' : 'acct-a');
      expect((await call(app, path, { 'x-account': 'a' })).status).toBe(429);
      expect((await call(app, path, { 'x-account': 'b' })).status).toBe(200);
    }
    expect((await call(app, '/header', { 'x-api-key': 'k1' })).json.rateLimit.key).toBe('x-api-key:k1');
    expect((await call(app, '/header', { 'x-api-key': 'k2' })).status).toBe(200);
    // Without the header the client IP is the key.
    expect((await call(app, '/header')).json.rateLimit.key).toBe('127.0.0.1');
    expect((await call(app, '/header', { 'x-api-key': 'k1' })).status).toBe(429);
  });

  it('maps RateLimitExceededError to 429 and CircuitOpenError to 503 from handlers; other errors pass on', async () => {
    const app = await start({
      routes: [
        { path: '/limited', respond: { throws: 'rate-limit' } },
        { path: '/circuit', respond: { throws: 'circuit' } },
        { path: '/other', respond: { throws: 'other' } },
      ],
    });
    const limited = await call(app, '/limited');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(limited.headers.get('ratelimit')).toBe('"upstream";r=0;t=3');
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(limited.json).toMatchObject({ status: 429, 'violated-policies': ['upstream'], 'retry-after': 3 });
    const circuit = await call(app, '/circuit');
    expect(circuit.status).toBe(503);
    expect(circuit.headers.get('retry-after')).toBe('5');
    expect(circuit.json).toMatchObject({
      type: 'https://iana.org/assignments/http-problem-types#temporary-reduced-capacity',
      status: 503,
      'retry-after': 5,
    });
    expect((await call(app, '/other')).status).toBe(500);
  });

  describe('failMode with a store that fails', () => {
    for (const how of ['throw', 'reject', 'hang'] as const) {
      it(`store that ${how}s: open admits, closed answers 503 with Retry-After`, async () => {
        const errors: unknown[] = [];
        const limiter = tokenBucket({ rate: 1, per: '1m', store: brokenStore(how) });
        const app = await start({
          routes: [
            { path: '/open', limit: { limiter, failMode: 'open', timeout: 50, onError: (error: unknown) => errors.push(error) } },
            { path: '/closed', limit: { limiter, failMode: 'closed', timeout: 50, onError: (error: unknown) => errors.push(error) } },
          ],
        });
        for (let i = 0; i < 3; i++) {
          const open = await call(app, '/open');
          expect(open.status).toBe(200);
          expect(open.headers.get('ratelimit')).toBeNull();
        }
        const closed = await call(app, '/closed');
        expect(closed.status).toBe(503);
        expect(closed.headers.get('retry-after')).toBe('1');
        expect(closed.json.type).toBe('https://iana.org/assignments/http-problem-types#temporary-reduced-capacity');
        expect(errors.length).toBe(4);
      });
    }

    it('a limiter that throws never crashes the server', async () => {
      const throwing = {
        name: 'bad',
        policies: bucket(1).limiter.policies,
        decide: () => {
          throw new Error('bug');
        },
        refund: async () => undefined,
        reset: async () => undefined,
      };
      const app = await start({
        routes: [
          { path: '/open', limit: { limiter: throwing, onError: () => undefined } },
          { path: '/closed', limit: { limiter: throwing, failMode: 'closed', onError: () => undefined } },
        ],
      });
      expect((await call(app, '/open')).status).toBe(200);
      expect((await call(app, '/closed')).status).toBe(503);
      expect((await call(app, '/open')).status).toBe(200);
    });
  });

  it('shadow mode decides and sets headers but never refuses', async () => {
    const exceeded: string[] = [];
    const { limiter } = bucket(1);
    const app = await start({ global: { limiter, shadow: true, onExceeded: (_r: unknown, info: { key: string }) => exceeded.push(info.key) }, routes: [{ path: '/' }] });
    const first = await call(app, '/');
    const second = await call(app, '/');
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.headers.get('ratelimit')).toBe('"api";r=0;t=60');
    expect(second.headers.get('retry-after')).toBeNull();
    expect(second.json.rateLimit.allowed).toBe(false);
    expect(exceeded).toEqual(['127.0.0.1']);
  });

  it('skipFailedRequests counts only successes; skipSuccessfulRequests only failures', async () => {
    const onlySuccesses = bucket(2).limiter;
    const onlyFailures = bucket(2).limiter;
    const app = await start({
      routes: [
        { path: '/ok-free', limit: { limiter: onlyFailures, skipSuccessfulRequests: true } },
        { path: '/bad-free', limit: { limiter: onlySuccesses, skipFailedRequests: true }, respond: { status: 401 } },
        { path: '/bad-counted', limit: { limiter: onlyFailures, skipSuccessfulRequests: true }, respond: { status: 401 } },
      ],
    });
    // Successes are refunded once the response is known: many pass.
    for (let i = 0; i < 5; i++) expect((await call(app, '/ok-free')).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await call(app, '/bad-free')).status).toBe(401);
    // Failures count: two 401s, then 429.
    expect((await call(app, '/bad-counted')).status).toBe(401);
    expect((await call(app, '/bad-counted')).status).toBe(401);
    // The refund happens when the response closes; give it a turn before the next request.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await call(app, '/bad-counted')).status).toBe(429);
  });

  it('blockFor refuses a key that exceeded for the whole block, then lets it back', async () => {
    const { clock, limiter } = bucket(2);
    const app = await start({ global: { limiter, blockFor: '5m', clock }, routes: [{ path: '/' }] });
    await call(app, '/');
    await call(app, '/');
    const refused = await call(app, '/');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('300');
    expect(refused.json.detail).toBe('Too many requests: blocked for 300 seconds.');
    await clock.advance(120_000); // the bucket is full again, the block holds
    const blocked = await call(app, '/');
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('180');
    expect(blocked.headers.get('ratelimit')).toBe('"api";r=0;t=180');
    await clock.advance(180_000);
    expect((await call(app, '/')).status).toBe(200);
  });

  it('a dynamic limiter is chosen per request (by plan tier)', async () => {
    const plan = driver.header('x-plan');
    const free = tokenBucket({ rate: 1, per: '1m', name: 'free', store: memoryStore({ sweepInterval: 0 }), clock: new FakeClock(1) });
    const pro = tokenBucket({ rate: 3, per: '1m', name: 'pro', store: memoryStore({ sweepInterval: 0 }), clock: new FakeClock(1) });
    const account = driver.header('x-account');
    const app = await start({
      global: { limiter: async (request: unknown) => (plan(request) === 'pro' ? pro : free), key: account },
      routes: [{ path: '/' }],
    });
    const proStatuses = [];
    for (let i = 0; i < 4; i++) proStatuses.push((await call(app, '/', { 'x-plan': 'pro', 'x-account': 'p' })).status);
    expect(proStatuses).toEqual([200, 200, 200, 429]);
    const freeStatuses = [];
    for (let i = 0; i < 2; i++) freeStatuses.push((await call(app, '/', { 'x-account': 'f' })).status);
    expect(freeStatuses).toEqual([200, 429]);
    expect((await call(app, '/', { 'x-account': 'f' })).headers.get('ratelimit-policy')).toBe('"free";q=1;w=60');
  });

  it('several limiters: all must admit, and a refusal takes nothing from the others', async () => {
    const perMinute = tokenBucket({ rate: 3, per: '1m', name: 'minute', store: memoryStore({ sweepInterval: 0 }), clock: new FakeClock(1) });
    const perHour = tokenBucket({ rate: 5, per: '1h', name: 'hour', store: memoryStore({ sweepInterval: 0 }), clock: new FakeClock(1) });
    const app = await start({ global: { limiter: [perMinute, perHour] }, routes: [{ path: '/' }] });
    const first = await call(app, '/');
    expect(first.headers.get('ratelimit-policy')).toBe('"minute";q=3;w=60, "hour";q=5;w=3600');
    expect(first.headers.get('ratelimit')).toBe('"minute";r=2;t=20, "hour";r=4;t=720');
    await call(app, '/');
    await call(app, '/');
    const refused = await call(app, '/');
    expect(refused.status).toBe(429);
    expect(refused.json['violated-policies']).toEqual(['minute']);
    expect((await perHour.stats('127.0.0.1')).available).toBe(2);
  });

  it('100 parallel requests against a limit of 10 admit exactly 10', async () => {
    const limiter = tokenBucket({ rate: 10, per: '1h', store: memoryStore({ sweepInterval: 0 }) });
    const app = await start({ global: { limiter }, routes: [{ path: '/' }] });
    const replies = await Promise.all(Array.from({ length: 100 }, () => call(app, '/')));
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 200).length).toBe(10);
    expect(statuses.filter((status) => status === 429).length).toBe(90);
  });

  it('a concurrency limit holds a slot per request in flight and frees it when the response ends', async () => {
    const slots = concurrency({ max: 2, name: 'slots', store: memoryStore({ sweepInterval: 0 }) });
    const app = await start({ routes: [{ path: '/slow', limit: { limiter: slots }, respond: { delayMs: 300 } }, { path: '/fast', limit: { limiter: slots } }] });
    const inFlight = [call(app, '/slow'), call(app, '/slow')];
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await call(app, '/slow');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('ratelimit-policy')).toBe('"slots";q=2;qu="concurrent-requests"');
    expect((await Promise.all(inFlight)).map((reply) => reply.status)).toEqual([200, 200]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Every slot is back: two fast requests in a row on another route are admitted, and /slow again too.
    expect((await call(app, '/slow')).status).toBe(200);
    expect((await call(app, '/fast')).status).toBe(200);
  });

  it('window algorithms: t is the time to the end of the window', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const store = memoryStore({ sweepInterval: 0 });
    const fixed = fixedWindow({ limit: 2, window: '1m', name: 'fixed', store, clock });
    const sliding = slidingWindow({ limit: 2, window: '1m', name: 'sliding', store, clock });
    const app = await start({ routes: [{ path: '/fixed', limit: { limiter: fixed } }, { path: '/sliding', limit: { limiter: sliding } }] });
    // The fixed window starts at the key's first hit.
    expect((await call(app, '/fixed')).headers.get('ratelimit')).toBe('"fixed";r=1;t=60');
    await clock.advance(10_000);
    expect((await call(app, '/fixed')).headers.get('ratelimit')).toBe('"fixed";r=0;t=50');
    const refused = await call(app, '/fixed');
    expect([refused.status, refused.headers.get('retry-after'), refused.headers.get('ratelimit')]).toEqual([429, '50', '"fixed";r=0;t=50']);
    await call(app, '/sliding');
    await clock.advance(15_000);
    await call(app, '/sliding');
    const slidingRefusal = await call(app, '/sliding');
    // The oldest request leaves the window 45 s from now.
    expect([slidingRefusal.status, slidingRefusal.headers.get('retry-after')]).toEqual([429, '45']);
  });
});
