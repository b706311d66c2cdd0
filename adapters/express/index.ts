/**
 * sluice for Express (5, and 4: the middleware API is the same): `rateLimit()` as global middleware or a
 * per-route guard, `rateLimitErrorHandler()` as error middleware, `req.rateLimit` for the handler.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import {
  checkErrorMappingOptions,
  createGuard,
  errorResponsePlan,
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

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by sluice's rateLimit() for requests it limited. */
      rateLimit?: RateLimitInfo;
    }
  }
}

export type { RateLimitInfo, RateLimitOptions } from '../../src/index.js';
export type ExpressRateLimitOptions = RateLimitOptions<Request>;

export interface RateLimitMiddleware extends RequestHandler {
  /** Forgets a key's counters and block (the key as the key function gives it, e.g. the client IP). */
  resetKey(key: string): Promise<void>;
}

/** Reads an Express request as neutral facts; getters so unused facts cost nothing. */
class ExpressFacts implements RequestFacts {
  constructor(private readonly req: Request) {}
  get method(): string {
    return this.req.method;
  }
  get path(): string {
    const url = this.req.originalUrl ?? this.req.url;
    const query = url.indexOf('?');
    return query === -1 ? url : url.slice(0, query);
  }
  get socketAddress(): string | undefined {
    return this.req.socket.remoteAddress;
  }
  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  /** Set only inside a route (app.get(path, rateLimit(), handler)): global middleware sees no route. */
  get routeId(): string | undefined {
    const route = (this.req as { route?: { path?: unknown } }).route;
    return route && typeof route.path === 'string' ? this.req.baseUrl + route.path : undefined;
  }
  frameworkIp(): string | undefined {
    return this.req.ip;
  }
}

/** `join`: another guard may have set rate-limit headers already (its lists are kept, see joinHeaderValue). */
function setHeaders(res: Response, headers: Record<string, string>, join: boolean): void {
  if (join) for (const name in headers) res.setHeader(name, joinHeaderValue(res.getHeader(name), headers[name]!));
  else for (const name in headers) res.setHeader(name, headers[name]!);
}

function send(res: Response, plan: ResponsePlan, join = true): void {
  res.statusCode = plan.status;
  setHeaders(res, plan.headers, join);
  res.end(plan.body);
}

function apply(result: GuardResult, req: Request, res: Response, next: NextFunction): void {
  const join = req.rateLimit !== undefined;
  if (result.info !== undefined) req.rateLimit = result.info;
  if (result.plan !== undefined) return send(res, result.plan, join);
  const headers = result.headers;
  if (headers !== undefined && !res.headersSent) setHeaders(res, headers, join);
  const onResponse = result.onResponse;
  if (onResponse !== undefined) res.once('close', () => onResponse(res.writableFinished ? res.statusCode : 0));
  next();
}

export function rateLimit(options: ExpressRateLimitOptions): RateLimitMiddleware {
  const guard = createGuard(options);
  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    let result: GuardResult | Promise<GuardResult>;
    try {
      result = guard.evaluate(new ExpressFacts(req), req);
    } catch (error) {
      return next(error);
    }
    if (result instanceof Promise) result.then((resolved) => apply(resolved, req, res, next), next);
    else apply(result, req, res, next);
  };
  return Object.assign(middleware, { resetKey: (key: string) => guard.resetKey(key) });
}

/** Error middleware: RateLimitExceededError -> 429, CircuitOpenError -> 503; anything else goes on. */
export function rateLimitErrorHandler(options?: ErrorMappingOptions): ErrorRequestHandler {
  const mapping = checkErrorMappingOptions(options);
  return (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const plan = res.headersSent ? undefined : errorResponsePlan(error, mapping);
    if (plan === undefined) return next(error);
    send(res, plan);
  };
}

/** A Prometheus scrape route: `app.get('/metrics', metricsRoute())` (the default registry, or the one given). */
export function metricsRoute(registry?: MetricsRegistry): RequestHandler {
  const respond = metricsEndpoint(registry);
  return (req: Request, res: Response) => send(res, respond(req.method), false);
}
