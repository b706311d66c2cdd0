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
  joinHeaderValue,
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

type NodeIncoming = { socket?: { remoteAddress?: string }; headers?: Record<string, string | string[] | undefined> };
type NodeOutgoing = {
  headersSent: boolean;
  getHeader(name: string): unknown;
  setHeader(name: string, value: string): void;
  removeHeader(name: string): void;
};
type NodeBindings = { incoming?: NodeIncoming; outgoing?: NodeOutgoing };

/** @hono/node-server's bindings (what its getConnInfo reads), found without importing it. */
function nodeBindings(c: Context): NodeBindings | undefined {
  const env = c.env as (NodeBindings & { server?: NodeBindings }) | undefined;
  return env?.server ?? env;
}

function nodeConnInfo(c: Context): ConnInfo {
  return { remote: { address: nodeBindings(c)?.incoming?.socket?.remoteAddress } };
}

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
  // On Node, the request's own header object: c.req.header() would build a web Request just to read it.
  header(name: string): string | undefined {
    const headers = nodeBindings(this.c)?.incoming?.headers;
    if (headers === undefined) return this.c.req.header(name);
    const value = headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  /** A handler on a concrete route; middleware mounted with a wildcard (app.use('*')) counts as global. */
  get routeId(): string | undefined {
    const route = matchedRoutes(this.c)[this.c.req.routeIndex];
    if (route === undefined || (route.method === 'ALL' && route.path.includes('*'))) return undefined;
    return route.path;
  }
}

/**
 * Appended values read back joined with ", " (Headers semantics), as joinHeaderValue joins them elsewhere. A list an
 * earlier guard put on the Node response (setPassHeaders) moves into the joined value, so the two do not collide.
 */
function setHeaders(c: Context, headers: Record<string, string>): void {
  const outgoing = nodeBindings(c)?.outgoing;
  for (const name in headers) {
    const earlier = outgoing?.headersSent === false ? outgoing.getHeader(name) : undefined;
    if (earlier !== undefined) outgoing!.removeHeader(name);
    c.header(name, joinHeaderValue(earlier, headers[name]!), { append: isPolicyList(headers[name]!) });
  }
}

/**
 * The rate-limit headers of an admitted request. On Node they go straight to the ServerResponse, whose writeHead
 * merges them with the handler's Response: a Hono Headers object per request costs more than the limit itself.
 * (Not for our own responses: their Content-Type would lose to the Response's default.)
 */
function setPassHeaders(c: Context, headers: Record<string, string>): void {
  const outgoing = nodeBindings(c)?.outgoing;
  if (outgoing === undefined || outgoing.headersSent) return setHeaders(c, headers);
  for (const name in headers) outgoing.setHeader(name, joinHeaderValue(outgoing.getHeader(name), headers[name]!));
}

function send(c: Context, plan: ResponsePlan): Response {
  setHeaders(c, plan.headers);
  return c.body(plan.body ?? '', plan.status as 429);
}

async function apply(result: GuardResult, c: Context, next: () => Promise<void>): Promise<Response | void> {
  if (result.info !== undefined) c.set('rateLimit', result.info);
  if (result.plan !== undefined) return send(c, result.plan);
  if (result.headers !== undefined) setPassHeaders(c, result.headers);
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
