/**
 * Concurrency limit: at most `max` units in flight per key. Each admission is a holder (token -> cost, lease
 * expiry) that stays until it is released, refunded, or its lease runs out — so a holder that crashed or forgot to
 * release gives its slot back after `lease`.
 *
 * Intended Redis twin (for the Redis store), one user key = two Redis keys sharing the hash tag:
 *   KEYS[1] `prefix:concurrency:name:{key}`        ZSET  member = holder token, score = lease expiry (ms)
 *   KEYS[2] `prefix:concurrency:name:{key}:costs`  HASH  field = holder token, value = cost; field "=" = units in use
 *   ARGV: nowMs, cost, max, leaseMs, token, commit
 * A step: ZRANGEBYSCORE KEYS[1] -inf nowMs (expired holders) -> HMGET their costs, ZREM/HDEL them, HINCRBYFLOAT
 * "=" by minus their sum; admit when inUse + cost <= max: ZADD expiry token, HSET token cost, HINCRBYFLOAT "=" cost,
 * PEXPIREAT both keys at the largest expiry. A refusal walks ZRANGE 0 -1 WITHSCORES adding costs until enough would
 * be free, and answers that holder's expiry - nowMs. Release: ZREM + HDEL + HINCRBYFLOAT "=" -cost; a refund
 * without a token frees the lowest scores first (ZRANGE 0 n). Tokens never start with "=" (nor "#", which names holders admitted without a token).
 */
import { COMMON_OPTION_NAMES, type CommonLimiterOptions, type ObjectAlgorithm, type StepInput, type StepOutcome } from './limiter.js';
import { limiterSettings, makePolicy, PolicyLimiter } from './policy-limiter.js';
import { checkKnownOptions, checkNumber } from '../options.js';
import { parseDuration, type Duration } from '../time.js';

export interface ConcurrencyOptions extends CommonLimiterOptions {
  /** The most units in flight per key at once. */
  max: number;
  /** How long a holder keeps its slot without releasing it. Default "1m". */
  lease?: Duration;
}

export interface ConcurrencyConfig {
  max: number;
  leaseMs: number;
}

interface Holder {
  cost: number;
  expiresAtMs: number;
}

/** Holders in insertion order, which is also expiry order: a lease never ends before an earlier holder's. */
export interface ConcurrencyState {
  holders: Map<string, Holder>;
  inUseUnits: number;
  lastUpdateMs: number;
  lastExpiresAtMs: number;
}

const EPSILON = 1e-9;
/** Names holders admitted without a token (a direct store call); PolicyLimiter always passes one. */
let anonymousCounter = 0;

/** Units held by holders whose lease has ended by `nowMs` (a prefix of the map, since it is in expiry order). */
function expiredUnits(state: ConcurrencyState, nowMs: number): number {
  let units = 0;
  for (const holder of state.holders.values()) {
    if (holder.expiresAtMs > nowMs) break;
    units += holder.cost;
  }
  return units;
}

function dropExpired(state: ConcurrencyState, nowMs: number): void {
  for (const [token, holder] of state.holders) {
    if (holder.expiresAtMs > nowMs) break;
    state.holders.delete(token);
    state.inUseUnits -= holder.cost;
  }
  normalize(state);
}

/** Keeps the running sum exact when nothing is held and never below zero (float noise of fractional costs). */
function normalize(state: ConcurrencyState): void {
  if (state.holders.size === 0 || state.inUseUnits < 0) state.inUseUnits = 0;
}

/** The wait until enough leases end for `needUnits` to be free (holders that release earlier only shorten it). */
function waitForUnits(state: ConcurrencyState, nowMs: number, needUnits: number): number {
  let freed = 0;
  for (const holder of state.holders.values()) {
    if (holder.expiresAtMs <= nowMs) continue;
    freed += holder.cost;
    if (freed + EPSILON >= needUnits) return holder.expiresAtMs - nowMs;
  }
  // Only float noise of fractional costs gets here: once every lease has ended, everything is free.
  return Math.max(0, state.lastExpiresAtMs - nowMs);
}

