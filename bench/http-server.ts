/**
 * HTTP servers for the http group: a framework's hello world, bare or behind a limiter.
 * argv: <framework> <limiter:mode>... (limiter: bare|sluice|peer, mode: allow|deny), one server per spec, each on
 * its own port. A full run gives each server a process of its own; a quick run puts a framework's servers in one.
 * Tells the parent the ports ({ 'peer:allow': port, ... }), then answers { type: 'cpu' } with its CPU time so far.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

import type { Framework, LimiterKind } from './http.js';

const WINDOW_MS = 3_600_000;
const BODY = 'hello world';

/** allow: a limit no run reaches; deny: one request per hour, so every request after the first is refused. */
const limitFor = (mode: string) => (mode === 'deny' ? 1 : 1e9);

/** sluice's limiter: a fixed window like the peers' (all four count requests in fixed windows), on the memory store. */
async function sluiceLimiter(limit: number) {
  const { sluice } = await import('./lib/sluice.js');
  return sluice.fixedWindow({ limit, window: WINDOW_MS, store: sluice.memoryStore() });
}

async function express(limiter: LimiterKind, limit: number): Promise<Server> {
  const { default: createApp } = await import('express');
  const app = createApp();
  if (limiter === 'peer') {
    const { rateLimit } = await import('express-rate-limit');
    app.use(rateLimit({ windowMs: WINDOW_MS, limit }));
  } else if (limiter === 'sluice') {
    const { rateLimit } = await (await import('./lib/sluice.js')).adapter('express');
    app.use(rateLimit({ limiter: await sluiceLimiter(limit) }));
  }
  app.get('/', (_req, res) => {
    res.send(BODY);
  });
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function fastify(limiter: LimiterKind, limit: number): Promise<Server> {
  const { default: createApp } = await import('fastify');
  const app = createApp();
  if (limiter === 'peer') {
    const { default: fastifyRateLimit } = await import('@fastify/rate-limit');
    await app.register(fastifyRateLimit, { max: limit, timeWindow: WINDOW_MS });
  } else if (limiter === 'sluice') {
    const { default: sluicePlugin } = await (await import('./lib/sluice.js')).adapter('fastify');
    await app.register(sluicePlugin, { limiter: await sluiceLimiter(limit) });
  }
  app.get('/', async () => BODY);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app.server;
}

async function koa(limiter: LimiterKind, limit: number): Promise<Server> {
  const { default: Koa } = await import('koa');
  const app = new Koa();
  if (limiter === 'peer') {
    const { default: ratelimit } = await import('koa-ratelimit');
    app.use(ratelimit({ driver: 'memory', db: new Map(), duration: WINDOW_MS, max: limit, id: (ctx) => ctx.ip }));
  } else if (limiter === 'sluice') {
    const { rateLimit } = await (await import('./lib/sluice.js')).adapter('koa');
    app.use(rateLimit({ limiter: await sluiceLimiter(limit) }));
  }
  app.use((ctx) => {
    ctx.body = BODY;
  });
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function hono(limiter: LimiterKind, limit: number): Promise<Server> {
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  const { getConnInfo } = await import('@hono/node-server/conninfo');
  const app = new Hono();
  if (limiter === 'peer') {
    const { rateLimiter } = await import('hono-rate-limiter');
    app.use(rateLimiter({ windowMs: WINDOW_MS, limit, keyGenerator: (c) => getConnInfo(c).remote.address ?? '' }));
  } else if (limiter === 'sluice') {
    const { rateLimit } = await (await import('./lib/sluice.js')).adapter('hono');
    app.use(rateLimit({ limiter: await sluiceLimiter(limit), getConnInfo }));
  }
  app.get('/', (c) => c.text(BODY));
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(server as Server));
  });
}

const builders: Record<Framework, (limiter: LimiterKind, limit: number) => Promise<Server>> = { express, fastify, koa, hono };

const [framework, ...specs] = process.argv.slice(2) as [Framework, ...string[]];
const servers: Server[] = [];
const ports: Record<string, number> = {};
for (const spec of specs) {
  const [limiter, mode] = spec.split(':') as [LimiterKind, string];
  const server = await builders[framework](limiter, limitFor(mode));
  servers.push(server);
  ports[spec] = (server.address() as AddressInfo).port;
}

process.on('message', (message: { id: number; type: string }) => {
  if (message.type === 'cpu') {
    const cpu = process.cpuUsage();
    process.send!({ id: message.id, result: (cpu.user + cpu.system) * 1000 });
  } else if (message.type === 'close') {
    process.send!({ id: message.id, result: null });
    for (const server of servers) server.closeAllConnections?.();
    Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))).then(() => process.exit(0));
  }
});
// The parent is gone (finished, killed or timed out): stop serving.
process.on('disconnect', () => process.exit(0));
process.send!({ id: 0, result: ports });
