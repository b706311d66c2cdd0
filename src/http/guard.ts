/**
 * The one place where a request is evaluated: options validated once, then per request the path filter, skip,
 * key, allowlist, cost, penalty box and limiters, and either "continue" (headers to set, info to expose, a
 * callback for when the response is known) or a ResponsePlan for the refusal. Adapters only translate.
 *
 * With a synchronous store (the memory store) and synchronous options the whole evaluation is synchronous:
 * no promise is created on that path.
 */
import ipaddr from 'ipaddr.js';
import {
  ConfigError,
  StoreUnavailableError,
  describeValue,
  isCircuitOpenError,
  isConfigError,
  isRateLimitExceededError,
} from '../errors.js';
import type { Decision, FailMode, Limiter, PolicyInfo } from '../limiters/limiter.js';
import { HttpInstruments, NO_ROUTE, type HttpOutcome } from '../metrics/http-metrics.js';
import { log, resolveLogger, type Logger } from '../metrics/logger.js';
import { resolveMetrics, type MetricsOption } from '../metrics/registry.js';
import { checkFunction, checkKnownOptions, checkNumber, checkOneOf, checkString } from '../options.js';
import type { Store } from '../stores/store.js';
import { parseDuration, systemClock, withTimeout, type Clock, type Duration } from '../time.js';
import type { ClientIpOptions, ClientIpResolver, RequestFacts, ResponsePlan } from './facts.js';
import { createClientIpResolver } from './client-ip.js';
import {
  HEADERS_MODES,
  flattenDecisions,
  ietfPolicyValue,
  mostRestrictive,
  retryAfterSeconds,
  writeRateLimitHeaders,
  type HeaderPairs,
  type HeadersMode,
} from './headers.js';
import { compileKey, type KeyResolver, type KeySource } from './keys.js';
import { PenaltyBox, type BlockForOptions } from './penalty-box.js';
import { PROBLEM_CONTENT_TYPE, quotaExceededProblem, reducedCapacityProblem, serialiseBody } from './problem.js';

export type PathPattern = string | RegExp;

export type LimiterList = Limiter | readonly Limiter[];
/** One limiter, several (all must admit), or a choice per request (e.g. by plan tier), sync or async. */
export type LimiterOption<Req> = LimiterList | ((request: Req) => LimiterList | Promise<LimiterList>);

/** What a custom refusal may set; anything left out keeps the default. A non-string body is sent as JSON. */
export interface LimitedResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** The rate-limit state of a request, exposed as req.rateLimit / ctx.state.rateLimit / c.get('rateLimit'). */
export interface RateLimitInfo {
  /** The client key (before route namespacing): what `resetKey` takes. */
  readonly key: string;
  /** False when refused; in shadow mode, false when the request would have been refused. */
  readonly allowed: boolean;
  /** The most restrictive policy's figures. */
  readonly limit: number;
  readonly remaining: number;
  readonly resetMs: number;
  readonly retryAfterMs: number;
  readonly policy: PolicyInfo;
  /** Every limiter's decision, in order (stops at the first refusal). */
  readonly decisions: readonly Decision[];
  /** True when the penalty box (`blockFor`) refused the request or started a block with this refusal. */
  readonly blocked: boolean;
  /** The units this request was charged. */
  readonly cost: number;
}

export interface RateLimitOptions<Req = unknown> {
  /** Required. One limiter, several (all must admit), or a function choosing per request. */
  limiter: LimiterOption<Req>;
  /** The client key. Default: the client IP. */
  key?: KeySource<Req>;
  trustProxy?: ClientIpOptions['trustProxy'];
  clientIpHeader?: string;
  ipv6Subnet?: number | false;
  /** Units a request costs (default 1), or a function of the request. */
  cost?: number | ((request: Req) => number | Promise<number>);
  /** Return true to let a request through without counting it. */
  skip?: (request: Req) => boolean | Promise<boolean>;
  /** Client IPs, CIDRs and keys that are never limited. */
  allowlist?: readonly string[];
  /** Only these paths are limited ("*" matches anything, or a RegExp). Default: every path. */
  include?: PathPattern | readonly PathPattern[];
  /** These paths are never limited; wins over `include`. */
  exclude?: PathPattern | readonly PathPattern[];
  /** Header standard (default 'ietf'), or false for none. Retry-After is sent on every refusal regardless. */
  headers?: HeadersMode;
  /**
   * When a limiter's store cannot answer: 'open' admits, 'closed' answers 503. Unset (the default): errors
   * fail open and degraded decisions are taken as the limiter made them (a limiter's own default is 'open').
   */
  failMode?: FailMode;
  /** The longest wait for an asynchronous store's decision before it counts as a failure. Default "1s". */
  timeout?: Duration;
  /** Told about store failures and hook errors. Default: one console warning per guard. */
  onError?: (error: unknown, request: Req) => void;
  /** The body of a refusal instead of the problem details: a string (text), an object (JSON) or a function. */
  message?: string | object | ((request: Req, info: RateLimitInfo) => unknown);
  /** Full control of a refusal: return what to change in the default response (or nothing to keep it). */
  onLimited?: (
    request: Req,
    info: RateLimitInfo,
    plan: ResponsePlan,
  ) => LimitedResponse | undefined | void | Promise<LimitedResponse | undefined | void>;
  /** Decide and set headers, but never refuse (for rolling out limits). */
  shadow?: boolean;
  /** Give the units back when the response succeeds (status < 400). */
  skipSuccessfulRequests?: boolean;
  /** Give the units back when the response fails (status >= 400, or the connection closed early). */
  skipFailedRequests?: boolean;
  /** Penalty box: a key that exceeds is refused for this long (growing with repeated offences if configured). */
  blockFor?: Duration | BlockForOptions;
  /** Called once when a key's use crosses `nearLimitThreshold` of its limit. */
  onNearLimit?: (request: Req, info: RateLimitInfo) => void;
  /** Fraction of the limit in use that counts as "near" (default 0.8). */
  nearLimitThreshold?: number;
  /** Called for every request a limiter refuses (also in shadow mode). */
  onExceeded?: (request: Req, info: RateLimitInfo) => void;
  /**
   * Counter namespace. Default: global middleware shares none; a route-level guard uses its route. Give two
   * guards the same scope to make them share counters.
   */
  scope?: string;
  /** Time source for the penalty box and the legacy reset header. */
  clock?: Clock;
  /** Receives one-time warnings (e.g. a forwarding header arriving while trustProxy is off). */
  warn?: (message: string) => void;
  /** Where requests are counted by route and outcome: default registry, another, or false. See docs/metrics.md. */
  metrics?: MetricsOption;
  /**
   * Receives a debug line per refused request (key, method, path, route, policy, cost, remaining, retryAfterMs),
   * and the guard's error warning instead of the console. Silent when unset.
   */
  logger?: Logger;
}

