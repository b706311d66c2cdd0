/**
 * The Redis store: every decision runs the algorithm's Lua twin atomically in Redis (one script for all
 * algorithms), so limits are exact across any number of processes. Decisions issued in the same tick go out as
 * one script call per Cluster slot (a batch of independent decisions), a composite decides all its policies in one
 * call, and a call never waits longer than `timeout`: then it rejects with StoreUnavailableError, which limiters
 * answer with their failMode.
 */
import type { Cluster, Redis } from 'ioredis';
import { ConfigError, StoreUnavailableError } from '../errors.js';
import type { Decision, Policy, PolicyInfo } from '../limiters/limiter.js';
import { describeError, log, resolveLogger, type Logger } from '../metrics/logger.js';
import { resolveMetrics, type MetricsOption } from '../metrics/registry.js';
import { StoreInstruments } from '../metrics/store-metrics.js';
import { checkKnownOptions, checkNumber, checkOneOf } from '../options.js';
import { parseDuration, type Duration } from '../time.js';
import { DECISION_SCRIPT, INCR_WITH_TTL_LUA, sha1 } from './lua/script.js';
import { CommandRunner, LuaScript, type RedisClient } from './redis-commands.js';
import { escapeBraces, keyTag, slotOfTag } from './redis-keys.js';
import type { DecideCall, StateView, Store } from './store.js';

export type RedisStoreClock = 'redis' | 'client';

export interface RedisStoreOptions {
  /** An ioredis `Redis` or `Cluster` client. The store never closes it. */
  client: Redis | Cluster;
  /** Prepended verbatim to every key the store writes (limiter state and key-value facet). Default "". */
  prefix?: string;
  /**
   * Whose clock decides: 'redis' (default) reads Redis TIME inside the script, so app servers' clocks never
   * matter; 'client' uses the limiter's clock (`DecideCall.nowMs`), for replaying traces with a fake clock.
   */
  clock?: RedisStoreClock;
  /** The longest a call waits for Redis before it rejects with StoreUnavailableError. Default "1s". */
  timeout?: Duration;
  /** Most decisions sent in one script call (decisions issued in the same tick are batched). Default 128. */
  maxBatchSize?: number;
  /** Where round trips (count, time) and errors are recorded: default registry, another, or false. */
  metrics?: MetricsOption;
  /** Told when Redis stops answering (warn, with the cause) and answers again (info); silent when unset. */
  logger?: Logger;
}

/** In 'client' clock mode keys live this much longer than needed: tolerance for skew between app clocks. */
export const CLIENT_CLOCK_TTL_SLACK_MS = 60_000;

type Op = 'd' | 'i' | 'r';

interface PolicyPlan {
  /** The policy's escaped id followed by ":{" — the key is this + tag + "}". */
  readonly keyHead: string;
  readonly algorithmId: string;
  readonly configCount: string;
  readonly configFields: readonly string[];
  /** Extra keys of the algorithm's twin: the policy key + each suffix. */
  readonly keySuffixes: readonly string[];
}

/** One group of the decision script: a decision, a composite decision, an inspection or a refund. */
interface PendingGroup {
  readonly op: Op;
  readonly policies: readonly Policy[];
  readonly keys: string[];
  /** The time argument: '' for Redis TIME, else the caller's nowMs. */
  readonly nowArg: string;
  readonly cost: number;
  readonly maxWaitMs: number;
  readonly token: string;
  /** A decide of one policy, resolved with one Decision (not an array). */
  readonly single: boolean;
  resolve(value: any): void;
  reject(error: unknown): void;
}

const decisionScript = new LuaScript(DECISION_SCRIPT.lua, DECISION_SCRIPT.sha1);
const incrScript = new LuaScript(INCR_WITH_TTL_LUA, sha1(INCR_WITH_TTL_LUA));

export class RedisStore implements Store {
  readonly kind = 'redis';
  readonly synchronous = false;
  readonly client: RedisClient;
  readonly prefix: string;
  readonly clock: RedisStoreClock;
  readonly timeoutMs: number;
  readonly maxBatchSize: number;
  private readonly isCluster: boolean;
  private readonly slackArg: string;
  private readonly runner: CommandRunner;
  private readonly plans = new Map<string, PolicyPlan>();
  private readonly batches = new Map<number, PendingGroup[]>();
  private flushScheduled = false;
  private readonly availabilityListeners = new Set<(available: boolean, cause?: unknown) => void>();
  private isAvailable = true;
  private readonly logger: Logger | undefined;
  private unavailableSinceMs = 0;
  private lastFailure: unknown;
  private closed = false;

