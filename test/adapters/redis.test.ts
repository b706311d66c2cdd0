/**
 * The HTTP layer over a real redis-server: four apps (one per framework), each with its own client and store,
 * share one limit and one penalty box, as several processes behind a load balancer would.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisStore, slidingWindow, tokenBucket, type Duration, type Limiter, type RedisStore } from '../../src/index.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { drivers, type RunningApp } from './drivers/index.js';

let server: RedisServer;
let stores: RedisStore[] = [];
let apps: RunningApp[] = [];
let testCounter = 0;

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  await Promise.all(apps.map((app) => app.close()));
  for (const store of stores) await store.close?.();
  apps = [];
  stores = [];
});

/** One store (and client) per app, like one per process. */
function storeForApp(options: { timeout?: Duration } = {}): RedisStore {
  const store = redisStore({ client: server.client(), ...options });
  stores.push(store);
  return store;
}

/** Starts the four framework apps with a global limit built per app by `limiter`. */
async function fourApps(limiter: () => Limiter, extra: object = {}): Promise<RunningApp[]> {
  const started = await Promise.all(drivers.map((driver) => driver.start({ global: { limiter: limiter(), ...extra }, routes: [{ path: '/' }] })));
  apps.push(...started);
  return started;
}

describe('HTTP over Redis', () => {
  it('100 parallel requests spread over four frameworks against one limit of 10 admit exactly 10', async () => {
    const name = `shared-${process.pid}-${testCounter++}`;
    const running = await fourApps(() => slidingWindow({ limit: 10, window: '1h', precision: 'exact', name, store: storeForApp() }));
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => fetch(`${running[i % 4]!.url}/`)));
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(90);
    const refused = replies.find((reply) => reply.status === 429)!;
    expect(refused.headers.get('ratelimit-policy')).toBe(`"${name}";q=10;w=3600`);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('a penalty-box block set through one framework refuses on the others', async () => {
    const name = `blocked-${process.pid}-${testCounter++}`;
    const [express, fastify, koa, hono] = await fourApps(
      () => tokenBucket({ rate: 2, per: '1s', name, store: storeForApp() }),
      { blockFor: '1h' },
    );
    expect((await fetch(`${express!.url}/`)).status).toBe(200);
    expect((await fetch(`${express!.url}/`)).status).toBe(200);
    const refused = await fetch(`${express!.url}/`);
    expect([refused.status, refused.headers.get('retry-after')]).toEqual([429, '3600']);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the bucket refills; the block holds
    for (const app of [fastify!, koa!, hono!]) {
      const reply = await fetch(`${app.url}/`);
      expect(reply.status).toBe(429);
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(3500);
    }
  });

  it('Redis not answering: open by default, 503 with failMode closed, and the server keeps serving', async () => {
    const name = `paused-${process.pid}-${testCounter++}`;
    const errors: unknown[] = [];
    const [open] = await fourApps(() => tokenBucket({ rate: 100, per: '1s', name, store: storeForApp({ timeout: '100ms' }) }), {
      onError: (error: unknown) => errors.push(error),
    });
    const closedApp = await drivers[0]!.start({
      global: { limiter: tokenBucket({ rate: 100, per: '1s', name, store: storeForApp({ timeout: '100ms' }) }), failMode: 'closed', onError: () => undefined },
      routes: [{ path: '/' }],
    });
    apps.push(closedApp);
    expect((await fetch(`${open!.url}/`)).status).toBe(200);
    server.pause();
    try {
      const admitted = await fetch(`${open!.url}/`);
      expect(admitted.status).toBe(200);
      expect(admitted.headers.get('ratelimit')).toBeNull();
      const refused = await fetch(`${closedApp.url}/`);
      expect([refused.status, refused.headers.get('retry-after')]).toEqual([503, '1']);
    } finally {
      server.resume();
    }
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${open!.url}/`)).status).toBe(200);
  });
});
