/**
 * The limiter API shared by every algorithm: a limiter is one or more policies over a store. A single policy is
 * decided with one store call; several (a composite) with one all-or-nothing call.
 */
import { ConfigError, RateLimitExceededError, StoreUnavailableError, isSluiceError } from '../errors.js';
import { checkKnownOptions, checkOneOf, checkString } from '../options.js';
import { LimiterInstruments } from '../metrics/limiter-metrics.js';
import { FailureRunLog, describeError, log, resolveLogger, type Logger } from '../metrics/logger.js';
import { resolveMetrics, type MetricsRegistry } from '../metrics/registry.js';
import { defaultStore } from '../stores/memory.js';
import type { DecideCall, Store } from '../stores/store.js';
import { parseDuration, systemClock, type Clock } from '../time.js';
import {
  COMMON_OPTION_NAMES,
  type AcquireOptions,
  type Algorithm,
  type CommonLimiterOptions,
  type Decision,
  type FailMode,
  type Limiter,
  type LimiterMetrics,
  type LimiterStats,
  type Permit,
  type Policy,
  type PolicyInfo,
} from './limiter.js';

/** How long a refusal made because the store failed (failMode 'closed') asks the caller to wait. */
export const FAIL_CLOSED_RETRY_MS = 1_000;

export interface PolicySpec<C> {
  algorithm: Algorithm<C>;
  config: C;
  limit: number;
  windowMs: number;
  /** A default name derived from the parameters, so equal configurations in several processes share keys. */
  defaultName: string;
}

export interface LimiterSettings {
  store: Store;
  clock: Clock;
  failMode: FailMode;
  name: string;
  prefix: string;
  /** Undefined: metrics off. */
  metrics: MetricsRegistry | undefined;
  /** Undefined: silent. */
  logger: Logger | undefined;
}

/** Validates the options every limiter takes; `extra` names the constructor's own options. */
export function limiterSettings(
  options: CommonLimiterOptions | undefined,
  component: string,
  extra: readonly string[],
  defaultName: string,
): LimiterSettings {
  checkKnownOptions(options, component, [...COMMON_OPTION_NAMES, ...extra]);
  const store = options?.store ?? defaultStore();
  if (typeof store !== 'object' || store === null || typeof (store as Store).decide !== 'function') {
    throw new ConfigError('store', 'a store (memoryStore(), redisStore(), hybridStore())', store);
  }
  const clock = options?.clock ?? systemClock;
  if (typeof clock !== 'object' || typeof clock.now !== 'function' || typeof clock.sleep !== 'function') {
    throw new ConfigError('clock', 'a Clock with now() and sleep()', clock);
  }
  return {
    store,
    clock,
    failMode: checkOneOf(options?.failMode ?? 'open', 'failMode', ['open', 'closed'] as const),
    name: options?.name === undefined ? defaultName : checkString(options.name, 'name'),
    prefix: options?.prefix === undefined ? 'sluice' : checkString(options.prefix, 'prefix'),
    metrics: resolveMetrics(options?.metrics),
    logger: resolveLogger(options?.logger),
  };
}

export function makePolicy<C>(settings: LimiterSettings, spec: PolicySpec<C>): Policy<C> {
  const info: PolicyInfo = Object.freeze({
    name: settings.name,
    algorithm: spec.algorithm.name,
    limit: spec.limit,
    windowMs: spec.windowMs,
  });
  return { id: `${settings.prefix}:${spec.algorithm.name}:${settings.name}`, algorithm: spec.algorithm, config: spec.config, info };
}

export function checkCost(cost: unknown): number {
  if (typeof cost !== 'number' || !(cost >= 0) || !Number.isFinite(cost)) {
    throw new ConfigError('cost', 'a finite number >= 0', cost);
  }
  return cost;
}

export function checkKey(key: unknown): string {
  if (typeof key !== 'string') throw new ConfigError('key', 'a string', key);
  return key;
}

export interface PolicyLimiterBehaviour {
  /** acquire() may take a reservation and wait for it (leaky bucket in shape mode). */
  reserves?: boolean;
  /** Admissions hold a slot until released (concurrency): each gets a token, permits release it. */
  holdsSlots?: boolean;
}

let tokenCounter = 0;
const tokenPrefix = Math.random().toString(36).slice(2, 10);

export class PolicyLimiter implements Limiter {
  readonly name: string;
  readonly policies: readonly PolicyInfo[];
  readonly store: Store;
  protected readonly clock: Clock;
  protected readonly failMode: FailMode;
  private readonly single: Policy | undefined;
  private readonly wakeups = new Set<() => void>();
  private readonly instruments: LimiterInstruments;
  private readonly logger: Logger | undefined;
  private readonly storeFailures: FailureRunLog;
  private readonly counts = {
    accepted: 0,
    rejected: 0,
    acquisitions: 0,
    waitCount: 0,
    waitTotalMs: 0,
    waitMaxMs: 0,
    timeouts: 0,
    inFlight: 0,
    releases: 0,
    storeErrors: 0,
    degraded: 0,
  };

