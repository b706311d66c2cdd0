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
  /** Undefined: metrics off (limiterSettings() resolves the default registry). */
  metrics?: MetricsRegistry;
  /** Undefined: silent. */
  logger?: Logger;
}

/** Validates the options every limiter takes; `extra` names the constructor's own options. */
export function limiterSettings(
  options: CommonLimiterOptions | undefined,
  component: string,
  extra: readonly string[],
  defaultName: string,
): LimiterSettings {
  checkKnownOptions(options, component, [...COMMON_OPTION_NAMES, ...extra]);
  const store = options?.store === undefined ? defaultStore() : options.store;
  if (typeof store !== 'object' || store === null || typeof (store as Store).decide !== 'function') {
    throw new ConfigError('store', 'a store (memoryStore(), redisStore(), hybridStore())', store);
  }
  const clock = options?.clock === undefined ? systemClock : options.clock;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function' || typeof clock.sleep !== 'function') {
    throw new ConfigError('clock', 'a Clock with now() and sleep()', clock);
  }
  return {
    store,
    clock,
    failMode: checkOneOf(options?.failMode === undefined ? 'open' : options.failMode, 'failMode', ['open', 'closed'] as const),
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
  /**
   * Admissions hold a slot until released (concurrency): each gets a token, permits release it. Also implied by any
   * policy whose algorithm has `holdsSlots`.
   */
  holdsSlots?: boolean;
}

let tokenCounter = 0;
const tokenPrefix = Math.random().toString(36).slice(2, 10);

/**
 * Acquirers sleeping on a slot-holding policy, by key. Shared by every limiter over that policy (a concurrency
 * limiter and the composites it is part of), so a slot freed through one wakes a waiter of another.
 */
const slotWaiters = new WeakMap<Policy, Map<string, Set<() => void>>>();

function addWaiter(policy: Policy, key: string, wake: () => void): void {
  let byKey = slotWaiters.get(policy);
  if (byKey === undefined) slotWaiters.set(policy, (byKey = new Map()));
  let waiters = byKey.get(key);
  if (waiters === undefined) byKey.set(key, (waiters = new Set()));
  waiters.add(wake);
}

function removeWaiter(policy: Policy, key: string, wake: () => void): void {
  const byKey = slotWaiters.get(policy);
  const waiters = byKey?.get(key);
  if (waiters === undefined) return;
  waiters.delete(wake);
  if (waiters.size === 0) byKey!.delete(key);
}

/** Wakes the longest-sleeping waiter of `key` on `policy` (or all of them). */
function wakeWaiters(policy: Policy, key: string, all: boolean): void {
  const waiters = slotWaiters.get(policy)?.get(key);
  if (waiters === undefined) return;
  if (all) {
    for (const wake of [...waiters]) wake();
    return;
  }
  const first = waiters.values().next();
  if (!first.done) first.value();
}

