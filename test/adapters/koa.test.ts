/** Koa specifics: @koa/router per route, ctx.state.rateLimit, the middleware handle. */
import Koa, { type Context } from 'koa';
import Router from '@koa/router';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { CircuitOpenError, ConfigError, memoryStore, tokenBucket } from '../../src/index.js';
import { rateLimit, rateLimitErrorHandler } from '../../adapters/koa/index.js';

const bucket = (burst: number) => tokenBucket({ rate: burst, per: '1h', burst, store: memoryStore({ sweepInterval: 0 }) });

describe('koa adapter', () => {
  it('one guard on two @koa/router routes counts each route apart, and exposes ctx.state.rateLimit', async () => {
    const guard = rateLimit({ limiter: bucket(1) });
    const router = new Router();
    router.get('/a', guard, (ctx: Context) => (ctx.body = ctx.state.rateLimit));
    router.get('/b/:id', guard, (ctx: Context) => (ctx.body = ctx.state.rateLimit));
    const app = new Koa().use(router.routes());
    const server = app.callback();
    expect((await request(server).get('/a').expect(200)).body).toMatchObject({ key: '127.0.0.1', remaining: 0 });
    await request(server).get('/b/1').expect(200);
    await request(server).get('/a').expect(429);
    await request(server).get('/b/2').expect(429);
    await guard.resetKey('127.0.0.1');
    await request(server).get('/a').expect(200);
  });

  it('rateLimitErrorHandler maps errors thrown downstream and rethrows others', async () => {
    const errors: string[] = [];
    const app = new Koa();
    app.silent = true;
    app.on('error', (error: Error) => errors.push(error.message));
    app.use(rateLimitErrorHandler());
    app.use((ctx) => {
      if (ctx.path === '/open') throw new CircuitOpenError(1500);
      throw new Error('boom');
    });
    const open = await request(app.callback()).get('/open').expect(503);
    expect(open.headers['retry-after']).toBe('2');
    await request(app.callback()).get('/other').expect(500);
    expect(errors).toEqual(['boom']);
  });

  it("trustProxy: 'framework' keys by Koa's own ctx.ip (app.proxy)", async () => {
    const app = new Koa();
    app.proxy = true;
    app.use(rateLimit({ limiter: bucket(5), trustProxy: 'framework' }));
    app.use((ctx) => (ctx.body = ctx.state.rateLimit));
    const reply = await request(app.callback()).get('/').set('X-Forwarded-For', '203.0.113.7').expect(200);
    expect(reply.body.key).toBe('203.0.113.7');
  });

  it('bad options throw ConfigError when the middleware is built', () => {
    expect(() => rateLimit({ limiter: bucket(1), include: [] })).toThrow(ConfigError);
    expect(() => rateLimitErrorHandler({ colour: 'red' } as never)).toThrow(ConfigError);
  });
});