export const GUARD_OPTION_NAMES = [
  'limiter', 'key', 'trustProxy', 'clientIpHeader', 'ipv6Subnet', 'cost', 'skip', 'allowlist', 'include', 'exclude',
  'headers', 'failMode', 'timeout', 'onError', 'message', 'onLimited', 'shadow', 'skipSuccessfulRequests',
  'skipFailedRequests', 'blockFor', 'onNearLimit', 'nearLimitThreshold', 'onExceeded', 'scope', 'clock', 'warn',
  'metrics', 'logger',
] as const;

/** The guard's answer. `plan` set: send it and stop. Otherwise set `headers`, expose `info`, go on. */
export interface GuardResult {
  readonly plan: ResponsePlan | undefined;
  readonly headers: HeaderPairs | undefined;
  readonly info: RateLimitInfo | undefined;
  /** When set, call it once with the response status when the response ends (0 if the client went away). */
  readonly onResponse: ((status: number) => void) | undefined;
}

/** Not limited (excluded, skipped, allowlisted, or every limiter failed open). */
export const PASS: GuardResult = Object.freeze({ plan: undefined, headers: undefined, info: undefined, onResponse: undefined });
/** PASS because no limiter could decide (counted apart from skipped requests). */
const FAILED_OPEN: GuardResult = Object.freeze({ ...PASS });

export const isPromise = <T>(value: T | Promise<T>): value is Promise<T> =>
  typeof value === 'object' && value !== null && typeof (value as Promise<T>).then === 'function';

const FAIL_CLOSED_RETRY_MS = 1_000;

export class Guard<Req = unknown> {
  readonly headersMode: HeadersMode;
  readonly clock: Clock;
  private readonly resolveKey: KeyResolver<Req>;
  private readonly limiters: readonly Limiter[] | undefined;
  private readonly chooseLimiters: ((request: Req) => LimiterList | Promise<LimiterList>) | undefined;
  private readonly policyValue: string | undefined;
  private readonly fixedCost: number;
  private readonly costOf: ((request: Req) => number | Promise<number>) | undefined;
  private readonly skip: ((request: Req) => boolean | Promise<boolean>) | undefined;
  private readonly paths: ((path: string) => boolean) | undefined;
  private readonly allowlist: Allowlist | undefined;
  readonly failMode: FailMode | undefined;
  private readonly timeoutMs: number;
  readonly shadow: boolean;
  readonly skipSuccessful: boolean;
  readonly skipFailed: boolean;
  readonly box: PenaltyBox | undefined;
  private readonly scope: string | undefined;
  private readonly namespaces = new Set<string>();
  private readonly seenLimiters = new Set<Limiter>();
  private readonly nearThreshold: number;
  /** One static limiter that holds no slot, no penalty box, no refund by status: the admission path needs no state. */
  private readonly fastPath: boolean;
  readonly options: RateLimitOptions<Req>;
  private warned = false;
  private readonly http: HttpInstruments;
  private readonly logger: Logger | undefined;

