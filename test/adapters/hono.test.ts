/** Hono specifics: web runtimes (no Node server, injected connection info), typed c.get('rateLimit'), onError. */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { getConnInfo } from '@hono/node-server/conninfo';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ConfigError, RateLimitExceededError, memoryStore, tokenBucket, type RateLimitInfo } from '../../src/index.js';
import { rateLimit, rateLimitErrorHandler, type RateLimitEnv } from '../../adapters/hono/index.js';

const bucket = (burst: number) => tokenBucket({ rate: burst, per: '1h', burst, store: memoryStore({ sweepInterval: 0 }) });

describe('hono adapter', () => {
  it('runs on a web runtime: app.fetch with an injected connection-info function', async () => {
    const app = new Hono<RateLimitEnv>();
    app.use('*', rateLimit({ limiter: bucket(1), getConnInfo: (c) => ({ remote: { address: c.req.header('x-test-peer') } }) }));
    app.get('/', (c) => {
      const info: RateLimitInfo | undefined = c.get('rateLimit');
      return c.json({ key: info?.key });
    });
    const fetchAs = (peer: string) => app.fetch(new Request('http://edge.test/', { headers: { 'x-test-peer': peer } }));
    const first = await fetchAs('198.51.100.7');
    expect(await first.json()).toEqual({ key: '198.51.100.7' });
    expect((await fetchAs('198.51.100.7')).status).toBe(429);
    expect((await fetchAs('198.51.100.8')).status).toBe(200);
  });

  it('on Node, the default and @hono/node-server getConnInfo give the socket address', async () => {
    const app = new Hono<RateLimitEnv>();
    app.get('/default', rateLimit({ limiter: bucket(5) }), (c) => c.json({ key: c.get('rateLimit')?.key }));
    app.get('/explicit', rateLimit({ limiter: bucket(5), getConnInfo }), (c) => c.json({ key: c.get('rateLimit')?.key }));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      for (const path of ['/default', '/explicit']) {
        const reply = await fetch(`http://127.0.0.1:${port}${path}`);
        expect(await reply.json()).toEqual({ key: '127.0.0.1' });
      }
    } finally {
      server.close();
    }
  });

  it('a guard mounted with a wildcard is global; on a route it is namespaced by the route', async () => {
    const limiter = bucket(2);
    const app = new Hono();
    const peer = { getConnInfo: () => ({ remote: { address: '192.0.2.1' } }) };
    app.use('/api/*', rateLimit({ limiter, ...peer }));
    app.get('/api/login', rateLimit({ limiter, ...peer }), (c) => c.text('ok'));
    app.get('/api/items', (c) => c.text('ok'));
    const get = (path: string) => app.fetch(new Request(`http://x${path}`));
    // /api/login is counted by the global guard and, apart, by its own.
    expect((await get('/api/login')).status).toBe(200);
    expect((await get('/api/login')).status).toBe(200);
    expect((await get('/api/items')).status).toBe(429);
  });

  it('rateLimitErrorHandler maps sluice errors and keeps Hono behaviour for the rest', async () => {
    const app = new Hono();
    app.onError(rateLimitErrorHandler());
    app.get('/limited', () => {
      throw new RateLimitExceededError({ key: 'k', limit: 3, remaining: 0, retryAfterMs: 4000, policy: 'p' });
    });
    app.get('/http', () => {
      throw new HTTPException(401, { message: 'who?' });
    });
    app.get('/boom', () => {
      throw new Error('boom');
    });
    const limited = await app.fetch(new Request('http://x/limited'));
    expect([limited.status, limited.headers.get('retry-after'), limited.headers.get('ratelimit')]).toEqual([429, '4', '"p";r=0;t=4']);
    expect((await app.fetch(new Request('http://x/http'))).status).toBe(401);
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (error: unknown) => errors.push(error);
    try {
      expect((await app.fetch(new Request('http://x/boom'))).status).toBe(500);
    } finally {
      console.error = original;
    }
    expect(errors).toHaveLength(1);
    const custom = new Hono();
    custom.onError(rateLimitErrorHandler({ fallback: (_error, c) => c.text('mine', 502) }));
    custom.get('/', () => {
      throw new Error('x');
    });
    expect((await custom.fetch(new Request('http://x/'))).status).toBe(502);
  });

  it('bad options throw ConfigError when the middleware is built', () => {
    expect(() => rateLimit({ limiter: bucket(1), headers: 'x' as never })).toThrow(ConfigError);
    expect(() => rateLimitErrorHandler({ headers: 1 } as never)).toThrow(ConfigError);
  });
});