  constructor(options: RedisStoreOptions) {
    checkKnownOptions(options, 'redisStore', ['client', 'prefix', 'clock', 'timeout', 'maxBatchSize', 'metrics', 'logger']);
    if (options === undefined) throw new ConfigError('redisStore', 'an options object with a client', options);
    const client = options.client as unknown as Partial<RedisClient> | undefined;
    if (typeof client !== 'object' || client === null || typeof client.sendCommand !== 'function' || typeof client.status !== 'string') {
      throw new ConfigError('client', 'an ioredis Redis or Cluster client', options.client);
    }
    const clientKeyPrefix = (client as { options?: { keyPrefix?: unknown } }).options?.keyPrefix;
    if (typeof clientKeyPrefix === 'string' && /[{}]/.test(clientKeyPrefix)) {
      throw new ConfigError('client', 'a client whose keyPrefix has no "{" or "}" (it would move the hash tag)', clientKeyPrefix);
    }
    this.client = options.client;
    this.isCluster = (client as { isCluster?: boolean }).isCluster === true;
    // null is a wrong value, not "use the default".
    const prefix = options.prefix === undefined ? '' : options.prefix;
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) throw new ConfigError('prefix', 'a string without "{" or "}"', prefix);
    this.prefix = prefix;
    this.clock = checkOneOf(options.clock === undefined ? 'redis' : options.clock, 'clock', ['redis', 'client'] as const);
    this.timeoutMs = parseDuration(options.timeout === undefined ? 1_000 : options.timeout, 'timeout');
    this.maxBatchSize = checkNumber(options.maxBatchSize === undefined ? 128 : options.maxBatchSize, 'maxBatchSize', {
      integer: true,
      min: 1,
      exclusiveMin: false,
      max: 10_000,
    });
    this.slackArg = this.clock === 'client' ? String(CLIENT_CLOCK_TTL_SLACK_MS) : '0';
    const instruments = new StoreInstruments(resolveMetrics(options.metrics), this.kind);
    this.logger = resolveLogger(options.logger);
    this.runner = new CommandRunner(this.client, this.timeoutMs, (answered, cause) => this.setAvailable(answered, cause), instruments);
  }

  // Availability, for wrappers such as a hybrid store and for health checks.

  /** False from a call that found Redis out (timeout, connection lost) until the next call Redis answers. */
  get available(): boolean {
    return this.isAvailable;
  }

  /** The error of the last call that found Redis out. */
  get lastError(): unknown {
    return this.lastFailure;
  }

  /** Calls `listener` whenever `available` flips. */
  onAvailabilityChange(listener: (available: boolean, cause?: unknown) => void): { dispose(): void } {
    this.availabilityListeners.add(listener);
    return { dispose: () => void this.availabilityListeners.delete(listener) };
  }

  /** A PING within the timeout: resolves true when Redis answers (and marks the store available), never rejects. */
  async ping(): Promise<boolean> {
    try {
      return (await this.runner.run('ping', [])) === 'PONG';
    } catch {
      return false;
    }
  }

  // The Store contract.

  decide(policy: Policy, key: string, call: DecideCall): Promise<Decision> {
    return this.enqueue('d', [policy], key, call.nowMs, call.cost, call.maxWaitMs ?? 0, call.token ?? '', true);
  }

  decideAll(policies: readonly Policy[], key: string, call: DecideCall): Promise<Decision[]> {
    if (policies.length === 0) return Promise.resolve([]);
    return this.enqueue('d', policies, key, call.nowMs, call.cost, call.maxWaitMs ?? 0, call.token ?? '', false);
  }

  inspect(policy: Policy, key: string, nowMs: number): Promise<StateView> {
    return this.enqueue('i', [policy], key, nowMs, 0, 0, '', true);
  }

  refund(policy: Policy, key: string, cost: number, nowMs: number, token = ''): Promise<void> {
    return this.enqueue('r', [policy], key, nowMs, cost, 0, token, true);
  }

  async reset(policy: Policy, key: string): Promise<void> {
    const policyKey = this.policyKey(policy, key);
    await this.runner.run('del', [policyKey, ...this.plan(policy).keySuffixes.map((suffix) => policyKey + suffix)]);
  }

  /** Stops taking calls; sends what is batched. The client is the caller's and stays open. */
  async close(): Promise<void> {
    this.flush();
    this.closed = true;
  }

  /** The Redis key holding a policy's state for a user key (for tests, debugging and monitoring). */
  policyKey(policy: Policy, userKey: string): string {
    return `${this.plan(policy).keyHead}${keyTag(userKey)}}`;
  }

  // The key-value facet. Keys are `${prefix}${key}`; every command touches one key, so it is Cluster-safe.

  async get(key: string): Promise<string | undefined> {
    const value = await this.kv('get', [this.prefix + key]);
    return value === null ? undefined : String(value);
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const args: (string | number)[] = [this.prefix + key, String(value)];
    if (ttlMs !== undefined) args.push('PX', Math.ceil(parseDuration(ttlMs, 'ttlMs')));
    await this.kv('set', args);
  }

  async incr(key: string, by = 1, ttlMs?: number): Promise<number> {
    if (!Number.isSafeInteger(by)) throw new TypeError(`incr/decr on Redis takes an integer step, received ${by}`);
    if (ttlMs === undefined) return Number(await this.kv('incrby', [this.prefix + key, by]));
    const ttl = Math.ceil(parseDuration(ttlMs, 'ttlMs'));
    return Number(await this.kv('evalsha', [incrScript.sha1, 1, this.prefix + key, by, ttl], incrScript));
  }

  decr(key: string, by = 1, ttlMs?: number): Promise<number> {
    return this.incr(key, -by, ttlMs);
  }

  async delete(key: string): Promise<boolean> {
    return Number(await this.kv('del', [this.prefix + key])) > 0;
  }

  async exists(key: string): Promise<boolean> {
    return Number(await this.kv('exists', [this.prefix + key])) > 0;
  }

  private async kv(name: string, args: (string | number)[], script?: LuaScript): Promise<unknown> {
    if (this.closed) throw new StoreUnavailableError('The Redis store is closed');
    try {
      return await this.runner.run(name, args, script);
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      // A value of the wrong kind is the caller's mistake, not an outage (the memory store throws TypeError too).
      if (cause instanceof Error && /not an integer|WRONGTYPE/.test(cause.message)) throw new TypeError(cause.message, { cause });
      throw error;
    }
  }

  // Decisions: grouping, batching, parsing.

  private plan(policy: Policy): PolicyPlan {
    let plan = this.plans.get(policy.id);
    if (plan === undefined) {
      const lua = DECISION_SCRIPT.algorithms.get(policy.algorithm.name);
      const id = DECISION_SCRIPT.ids.get(policy.algorithm.name);
      if (lua === undefined || id === undefined) {
        throw new ConfigError(
          'store',
          `a store that runs the "${policy.algorithm.name}" algorithm (redisStore runs: ${[...DECISION_SCRIPT.ids.keys()].join(', ')})`,
          'redisStore',
        );
      }
      plan = {
        keyHead: `${this.prefix}${escapeBraces(policy.id)}:{`,
        algorithmId: String(id),
        configCount: String(lua.configFields.length),
        configFields: lua.configFields,
        keySuffixes: lua.keySuffixes ?? [],
      };
      this.plans.set(policy.id, plan);
    }
    return plan;
  }

  private enqueue(
    op: Op,
    policies: readonly Policy[],
    userKey: string,
    nowMs: number,
    cost: number,
    maxWaitMs: number,
    token: string,
    single: boolean,
  ): Promise<any> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('The Redis store is closed'));
    const tag = keyTag(userKey);
    const keys: string[] = [];
    for (const policy of policies) {
      const plan = this.plan(policy);
      const key = `${plan.keyHead}${tag}}`;
      keys.push(key);
      for (const suffix of plan.keySuffixes) keys.push(key + suffix);
    }
    const nowArg = this.clock === 'client' ? String(nowMs) : '';
    return new Promise((resolve, reject) => {
      const slot = this.isCluster ? slotOfTag(tag) : 0;
      let batch = this.batches.get(slot);
      if (batch === undefined) {
        batch = [];
        this.batches.set(slot, batch);
      }
      batch.push({ op, policies, keys, nowArg, cost, maxWaitMs, token, single, resolve, reject });
      if (batch.length >= this.maxBatchSize) {
        this.batches.delete(slot);
        this.send(batch);
      } else if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.batches.size === 0) return;
    const batches = [...this.batches.values()];
    this.batches.clear();
    for (const batch of batches) this.send(batch);
  }

  /** One script call for a batch of groups (all of one slot); see dispatcher.lua.ts for the layout. */
  private send(batch: PendingGroup[]): void {
    const keys: string[] = [];
    const policyArgs: string[] = [];
    const groupArgs: string[] = [];
    const indexes = new Map<Policy, string>();
    let nowArg = '';
    for (const group of batch) {
      for (const key of group.keys) keys.push(key);
      if (group.nowArg !== nowArg) {
        nowArg = group.nowArg;
        groupArgs.push('n', nowArg);
      }
      const { op, policies } = group;
      if (op === 'd' && group.single && group.cost === 1 && group.maxWaitMs === 0 && group.token === '') {
        groupArgs.push(this.policyIndex(policies[0]!, indexes, policyArgs));
        continue;
      }
      groupArgs.push(op, String(policies.length));
      if (op === 'd') groupArgs.push(String(group.cost), String(group.maxWaitMs), group.token);
      else if (op === 'r') groupArgs.push(String(group.cost), group.token);
      for (const policy of policies) groupArgs.push(this.policyIndex(policy, indexes, policyArgs));
    }
    const args = [DECISION_SCRIPT.sha1, String(keys.length), ...keys, this.slackArg, String(indexes.size), ...policyArgs, ...groupArgs];
    this.runner.run('evalsha', args, decisionScript).then(
      (reply: (number | string)[]) => this.deliver(batch, reply),
      (error: unknown) => {
        for (const group of batch) group.reject(error);
      },
    );
  }

  /** The policy's index in this call's policy table, adding it (algorithm id, config) the first time. */
  private policyIndex(policy: Policy, indexes: Map<Policy, string>, policyArgs: string[]): string {
    let index = indexes.get(policy);
    if (index === undefined) {
      index = String(indexes.size + 1);
      indexes.set(policy, index);
      const plan = this.plan(policy);
      const config = policy.config as Record<string, unknown>;
      policyArgs.push(plan.algorithmId, plan.configCount);
      for (const field of plan.configFields) policyArgs.push(String(config[field]));
    }
    return index;
  }

  private deliver(batch: readonly PendingGroup[], reply: readonly (number | string)[]): void {
    let at = 0;
    for (const group of batch) {
      const first = reply[at];
      if (first === undefined || (typeof first === 'string' && first.startsWith('E '))) {
        const message = first === undefined ? 'reply shorter than the batch' : first.slice(2);
        group.reject(new StoreUnavailableError(`Redis decision script failed: ${message}`));
        at += 1;
        continue;
      }
      if (group.op === 'r') {
        at += 1;
        group.resolve(undefined);
      } else if (group.op === 'i') {
        group.resolve(parseView(first));
        at += group.policies.length;
      } else if (group.single) {
        group.resolve(decisionAt(group.policies[0]!.info, reply, at));
        at += 3;
      } else {
        const decisions: Decision[] = [];
        for (const policy of group.policies) {
          decisions.push(decisionAt(policy.info, reply, at));
          at += 3;
        }
        group.resolve(decisions);
      }
    }
  }

  /** One line per flip, not per failed call: the limiters log their own failMode answers. */
  private logAvailability(available: boolean, cause: unknown): void {
    if (!available) {
      this.unavailableSinceMs = Date.now();
      log(this.logger!, 'warn', { event: 'store.unavailable', component: 'store', store: this.kind, cause: describeError(cause) }, 'sluice: Redis is not answering');
    } else {
      log(this.logger!, 'info', { event: 'store.available', component: 'store', store: this.kind, outageMs: Date.now() - this.unavailableSinceMs }, 'sluice: Redis answers again');
    }
  }

  private setAvailable(available: boolean, cause?: unknown): void {
    if (!available) this.lastFailure = cause;
    if (available === this.isAvailable) return;
    this.isAvailable = available;
    if (this.logger) this.logAvailability(available, cause);
    for (const listener of [...this.availabilityListeners]) {
      try {
        listener(available, cause);
      } catch {
        // A listener's failure is not the store's.
      }
    }
  }
}