  constructor(options: RateLimitOptions<Req>, extraOptionNames: readonly string[] = []) {
    checkKnownOptions(options, 'rateLimit', [...GUARD_OPTION_NAMES, ...extraOptionNames]);
    if (options === undefined) throw new ConfigError('rateLimit', 'an options object with a limiter', options);
    this.options = options;
    const limiter = options.limiter;
    if (typeof limiter === 'function') {
      this.chooseLimiters = limiter as (request: Req) => LimiterList;
    } else {
      this.limiters = checkLimiters(limiter, 'limiter');
      this.policyValue = ietfPolicyValue(this.limiters.flatMap((item) => item.policies));
      for (const item of this.limiters) this.seenLimiters.add(item);
    }
    const ip: ClientIpResolver = createClientIpResolver({
      trustProxy: options.trustProxy,
      clientIpHeader: options.clientIpHeader,
      ipv6Subnet: options.ipv6Subnet,
      warn: options.warn === undefined ? undefined : checkFunction(options.warn, 'warn'),
    });
    this.resolveKey = compileKey(options.key, ip);
    if (typeof options.cost === 'function') {
      this.costOf = options.cost;
      this.fixedCost = 1;
    } else {
      this.fixedCost = options.cost === undefined ? 1 : checkNumber(options.cost, 'cost', { min: 0, exclusiveMin: false });
    }
    this.skip = options.skip === undefined ? undefined : checkFunction<(request: Req) => boolean | Promise<boolean>>(options.skip, 'skip');
    this.paths = compilePaths(options.include, options.exclude);
    this.allowlist = options.allowlist === undefined ? undefined : new Allowlist(options.allowlist, ip);
    this.headersMode = options.headers === undefined ? 'ietf' : checkHeadersMode(options.headers);
    this.failMode = options.failMode === undefined ? undefined : checkOneOf(options.failMode, 'failMode', ['open', 'closed'] as const);
    this.timeoutMs = parseDuration(options.timeout ?? 1_000, 'timeout', { allowInfinity: true });
    this.shadow = checkBoolean(options.shadow, 'shadow');
    this.skipSuccessful = checkBoolean(options.skipSuccessfulRequests, 'skipSuccessfulRequests');
    this.skipFailed = checkBoolean(options.skipFailedRequests, 'skipFailedRequests');
    for (const hook of ['onError', 'onLimited', 'onNearLimit', 'onExceeded'] as const) {
      if (options[hook] !== undefined) checkFunction(options[hook], hook);
    }
    const message = options.message;
    if (message !== undefined && !['string', 'object', 'function'].includes(typeof message)) {
      throw new ConfigError('message', 'a string, an object or a function', message);
    }
    if (message === null) throw new ConfigError('message', 'a string, an object or a function', message);
    this.nearThreshold = checkNumber(options.nearLimitThreshold ?? 0.8, 'nearLimitThreshold', { min: 0, max: 1 });
    this.box = options.blockFor === undefined ? undefined : new PenaltyBox(options.blockFor, (error) => this.reportError(error, undefined));
    this.scope = options.scope === undefined ? undefined : checkString(options.scope, 'scope');
    this.clock = options.clock ?? systemClock;
    if (typeof this.clock !== 'object' || typeof this.clock.now !== 'function') {
      throw new ConfigError('clock', 'a Clock with now() and sleep()', options.clock);
    }
    this.http = new HttpInstruments(resolveMetrics(options.metrics));
    this.logger = resolveLogger(options.logger);
    this.fastPath =
      this.limiters?.length === 1 &&
      this.box === undefined &&
      !this.skipSuccessful &&
      !this.skipFailed &&
      !this.limiters[0]!.policies.some((policy) => policy.algorithm === 'concurrency');
  }

  /** Evaluates one request. Throws (or rejects) only with errors of the user's own callbacks (key, skip, cost...). */
  evaluate(facts: RequestFacts, request: Req): GuardResult | Promise<GuardResult> {
    let result: GuardResult | Promise<GuardResult>;
    try {
      result = this.evaluateRequest(facts, request);
    } catch (error) {
      this.http.request(facts.routeId, 'error');
      throw error;
    }
    if (!isPromise(result)) return this.counted(facts, result);
    return result.then(
      (settled) => this.counted(facts, settled),
      (error: unknown) => {
        this.http.request(facts.routeId, 'error');
        throw error;
      },
    );
  }

  /** Counts the request by route and outcome, and logs a refusal. */
  private counted(facts: RequestFacts, result: GuardResult): GuardResult {
    const outcome = outcomeOf(result);
    this.http.request(facts.routeId, outcome);
    if (this.logger !== undefined && (outcome === 'limited' || outcome === 'shadow_limited' || outcome === 'failed_closed')) {
      this.logRefusal(facts, result, outcome);
    }
    return result;
  }

  private logRefusal(facts: RequestFacts, result: GuardResult, outcome: HttpOutcome): void {
    const info = result.info;
    log(
      this.logger!,
      'debug',
      {
        event: `http.${outcome}`,
        component: 'http',
        method: facts.method,
        path: facts.path,
        route: facts.routeId ?? NO_ROUTE,
        ...(info === undefined
          ? {}
          : {
              key: info.key,
              policy: info.policy.name,
              cost: info.cost,
              limit: info.limit,
              remaining: info.remaining,
              retryAfterMs: info.retryAfterMs,
              blocked: info.blocked,
            }),
        ...(result.plan === undefined ? {} : { status: result.plan.status }),
      },
      outcome === 'limited'
        ? 'sluice: request limited'
        : outcome === 'shadow_limited'
          ? 'sluice: request would be limited (shadow mode)'
          : 'sluice: no limiter could decide; request refused (failMode closed)',
    );
  }

