/**
 * The hybrid store: a remote store (Redis) that decides, with a local layer in front of it —
 * - a deny cache: a key the remote refused is refused again locally until its retry time, without a round trip;
 * - insurance: while the remote is unavailable, decisions are made on a local memory store (each policy's limit
 *   divided by the expected number of instances) and marked `degraded`; a health probe at an interval returns to
 *   the remote once it answers, and the remote is not called per request meanwhile;
 * - a short-lived local cache (L1) in front of the remote's key-value facet (L2).
 * See docs/stores.md, "Hybrid store".
 */
import type { Cluster, Redis } from 'ioredis';
import { ConfigError, StoreUnavailableError, isConfigError } from '../errors.js';
import type { Decision, Policy, PolicyInfo } from '../limiters/limiter.js';
import { describeError, log, resolveLogger, type Logger } from '../metrics/logger.js';
import { resolveMetrics, type MetricsOption } from '../metrics/registry.js';
import { HybridInstruments } from '../metrics/store-metrics.js';
import { checkFunction, checkKnownOptions, checkNumber } from '../options.js';
import { makeDisposer, type Disposer } from '../resilience/events.js';
import { parseDuration, systemClock, withTimeout, type Clock, type Duration } from '../time.js';
import { DenyCache } from './deny-cache.js';
import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import { configValues, sameConfig, scalePolicy } from './scale-policy.js';
import type { DecideCall, StateView, Store } from './store.js';
import { ValueCache } from './value-cache.js';

export interface HybridStoreOptions {
  /** The store that decides: a `redisStore(...)`, or any Store. The hybrid store never closes it. */
  remote?: Store;
  /** Shorthand for `remote: redisStore({ client: redis, timeout })`. Give `remote` or `redis`, not both. */
  redis?: Redis | Cluster;
  /**
   * The longest a remote call may take before the decision is made locally. With `redis`, the Redis store's
   * timeout (default "1s"); with `remote`, a limit added on top of the remote's own (default: none).
   */
  timeout?: Duration;
  /** Expected number of processes sharing the remote: in fallback each policy gets 1/instances of its limit. Default 1. */
  instances?: number;
  /** Decide locally while the remote is unavailable (default true). false: remote failures reach the limiter's failMode. */
  fallback?: boolean;
  /** How often the remote is probed while unavailable. Default "1s". */
  probeInterval?: Duration;
  /** Refuse keys the remote refused locally until their retry time (default true). */
  denyCache?: boolean;
  /** How long a value read or written through stays in the local key-value cache. Default "1s"; 0: no cache. */
  kvCacheTtl?: Duration;
  /** Most entries held by each local layer (deny cache, key-value cache, fallback state per policy). Default 100,000. */
  maxKeys?: number;
  /** The clock of the key-value cache and of the probe timer (decisions use the limiter's clock). */
  clock?: Clock;
  /** Called when decisions move to the local fallback, with the failure that caused it. */
  onFallback?: (cause: unknown) => void;
  /** Called when the probe finds the remote answering again and decisions go back to it. */
  onRecover?: () => void;
  /**
   * Where deny-cache hits, fallback decisions and the fallback flag are recorded (and, with `redis`, the Redis
   * store's round trips): default registry, another, or false.
   */
  metrics?: MetricsOption;
  /** Told when decisions move to the fallback (warn, with the cause) and back to the remote (info). */
  logger?: Logger;
}

/** Where decisions are made now. */
export type HybridMode = 'remote' | 'fallback';

export interface HybridStoreStats {
  mode: HybridMode;
  /** Decisions made by the remote. */
  remoteDecisions: number;
  /** Decisions answered by the deny cache, without a round trip. */
  denyCacheHits: number;
  denyCacheSize: number;
  /** Decisions made locally because the remote was unavailable (marked degraded). */
  fallbackDecisions: number;
  /** Times decisions moved to the local fallback. */
  fallbacks: number;
  /** Times decisions moved back to the remote. */
  recoveries: number;
  /** Health probes sent while in fallback, and how many of them found the remote still out. */
  probes: number;
  probeFailures: number;
  kvCacheHits: number;
  kvCacheMisses: number;
  kvCacheSize: number;
  /** The failure that last moved decisions to the fallback. */
  lastError: unknown;
}

