/** Conformance driver: a real Hono app served by @hono/node-server. */
import { Hono, type Context } from 'hono';
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import { rateLimit, rateLimitErrorHandler, type RateLimitEnv } from '../../../adapters/hono/index.js';
import { delayOf, errorFor, handlerBody, listening, statusOf, type AppSpec, type Driver } from './driver.js';

export const honoDriver: Driver = {
  name: 'hono',
  header: (name) => (c: Context) => c.req.header(name),
  async start(spec: AppSpec) {
    const app = new Hono<RateLimitEnv>();
    if (spec.errorMapping !== false) app.onError(rateLimitErrorHandler());
    else app.onError((error, c) => c.json({ error: error.message }, 500));
    if (spec.global) app.use('*', rateLimit(spec.global as never));
    for (const route of spec.routes) {
      const handler = async (c: Context<RateLimitEnv>) => {
        if (route.respond && 'throws' in route.respond) throw errorFor(route.respond.throws);
        await delayOf(route.respond);
        return c.body(handlerBody(c.get('rateLimit')), statusOf(route.respond) as 200, { 'Content-Type': 'application/json' });
      };
      const method = route.method === 'POST' ? 'post' : 'get';
      if (route.limit) app[method](route.path, rateLimit(route.limit as never), handler);
      else app[method](route.path, handler);
    }
    return listening(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server);
  },
};
