import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  circuitBreaker,
  isCircuitOpenError,
  isRateLimitExceededError,
  isTimeoutError,
  memoryStore,
  rateLimitedFetch,
  tokenBucket,
  type FetchFunction,
  type RateLimitedFetchOptions,
} from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { failOnUnhandledRejections } from '../support/unhandled.js';

failOnUnhandledRejections();

const START_MS = Date.UTC(2025, 0, 1, 12, 0, 0);

interface Arrival {
  account: string;
  path: string;
  atMs: number;
  status: number;
  /** For a 429: the pause the server asked for. */
  pauseMs?: number;
}

interface PartnerOptions {
  /** Requests per account per fixed window. */
  limit: number;
  windowMs: number;
  retryAfter: 'seconds' | 'date';
}

/** A partner API on 127.0.0.1 with a fixed-window limit per account (header x-account), on the shared fake clock. */
async function startPartner(clock: FakeClock, options: PartnerOptions) {
  const arrivals: Arrival[] = [];
  const counts = new Map<string, number>();
  let unavailableLeft = 0;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const account = String(req.headers['x-account'] ?? 'anonymous');
    const path = req.url ?? '/';
    const atMs = clock.now();
    const log = (status: number, pauseMs?: number) => arrivals.push({ account, path, atMs, status, pauseMs });
    if (path === '/hang') {
      log(0);
      return; // never answers
    }
    if (path === '/fail') {
      log(500);
      res.writeHead(500).end('partner bug');
      return;
    }
    if (path === '/unavailable' && unavailableLeft > 0) {
      unavailableLeft--;
      log(503, 1_000);
      res.writeHead(503, { 'Retry-After': '1' }).end('maintenance');
      return;
    }
    const windowId = Math.floor(atMs / options.windowMs);
    const countKey = `${account}:${windowId}`;
    const used = counts.get(countKey) ?? 0;
    if (used >= options.limit) {
      const windowEndMs = (windowId + 1) * options.windowMs;
      const seconds = Math.max(1, Math.ceil((windowEndMs - atMs) / 1000));
      const header = options.retryAfter === 'seconds' ? String(seconds) : new Date(windowEndMs).toUTCString();
      log(429, options.retryAfter === 'seconds' ? seconds * 1000 : windowEndMs - atMs);
      res.writeHead(429, { 'Retry-After': header }).end('slow down');
      return;
    }
    counts.set(countKey, used + 1);
    log(200);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ account, path }));
  };
  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  servers.push(server);
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    failNextWith503: (times: number) => (unavailableLeft = times),
  };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** The global fetch, counting requests in flight so the driver moves fake time only between them. */
function countingFetch() {
  let inFlight = 0;
  const fetch: FetchFunction = async (input, init) => {
    inFlight++;
    try {
      return await globalThis.fetch(input, init);
    } finally {
      inFlight--;
    }
  };
  return { fetch, inFlight: () => inFlight };
}