const OPTION_NAMES = [
  'remote',
  'redis',
  'timeout',
  'instances',
  'fallback',
  'probeInterval',
  'denyCache',
  'kvCacheTtl',
  'maxKeys',
  'clock',
  'onFallback',
  'onRecover',
  'metrics',
  'logger',
] as const;

/** The key the probe asks about when the remote has no `ping()`. */
export const PROBE_KEY = 'sluice:hybrid:probe';

interface ScaledPolicy {
  policy: { -readonly [K in keyof Policy]: Policy[K] };
  /** The source policy's configuration values it was scaled from (an adaptive limiter changes them). */
  sourceValues: unknown[];
}

interface Pingable {
  ping(): Promise<boolean>;
}

function isStore(value: unknown): value is Store {
  const store = value as Partial<Store> | null;
  return (
    typeof store === 'object' &&
    store !== null &&
    ['decide', 'decideAll', 'inspect', 'refund', 'reset', 'get', 'set', 'incr', 'decr', 'delete', 'exists'].every(
      (method) => typeof (store as Record<string, unknown>)[method] === 'function',
    )
  );
}

function isRedisClient(value: unknown): boolean {
  const client = value as { sendCommand?: unknown; status?: unknown } | null;
  return typeof client === 'object' && client !== null && typeof client.sendCommand === 'function' && typeof client.status === 'string';
}

function checkBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(field, 'true or false', value);
  return value;
}

/** How long a written value may live locally given the TTL it was written with (a bad TTL: not at all). */
function localLifeMs(ttlMs: unknown): number | undefined {
  if (ttlMs === undefined) return undefined;
  try {
    return parseDuration(ttlMs, 'ttlMs');
  } catch {
    return 0;
  }
}

function degraded(decision: Decision, info: PolicyInfo): Decision {
  return { ...decision, policy: info, degraded: true };
}

export class HybridStore implements Store {
  readonly kind = 'hybrid';
  readonly synchronous = false;
  /** The store that decides while it answers. */
  readonly remote: Store;
  /** The store that decides while the remote does not (its policies scaled by 1/instances). */
  readonly local: MemoryStore;
  readonly instances: number;
  readonly probeIntervalMs: number;
  private readonly ownsRemote: boolean;
  private readonly raceMs: number | undefined;
  private readonly fallbackEnabled: boolean;
  private readonly clock: Clock;
  private readonly deny: DenyCache | undefined;
  private readonly values: ValueCache | undefined;
  private readonly maxKeys: number;
  private readonly scaled = new WeakMap<Policy, ScaledPolicy>();
  private readonly scaledLists = new WeakMap<readonly Policy[], Policy[]>();
  /** Holders admitted by the fallback: their release goes to the local store, not the remote. */
  private readonly localTokens = new Set<string>();
  private readonly fallbackListeners = new Set<(cause: unknown) => void>();
  private readonly recoverListeners = new Set<() => void>();
  private currentMode: HybridMode = 'remote';
  private probing: Promise<boolean> | undefined;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private probeAbort: AbortController | undefined;
  private closed = false;
  private readonly counts = {
    remoteDecisions: 0,
    denyCacheHits: 0,
    fallbackDecisions: 0,
    fallbacks: 0,
    recoveries: 0,
    probes: 0,
    probeFailures: 0,
  };
  private lastError: unknown;
  private readonly instruments: HybridInstruments;
  private readonly logger: Logger | undefined;
  private fallbackSinceMs = 0;

