/**
 * Exact sliding window: a per-key log of admitted calls, so that no window of length `window` ever holds more than
 * `limit` units. The log is a ring of [timeMs, cost] pairs that grows on demand up to `limit` entries: with costs
 * >= 1 the live entries can never outnumber the limit; a call that finds the ring full (possible only with
 * fractional costs) is merged into the newest entry at its own time, which only keeps units in the window longer.
 */
import type { ObjectAlgorithm, StepInput, StepOutcome } from './limiter.js';

/** Config fields, in the order a Lua twin takes them as ARGV: limit, windowMs. */
export interface SlidingWindowExactConfig {
  limit: number;
  windowMs: number;
}

/** A key's request log, oldest entry at `head`. */
export interface RequestLog {
  /** Interleaved pairs: entries[2i] is an entry's time (ms), entries[2i + 1] its cost. */
  entries: Float64Array;
  head: number;
  size: number;
  /** Sum of the costs in the log. */
  total: number;
}

const EPSILON = 1e-9;
const INITIAL_ENTRIES = 4;

export const slidingWindowExactAlgorithm: ObjectAlgorithm<SlidingWindowExactConfig, RequestLog> = {
  kind: 'object',
  name: 'sliding-window-exact',
  step(log: RequestLog | undefined, input: StepInput, config: SlidingWindowExactConfig, out: StepOutcome): RequestLog | undefined {
    const { nowMs, cost } = input;
    const { limit, windowMs } = config;
    // The log's times never go back: a clock that steps back is taken to be at the newest entry.
    const effectiveMs = log && log.size > 0 ? Math.max(nowMs, newestTimeMs(log)) : nowMs;
    // Entries at or before the cutoff have left the window. They are dropped only when an admission writes the
    // log: a check or a refusal changes nothing, even for a clock that later steps back.
    const cutoffMs = effectiveMs - windowMs;
    const firstLive = log ? firstLiveIndex(log, cutoffMs) : 0;
    const used = log ? log.total - costBefore(log, firstLive) : 0;
    out.waitMs = 0;
    if (used + cost <= limit + EPSILON) {
      out.allowed = true;
      out.remaining = Math.max(0, limit - used - cost);
      out.retryAfterMs = 0;
      // Back to a full quota when the newest entry leaves the window (this call's, when it adds one).
      const newestMs = cost > 0 ? effectiveMs : used > 0 ? newestTimeMs(log!) : undefined;
      out.resetMs = newestMs === undefined ? 0 : newestMs + windowMs - nowMs;
      if (!input.commit || cost <= 0) return log && log.size > 0 ? log : undefined;
      const target = log ?? newLog(limit);
      dropExpired(target, cutoffMs);
      append(target, effectiveMs, cost, limit);
      return target;
    }
    out.allowed = false;
    out.remaining = Math.max(0, limit - used);
    out.retryAfterMs = cost > limit ? Infinity : freedAtMs(log!, firstLive, used + cost - limit) + windowMs - nowMs;
    out.resetMs = used > 0 ? newestTimeMs(log!) + windowMs - nowMs : 0;
    return log && log.size > 0 ? log : undefined;
  },
  refund(log, nowMs, cost, config) {
    if (!log || log.size === 0) return undefined;
    dropExpired(log, Math.max(nowMs, newestTimeMs(log)) - config.windowMs);
    // Give back the most recent units first.
    let left = cost;
    while (left > 0 && log.size > 0) {
      const slot = ringIndex(log, log.size - 1) * 2 + 1;
      const taken = Math.min(left, log.entries[slot]!);
      left -= taken;
      if (log.entries[slot]! - taken <= EPSILON) {
        log.total -= log.entries[slot]!;
        log.size--;
      } else {
        log.entries[slot] = log.entries[slot]! - taken;
        log.total -= taken;
      }
    }
    if (log.size === 0) return undefined;
    log.total = Math.max(0, log.total);
    return log;
  },
  expiresAt(log, config) {
    return log.size > 0 ? newestTimeMs(log) + config.windowMs : 0;
  },
  lastUpdateMs(log) {
    return log.size > 0 ? newestTimeMs(log) : undefined;
  },
  refillPerSecond(config) {
    return (config.limit / config.windowMs) * 1000;
  },
};

function newLog(limit: number): RequestLog {
  return { entries: new Float64Array(2 * Math.min(INITIAL_ENTRIES, maxEntries(limit))), head: 0, size: 0, total: 0 };
}

function maxEntries(limit: number): number {
  return Math.max(1, Math.floor(limit));
}

function capacityOf(log: RequestLog): number {
  return log.entries.length / 2;
}

function ringIndex(log: RequestLog, i: number): number {
  return (log.head + i) % capacityOf(log);
}

function newestTimeMs(log: RequestLog): number {
  return log.entries[ringIndex(log, log.size - 1) * 2]!;
}

/** Removes entries at or before `cutoffMs`: an entry at t is out of the window (now - window, now] from t + window. */
function dropExpired(log: RequestLog, cutoffMs: number): void {
  while (log.size > 0 && log.entries[log.head * 2]! <= cutoffMs) {
    log.total -= log.entries[log.head * 2 + 1]!;
    log.head = (log.head + 1) % capacityOf(log);
    log.size--;
  }
  if (log.size === 0) {
    log.head = 0;
    log.total = 0;
  }
}

/** How many of the oldest entries are at or before `cutoffMs`. */
function firstLiveIndex(log: RequestLog, cutoffMs: number): number {
  let i = 0;
  while (i < log.size && log.entries[ringIndex(log, i) * 2]! <= cutoffMs) i++;
  return i;
}

/** The cost of the `count` oldest entries. */
function costBefore(log: RequestLog, count: number): number {
  let cost = 0;
  for (let i = 0; i < count; i++) cost += log.entries[ringIndex(log, i) * 2 + 1]!;
  return cost;
}

/** The time of the entry (from `from`, oldest first) whose leaving frees `needed` units. */
function freedAtMs(log: RequestLog, from: number, needed: number): number {
  let freed = 0;
  for (let i = from; i < log.size; i++) {
    const at = ringIndex(log, i) * 2;
    freed += log.entries[at + 1]!;
    if (freed + EPSILON >= needed) return log.entries[at]!;
  }
  return newestTimeMs(log);
}

function append(log: RequestLog, timeMs: number, cost: number, limit: number): void {
  if (log.size === capacityOf(log)) {
    if (log.size >= maxEntries(limit)) {
      const newest = ringIndex(log, log.size - 1) * 2;
      log.entries[newest] = timeMs;
      log.entries[newest + 1] = log.entries[newest + 1]! + cost;
      log.total += cost;
      return;
    }
    grow(log, Math.min(maxEntries(limit), capacityOf(log) * 2));
  }
  const at = ringIndex(log, log.size) * 2;
  log.entries[at] = timeMs;
  log.entries[at + 1] = cost;
  log.size++;
  log.total += cost;
}

function grow(log: RequestLog, capacity: number): void {
  const entries = new Float64Array(capacity * 2);
  for (let i = 0; i < log.size; i++) {
    const from = ringIndex(log, i) * 2;
    entries[i * 2] = log.entries[from]!;
    entries[i * 2 + 1] = log.entries[from + 1]!;
  }
  log.entries = entries;
  log.head = 0;
}