/** Settles `promise`, advancing the fake clock by `stepMs` whenever no request is on the wire. */
async function drive<T>(clock: FakeClock, inFlight: () => number, promise: Promise<T>, stepMs = 1): Promise<T> {
  let done = false;
  const watched = promise.finally(() => (done = true));
  watched.catch(() => {});
  const realDeadline = Date.now() + 15_000;
  while (!done) {
    if (Date.now() > realDeadline) throw new Error('drive: gave up after 15 s of real time');
    if (inFlight() === 0) await clock.advance(stepMs);
    else await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return watched;
}

function setupClient(clock: FakeClock, limiterOptions: { rate: number; per: string; burst: number }, extra: Partial<RateLimitedFetchOptions> = {}) {
  const counting = countingFetch();
  const limiter = tokenBucket({ ...limiterOptions, per: limiterOptions.per as '1s', clock, store: memoryStore({ sweepInterval: 0 }) });
  const client = rateLimitedFetch({
    fetch: counting.fetch,
    limiter,
    key: (request) => request.headers.get('x-account') ?? 'anonymous',
    clock,
    ...extra,
  });
  return { client, inFlight: counting.inFlight, limiter };
}

const byAccount = (arrivals: Arrival[], account: string) => arrivals.filter((a) => a.account === account);

describe('rateLimitedFetch against a real partner server', () => {
  it('configured within the partner limit, it never exceeds it per account (no 429 at all)', async () => {
    const clock = new FakeClock(START_MS);
    const partner = await startPartner(clock, { limit: 5, windowMs: 1_000, retryAfter: 'seconds' });
    // burst + rate × window <= 5 keeps any 1 s window at 5 or fewer, whatever the alignment.
    const { client, inFlight } = setupClient(clock, { rate: 4, per: '1s', burst: 1 });
    const accounts = ['alice', 'bob', 'carol'];
    const calls = accounts.flatMap((account) =>
      Array.from({ length: 12 }, (_, i) => client(`${partner.url}/orders?page=${i}`, { headers: { 'x-account': account } })),
    );
    const responses = await drive(clock, inFlight, Promise.all(calls));
    expect(responses.map((r) => r.status)).toEqual(Array(36).fill(200));
    expect(partner.arrivals.filter((a) => a.status === 429)).toEqual([]);
    for (const account of accounts) {
      const times = byAccount(partner.arrivals, account).map((a) => a.atMs);
      expect(times).toHaveLength(12);
      for (const startMs of times) expect(times.filter((t) => t >= startMs && t < startMs + 1_000).length).toBeLessThanOrEqual(5);
    }
  });

  for (const retryAfter of ['seconds', 'date'] as const) {
    it(`honours 429 Retry-After (${retryAfter}) per account: no request during the pause, and every call recovers`, async () => {
      const clock = new FakeClock(START_MS);
      const partner = await startPartner(clock, { limit: 3, windowMs: 2_000, retryAfter });
      // The client believes in a bigger budget than the partner grants: the partner's 429s must rule.
      const { client, inFlight } = setupClient(clock, { rate: 10, per: '1s', burst: 10 }, { retry: { maxRetries: 5 } });
      const accounts = ['alice', 'bob'];
      // Staggered, so that later calls are issued while the account is paused.
      const calls = accounts.flatMap((account) =>
        Array.from({ length: 8 }, (_, i) =>
          clock.sleep(i * 150).then(() => client(`${partner.url}/orders`, { headers: { 'x-account': account } })),
        ),
      );
      const responses = await drive(clock, inFlight, Promise.all(calls));
      expect(responses.map((r) => r.status)).toEqual(Array(16).fill(200));
      expect(await Promise.all(responses.map((r) => r.json()))).toContainEqual({ account: 'bob', path: '/orders' });
      for (const account of accounts) {
        const arrivals = byAccount(partner.arrivals, account);
        const throttles = arrivals.filter((a) => a.status === 429);
        expect(throttles.length).toBeGreaterThan(0);
        for (const throttle of throttles) {
          // Requests already on the wire may land with the 429 (same instant, or the next 1 ms step); none after.
          const during = arrivals.filter((a) => a.atMs > throttle.atMs + 1 && a.atMs < throttle.atMs + throttle.pauseMs!);
          expect(during).toEqual([]);
        }
        // The partner's own limit held: at most 3 admitted per 2 s window.
        const admitted = arrivals.filter((a) => a.status === 200).map((a) => Math.floor(a.atMs / 2_000));
        for (const windowId of new Set(admitted)) expect(admitted.filter((w) => w === windowId).length).toBeLessThanOrEqual(3);
      }
      expect(clock.now() - START_MS).toBeLessThan(10_000);
    });
  }

  it('reports and resets per account: retryAfterSeconds, status, reset', async () => {
    const clock = new FakeClock(START_MS);
    const partner = await startPartner(clock, { limit: 1, windowMs: 3_000, retryAfter: 'seconds' });
    const { client, inFlight } = setupClient(clock, { rate: 10, per: '1s', burst: 10 }, { retry: false, timeout: '1s' });
    const alice = { headers: { 'x-account': 'alice' } };
    expect((await drive(clock, inFlight, client(`${partner.url}/orders`, alice))).status).toBe(200);
    const throttled = await drive(clock, inFlight, client(`${partner.url}/orders`, alice));
    expect(throttled.status).toBe(429); // retry: false hands the 429 back, as fetch would
    expect(throttled.headers.get('retry-after')).toBe('3');
    expect(await client.retryAfterSeconds('alice')).toBe(3);
    expect(await client.retryAfterSeconds('bob')).toBe(0);
    expect(await client.status('alice')).toMatchObject({
      id: 'alice',
      limit: 10,
      retryAfterSeconds: 3,
      pausedUntilMs: partner.arrivals[1]!.atMs + 3_000, // the 429 arrived (and was read) at that fake time
      requests: 2,
      throttled: 1,
      lastStatus: 429,
      circuit: undefined,
    });
    // The pause (3 s) is longer than the client's timeout (1 s): refused at once, the partner never sees it.
    const before = partner.arrivals.length;
    const refused = await client(`${partner.url}/orders`, alice).catch((e: unknown) => e);
    expect(isRateLimitExceededError(refused)).toBe(true);
    expect(refused).toMatchObject({ key: 'alice', retryAfterMs: partner.arrivals[1]!.atMs + 3_000 - clock.now() });
    expect(partner.arrivals.length).toBe(before);
    await client.reset('alice');
    expect(await client.status('alice')).toMatchObject({ retryAfterSeconds: 0, throttled: 0, requests: 0, pausedUntilMs: undefined });
  });

  it('bounds the wait for a token by timeout', async () => {
    const clock = new FakeClock(START_MS);
    const partner = await startPartner(clock, { limit: 100, windowMs: 1_000, retryAfter: 'seconds' });
    const { client, inFlight } = setupClient(clock, { rate: 1, per: '10s', burst: 1 }, { timeout: '2s' });
    const headers = { 'x-account': 'alice' };
    expect((await drive(clock, inFlight, client(`${partner.url}/orders`, { headers }))).status).toBe(200);
    const refused = await client(`${partner.url}/orders`, { headers }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect(refused).toMatchObject({ key: 'alice', retryAfterMs: 10_000 - (clock.now() - START_MS) });
    expect(partner.arrivals).toHaveLength(1);
    expect(await client.retryAfterSeconds('alice')).toBe(10);
  });

  it('retries a 503 after its Retry-After; hands back a 500 unretried', async () => {
    const clock = new FakeClock(START_MS);
    const partner = await startPartner(clock, { limit: 100, windowMs: 1_000, retryAfter: 'seconds' });
    const { client, inFlight } = setupClient(clock, { rate: 100, per: '1s', burst: 100 });
    partner.failNextWith503(2);
    const recovered = await drive(clock, inFlight, client(`${partner.url}/unavailable`, { headers: { 'x-account': 'a' } }));
    expect(recovered.status).toBe(200);
    expect(partner.arrivals.map((a) => [a.status, a.atMs - START_MS])).toEqual([
      [503, 0],
      [503, 1_000],
      [200, 2_000],
    ]);
    const broken = await drive(clock, inFlight, client(`${partner.url}/fail`, { headers: { 'x-account': 'a' } }));
    expect(broken.status).toBe(500);
    expect(await broken.text()).toBe('partner bug');
    expect(partner.arrivals.filter((a) => a.path === '/fail')).toHaveLength(1);
  });

  it('feeds 5xx to the breaker, which then refuses without calling the partner', async () => {
    const clock = new FakeClock(START_MS);
    const partner = await startPartner(clock, { limit: 100, windowMs: 1_000, retryAfter: 'seconds' });
    const { client, inFlight } = setupClient(clock, { rate: 100, per: '1s', burst: 100 }, {
      breaker: { failureThreshold: 2, resetTimeout: '5s' },
    });
    const headers = { 'x-account': 'a' };
    expect((await drive(clock, inFlight, client(`${partner.url}/fail`, { headers }))).status).toBe(500);
    expect((await drive(clock, inFlight, client(`${partner.url}/fail`, { headers }))).status).toBe(500);
    expect(client.breaker?.state).toBe('open');
    const refused = await client(`${partner.url}/orders`, { headers }).catch((e: unknown) => e);
    expect(isCircuitOpenError(refused)).toBe(true);
    expect(partner.arrivals).toHaveLength(2);
    expect(await client.status('a')).toMatchObject({ circuit: 'open', requests: 2, lastStatus: 500 }); // the refused one was not sent
    clock.set(clock.now() + 5_000);
    expect((await drive(clock, inFlight, client(`${partner.url}/orders`, { headers }))).status).toBe(200);
    expect(client.breaker?.state).toBe('closed');
  });

  it("aborts a request that exceeds the breaker's timeout and counts it as a failure", async () => {
    const clock = new FakeClock(START_MS);
    const partner = await startPartner(clock, { limit: 100, windowMs: 1_000, retryAfter: 'seconds' });
    const breaker = circuitBreaker({ failureThreshold: 1, timeout: '3s', resetTimeout: '10s', clock });
    const counting = countingFetch();
    const client = rateLimitedFetch({
      fetch: counting.fetch,
      limiter: tokenBucket({ rate: 100, clock, store: memoryStore({ sweepInterval: 0 }) }),
      key: () => 'a',
      breaker,
      clock,
    });
    const pending = client(`${partner.url}/hang`);
    const outcome = pending.catch((e: unknown) => e);
    while (partner.arrivals.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    await clock.advance(3_000); // the breaker's timer fires on the fake clock; the socket is torn down for real
    const error = await outcome;
    expect(error).toBeInstanceOf(Error);
    expect(isTimeoutError(error)).toBe(true);
    expect(breaker.stats()).toMatchObject({ timeouts: 1, failures: 1, state: 'open' });
  });

  it("stops at once when the caller's signal aborts", async () => {
    const clock = new FakeClock(START_MS);
    const partner = await startPartner(clock, { limit: 1, windowMs: 60_000, retryAfter: 'seconds' });
    const { client, inFlight } = setupClient(clock, { rate: 10, per: '1s', burst: 10 }, { timeout: '2m' });
    const headers = { 'x-account': 'a' };
    await drive(clock, inFlight, client(`${partner.url}/orders`, { headers }));
    const controller = new AbortController();
    const outcome = client(`${partner.url}/orders`, { headers, signal: controller.signal }).catch((e: unknown) => e);
    while (partner.arrivals.length < 2) await new Promise((resolve) => setTimeout(resolve, 1)); // got its 429
    await new Promise((resolve) => setTimeout(resolve, 20)); // now waiting out the 60 s pause
    controller.abort(new Error('user left'));
    expect(((await outcome) as Error).message).toBe('user left');
    expect(partner.arrivals).toHaveLength(2);
  });

  it('works with the global fetch when none is given', async () => {
    const clock = new FakeClock(START_MS);
    const partner = await startPartner(clock, { limit: 10, windowMs: 1_000, retryAfter: 'seconds' });
    const client = rateLimitedFetch({ limiter: tokenBucket({ rate: 10, clock, store: memoryStore({ sweepInterval: 0 }) }), key: () => 'x', clock });
    const response = await client(new URL('/orders', partner.url), { method: 'POST', body: 'hello' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ account: 'anonymous', path: '/orders' });
  });
});