  private evaluateRequest(facts: RequestFacts, request: Req): GuardResult | Promise<GuardResult> {
    if (this.paths !== undefined && !this.paths(facts.path)) return PASS;
    if (this.skip !== undefined) {
      const skipped = this.skip(request);
      if (isPromise(skipped)) return Promise.resolve(skipped).then((yes) => (yes ? PASS : this.keyed(facts, request)));
      if (skipped) return PASS;
    }
    return this.keyed(facts, request);
  }

  /** Forgets `key`'s counters and block, for every limiter this guard has used and every route it serves. */
  async resetKey(key: string): Promise<void> {
    checkString(key, 'key');
    const namespaces = this.scope !== undefined ? [this.scopePrefix()] : ['', ...this.namespaces];
    const work: Promise<void>[] = [];
    for (const namespace of namespaces) {
      const storeKey = namespace + key;
      for (const limiter of this.seenLimiters) {
        work.push(limiter.reset(storeKey));
        if (this.box) work.push(this.box.clear(storeOf(limiter), blockKey(limiter, storeKey)));
      }
    }
    await Promise.all(work);
  }

  private keyed(facts: RequestFacts, request: Req): GuardResult | Promise<GuardResult> {
    const key = this.resolveKey(facts, request);
    return isPromise(key) ? Promise.resolve(key).then((value) => this.withKey(facts, request, value)) : this.withKey(facts, request, key);
  }

  private withKey(facts: RequestFacts, request: Req, key: string): GuardResult | Promise<GuardResult> {
    if (this.allowlist !== undefined && this.allowlist.admits(key, facts)) return PASS;
    const cost = this.costOf === undefined ? this.fixedCost : this.costOf(request);
    const limiters = this.limiters ?? this.chooseLimiters!(request);
    if (isPromise(cost) || isPromise(limiters)) {
      return Promise.all([cost, limiters]).then(([resolvedCost, resolvedLimiters]) =>
        this.start(facts, request, key, runtimeCost(resolvedCost), this.chosen(resolvedLimiters)),
      );
    }
    return this.start(facts, request, key, this.costOf ? runtimeCost(cost) : cost, this.limiters ?? this.chosen(limiters));
  }

  private chosen(limiters: LimiterList): readonly Limiter[] {
    if (limiters === this.limiters) return limiters as readonly Limiter[];
    const list = checkLimiters(limiters, 'limiter()', TypeError);
    if (this.seenLimiters.size < 256) for (const limiter of list) this.seenLimiters.add(limiter);
    return list;
  }

  private scopePrefix(): string {
    return `scope:${this.scope}|`;
  }

  private start(facts: RequestFacts, request: Req, key: string, cost: number, limiters: readonly Limiter[]) {
    let namespace = '';
    if (this.scope !== undefined) {
      namespace = this.scopePrefix();
    } else if (facts.routeId !== undefined) {
      namespace = `route:${facts.routeId}|`;
      if (!this.namespaces.has(namespace) && this.namespaces.size < 1024) this.namespaces.add(namespace);
    }
    const storeKey = namespace === '' ? key : namespace + key;
    if (this.fastPath && limiters === this.limiters) {
      let decision: Decision | Promise<Decision>;
      try {
        decision = limiters[0]!.decide(storeKey, cost);
      } catch (error) {
        return new Evaluation(this, request, key, storeKey, cost, limiters).afterError(0, error);
      }
      if (!isPromise(decision) && decision.allowed && !decision.degraded) return this.admitted(request, key, cost, decision);
      return new Evaluation(this, request, key, storeKey, cost, limiters).settle(0, decision);
    }
    const run = new Evaluation(this, request, key, storeKey, cost, limiters);
    if (this.box === undefined) return run.decide(0);
    const blockedMs = this.box.check(storeOf(limiters[0]), blockKey(limiters[0]!, storeKey), this.clock.now());
    if (isPromise(blockedMs)) {
      // A store that does not answer about blocks is treated as "not blocked", like any failed block read.
      const checked = this.timeout(Promise.resolve(blockedMs)).catch((error: unknown) => {
        this.reportError(error, request);
        return 0;
      });
      return checked.then((ms) => (ms > 0 ? run.blocked(ms) : run.decide(0)));
    }
    return blockedMs > 0 ? run.blocked(blockedMs) : run.decide(0);
  }

  /** The common admission by one limiter, without an Evaluation. */
  private admitted(request: Req, key: string, cost: number, decision: Decision): GuardResult {
    const decisions = [decision];
    const info: RateLimitInfo = {
      key,
      allowed: true,
      limit: decision.limit,
      remaining: decision.remaining,
      resetMs: decision.resetMs,
      retryAfterMs: 0,
      policy: decision.policy,
      decisions,
      blocked: false,
      cost,
    };
    if (this.options.onNearLimit !== undefined && this.nearCrossed(decision, cost)) this.callHook(this.options.onNearLimit, request, info);
    return { plan: undefined, headers: this.headersFor(decisions, this.limiters!), info, onResponse: undefined };
  }

  /** The rate-limit headers of the configured mode (undefined for none). */
  headersFor(decisions: readonly Decision[], limiters: readonly Limiter[]): HeaderPairs | undefined {
    const mode = this.headersMode;
    if (mode === false) return undefined;
    const headers: HeaderPairs = {};
    writeRateLimitHeaders(mode, decisions, headers, mode === 'legacy' ? this.clock.now() : 0, this.policyHeaderValue(limiters));
    return headers;
  }