export class PolicyLimiter implements Limiter {
  readonly name: string;
  readonly policies: readonly PolicyInfo[];
  readonly store: Store;
  readonly clock: Clock;
  readonly failMode: FailMode;
  private readonly single: Policy | undefined;
  /** The single policy when decisions can take decideSync(): a synchronous store, no held slots, no logger. */
  private readonly syncSingle: Policy | undefined;
  /** The policies whose units are held until released; a permit's release frees only these. */
  private readonly slotPolicies: readonly Policy[];
  private readonly holdsSlots: boolean;
  private readonly instruments: LimiterInstruments;
  /** The registry this limiter records into (undefined: metrics off); a composite of it records there too. */
  readonly metricsRegistry: MetricsRegistry | undefined;
  readonly logger: Logger | undefined;
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
    this.slotPolicies = policyList.filter((policy) => policy.algorithm.kind === 'object' && policy.algorithm.holdsSlots === true);
    this.holdsSlots = behaviour.holdsSlots === true || this.slotPolicies.length > 0;
    this.instruments = new LimiterInstruments(settings.metrics, { limiter: this.name, store: this.store.kind }, this.policies);
    this.metricsRegistry = settings.metrics;
    this.logger = settings.logger;
    this.syncSingle = this.store.synchronous && !this.holdsSlots && this.logger === undefined ? this.single : undefined;
    this.storeFailures = new FailureRunLog(settings.logger, () => this.clock.now());
    this.onStoreResult = this.onStoreResult.bind(this);
    this.onStoreError = this.onStoreError.bind(this);
  }

  decide(key: string, cost = 1): Decision | Promise<Decision> {
    if (this.syncSingle !== undefined) return this.decideSync(this.syncSingle, checkKey(key), checkCost(cost));
    const decision = this.run(checkKey(key), checkCost(cost), 0, this.holdsSlots ? nextToken() : '');
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
    if (this.slotPolicies.length === 0) return this.waitForAdmission(key, cost, timeoutMs, options.signal);
    try {
      return await this.waitForAdmission(key, cost, timeoutMs, options.signal);
    } catch (error) {
      // This acquirer may have been woken for a freed slot it will not take now: pass the wake on.
      this.wake(key, false);
      throw error;
    }
  }

  private async waitForAdmission(key: string, cost: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<Permit> {
    const startMs = this.clock.now();
    const deadlineMs = startMs + timeoutMs;
    // Only an acquire that slept counts as a wait (not the time a store took to answer).
    let slept = false;
    for (;;) {
      signal?.throwIfAborted();
      const token = this.holdsSlots ? nextToken() : '';
      const nowMs = this.clock.now();
      const maxWaitMs = this.behaviour.reserves ? Math.max(0, deadlineMs - nowMs) : 0;
      const decision = await this.run(key, cost, maxWaitMs, token);
      if (decision.allowed) {
        if (decision.waitMs) {
          slept = true;
          await this.clock.sleep(decision.waitMs, signal);
        }
        const waitedMs = slept ? this.clock.now() - startMs : 0;
        if (slept) this.recordWait(waitedMs);
        this.instruments.acquired(waitedMs);
        this.counts.acquisitions++;
        this.counts.inFlight++;
        return this.permit(key, cost, token);
      }
      const waitMs = decision.retryAfterMs;
      const leftMs = deadlineMs - this.clock.now();
      if (!Number.isFinite(waitMs) || this.waitsInVain(decision, leftMs)) {
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
      slept = true;
      await this.sleep(key, Math.min(waitMs, leftMs), signal);
    }
  }

  async refund(key: string, cost = 1): Promise<void> {
    checkKey(key);
    checkCost(cost);
    const nowMs = this.clock.now();
    try {
      for (const policy of this.policyList) await this.store.refund(policy, key, cost, nowMs);
    } finally {
      this.wake(key, false);
    }
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
    try {
      for (const policy of this.policyList) await this.store.reset(policy, key);
    } finally {
      this.wake(key, true);
    }
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

  /**
   * One policy on a synchronous store (the memory store), no slots, no logger: the same decision as run() without
   * its promise and failure-run branches, kept small so the JIT can inline the whole decision into the caller.
   */
  private decideSync(policy: Policy, key: string, cost: number): Decision {
    let decision: Decision;
    try {
      decision = this.store.decide(policy, key, { nowMs: this.clock.now(), cost, maxWaitMs: 0, token: '' }) as Decision;
    } catch (error) {
      return this.onStoreError(error);
    }
    return this.onDecision(decision);
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
    if (this.logger !== undefined && this.storeFailures.inFailureRun) {
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
      // Only slot-holding policies get units back: a finished call must not refund the tokens of a rate policy.
      if (this.slotPolicies.length === 0) return;
      const nowMs = this.clock.now();
      try {
        for (const policy of this.slotPolicies) await this.store.refund(policy, key, cost, nowMs, token);
      } catch (error) {
        // Release never throws (it runs in `finally` and `await using`): the lease frees the slot instead.
        this.counts.storeErrors++;
        this.instruments.storeError();
        this.lastStoreError = error instanceof StoreUnavailableError ? error : new StoreUnavailableError('Store failed', { cause: error });
      } finally {
        this.wake(key, false);
      }
    };
    return { key, cost, release, [Symbol.asyncDispose]: release };
  }

  /**
   * True when the refusal cannot turn into an admission within `leftMs`. A rate policy's retry time is exact; a
   * slot's is only the latest it frees (a release wakes us earlier), so a slot refusal is worth waiting for.
   */
  private waitsInVain(decision: Decision, leftMs: number): boolean {
    if (decision.retryAfterMs <= leftMs) return false;
    if (this.slotPolicies.length === 0 || leftMs <= 0) return true;
    for (const member of decision.members ?? [decision]) {
      if (!member.allowed && member.retryAfterMs > leftMs && !this.slotPolicies.some((p) => p.info === member.policy)) return true;
    }
    return false;
  }

  /** Sleeps until the retry time, or earlier when a slot of this key is freed in this process. */
  private async sleep(key: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.slotPolicies.length === 0) return this.clock.sleep(ms, signal);
    signal?.throwIfAborted();
    const wake = new AbortController();
    const onWake = () => {
      for (const policy of this.slotPolicies) removeWaiter(policy, key, onWake);
      wake.abort();
    };
    for (const policy of this.slotPolicies) addWaiter(policy, key, onWake);
    const onAbort = () => wake.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.clock.sleep(ms, wake.signal);
    } catch (error) {
      // Woken (a slot was freed) unless the caller's signal aborted, maybe in the same tick as the wake.
      if (signal?.aborted) throw signal.reason;
      if (!wake.signal.aborted) throw error;
    } finally {
      for (const policy of this.slotPolicies) removeWaiter(policy, key, onWake);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Wakes acquirers sleeping on this key's slots: one per freed holder, or all after a reset. */
  private wake(key: string, all: boolean): void {
    for (const policy of this.slotPolicies) wakeWaiters(policy, key, all);
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

