/**
 * The HTTP guard's metrics and logs on every framework, scraped end to end: a scripted run of requests against a
 * real server, then a GET of the framework's own metrics route, parsed back and checked value by value.
 */
import { afterEach, describe, expect, it } from 'vitest';
import express, { type NextFunction, type Request, type Response } from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import Router from '@koa/router';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import * as expressAdapter from '../../adapters/express/index.js';
import fastifyPlugin, * as fastifyAdapter from '../../adapters/fastify/index.js';
import * as honoAdapter from '../../adapters/hono/index.js';
import * as koaAdapter from '../../adapters/koa/index.js';
import {
  PROMETHEUS_CONTENT_TYPE,
  defaultRegistry,
  memoryStore,
  metricsRegistry,
  tokenBucket,
  type LogFields,
  type MetricsRegistry,
  type RateLimitOptions,
} from '../../src/index.js';
import { configErrorField } from '../support/config-error.js';
import { failingStore } from '../support/failing-store.js';
import { listening, type RunningApp } from '../adapters/drivers/driver.js';
import { parsers, sampleValue } from '../support/prometheus-text.js';

type Routes = Record<string, RateLimitOptions<any> | undefined>;

interface Framework {
  name: string;
  start(routes: Routes, registry: MetricsRegistry): Promise<RunningApp>;
}

const ok = { ok: true };

const frameworks: Framework[] = [
  {
    name: 'express',
    async start(routes, registry) {
      const app = express();
      app.get('/metrics', expressAdapter.metricsRoute(registry));
      for (const [path, options] of Object.entries(routes)) {
        app.get(path, ...(options ? [expressAdapter.rateLimit(options)] : []), (_req: Request, res: Response) => void res.json(ok));
      }
      app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => void res.status(500).json({ error: error.message }));
      return listening(app.listen(0, '127.0.0.1'));
    },
  },
  {
    name: 'fastify',
    async start(routes, registry) {
      const app = Fastify();
      await app.register(fastifyPlugin, { global: false });
      app.get('/metrics', fastifyAdapter.metricsRoute(registry));
      for (const [path, options] of Object.entries(routes)) {
        app.route({ method: 'GET', url: path, config: options ? { rateLimit: options } : {}, handler: async () => ok });
      }
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      return { url: address.replace('localhost', '127.0.0.1'), close: () => app.close() };
    },
  },
  {
    name: 'koa',
    async start(routes, registry) {
      const app = new Koa();
      app.silent = true;
      const router = new Router();
      router.get('/metrics', koaAdapter.metricsRoute(registry));
      for (const [path, options] of Object.entries(routes)) {
        router.get(path, ...(options ? [koaAdapter.rateLimit(options)] : []), (ctx) => void (ctx.body = ok));
      }
      app.use(router.routes());
      return listening(app.listen(0, '127.0.0.1'));
    },
  },
  {
    name: 'hono',
    async start(routes, registry) {
      const app = new Hono();
      app.onError((error, c) => c.json({ error: error.message }, 500));
      app.get('/metrics', honoAdapter.metricsRoute(registry));
      for (const [path, options] of Object.entries(routes)) {
        if (options) app.get(path, honoAdapter.rateLimit(options), (c) => c.json(ok));
        else app.get(path, (c) => c.json(ok));
      }
      return listening(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server);
    },
  },
];