  /** Runs a hook without letting it break the request: errors (sync or async) go to onError. */
  callHook(hook: ((request: Req, info: RateLimitInfo) => unknown) | undefined, request: Req, info: RateLimitInfo): void {
    if (hook === undefined) return;
    try {
      const result = hook(request, info);
      if (isPromise(result)) result.catch((error: unknown) => this.reportError(error, request));
    } catch (error) {
      this.reportError(error, request);
    }
  }

  reportError(error: unknown, request: Req | undefined): void {
    const onError = this.options.onError;
    if (onError === undefined) {
      if (!this.warned) {
        this.warned = true;
        const message = `sluice: rate limiting failed (${describeError(error)}); pass onError to handle this. Further errors are not logged.`;
        if (this.logger !== undefined) log(this.logger, 'warn', { event: 'http.error', component: 'http', error: describeError(error) }, message);
        else console.warn(message);
      }
      return;
    }
    try {
      onError(error, request as Req);
    } catch {
      // onError must not throw; what it throws is dropped so the request is not broken.
    }
  }

  timeout<T>(pending: Promise<T>): Promise<T> {
    if (this.timeoutMs === Infinity) return pending;
    return withTimeout(pending, this.timeoutMs, () => new StoreUnavailableError(`The limiter did not answer within ${this.timeoutMs} ms`));
  }

  policyHeaderValue(limiters: readonly Limiter[]): string | undefined {
    return limiters === this.limiters ? this.policyValue : undefined;
  }

  nearCrossed(decision: Decision, cost: number): boolean {
    const boundary = decision.limit * (1 - this.nearThreshold);
    return decision.remaining <= boundary && decision.remaining + cost > boundary;
  }
}

/** One request's evaluation over its limiters: the state that survives an asynchronous decision. */
class Evaluation<Req> {
  /** Decisions that count (shown in headers and info); a limiter that failed open has none. */
  private readonly decisions: Decision[] = [];
  /** The limiter of each decision, to refund it. */
  private readonly deciders: Limiter[] = [];
  private refused = false;
  private failed = false;

  constructor(
    private readonly guard: Guard<Req>,
    private readonly request: Req,
    private readonly key: string,
    readonly storeKey: string,
    private readonly cost: number,
    private readonly limiters: readonly Limiter[],
  ) {}

  decide(from: number): GuardResult | Promise<GuardResult> {
    const limiters = this.limiters;
    for (let i = from; i < limiters.length; i++) {
      let decision: Decision | Promise<Decision>;
      try {
        decision = limiters[i]!.decide(this.storeKey, this.cost);
      } catch (error) {
        return this.afterError(i, error);
      }
      if (isPromise(decision)) return this.settle(i, decision);
      if (!this.accept(limiters[i]!, decision)) return this.finish();
    }
    return this.finish();
  }

  /** Takes limiter `i`'s decision (waiting for it if it is a promise), then goes on with the next limiter. */
  settle(i: number, decision: Decision | Promise<Decision>): GuardResult | Promise<GuardResult> {
    const limiter = this.limiters[i]!;
    if (!isPromise(decision)) return this.accept(limiter, decision) ? this.decide(i + 1) : this.finish();
    return this.guard.timeout(Promise.resolve(decision)).then(
      (resolved) => (this.accept(limiter, resolved) ? this.decide(i + 1) : this.finish()),
      (error: unknown) => this.afterError(i, error),
    );
  }

  /** Limiter `i` failed: a ConfigError is the caller's bug and is passed on; anything else is a store failure. */
  afterError(i: number, error: unknown): GuardResult | Promise<GuardResult> {
    if (isConfigError(error)) throw error;
    return this.failure(error) ? this.finish() : this.decide(i + 1);
  }

  /** A refusal by the penalty box: no limiter is asked. */
  blocked(blockedMs: number): GuardResult | Promise<GuardResult> {
    const policies = this.limiters.flatMap((limiter) => limiter.policies);
    for (const policy of policies) {
      this.decisions.push({ allowed: false, limit: policy.limit, remaining: 0, resetMs: blockedMs, retryAfterMs: blockedMs, policy });
    }
    const info = this.info(this.decisions, mostRestrictive(this.decisions), true);
    if (this.guard.shadow) return this.proceed(info, false);
    return this.reject(info, this.decisions, true);
  }

  /** A store failure: true when it must refuse (failMode 'closed'); otherwise the limiter is skipped. */
  private failure(error: unknown): boolean {
    this.guard.reportError(error, this.request);
    if (this.guard.failMode !== 'closed') return false;
    this.failed = true;
    return true;
  }

  /** Takes a decision; false when evaluation must stop (a refusal or a closed failure). */
  private accept(limiter: Limiter, decision: Decision): boolean {
    if (decision.degraded) {
      const failMode = this.guard.failMode;
      const cause = (limiter as { lastStoreError?: unknown }).lastStoreError;
      this.guard.reportError(cause ?? new StoreUnavailableError(`Limiter "${limiter.name}" decided without its store`), this.request);
      if (failMode === 'closed') {
        // A degraded admission was not recorded by the store: there is nothing to refund.
        this.failed = true;
        return false;
      }
      if (decision.allowed || failMode === 'open') return true;
    }
    this.decisions.push(decision);
    this.deciders.push(limiter);
    if (decision.allowed) return true;
    this.refused = true;
    return false;
  }