  constructor(
    settings: LimiterSettings,
    readonly policyList: readonly Policy[],
    private readonly behaviour: PolicyLimiterBehaviour = {},
  ) {
    this.name = settings.name;
    this.store = settings.store;
    this.clock = settings.clock;
    this.failMode = settings.failMode;
    this.policies = policyList.map((policy) => policy.info);
    this.single = policyList.length === 1 ? policyList[0] : undefined;
    this.instruments = new LimiterInstruments(settings.metrics, { limiter: this.name, store: this.store.kind }, this.policies);
    this.logger = settings.logger;
    this.storeFailures = new FailureRunLog(settings.logger, () => this.clock.now());
    this.onStoreResult = this.onStoreResult.bind(this);
    this.onStoreError = this.onStoreError.bind(this);
  }

  decide(key: string, cost = 1): Decision | Promise<Decision> {
    const decision = this.run(checkKey(key), checkCost(cost), 0, this.behaviour.holdsSlots ? nextToken() : '');
    if (this.logger === undefined) return decision;
    if (decision instanceof Promise) return decision.then((settled) => this.logRefusal(key, cost, settled, 'rate_limit.refused'));
    return this.logRefusal(key, cost, decision, 'rate_limit.refused');
  }

  consume(key: string, cost = 1): Promise<Decision> {
    try {
      const decision = this.decide(key, cost);
      return decision instanceof Promise ? decision : Promise.resolve(decision);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async tryAcquire(key: string, cost = 1): Promise<boolean> {
    return (await this.consume(key, cost)).allowed;
  }

  async acquire(key: string, options: AcquireOptions = {}): Promise<Permit> {
    checkKnownOptions(options, 'acquire', ['cost', 'timeout', 'signal']);
    checkKey(key);
    const cost = checkCost(options.cost ?? 1);
    const timeoutMs =
      options.timeout === undefined ? Infinity : parseDuration(options.timeout, 'timeout', { allowZero: true, allowInfinity: true });
    const { signal } = options;
    const startMs = this.clock.now();
    const deadlineMs = startMs + timeoutMs;
    for (;;) {
      signal?.throwIfAborted();
      const token = this.behaviour.holdsSlots ? nextToken() : '';
      const nowMs = this.clock.now();
      const maxWaitMs = this.behaviour.reserves ? Math.max(0, deadlineMs - nowMs) : 0;
      const decision = await this.run(key, cost, maxWaitMs, token);
      if (decision.allowed) {
        if (decision.waitMs) await this.clock.sleep(decision.waitMs, signal);
        const waitedMs = this.clock.now() - startMs;
        this.recordWait(waitedMs);
        this.instruments.acquired(waitedMs);
        this.counts.acquisitions++;
        this.counts.inFlight++;
        return this.permit(key, cost, token);
      }
      const waitMs = decision.retryAfterMs;
      if (!Number.isFinite(waitMs) || this.clock.now() + waitMs > deadlineMs) {
        if (Number.isFinite(waitMs)) {
          this.counts.timeouts++;
          this.instruments.timedOut();
        }
        if (this.logger) this.logRefusal(key, cost, decision, 'rate_limit.acquire_refused');
        throw new RateLimitExceededError({
          key,
          limit: decision.limit,
          remaining: decision.remaining,
          retryAfterMs: waitMs,
          policy: decision.policy.name,
        });
      }
      await this.sleep(waitMs, signal);
    }
  }

  async refund(key: string, cost = 1): Promise<void> {
    checkKey(key);
    checkCost(cost);
    const nowMs = this.clock.now();
    for (const policy of this.policyList) await this.store.refund(policy, key, cost, nowMs);
    this.wakeOne();
  }

  async stats(key: string): Promise<LimiterStats> {
    checkKey(key);
    const nowMs = this.clock.now();
    let result: LimiterStats | undefined;
    for (const policy of this.policyList) {
      const view = await this.store.inspect(policy, key, nowMs);
      if (result === undefined || view.available < result.available) {
        result = {
          available: view.available,
          max: policy.info.limit,
          refillPerSecond: policy.algorithm.refillPerSecond(policy.config),
          lastUpdateMs: view.lastUpdateMs,
          resetMs: view.resetMs,
        };
      }
    }
    return result!;
  }

  async reset(key: string): Promise<void> {
    checkKey(key);
    for (const policy of this.policyList) await this.store.reset(policy, key);
    this.wakeAll();
  }

  metrics(): LimiterMetrics {
    const c = this.counts;
    return {
      accepted: c.accepted,
      rejected: c.rejected,
      acquisitions: c.acquisitions,
      waits: { count: c.waitCount, totalMs: c.waitTotalMs, avgMs: c.waitCount ? c.waitTotalMs / c.waitCount : 0, maxMs: c.waitMaxMs },
      timeouts: c.timeouts,
      inFlight: c.inFlight,
      releases: c.releases,
      storeErrors: c.storeErrors,
      degraded: c.degraded,
    };
  }

  /** One store call for every policy; store failures become a fail-open or fail-closed decision. */
  protected run(key: string, cost: number, maxWaitMs: number, token: string): Decision | Promise<Decision> {
    const call: DecideCall = { nowMs: this.clock.now(), cost, maxWaitMs, token };
    let result: Decision | Decision[] | Promise<Decision | Decision[]>;
    try {
      result = this.single ? this.store.decide(this.single, key, call) : this.store.decideAll(this.policyList, key, call);
    } catch (error) {
      return this.onStoreError(error);
    }
    if (result instanceof Promise) return result.then(this.onStoreResult, this.onStoreError);
    return this.onStoreResult(result);
  }

  private onStoreResult(result: Decision | Decision[]): Decision {
    if (this.storeFailures.inFailureRun) {
      this.storeFailures.success('info', 'sluice: the store answers again', () => ({
        event: 'store.recovered',
        component: 'limiter',
        limiter: this.name,
        store: this.store.kind,
      }));
    }
    return this.onDecision(result);
  }

  /** A structured debug line for a refusal: who, which policy, how much was asked and when to come back. */
  private logRefusal(key: string, cost: number, decision: Decision, event: string): Decision {
    if (decision.allowed || this.logger === undefined) return decision;
    log(
      this.logger,
      'debug',
      {
        event,
        component: 'limiter',
        limiter: this.name,
        key,
        policy: decision.policy.name,
        cost,
        limit: decision.limit,
        remaining: decision.remaining,
        retryAfterMs: decision.retryAfterMs,
        ...(decision.degraded ? { degraded: true } : {}),
      },
      event === 'rate_limit.refused' ? 'sluice: request refused' : 'sluice: acquire gave up',
    );
    return decision;
  }

  private onDecision(result: Decision | Decision[]): Decision {
    const decision = Array.isArray(result) ? combine(result) : result;
    if (decision.allowed) this.counts.accepted++;
    else this.counts.rejected++;
    if (decision.degraded) this.counts.degraded++;
    this.instruments.decided(decision);
    return decision;
  }

  private onStoreError(error: unknown): Decision {
    if (isSluiceError(error) && error.code === 'CONFIG') throw error;
    this.counts.storeErrors++;
    this.instruments.storeError();
    const cause = error instanceof StoreUnavailableError ? error : new StoreUnavailableError('Store failed', { cause: error });
    this.lastStoreError = cause;
    const open = this.failMode === 'open';
    this.storeFailures.failure('error', `sluice: the store failed; failing ${open ? 'open (admitting)' : 'closed (refusing)'}`, () => ({
      event: 'store.failure',
      component: 'limiter',
      limiter: this.name,
      store: this.store.kind,
      failMode: this.failMode,
      cause: describeError(error),
    }));
    const policy = this.policyList[0]!.info;
    return this.onDecision({
      allowed: open,
      limit: policy.limit,
      remaining: open ? policy.limit : 0,
      resetMs: 0,
      retryAfterMs: open ? 0 : FAIL_CLOSED_RETRY_MS,
      policy,
      degraded: true,
    });
  }

  /** The last store failure answered by failMode (for logs and health checks). */
  lastStoreError: StoreUnavailableError | undefined;

  private recordWait(waitedMs: number): void {
    if (waitedMs <= 0) return;
    const c = this.counts;
    c.waitCount++;
    c.waitTotalMs += waitedMs;
    if (waitedMs > c.waitMaxMs) c.waitMaxMs = waitedMs;
  }

  private permit(key: string, cost: number, token: string): Permit {
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      this.counts.releases++;
      this.counts.inFlight--;
      this.instruments.released();
      if (!this.behaviour.holdsSlots) return;
      const nowMs = this.clock.now();
      try {
        for (const policy of this.policyList) await this.store.refund(policy, key, cost, nowMs, token);
      } finally {
        this.wakeOne();
      }
    };
    return { key, cost, release, [Symbol.asyncDispose]: release };
  }

  /** Sleeps until the retry time, or earlier when a slot is released in this process. */
  private async sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (!this.behaviour.holdsSlots) return this.clock.sleep(ms, signal);
    const wake = new AbortController();
    const onWake = () => wake.abort();
    this.wakeups.add(onWake);
    const onAbort = () => wake.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.clock.sleep(ms, wake.signal);
    } catch (error) {
      if (signal?.aborted) throw error;
    } finally {
      this.wakeups.delete(onWake);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private wakeOne(): void {
    const first = this.wakeups.values().next();
    if (!first.done) {
      this.wakeups.delete(first.value);
      first.value();
    }
  }

  private wakeAll(): void {
    for (const wake of [...this.wakeups]) wake();
    this.wakeups.clear();
  }
}

/** A composite decision: the refusal that waits longest, or when all admit, the member with least left. */
export function combine(decisions: readonly Decision[]): Decision {
  let worst = decisions[0]!;
  for (const decision of decisions) {
    if (decision.allowed !== worst.allowed) {
      if (!decision.allowed) worst = decision;
    } else if (decision.allowed ? decision.remaining < worst.remaining : decision.retryAfterMs > worst.retryAfterMs) {
      worst = decision;
    }
  }
  return { ...worst, members: decisions };
}

function nextToken(): string {
  tokenCounter = (tokenCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${tokenPrefix}${tokenCounter.toString(36)}`;
}

