/**
 * sluice for Fastify 5. The default export is the plugin: a global limit (`global`), per-route
 * `config: { rateLimit }` (applied after the global one) or `config: { rateLimit: false }` (no limit from the
 * plugin), compiled once in `onRoute`, and the error mapping installed as the error handler.
 * `rateLimit(options)` is a route-level hook for `onRequest` / `preHandler`.
 */
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import {
  ConfigError,
  checkErrorMappingOptions,
  createGuard,
  errorResponsePlan,
  joinHeaderValue,
  metricsEndpoint,
  type ErrorMappingOptions,
  type MetricsRegistry,
  type Guard,
  type GuardResult,
  type RateLimitInfo,
  type RateLimitOptions,
  type RequestFacts,
  type ResponsePlan,
} from '../../src/index.js';

export type { RateLimitInfo, RateLimitOptions } from '../../src/index.js';
export type FastifyRateLimitOptions = RateLimitOptions<FastifyRequest>;
/** Per-route options: merged over the plugin's, so a route may give only what differs (e.g. a limiter). */
export type FastifyRouteRateLimitOptions = Partial<FastifyRateLimitOptions>;

export interface FastifyRateLimitPluginOptions extends Partial<FastifyRateLimitOptions> {
  /** Limit every route with the plugin's options (default true when a limiter is given). */
  global?: boolean;
  /** The hook the limit runs in: 'onRequest' (default, before body parsing) or 'preHandler' (body available). */
  hook?: 'onRequest' | 'preHandler';
  /** Install the error mapping (429 / 503 for errors thrown in handlers) as the error handler. Default true. */
  errorHandler?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by sluice for requests it limited. */
    rateLimit?: RateLimitInfo;
  }
  interface FastifyContextConfig {
    /** sluice options for this route (merged over the plugin's), or false to leave the route unlimited. */
    rateLimit?: FastifyRouteRateLimitOptions | false;
  }
}

type Hook = ((request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void) & {
  resetKey(key: string): Promise<void>;
};

class FastifyFacts implements RequestFacts {
  constructor(
    private readonly request: FastifyRequest,
    private readonly fixedRouteId: string | undefined | null,
  ) {}
  get method(): string {
    return this.request.method;
  }
  get path(): string {
    const url = this.request.url;
    const query = url.indexOf('?');
    return query === -1 ? url : url.slice(0, query);
  }
  get socketAddress(): string | undefined {
    return this.request.raw.socket?.remoteAddress;
  }
  header(name: string): string | undefined {
    const value = this.request.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  /** null: a global limit (no route); undefined: ask the request (the route-level hook). */
  get routeId(): string | undefined {
    return this.fixedRouteId === null ? undefined : (this.fixedRouteId ?? this.request.routeOptions.url);
  }
  frameworkIp(): string | undefined {
    return this.request.ip;
  }
}

/** `join`: another guard may have set rate-limit headers already (its lists are kept, see joinHeaderValue). */
function setHeaders(reply: FastifyReply, headers: Record<string, string>, join: boolean): void {
  if (join) for (const name in headers) reply.header(name, joinHeaderValue(reply.getHeader(name), headers[name]!));
  else for (const name in headers) reply.header(name, headers[name]);
}

function send(reply: FastifyReply, plan: ResponsePlan, join = true): void {
  setHeaders(reply, plan.headers, join);
  reply.code(plan.status).send(plan.body);
}

function apply(result: GuardResult, request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const join = request.rateLimit !== undefined;
  if (result.info !== undefined) request.rateLimit = result.info;
  if (result.plan !== undefined) return send(reply, result.plan, join);
  const headers = result.headers;
  if (headers !== undefined) setHeaders(reply, headers, join);
  const onResponse = result.onResponse;
  if (onResponse !== undefined) {
    const raw = reply.raw;
    raw.once('close', () => onResponse(raw.writableFinished ? reply.statusCode : 0));
  }
  done();
}

function hookFor(guard: Guard<FastifyRequest>, routeId: string | undefined | null): Hook {
  const hook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    let result: GuardResult | Promise<GuardResult>;
    try {
      result = guard.evaluate(new FastifyFacts(request, routeId), request);
    } catch (error) {
      return done(error as FastifyError);
    }
    if (result instanceof Promise) result.then((resolved) => apply(resolved, request, reply, done), done);
    else apply(result, request, reply, done);
  };
  return Object.assign(hook, { resetKey: (key: string) => guard.resetKey(key) });
}

/** A route-level hook: `{ onRequest: rateLimit({...}) }` or `{ preHandler: rateLimit({...}) }`. */
export function rateLimit(options: FastifyRateLimitOptions): Hook {
  return hookFor(createGuard(options), undefined);
}

/** An error handler for `fastify.setErrorHandler`: 429 / 503 for sluice errors; other errors are rethrown. */
export function rateLimitErrorHandler(options?: ErrorMappingOptions) {
  const mapping = checkErrorMappingOptions(options);
  return function sluiceErrorHandler(error: unknown, _request: FastifyRequest, reply: FastifyReply): void {
    const plan = errorResponsePlan(error, mapping);
    if (plan === undefined) throw error;
    send(reply, plan);
  };
}

/** A Prometheus scrape route: `fastify.get('/metrics', metricsRoute())` (the default registry, or the one given). */
export function metricsRoute(registry?: MetricsRegistry) {
  const respond = metricsEndpoint(registry);
  return function sluiceMetrics(request: FastifyRequest, reply: FastifyReply): void {
    send(reply, respond(request.method), false);
  };
}

/** Async, so an option error rejects registration (avvio reports it) instead of throwing out of it. */
const plugin: FastifyPluginAsync<FastifyRateLimitPluginOptions> = async (fastify: FastifyInstance, options) => {
  const { global, hook = 'onRequest', errorHandler = true, ...base } = options;
  if (hook !== 'onRequest' && hook !== 'preHandler') throw new ConfigError('hook', "'onRequest' or 'preHandler'", hook);
  if (global !== undefined && typeof global !== 'boolean') throw new ConfigError('global', 'true or false', global);
  if (global === true && base.limiter === undefined) throw new ConfigError('limiter', 'a limiter when global is true', undefined);
  const shared = base.limiter !== undefined ? createGuard(base as FastifyRateLimitOptions) : undefined;
  const globalHook = global !== false && shared !== undefined ? hookFor(shared, null) : undefined;
  if (!fastify.hasRequestDecorator('rateLimit')) fastify.decorateRequest('rateLimit', undefined);

  fastify.addHook('onRoute', (route: RouteOptions) => {
    const config = (route.config as { rateLimit?: FastifyRouteRateLimitOptions | false } | undefined)?.rateLimit;
    if (config === false) return;
    // As on the other frameworks, a route's own limit applies after the global one (counted separately).
    const hooks = globalHook === undefined ? [] : [globalHook];
    if (config !== undefined) hooks.push(hookFor(createGuard({ ...base, ...config } as FastifyRateLimitOptions), route.url));
    if (hooks.length === 0) return;
    const existing = route[hook];
    route[hook] = (existing === undefined ? hooks : [...hooks, ...[existing].flat()]) as never;
  });

  // Errors this handler does not map are rethrown: Fastify hands them to the handler set before it (or its default).
  if (errorHandler !== false) fastify.setErrorHandler(rateLimitErrorHandler({ headers: base.headers, clock: base.clock }));
}

export default fp(plugin, { fastify: '5.x', name: 'sluice' });