  private finish(): GuardResult | Promise<GuardResult> {
    const guard = this.guard;
    if (this.failed) {
      this.refundAdmitted();
      return guard.shadow ? FAILED_OPEN : failClosedPlan();
    }
    const decisions = this.decisions;
    if (decisions.length === 0) return FAILED_OPEN;
    if (!this.refused) {
      const driving = decisions.length === 1 ? decisions[0]! : mostRestrictive(decisions);
      const info = this.info(decisions, driving, false);
      if (guard.options.onNearLimit !== undefined && this.guard.nearCrossed(driving, this.cost)) {
        guard.callHook(guard.options.onNearLimit, this.request, info);
      }
      return this.proceed(info, true);
    }
    // A refusal: give back what the others took, so a refused request costs nothing.
    const shown = this.refundAdmitted();
    const driving = shown[shown.length - 1]!;
    let blocked = false;
    let effective = driving;
    if (guard.box !== undefined) {
      const first = this.limiters[0]!;
      const blockMs = guard.box.offend(storeOf(first), blockKey(first, this.storeKey), guard.clock.now());
      if (blockMs > driving.retryAfterMs || !Number.isFinite(driving.retryAfterMs)) {
        blocked = true;
        effective = { ...driving, retryAfterMs: blockMs, resetMs: Math.max(driving.resetMs, blockMs) };
        shown[shown.length - 1] = effective;
      }
    }
    const info = this.info(shown, effective, blocked);
    guard.callHook(guard.options.onExceeded, this.request, info);
    if (guard.shadow) return this.proceed(info, false);
    return this.reject(info, shown, blocked);
  }

  /** Refunds every admitted decision; returns the decisions to show, the refunded ones with their units back. */
  private refundAdmitted(): Decision[] {
    const shown: Decision[] = [];
    for (let i = 0; i < this.decisions.length; i++) {
      const decision = this.decisions[i]!;
      if (decision.allowed) {
        this.refund(this.deciders[i]!);
        shown.push({ ...decision, remaining: Math.min(decision.limit, decision.remaining + Math.floor(this.cost)) });
      } else {
        shown.push(decision);
      }
    }
    return shown;
  }

  private refund(limiter: Limiter): void {
    try {
      limiter.refund(this.storeKey, this.cost).catch((error: unknown) => this.guard.reportError(error, this.request));
    } catch (error) {
      this.guard.reportError(error, this.request);
    }
  }

  private info(decisions: readonly Decision[], driving: Decision, blocked: boolean): RateLimitInfo {
    return {
      key: this.key,
      allowed: driving.allowed,
      limit: driving.limit,
      remaining: driving.remaining,
      resetMs: driving.resetMs,
      retryAfterMs: driving.retryAfterMs,
      policy: driving.policy,
      decisions,
      blocked,
      cost: this.cost,
    };
  }

  /** Go on with the request; `admitted` is false in shadow mode for a request that would have been refused. */
  private proceed(info: RateLimitInfo, admitted: boolean): GuardResult {
    const headers = this.guard.headersFor(info.decisions, this.limiters);
    return { plan: undefined, headers, info, onResponse: admitted ? this.responseCallback() : undefined };
  }

  /** Refunds on the response status (skipSuccessful/FailedRequests) and frees concurrency slots. */
  private responseCallback(): ((status: number) => void) | undefined {
    const guard = this.guard;
    const byStatus = guard.skipSuccessful || guard.skipFailed;
    const decisions = this.decisions;
    let holdsSlot = false;
    for (const decision of decisions) if (decision.policy.algorithm === 'concurrency') holdsSlot = true;
    if (!byStatus && !holdsSlot) return undefined;
    let done = false;
    return (status: number) => {
      if (done) return;
      done = true;
      const succeeded = status > 0 && status < 400;
      const refundAll = succeeded ? guard.skipSuccessful : guard.skipFailed;
      for (let i = 0; i < decisions.length; i++) {
        if (refundAll || decisions[i]!.policy.algorithm === 'concurrency') this.refund(this.deciders[i]!);
      }
    };
  }

  private reject(info: RateLimitInfo, decisions: readonly Decision[], blocked: boolean): GuardResult | Promise<GuardResult> {
    const guard = this.guard;
    const headers: HeaderPairs = guard.headersFor(decisions, this.limiters) ?? {};
    const retryAfter = retryAfterSeconds(info);
    headers['Retry-After'] = String(retryAfter);
    const { message, onLimited } = guard.options;
    const finish = (body: string, contentType: string): GuardResult | Promise<GuardResult> => {
      headers['Content-Type'] = contentType;
      const plan: ResponsePlan = { status: 429, headers, body };
      if (onLimited === undefined) return { plan, headers: undefined, info, onResponse: undefined };
      const custom = onLimited(this.request, info, plan);
      return isPromise(custom) ? Promise.resolve(custom).then((value) => limited(plan, value, info)) : limited(plan, custom, info);
    };
    if (message === undefined) {
      const violated = violatedPolicies(decisions);
      return finish(JSON.stringify(quotaExceededProblem(violated, retryAfter, blocked)), PROBLEM_CONTENT_TYPE);
    }
    const value = typeof message === 'function' ? (message as (request: Req, info: RateLimitInfo) => unknown)(this.request, info) : message;
    if (isPromise(value)) {
      return Promise.resolve(value).then((resolved) => {
        const { body, contentType } = serialiseBody(resolved);
        return finish(body, contentType);
      });
    }
    const { body, contentType } = serialiseBody(value);
    return finish(body, contentType);
  }
}

