/** Conformance driver: a real Koa app with @koa/router for per-route guards. */
import Koa, { type Context } from 'koa';
import Router from '@koa/router';
import { rateLimit, rateLimitErrorHandler } from '../../../adapters/koa/index.js';
import { delayOf, errorFor, handlerBody, listening, statusOf, type AppSpec, type Driver } from './driver.js';

export const koaDriver: Driver = {
  name: 'koa',
  header: (name) => (ctx: Context) => ctx.get(name) || undefined,
  async start(spec: AppSpec) {
    const app = new Koa();
    app.silent = true;
    if (spec.errorMapping !== false) app.use(rateLimitErrorHandler());
    if (spec.global) app.use(rateLimit(spec.global as never));
    const router = new Router();
    for (const route of spec.routes) {
      const handler = async (ctx: Context) => {
        if (route.respond && 'throws' in route.respond) throw errorFor(route.respond.throws);
        await delayOf(route.respond);
        ctx.status = statusOf(route.respond);
        ctx.type = 'application/json';
        ctx.body = handlerBody(ctx.state.rateLimit);
      };
      const method = route.method === 'POST' ? 'post' : 'get';
      if (route.limit) router[method](route.path, rateLimit(route.limit as never), handler);
      else router[method](route.path, handler);
    }
    app.use(router.routes());
    return listening(app.listen(0, '127.0.0.1'));
  },
};