export const concurrencyAlgorithm: ObjectAlgorithm<ConcurrencyConfig, ConcurrencyState> = {
  kind: 'object',
  name: 'concurrency',
  holdsSlots: true,
  step(state, input: StepInput, config, out: StepOutcome) {
    const { nowMs, cost } = input;
    const { max } = config;
    const inUse = state === undefined ? 0 : Math.max(0, state.inUseUnits - expiredUnits(state, nowMs));
    const available = max - inUse;
    out.waitMs = 0;
    if (cost <= available + EPSILON) {
      out.allowed = true;
      out.remaining = Math.max(0, available - cost);
      out.retryAfterMs = 0;
    } else {
      out.allowed = false;
      out.remaining = Math.max(0, available);
      out.retryAfterMs = cost > max ? Infinity : waitForUnits(state!, nowMs, inUse + cost - max);
    }
    if (!input.commit) {
      out.resetMs = state === undefined ? 0 : Math.max(0, state.lastExpiresAtMs - nowMs);
      return state;
    }
    let next = state;
    if (next !== undefined) dropExpired(next, nowMs);
    if (out.allowed && cost > 0) {
      next ??= { holders: new Map(), inUseUnits: 0, lastUpdateMs: nowMs, lastExpiresAtMs: 0 };
      const token = input.token === '' ? `#${++anonymousCounter}` : input.token;
      const existing = next.holders.get(token);
      if (existing !== undefined) next.holders.delete(token);
      // A clock that steps backwards must not put a lease before an earlier holder's: keep expiry order.
      const expiresAtMs = Math.max(nowMs + config.leaseMs, next.lastExpiresAtMs);
      next.holders.set(token, { cost: cost + (existing?.cost ?? 0), expiresAtMs });
      next.inUseUnits += cost;
      next.lastExpiresAtMs = expiresAtMs;
    }
    if (next === undefined || next.holders.size === 0) {
      out.resetMs = 0;
      return undefined;
    }
    if (nowMs > next.lastUpdateMs) next.lastUpdateMs = nowMs;
    out.resetMs = Math.max(0, next.lastExpiresAtMs - nowMs);
    return next;
  },
  refund(state, nowMs, cost, _config, token) {
    if (state === undefined) return undefined;
    dropExpired(state, nowMs);
    if (token !== '') {
      const holder = state.holders.get(token);
      if (holder !== undefined) {
        state.holders.delete(token);
        state.inUseUnits -= holder.cost;
      }
    } else {
      // No token (a refund after consume): free the oldest holders, splitting the last one if needed.
      let leftUnits = cost;
      for (const [holderToken, holder] of state.holders) {
        if (leftUnits <= EPSILON) break;
        if (holder.cost <= leftUnits + EPSILON) {
          state.holders.delete(holderToken);
          state.inUseUnits -= holder.cost;
          leftUnits -= holder.cost;
        } else {
          holder.cost -= leftUnits;
          state.inUseUnits -= leftUnits;
          leftUnits = 0;
        }
      }
    }
    normalize(state);
    if (state.holders.size === 0) return undefined;
    if (nowMs > state.lastUpdateMs) state.lastUpdateMs = nowMs;
    return state;
  },
  expiresAt(state) {
    return state.lastExpiresAtMs;
  },
  lastUpdateMs(state) {
    return state.lastUpdateMs;
  },
  refillPerSecond() {
    return 0;
  },
};

/**
 * At most `max` units in flight per key. `acquire()` returns a permit whose `release()` frees its slot;
 * `consume()` takes a slot that `refund(key, cost)` gives back (oldest holders first).
 */
export function concurrency(options: ConcurrencyOptions): PolicyLimiter {
  checkKnownOptions(options, 'concurrency', [...COMMON_OPTION_NAMES, 'max', 'lease']);
  const max = checkNumber(options?.max, 'max');
  const leaseMs = parseDuration(options.lease ?? '1m', 'lease');
  const settings = limiterSettings(options, 'concurrency', ['max', 'lease'], `max${max}-lease${leaseMs}ms`);
  const policy = makePolicy(settings, {
    algorithm: concurrencyAlgorithm,
    config: { max, leaseMs },
    limit: max,
    windowMs: leaseMs,
    defaultName: settings.name,
  });
  return new PolicyLimiter(settings, [policy], { holdsSlots: true });
}