function limited(plan: ResponsePlan, custom: LimitedResponse | undefined | void, info: RateLimitInfo): GuardResult {
  if (custom === undefined || custom === null) return { plan, headers: undefined, info, onResponse: undefined };
  const headers = { ...plan.headers, ...(custom.headers ?? {}) };
  let body = plan.body;
  if (custom.body !== undefined) {
    const serialised = serialiseBody(custom.body);
    body = serialised.body;
    if (custom.headers === undefined || !Object.keys(custom.headers).some((name) => name.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = serialised.contentType;
    }
  }
  return { plan: { status: custom.status ?? plan.status, headers, body }, headers: undefined, info, onResponse: undefined };
}

function violatedPolicies(decisions: readonly Decision[]): string[] {
  const names: string[] = [];
  for (const decision of flattenDecisions(decisions)) {
    if (!decision.allowed && !names.includes(decision.policy.name)) names.push(decision.policy.name);
  }
  return names;
}

/** How a request went, for the requests metric. */
function outcomeOf(result: GuardResult): HttpOutcome {
  const info = result.info;
  if (result.plan !== undefined) return info === undefined ? 'failed_closed' : 'limited';
  if (info === undefined) return result === FAILED_OPEN ? 'failed_open' : 'skipped';
  return info.allowed ? 'allowed' : 'shadow_limited';
}

function failClosedPlan(): GuardResult {
  const retryAfter = FAIL_CLOSED_RETRY_MS / 1000;
  const body = JSON.stringify(reducedCapacityProblem(retryAfter, 'The rate limiter cannot decide right now; retry shortly.'));
  return {
    plan: { status: 503, headers: { 'Retry-After': String(retryAfter), 'Content-Type': PROBLEM_CONTENT_TYPE }, body },
    headers: undefined,
    info: undefined,
    onResponse: undefined,
  };
}

export interface ErrorMappingOptions {
  /** Header standard for 429s mapped from RateLimitExceededError (default 'ietf'). */
  headers?: HeadersMode;
  clock?: Clock;
}

/**
 * Maps an error thrown in a handler to a response: RateLimitExceededError -> 429 with rate-limit headers and
 * Retry-After, CircuitOpenError -> 503 with Retry-After, both with problem details. Anything else: undefined (the
 * framework's own error handling goes on).
 */
export function errorResponsePlan(error: unknown, options: ErrorMappingOptions = {}): ResponsePlan | undefined {
  if (isRateLimitExceededError(error)) {
    const windowMs = Number.isFinite(error.retryAfterMs) ? error.retryAfterMs : 0;
    const policy: PolicyInfo = { name: error.policy ?? 'default', algorithm: 'token-bucket', limit: error.limit, windowMs };
    const decision: Decision = {
      allowed: false,
      limit: error.limit,
      remaining: error.remaining,
      resetMs: windowMs,
      retryAfterMs: error.retryAfterMs,
      policy,
    };
    const headers: HeaderPairs = {};
    const mode = options.headers === undefined ? 'ietf' : options.headers;
    writeRateLimitHeaders(mode, [decision], headers, (options.clock ?? systemClock).now());
    // The policy's window is not known from the error: no RateLimit-Policy claim is made.
    delete headers['RateLimit-Policy'];
    const retryAfter = retryAfterSeconds(decision);
    headers['Retry-After'] = String(retryAfter);
    headers['Content-Type'] = PROBLEM_CONTENT_TYPE;
    return { status: 429, headers, body: JSON.stringify(quotaExceededProblem([policy.name], retryAfter)) };
  }
  if (isCircuitOpenError(error)) {
    const retryAfter = retryAfterSeconds({ retryAfterMs: error.retryAfterMs, resetMs: 0 });
    const body = JSON.stringify(reducedCapacityProblem(retryAfter, 'A dependency is failing; the circuit is open.'));
    return { status: 503, headers: { 'Retry-After': String(retryAfter), 'Content-Type': PROBLEM_CONTENT_TYPE }, body };
  }
  return undefined;
}

export function checkErrorMappingOptions(options: ErrorMappingOptions | undefined, extra: readonly string[] = []): ErrorMappingOptions {
  checkKnownOptions(options, 'rateLimitErrorHandler', ['headers', 'clock', ...extra]);
  if (options?.headers !== undefined) checkHeadersMode(options.headers);
  return options ?? {};
}

export function createGuard<Req>(options: RateLimitOptions<Req>, extraOptionNames?: readonly string[]): Guard<Req> {
  return new Guard(options, extraOptionNames);
}

/** Blocks live in the first limiter's store, per limiter name, so unrelated apps on one Redis do not share them. */
function blockKey(limiter: Limiter, storeKey: string): string {
  return `${limiter.name}|${storeKey}`;
}

function storeOf(limiter: Limiter | undefined): Store | undefined {
  const store = (limiter as { store?: Store } | undefined)?.store;
  return store && typeof store.get === 'function' ? store : undefined;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : describeValue(error);
}

function checkBoolean(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new ConfigError(field, 'true or false', value);
  return value;
}

function checkHeadersMode(value: unknown): HeadersMode {
  if (!HEADERS_MODES.includes(value as HeadersMode)) {
    throw new ConfigError('headers', "one of 'ietf', 'draft-8', 'draft-7', 'draft-6', 'legacy', false", value);
  }
  return value as HeadersMode;
}

function isLimiter(value: unknown): value is Limiter {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Limiter).decide === 'function' &&
    typeof (value as Limiter).refund === 'function' &&
    Array.isArray((value as Limiter).policies)
  );
}

