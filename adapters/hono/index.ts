/**
 * sluice for Hono, on Node (@hono/node-server) and on web runtimes: the client address comes from a
 * connection-info function (`getConnInfo` from the runtime's adapter; the default reads @hono/node-server's
 * bindings). `c.get('rateLimit')` is typed through `RateLimitVariables`; `rateLimitErrorHandler()` is for
 * `app.onError`.
 */
import type { Context, ErrorHandler, MiddlewareHandler } from 'hono';
import type { ConnInfo } from 'hono/conninfo';
import { matchedRoutes } from 'hono/route';
import {
  checkErrorMappingOptions,
  createGuard,
  errorResponsePlan,
  isPolicyList,
  metricsEndpoint,
  type ErrorMappingOptions,
  type MetricsRegistry,
  type GuardResult,
  type RateLimitInfo,
  type RateLimitOptions,
  type RequestFacts,
  type ResponsePlan,
} from '../../src/index.js';

export type { RateLimitInfo, RateLimitOptions } from '../../src/index.js';

export type RateLimitVariables = { rateLimit: RateLimitInfo | undefined };
export type RateLimitEnv = { Variables: RateLimitVariables };

export interface HonoRateLimitOptions extends RateLimitOptions<Context> {
  /** The runtime's connection info (hono/bun, hono/deno, hono/cloudflare-workers, @hono/node-server/conninfo). */
  getConnInfo?: (c: Context) => ConnInfo;
}

export type RateLimitMiddleware = MiddlewareHandler<RateLimitEnv> & {
  /** Forgets a key's counters and block (the key as the key function gives it, e.g. the client IP). */
  resetKey(key: string): Promise<void>;
};

/** What @hono/node-server's getConnInfo reads, without importing it (so web runtimes need no Node package). */
function nodeConnInfo(c: Context): ConnInfo {
  const env = c.env as { server?: { incoming?: NodeIncoming }; incoming?: NodeIncoming } | undefined;
  const incoming = env?.server?.incoming ?? env?.incoming;
  return { remote: { address: incoming?.socket?.remoteAddress } };
}
type NodeIncoming = { socket?: { remoteAddress?: string } };

class HonoFacts implements RequestFacts {
  constructor(
    private readonly c: Context,
    private readonly connInfo: (c: Context) => ConnInfo,
  ) {}
  get method(): string {
    return this.c.req.method;
  }
  get path(): string {
    return this.c.req.path;
  }
  get socketAddress(): string | undefined {
    return this.connInfo(this.c).remote.address;
  }
  header(name: string): string | undefined {
    return this.c.req.header(name);
  }
  /** A handler on a concrete route; middleware mounted with a wildcard (app.use('*')) counts as global. */
  get routeId(): string | undefined {
    const route = matchedRoutes(this.c)[this.c.req.routeIndex];
    if (route === undefined || (route.method === 'ALL' && route.path.includes('*'))) return undefined;
    return route.path;
  }
}

/** Appended values read back joined with ", " (Headers semantics), as joinHeaderValue joins them elsewhere. */
function setHeaders(c: Context, headers: Record<string, string>): void {
  for (const name in headers) c.header(name, headers[name], { append: isPolicyList(headers[name]!) });
}

function send(c: Context, plan: ResponsePlan): Response {
  setHeaders(c, plan.headers);
  return c.body(plan.body ?? '', plan.status as 429);
}

async function apply(result: GuardResult, c: Context, next: () => Promise<void>): Promise<Response | void> {
  if (result.info !== undefined) c.set('rateLimit', result.info);
  if (result.plan !== undefined) return send(c, result.plan);
  if (result.headers !== undefined) setHeaders(c, result.headers);
  const onResponse = result.onResponse;
  if (onResponse === undefined) return next();
  try {
    await next();
  } catch (error) {
    onResponse(500);
    throw error;
  }
  onResponse(c.res.status);
}

export function rateLimit(options: HonoRateLimitOptions): RateLimitMiddleware {
  const { getConnInfo = nodeConnInfo, ...guardOptions } = options ?? ({} as HonoRateLimitOptions);
  if (typeof getConnInfo !== 'function') throw new TypeError('getConnInfo must be a function');
  const guard = createGuard(guardOptions as RateLimitOptions<Context>);
  const middleware = async (c: Context, next: () => Promise<void>): Promise<Response | void> => {
    const result = guard.evaluate(new HonoFacts(c, getConnInfo), c);
    return apply(result instanceof Promise ? await result : result, c, next);
  };
  return Object.assign(middleware, { resetKey: (key: string) => guard.resetKey(key) }) as RateLimitMiddleware;
}

export interface HonoErrorMappingOptions extends ErrorMappingOptions {
  /** Handles every other error (default: Hono's own behaviour: an HTTPException's response, otherwise a 500). */
  fallback?: ErrorHandler;
}

/** For `app.onError(...)`: RateLimitExceededError -> 429, CircuitOpenError -> 503, others to `fallback`. */
export function rateLimitErrorHandler(options?: HonoErrorMappingOptions): ErrorHandler {
  const { fallback, ...rest } = options ?? {};
  const mapping = checkErrorMappingOptions(rest);
  return (error, c) => {
    const plan = errorResponsePlan(error, mapping);
    if (plan !== undefined) return send(c, plan);
    if (fallback) return fallback(error, c);
    if ('getResponse' in error && typeof error.getResponse === 'function') return error.getResponse() as Response;
    console.error(error);
    return c.text('Internal Server Error', 500);
  };
}

/** A Prometheus scrape route: `app.get('/metrics', metricsRoute())` (the default registry, or the one given). */
export function metricsRoute(registry?: MetricsRegistry): (c: Context) => Response {
  const respond = metricsEndpoint(registry);
  return (c) => send(c, respond(c.req.method));
}
