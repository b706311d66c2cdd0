/**
 * sluice for Koa: `rateLimit()` as app middleware or per route with @koa/router, `ctx.state.rateLimit` for the
 * handler, and `rateLimitErrorHandler()`, a middleware that maps errors thrown downstream to 429 / 503.
 */
import type { Context, Middleware, Next } from 'koa';
import {
  checkErrorMappingOptions,
  createGuard,
  errorResponsePlan,
  joinHeaderValue,
  metricsEndpoint,
  type ErrorMappingOptions,
  type MetricsRegistry,
  type GuardResult,
  type RateLimitOptions,
  type RequestFacts,
  type ResponsePlan,
} from '../../src/index.js';

export type { RateLimitInfo, RateLimitOptions } from '../../src/index.js';
export type KoaRateLimitOptions = RateLimitOptions<Context>;

export type RateLimitMiddleware = Middleware & {
  /** Forgets a key's counters and block (the key as the key function gives it, e.g. the client IP). */
  resetKey(key: string): Promise<void>;
};

class KoaFacts implements RequestFacts {
  constructor(private readonly ctx: Context) {}
  get method(): string {
    return this.ctx.method;
  }
  get path(): string {
    return this.ctx.path;
  }
  get socketAddress(): string | undefined {
    return this.ctx.req.socket.remoteAddress;
  }
  header(name: string): string | undefined {
    const value = this.ctx.req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  /** @koa/router sets the matched layer's path; app-level middleware sees none. */
  get routeId(): string | undefined {
    const matched = (this.ctx as { _matchedRoute?: unknown })._matchedRoute;
    return typeof matched === 'string' ? matched : undefined;
  }
  frameworkIp(): string | undefined {
    return this.ctx.ip;
  }
}

/** `join`: another guard may have set rate-limit headers already (its lists are kept, see joinHeaderValue). */
function setHeaders(ctx: Context, headers: Record<string, string>, join: boolean): void {
  const res = ctx.res;
  if (join) for (const name in headers) res.setHeader(name, joinHeaderValue(res.getHeader(name), headers[name]!));
  else for (const name in headers) res.setHeader(name, headers[name]!);
}

function send(ctx: Context, plan: ResponsePlan, join = true): void {
  ctx.status = plan.status;
  setHeaders(ctx, plan.headers, join);
  ctx.body = plan.body ?? '';
}

function apply(result: GuardResult, ctx: Context, next: Next): Promise<unknown> | undefined {
  const join = ctx.state.rateLimit !== undefined;
  if (result.info !== undefined) ctx.state.rateLimit = result.info;
  if (result.plan !== undefined) {
    send(ctx, result.plan, join);
    return undefined;
  }
  if (result.headers !== undefined) setHeaders(ctx, result.headers, join);
  const onResponse = result.onResponse;
  if (onResponse !== undefined) {
    const res = ctx.res;
    res.once('close', () => onResponse(res.writableFinished ? res.statusCode : 0));
  }
  return next();
}

export function rateLimit(options: KoaRateLimitOptions): RateLimitMiddleware {
  const guard = createGuard(options);
  const middleware = (ctx: Context, next: Next): Promise<unknown> => {
    try {
      const result = guard.evaluate(new KoaFacts(ctx), ctx);
      if (result instanceof Promise) return result.then((resolved) => apply(resolved, ctx, next));
      return Promise.resolve(apply(result, ctx, next));
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return Object.assign(middleware, { resetKey: (key: string) => guard.resetKey(key) });
}

/** Put it first: RateLimitExceededError -> 429, CircuitOpenError -> 503; anything else is rethrown. */
export function rateLimitErrorHandler(options?: ErrorMappingOptions): Middleware {
  const mapping = checkErrorMappingOptions(options);
  return async function sluiceErrorHandler(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (error) {
      const plan = ctx.headerSent ? undefined : errorResponsePlan(error, mapping);
      if (plan === undefined) throw error;
      send(ctx, plan);
    }
  };
}

/** A Prometheus scrape route: `router.get('/metrics', metricsRoute())` (the default registry, or the one given). */
export function metricsRoute(registry?: MetricsRegistry): Middleware {
  const respond = metricsEndpoint(registry);
  return function sluiceMetrics(ctx: Context): void {
    send(ctx, respond(ctx.method), false);
  };
}