function checkLimiters(value: unknown, field: string, ErrorType: new (message: string) => Error = Error): readonly Limiter[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  let expected: string | undefined;
  if (list.length === 0 || !list.every(isLimiter)) {
    expected = 'a limiter (tokenBucket(), slidingWindow(), ...), an array of limiters, or a function returning them';
  } else if ((list as Limiter[]).some(holdsSlotsInComposite)) {
    // The slot is freed with refund() when the response ends; inside a composite that would refund its rate limits too.
    expected = 'concurrency() as its own entry of the limiter list, not inside composite()';
  }
  if (expected === undefined) return list as Limiter[];
  if (ErrorType === Error) throw new ConfigError(field, expected, value);
  throw new ErrorType(`${field} returned ${describeValue(value)}, not ${expected}`);
}

function holdsSlotsInComposite(limiter: Limiter): boolean {
  return limiter.policies.length > 1 && limiter.policies.some((policy) => policy.algorithm === 'concurrency');
}

function runtimeCost(cost: unknown): number {
  if (typeof cost !== 'number' || !(cost >= 0) || !Number.isFinite(cost)) {
    throw new TypeError(`The rate-limit cost function returned ${describeValue(cost)}, not a finite number >= 0`);
  }
  return cost;
}

/** Compiles include/exclude into one test; undefined when every path is limited. */
function compilePaths(include: unknown, exclude: unknown): ((path: string) => boolean) | undefined {
  const included = include === undefined ? undefined : compilePatterns(include, 'include');
  const excluded = exclude === undefined ? undefined : compilePatterns(exclude, 'exclude');
  if (!included && !excluded) return undefined;
  return (path) => (included === undefined || included.test(path)) && (excluded === undefined || !excluded.test(path));
}

function compilePatterns(value: unknown, field: string): { test(path: string): boolean } {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0) throw new ConfigError(field, 'a path pattern ("/api/*") or RegExp, or a non-empty array of them', value);
  const regexps = list.map((pattern, i) => {
    if (pattern instanceof RegExp) return new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    if (typeof pattern === 'string' && pattern.length > 0) {
      const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
      return new RegExp(`^${source}$`);
    }
    throw new ConfigError(Array.isArray(value) ? `${field}[${i}]` : field, 'a path pattern ("/api/*") or a RegExp', pattern);
  });
  return { test: (path) => regexps.some((regexp) => regexp.test(path)) };
}

/** IPs/CIDRs (matched against the client address) and keys (matched exactly). */
class Allowlist {
  private readonly keys = new Set<string>();
  private readonly addresses = new Set<string>();
  private readonly ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];

  constructor(
    entries: unknown,
    private readonly ip: ClientIpResolver,
  ) {
    if (!Array.isArray(entries)) throw new ConfigError('allowlist', 'an array of IPs, CIDRs and keys', entries);
    entries.forEach((entry: unknown, i) => {
      if (typeof entry !== 'string' || entry.length === 0) {
        throw new ConfigError(`allowlist[${i}]`, 'an IP, a CIDR or a key (a non-empty string)', entry);
      }
      if (ipaddr.isValid(entry)) {
        this.addresses.add(normaliseAddress(ipaddr.parse(entry)));
      } else if (entry.includes('/') && isCidr(entry)) {
        const [address, bits] = ipaddr.parseCIDR(entry);
        this.ranges.push([unmap(address), address.kind() === 'ipv6' && unmap(address).kind() === 'ipv4' ? bits - 96 : bits]);
      } else {
        this.keys.add(entry);
      }
    });
  }

  admits(key: string, facts: RequestFacts): boolean {
    if (this.keys.has(key)) return true;
    if (this.addresses.size === 0 && this.ranges.length === 0) return false;
    const address = this.ip.address(facts);
    if (address === undefined || !ipaddr.isValid(address)) return false;
    const parsed = unmap(ipaddr.parse(address));
    if (this.addresses.has(parsed.toString())) return true;
    for (const [range, bits] of this.ranges) {
      if (range.kind() === parsed.kind() && parsed.match(range as never, bits)) return true;
    }
    return false;
  }
}

function isCidr(entry: string): boolean {
  try {
    ipaddr.parseCIDR(entry);
    return true;
  } catch {
    return false;
  }
}

function unmap(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

function normaliseAddress(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  return unmap(address).toString();
}