function parseNumber(text: string | undefined): number {
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  return Number(text);
}

/** -1 stands for Infinity in the script's integer replies. */
function integerMs(value: number | string | undefined): number {
  return value === -1 ? Infinity : Number(value);
}

/**
 * A decision from the script's three integers (remaining * 2 + allowed, resetMs, waitMs or retryAfterMs), equal to
 * what decisionFrom() makes of the step's outcome.
 */
function decisionAt(info: PolicyInfo, reply: readonly (number | string)[], at: number): Decision {
  const packed = Number(reply[at]);
  const allowed = packed % 2 === 1;
  const lastMs = integerMs(reply[at + 2]);
  const decision: Decision = {
    allowed,
    limit: info.limit,
    remaining: (packed - (allowed ? 1 : 0)) / 2,
    resetMs: integerMs(reply[at + 1]),
    retryAfterMs: allowed ? 0 : lastMs,
    policy: info,
  };
  return allowed && lastMs > 0 ? { ...decision, waitMs: lastMs } : decision;
}

/** "available resetMs lastUpdateMs" from an inspect group. */
function parseView(entry: number | string | undefined): StateView {
  const [available, resetMs, lastUpdateMs] = String(entry).split(' ');
  return {
    available: parseNumber(available),
    resetMs: parseNumber(resetMs),
    lastUpdateMs: lastUpdateMs === '-' || lastUpdateMs === undefined ? undefined : parseNumber(lastUpdateMs),
  };
}

/** A store that runs every limiter's step in Redis (see docs/stores.md). */
export function redisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options);
}