function recordingLogger() {
  const lines: { level: string; fields: LogFields; message: string }[] = [];
  const at = (level: string) => (fields: LogFields, message: string) => lines.push({ level, fields, message });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe.each(frameworks)('HTTP metrics on $name', (framework) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('counts requests by route pattern and outcome, and serves them on its metrics route', async () => {
    const registry = metricsRegistry();
    const { lines, logger } = recordingLogger();
    const store = memoryStore({ sweepInterval: 0 });
    const common = { metrics: registry, logger, onError: () => {} };
    const bucket = (name: string, burst: number) => tokenBucket({ name, rate: burst, per: '1h', burst, store, metrics: registry });
    app = await framework.start(
      {
        '/items/:id': { limiter: bucket('items', 2), ...common },
        '/skip/:id': { limiter: bucket('skipped', 1), skip: () => true, ...common },
        '/down': { limiter: tokenBucket({ name: 'down', rate: 1, store: failingStore(true), metrics: registry }), failMode: 'closed', ...common },
        '/flaky': { limiter: tokenBucket({ name: 'flaky', rate: 1, store: failingStore(true), metrics: registry }), failMode: 'open', ...common },
        '/shadow': { limiter: bucket('shadow', 1), shadow: true, ...common },
        '/broken': {
          limiter: bucket('broken', 1),
          key: () => {
            throw new Error('no key');
          },
          ...common,
        },
        '/plain': undefined,
      },
      registry,
    );
    const statuses: Record<string, number> = {};
    for (const path of ['/items/1', '/items/2', '/items/3', '/skip/1', '/down', '/flaky', '/shadow', '/shadow', '/broken', '/plain']) {
      const response = await fetch(app.url + path);
      await response.arrayBuffer();
      statuses[path] = response.status; // the last of repeated paths
    }
    expect(statuses).toEqual({
      '/items/1': 200,
      '/items/2': 200,
      '/items/3': 429,
      '/skip/1': 200,
      '/down': 503,
      '/flaky': 200,
      '/shadow': 200,
      '/broken': 500,
      '/plain': 200,
    });

    const scrape = await fetch(`${app.url}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    const text = await scrape.text();
    for (const parser of parsers) {
      const parsed = parser.parse(text);
      const requests = (route: string, outcome: string) => sampleValue(parsed, 'sluice_http_requests_total', { route, outcome });
      expect(requests('/items/:id', 'allowed')).toBe(2);
      expect(requests('/items/:id', 'limited')).toBe(1);
      expect(requests('/skip/:id', 'skipped')).toBe(1);
      expect(requests('/down', 'failed_closed')).toBe(1);
      expect(requests('/flaky', 'failed_open')).toBe(1);
      expect(requests('/shadow', 'allowed')).toBe(1);
      expect(requests('/shadow', 'shadow_limited')).toBe(1);
      expect(requests('/broken', 'error')).toBe(1);
      const total = parsed.samples.filter((sample) => sample.name === 'sluice_http_requests_total').reduce((sum, sample) => sum + sample.value, 0);
      expect(total).toBe(9); // /plain has no guard
      // The limiters behind the guard, in the same scrape.
      expect(sampleValue(parsed, 'sluice_limiter_decisions_total', { limiter: 'items', policy: 'items', outcome: 'rejected' })).toBe(1);
      expect(sampleValue(parsed, 'sluice_limiter_store_errors_total', { limiter: 'down', store: 'failing' })).toBe(1);
      // Raw paths and client addresses never become labels.
      const labelValues = parsed.samples.flatMap((sample) => Object.values(sample.labels));
      expect(labelValues.some((value) => /^\/items\/\d|127\.0\.0\.1/.test(value))).toBe(false);
    }

    const limited = lines.filter((line) => line.fields.event === 'http.limited');
    expect(limited).toHaveLength(1);
    expect(limited[0]).toMatchObject({
      level: 'debug',
      fields: {
        component: 'http',
        method: 'GET',
        path: '/items/3',
        route: '/items/:id',
        key: expect.stringMatching(/127\.0\.0\.1/),
        policy: 'items',
        cost: 1,
        limit: 2,
        remaining: 0,
        retryAfterMs: expect.any(Number),
        status: 429,
      },
    });
    expect(lines.filter((line) => line.fields.event === 'http.shadow_limited')).toHaveLength(1);
    expect(lines.filter((line) => line.fields.event === 'http.failed_closed')).toMatchObject([{ fields: { path: '/down', status: 503 } }]);

    const head = await fetch(`${app.url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('records nothing with metrics: false', async () => {
    const registry = metricsRegistry();
    const limiter = tokenBucket({ name: 'quiet', rate: 5, store: memoryStore({ sweepInterval: 0 }), metrics: false });
    app = await framework.start({ '/quiet': { limiter, metrics: false } }, registry);
    expect((await fetch(`${app.url}/quiet`)).status).toBe(200);
    expect(await (await fetch(`${app.url}/metrics`)).text()).toBe('');
    expect(defaultRegistry.value('sluice_http_requests_total', { route: '/quiet', outcome: 'allowed' })).toBeUndefined();
  });

  it('records into the default registry when not told otherwise', async () => {
    const limiter = tokenBucket({ name: `default-${framework.name}`, rate: 5, store: memoryStore({ sweepInterval: 0 }), metrics: false });
    app = await framework.start({ [`/default-${framework.name}`]: { limiter } }, metricsRegistry());
    expect((await fetch(`${app.url}/default-${framework.name}`)).status).toBe(200);
    expect(defaultRegistry.value('sluice_http_requests_total', { route: `/default-${framework.name}`, outcome: 'allowed' })).toBe(1);
  });
});

describe('HTTP metrics options', () => {
  it('reject bad values with ConfigError', () => {
    const limiter = tokenBucket({ rate: 1, metrics: false });
    expect(configErrorField(() => expressAdapter.rateLimit({ limiter, metrics: 'on' as never }))).toBe('metrics');
    expect(configErrorField(() => expressAdapter.rateLimit({ limiter, logger: { info() {} } as never }))).toBe('logger');
    expect(configErrorField(() => expressAdapter.metricsRoute({} as never))).toBe('registry');
    expect(configErrorField(() => fastifyAdapter.metricsRoute('default' as never))).toBe('registry');
    expect(configErrorField(() => koaAdapter.metricsRoute({} as never))).toBe('registry');
    expect(configErrorField(() => honoAdapter.metricsRoute({} as never))).toBe('registry');
  });
});