  constructor(options: HybridStoreOptions) {
    checkKnownOptions(options, 'hybridStore', OPTION_NAMES);
    if (options === undefined) throw new ConfigError('hybridStore', 'an options object with remote or redis', options);
    if (options.remote !== undefined && options.redis !== undefined) {
      throw new ConfigError('redis', 'either remote or redis, not both', 'both');
    }
    this.clock = options.clock === undefined ? systemClock : options.clock;
    if (typeof this.clock !== 'object' || this.clock === null || typeof this.clock.now !== 'function' || typeof this.clock.sleep !== 'function') {
      throw new ConfigError('clock', 'a Clock with now() and sleep()', options.clock);
    }
    const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout, 'timeout');
    const registry = resolveMetrics(options.metrics);
    this.instruments = new HybridInstruments(registry, this.kind);
    this.logger = resolveLogger(options.logger);
    if (options.redis !== undefined) {
      if (!isRedisClient(options.redis)) throw new ConfigError('redis', 'an ioredis Redis or Cluster client', options.redis);
      this.remote = new RedisStore({
        client: options.redis,
        ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
        metrics: registry ?? false,
      });
      this.ownsRemote = true;
      this.raceMs = undefined;
    } else {
      if (!isStore(options.remote)) {
        throw new ConfigError('remote', 'a store (redisStore(), or any Store), or a redis client in `redis`', options.remote);
      }
      if (options.remote instanceof HybridStore) throw new ConfigError('remote', 'a store that is not itself a hybrid store', 'hybridStore');
      this.remote = options.remote;
      this.ownsRemote = false;
      this.raceMs = timeoutMs;
    }
    this.instances = checkNumber(options.instances === undefined ? 1 : options.instances, 'instances', { integer: true, min: 1, exclusiveMin: false });
    this.fallbackEnabled = checkBoolean(options.fallback === undefined ? true : options.fallback, 'fallback');
    this.probeIntervalMs = parseDuration(options.probeInterval === undefined ? 1_000 : options.probeInterval, 'probeInterval');
    const denyCache = checkBoolean(options.denyCache === undefined ? true : options.denyCache, 'denyCache');
    const kvCacheTtlMs = parseDuration(options.kvCacheTtl === undefined ? 1_000 : options.kvCacheTtl, 'kvCacheTtl', { allowZero: true });
    this.maxKeys = checkNumber(options.maxKeys === undefined ? 100_000 : options.maxKeys, 'maxKeys', { integer: true, min: 1, exclusiveMin: false });
    if (options.onFallback !== undefined) this.fallbackListeners.add(checkFunction(options.onFallback, 'onFallback'));
    if (options.onRecover !== undefined) this.recoverListeners.add(checkFunction(options.onRecover, 'onRecover'));
    this.deny = denyCache ? new DenyCache(this.maxKeys) : undefined;
    this.values = kvCacheTtlMs > 0 ? new ValueCache(kvCacheTtlMs, this.maxKeys, this.clock) : undefined;
    this.local = new MemoryStore({ maxKeys: this.maxKeys, clock: this.clock });
  }

  /** 'remote' while the remote decides; 'fallback' from a failure until the probe finds it answering. */
  get mode(): HybridMode {
    return this.currentMode;
  }

  /** Counters for monitoring (the metrics helper publishes them). */
  stats(): HybridStoreStats {
    return {
      mode: this.currentMode,
      ...this.counts,
      denyCacheSize: this.deny?.size ?? 0,
      kvCacheHits: this.values?.hits ?? 0,
      kvCacheMisses: this.values?.misses ?? 0,
      kvCacheSize: this.values?.size ?? 0,
      lastError: this.lastError,
    };
  }

  /** Calls `listener` each time decisions move to the local fallback; returns the disposer that unsubscribes it. */
  onFallback(listener: (cause: unknown) => void): Disposer {
    this.fallbackListeners.add(checkFunction(listener, 'listener'));
    return makeDisposer(() => void this.fallbackListeners.delete(listener));
  }

  /** Calls `listener` each time decisions move back to the remote; returns the disposer that unsubscribes it. */
  onRecover(listener: () => void): Disposer {
    this.recoverListeners.add(checkFunction(listener, 'listener'));
    return makeDisposer(() => void this.recoverListeners.delete(listener));
  }

  /**
   * Asks the remote now whether it answers (a PING for a Redis store). Resolves true when it does, never rejects.
   * In fallback, an answer moves decisions back to the remote; in remote mode, no answer moves them to the fallback.
   */
  probe(): Promise<boolean> {
    this.probing ??= this.runProbe().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  // Decisions.

  decide(policy: Policy, key: string, call: DecideCall): Decision | Promise<Decision> {
    const cached = this.deny?.find(policy, key, call);
    if (cached !== undefined) {
      this.counts.denyCacheHits++;
      this.instruments.denyCacheHit();
      return cached;
    }
    if (this.currentMode === 'fallback') return this.decideLocally(policy, key, call);
    let result: Decision | Promise<Decision>;
    try {
      result = this.race(this.remote.decide(policy, key, call));
    } catch (error) {
      return this.failOver(error, () => this.decideLocally(policy, key, call));
    }
    if (!(result instanceof Promise)) return this.fromRemote(policy, key, call, result);
    return result.then(
      (decision) => this.fromRemote(policy, key, call, decision),
      (error: unknown) => this.failOver(error, () => this.decideLocally(policy, key, call)),
    );
  }

  decideAll(policies: readonly Policy[], key: string, call: DecideCall): Decision[] | Promise<Decision[]> {
    const cached = this.deny?.findAll(policies, key, call);
    if (cached !== undefined) {
      this.counts.denyCacheHits++;
      this.instruments.denyCacheHit();
      return cached;
    }
    if (this.currentMode === 'fallback') return this.decideAllLocally(policies, key, call);
    let result: Decision[] | Promise<Decision[]>;
    try {
      result = this.race(this.remote.decideAll(policies, key, call));
    } catch (error) {
      return this.failOver(error, () => this.decideAllLocally(policies, key, call));
    }
    if (!(result instanceof Promise)) return this.allFromRemote(policies, key, call, result);
    return result.then(
      (decisions) => this.allFromRemote(policies, key, call, decisions),
      (error: unknown) => this.failOver(error, () => this.decideAllLocally(policies, key, call)),
    );
  }

  inspect(policy: Policy, key: string, nowMs: number): StateView | Promise<StateView> {
    const inspectLocally = () => this.local.inspect(this.localPolicy(policy), key, nowMs);
    if (this.currentMode === 'fallback') return inspectLocally();
    let result: StateView | Promise<StateView>;
    try {
      result = this.race(this.remote.inspect(policy, key, nowMs));
    } catch (error) {
      return this.failOver(error, inspectLocally);
    }
    return result instanceof Promise ? result.catch((error: unknown) => this.failOver(error, inspectLocally)) : result;
  }

  async refund(policy: Policy, key: string, cost: number, nowMs: number, token = ''): Promise<void> {
    this.deny?.forget(policy, key);
    // A holder admitted by the fallback is released where it is held.
    if (token !== '' && this.localTokens.delete(token)) return this.local.refund(this.localPolicy(policy), key, cost, nowMs, token);
    if (token === '' && this.currentMode === 'fallback') return this.local.refund(this.localPolicy(policy), key, cost, nowMs);
    try {
      await this.race(this.remote.refund(policy, key, cost, nowMs, token));
    } catch (error) {
      this.noteFailure(error);
      throw error;
    }
  }

  /** Resets the key on the remote and in the local fallback state. Rejects when the remote cannot do it. */
  async reset(policy: Policy, key: string): Promise<void> {
    this.deny?.forget(policy, key);
    this.local.reset(this.localPolicy(policy), key);
    try {
      await this.race(this.remote.reset(policy, key));
    } catch (error) {
      this.noteFailure(error);
      throw error;
    }
  }

  /** Stops the probe and the local store's timer; closes the remote only when the store created it (`redis`). */
  async close(): Promise<void> {
    this.closed = true;
    this.stopProbe();
    await this.local.close();
    if (this.ownsRemote) await this.remote.close?.();
  }

  // The key-value facet: reads through the local cache, writes to the remote then to the local cache.

  get(key: string): Promise<string | undefined> {
    if (this.values === undefined) return this.kv(() => this.remote.get(key));
    if (this.currentMode === 'fallback') {
      const local = this.values.peek(key);
      return local !== undefined ? Promise.resolve(local) : Promise.reject(this.unavailable());
    }
    return this.values.read(key, () => this.kv(() => this.remote.get(key)));
  }

  set(key: string, value: string, ttlMs?: number): Promise<void> {
    const write = () => this.kv(() => this.remote.set(key, value, ttlMs));
    return this.values === undefined ? write() : this.writeThrough(key, write, () => String(value), ttlMs);
  }

  incr(key: string, by = 1, ttlMs?: number): Promise<number> {
    const write = () => this.kv(() => this.remote.incr(key, by, ttlMs));
    return this.values === undefined ? write() : this.writeThrough(key, write, (result) => String(result), ttlMs);
  }

  decr(key: string, by = 1, ttlMs?: number): Promise<number> {
    const write = () => this.kv(() => this.remote.decr(key, by, ttlMs));
    return this.values === undefined ? write() : this.writeThrough(key, write, (result) => String(result), ttlMs);
  }

  delete(key: string): Promise<boolean> {
    const write = () => this.kv(() => this.remote.delete(key));
    return this.values === undefined ? write() : this.writeThrough(key, write, () => undefined, undefined);
  }

  exists(key: string): Promise<boolean> {
    if (this.values !== undefined && this.values.peek(key) !== undefined) return Promise.resolve(true);
    return this.kv(() => this.remote.exists(key));
  }

  private writeThrough<T>(key: string, write: () => Promise<T>, valueAfter: (result: T) => string | undefined, ttlMs: number | undefined): Promise<T> {
    if (this.currentMode === 'fallback') return Promise.reject(this.unavailable());
    return this.values!.write(key, write, valueAfter, localLifeMs(ttlMs));
  }

  /** A key-value call on the remote: refused at once in fallback (the remote is known to be out). */
  private async kv<T>(call: () => Promise<T>): Promise<T> {
    if (this.currentMode === 'fallback') throw this.unavailable();
    try {
      return await this.race(call());
    } catch (error) {
      this.noteFailure(error);
      throw error;
    }
  }

  private unavailable(): StoreUnavailableError {
    return new StoreUnavailableError('The remote store is unavailable (the hybrid store is probing it)', { cause: this.lastError });
  }

  // Remote answers and failures.

  private fromRemote(policy: Policy, key: string, call: DecideCall, decision: Decision): Decision {
    this.counts.remoteDecisions++;
    if (!decision.allowed) this.deny?.remember(policy, key, call, decision);
    return decision;
  }

  private allFromRemote(policies: readonly Policy[], key: string, call: DecideCall, decisions: Decision[]): Decision[] {
    this.counts.remoteDecisions++;
    if (this.deny !== undefined && decisions.some((decision) => !decision.allowed)) this.deny.rememberAll(policies, key, call, decisions);
    return decisions;
  }

  /** The remote failed: move to the fallback and answer locally, or pass the failure on (fallback off, bad config). */
  private failOver<T>(error: unknown, local: () => T): T {
    if (isConfigError(error) || !this.fallbackEnabled) throw error;
    this.goToFallback(error);
    return local();
  }

  /** A failed remote call that has no local answer (refund, reset, key-value): still a sign the remote is out. */
  private noteFailure(error: unknown): void {
    if (this.fallbackEnabled && !isConfigError(error) && !(error instanceof TypeError)) this.goToFallback(error);
  }

  private goToFallback(cause: unknown): void {
    this.lastError = cause;
    if (this.currentMode === 'fallback') return;
    this.currentMode = 'fallback';
    this.counts.fallbacks++;
    this.instruments.setFallbackActive(true);
    if (this.logger) {
      this.fallbackSinceMs = this.clock.now();
      log(
        this.logger,
        'warn',
        { event: 'hybrid.fallback', component: 'store', store: this.kind, instances: this.instances, cause: describeError(cause) },
        'sluice: the remote store is not answering; deciding locally (limits divided by instances) until it does',
      );
    }
    for (const listener of [...this.fallbackListeners]) {
      try {
        listener(cause);
      } catch {
        // A listener's failure is not the store's.
      }
    }
    this.scheduleProbe();
  }

  private recover(): void {
    if (this.currentMode === 'remote') return;
    this.currentMode = 'remote';
    this.counts.recoveries++;
    this.instruments.setFallbackActive(false);
    if (this.logger) {
      log(
        this.logger,
        'info',
        { event: 'hybrid.return', component: 'store', store: this.kind, fallbackMs: this.clock.now() - this.fallbackSinceMs },
        'sluice: the remote store answers again; decisions go back to it',
      );
    }
    this.stopProbe();
    for (const listener of [...this.recoverListeners]) {
      try {
        listener();
      } catch {
        // A listener's failure is not the store's.
      }
    }
  }

  // The local fallback.

  private decideLocally(policy: Policy, key: string, call: DecideCall): Decision {
    this.counts.fallbackDecisions++;
    this.instruments.fallbackDecision();
    const decision = this.local.decide(this.localPolicy(policy), key, call);
    if (decision.allowed) this.noteLocalHolder([policy], call);
    return degraded(decision, policy.info);
  }

  private decideAllLocally(policies: readonly Policy[], key: string, call: DecideCall): Decision[] {
    this.counts.fallbackDecisions++;
    this.instruments.fallbackDecision();
    const decisions = this.local.decideAll(this.localPolicies(policies), key, call);
    if (decisions.every((decision) => decision.allowed)) this.noteLocalHolder(policies, call);
    return decisions.map((decision, index) => degraded(decision, policies[index]!.info));
  }

  private noteLocalHolder(policies: readonly Policy[], call: DecideCall): void {
    if (call.token === undefined || call.token === '') return;
    if (!policies.some((policy) => policy.algorithm.kind === 'object' && policy.algorithm.holdsSlots === true)) return;
    if (this.localTokens.size >= this.maxKeys) {
      // Permits never released: their leases free the slots; forget the oldest token.
      const oldest = this.localTokens.values().next();
      if (!oldest.done) this.localTokens.delete(oldest.value);
    }
    this.localTokens.add(call.token);
  }

  /** The policy as the fallback runs it: its limit and rate divided by `instances`, following config changes. */
  private localPolicy(policy: Policy): Policy {
    if (this.instances === 1) return policy;
    let entry = this.scaled.get(policy);
    if (entry === undefined) {
      entry = { policy: { ...scalePolicy(policy, 1 / this.instances) }, sourceValues: configValues(policy.config) };
      this.scaled.set(policy, entry);
    } else if (!sameConfig(policy.config, entry.sourceValues)) {
      // The same policy object (the memory store keys tables by it), with the new configuration.
      const fresh = scalePolicy(policy, 1 / this.instances);
      Object.assign(entry.policy.config as object, fresh.config);
      entry.policy.info = fresh.info;
      entry.sourceValues = configValues(policy.config);
    }
    return entry.policy;
  }

  private localPolicies(policies: readonly Policy[]): Policy[] {
    let local = this.scaledLists.get(policies);
    if (local === undefined) {
      local = policies.map((policy) => this.localPolicy(policy));
      this.scaledLists.set(policies, local);
    } else {
      // Refresh scaled configs (an adaptive member may have moved its rate).
      for (const policy of policies) this.localPolicy(policy);
    }
    return local;
  }

  // The health probe.

  private async runProbe(): Promise<boolean> {
    const inFallback = this.currentMode === 'fallback';
    if (inFallback) this.counts.probes++;
    let answered: boolean;
    let cause: unknown;
    try {
      const remote = this.remote as Store & Partial<Pingable>;
      if (typeof remote.ping === 'function') {
        answered = (await this.race(remote.ping())) === true;
        if (!answered) cause = remote instanceof RedisStore ? remote.lastError : undefined;
      } else {
        await this.race(remote.exists(PROBE_KEY));
        answered = true;
      }
    } catch (error) {
      answered = false;
      cause = error;
    }
    if (answered) {
      this.recover();
    } else if (this.currentMode === 'fallback') {
      if (inFallback) this.counts.probeFailures++;
      this.scheduleProbe();
    } else if (this.fallbackEnabled) {
      this.goToFallback(cause ?? new StoreUnavailableError('The remote store did not answer the probe'));
    }
    return answered;
  }

  /** Probes again after `probeInterval`, on an unref'd timer (or the injected clock's sleep). */
  private scheduleProbe(): void {
    if (this.closed || this.probeTimer !== undefined || this.probeAbort !== undefined) return;
    const run = () => {
      this.probeTimer = undefined;
      this.probeAbort = undefined;
      if (!this.closed && this.currentMode === 'fallback') void this.probe();
    };
    if (this.clock === systemClock) {
      this.probeTimer = setTimeout(run, this.probeIntervalMs);
      this.probeTimer.unref();
      return;
    }
    const abort = new AbortController();
    this.probeAbort = abort;
    this.clock.sleep(this.probeIntervalMs, abort.signal).then(
      () => {
        if (this.probeAbort === abort) run();
      },
      () => {},
    );
  }

  private stopProbe(): void {
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.probeAbort?.abort();
    this.probeAbort = undefined;
  }

  /** The remote call, failing with StoreUnavailableError after `timeout` when one applies to a `remote` store. */
  private race<T>(result: T | Promise<T>): T | Promise<T> {
    const limitMs = this.raceMs;
    if (limitMs === undefined || !(result instanceof Promise)) return result;
    return withTimeout(result, limitMs, () => new StoreUnavailableError(`The remote store did not answer within ${limitMs} ms`));
  }
}

/** A store deciding on a remote (Redis) with a local deny cache, a local fallback and a local key-value cache. */
export function hybridStore(options: HybridStoreOptions): HybridStore {
  return new HybridStore(options);
}
