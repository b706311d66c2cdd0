/**
 * The contenders of the memory group, each built in its own host process: sluice limiters on the memory store,
 * rate-limiter-flexible's RateLimiterMemory, express-rate-limit's MemoryStore, and a bare awaited Map token
 * bucket (the ceiling). Every contender admits every request and keeps every key's state for the whole run.
 */
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { MemoryStore as ExpressMemoryStore } from 'express-rate-limit';
import type * as Sluice from '../src/index.js';
import { sluice } from './lib/sluice.js';
import type { Contender } from './lib/contender.js';
import { ipKey, ipKeys } from './lib/keys.js';

export interface MemoryParams {
  /** How many distinct keys the loop cycles through (1: one hot key). 0: generate none (heap measurements). */
  keyCount: number;
  /** For sluice: which limiter (a constructor name in src/index.ts). */
  algorithm?: string;
  /** For sluice: `await consume()` (the default) or the synchronous `decide()`. */
  api?: 'consume' | 'decide';
  /** For sluice: the memory store's maxKeys. */
  maxKeys?: number;
  /** For sluice: false turns the limiter's metrics off (they are on by default, into the default registry). */
  metrics?: false;
}

/** A limit no run reaches: every decision admits. */
const LIMIT = 1e9;
const WINDOW_MS = 3_600_000;

/**
 * A contender's call: the library's own promise for one decision (awaited as is, with no wrapper of ours around it),
 * and how to read "admitted" from what it resolves to. A rejection counts as a refusal.
 */
interface Call<T> {
  decide: (key: string) => Promise<T>;
  admitted: (result: T) => boolean;
}

/**
 * Options per sluice limiter: limits that admit everything, with refill slow enough that each key keeps its state
 * (a store drops a state once it is back to fresh, which would turn "1M tracked keys" into a churn of new keys).
 */
/** Options every sluice contender passes on (metrics: false for the metrics-off contender). */
type Extra = { metrics?: false };

export const SLUICE_LIMITERS: Record<string, (store: Sluice.MemoryStore, extra: Extra) => Sluice.Limiter> = {
  tokenBucket: (store, extra) => sluice.tokenBucket({ rate: 1, per: '1s', burst: LIMIT, store, ...extra }),
  gcra: (store, extra) => sluice.gcra({ rate: 1, per: '1s', burst: LIMIT, store, ...extra }),
  leakyBucket: (store, extra) => sluice.leakyBucket({ rate: 1, per: '1s', capacity: LIMIT, mode: 'police', store, ...extra }),
  fixedWindow: (store, extra) => sluice.fixedWindow({ limit: LIMIT, window: WINDOW_MS, store, ...extra }),
  slidingWindow: (store, extra) => sluice.slidingWindow({ limit: LIMIT, window: WINDOW_MS, precision: 'approximate', store, ...extra }),
  // A log of every admitted call in the window: a 100 ms window keeps one hot key's log to what 100 ms admits.
  slidingWindowExact: (store, extra) => sluice.slidingWindow({ limit: LIMIT, window: '100ms', precision: 'exact', store, ...extra }),
};

/** What each sluice contender is, for the notes. */
export const SLUICE_LIMITER_OPTIONS: Record<string, string> = {
  tokenBucket: "tokenBucket({ rate: 1, per: '1s', burst: 1e9 })",
  gcra: "gcra({ rate: 1, per: '1s', burst: 1e9 })",
  leakyBucket: "leakyBucket({ rate: 1, per: '1s', capacity: 1e9, mode: 'police' })",
  fixedWindow: "fixedWindow({ limit: 1e9, window: '1h' })",
  slidingWindow: "slidingWindow({ limit: 1e9, window: '1h', precision: 'approximate' })",
  slidingWindowExact: "slidingWindow({ limit: 1e9, window: '100ms', precision: 'exact' })",
};

/** The sluice limiters present in src/index.ts (the others have not landed). */
export function landedSluiceLimiters(): string[] {
  const constructorOf = (name: string) => (name === 'slidingWindowExact' ? 'slidingWindow' : name);
  return Object.keys(SLUICE_LIMITERS).filter((name) => typeof (sluice as Record<string, unknown>)[constructorOf(name)] === 'function');
}

/** The loop shared by the awaited contenders: cycles through the keys, counts refusals (there must be none). */
function awaitedLoop<T>({ decide, admitted }: Call<T>, keyCount: number, measure?: Contender['measure']): Contender {
  const keys = ipKeys(Math.max(keyCount, 1));
  let next = 0;
  let refused = 0;
  return {
    async run(ops) {
      for (let i = 0; i < ops; i++) {
        try {
          if (!admitted(await decide(keys[next]!))) refused++;
        } catch {
          refused++;
        }
        if (++next === keys.length) next = 0;
      }
    },
    collect() {
      const figures = { refused };
      refused = 0;
      return figures;
    },
    measure,
  };
}

function syncLoop(take: (key: string) => boolean, keyCount: number, measure?: Contender['measure']): Contender {
  const keys = ipKeys(Math.max(keyCount, 1));
  let next = 0;
  let refused = 0;
  return {
    run(ops) {
      for (let i = 0; i < ops; i++) {
        if (!take(keys[next]!)) refused++;
        if (++next === keys.length) next = 0;
      }
    },
    collect() {
      const figures = { refused };
      refused = 0;
      return figures;
    },
    measure,
  };
}

declare const gc: (() => void) | undefined;

/** Heap (JS heap + array buffers) after two full collections. Needs --expose-gc. */
export function settledHeapBytes(): number {
  if (typeof gc !== 'function') throw new Error('run with --expose-gc');
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Bytes retained per key after `count` distinct keys were decided, keys included (they are made inside). */
async function heapPerKey<T>({ decide }: Call<T>, count: number): Promise<number> {
  const before = settledHeapBytes();
  for (let i = 0; i < count; i++) await decide(ipKey(i));
  const after = settledHeapBytes();
  return (after - before) / count;
}

function heapMeasure<T>(call: Call<T>): Contender['measure'] {
  return (name, args) => {
    if (name === 'heapPerKey') return heapPerKey(call, (args as { count: number }).count);
    throw new Error(`unknown measurement ${name}`);
  };
}

export function bareMap({ keyCount }: MemoryParams): Contender {
  interface Bucket {
    tokens: number;
    lastMs: number;
  }
  const buckets = new Map<string, Bucket>();
  const ratePerMs = 1 / 1000;
  // The ceiling: what any awaited in-process token bucket must at least do (read the clock, find the key, refill).
  const take = async (key: string): Promise<boolean> => {
    const nowMs = Date.now();
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: LIMIT, lastMs: nowMs };
      buckets.set(key, bucket);
    } else if (nowMs > bucket.lastMs) {
      bucket.tokens = Math.min(LIMIT, bucket.tokens + (nowMs - bucket.lastMs) * ratePerMs);
      bucket.lastMs = nowMs;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };
  const call: Call<boolean> = { decide: take, admitted: (allowed) => allowed };
  return awaitedLoop(call, keyCount, heapMeasure(call));
}

export function sluiceLimiter({ keyCount, algorithm = 'tokenBucket', api = 'consume', maxKeys, metrics }: MemoryParams): Contender {
  const store = sluice.memoryStore(maxKeys === undefined ? {} : { maxKeys });
  const limiter = SLUICE_LIMITERS[algorithm]!(store, metrics === false ? { metrics: false } : {});
  const call: Call<Sluice.Decision> = { decide: (key) => limiter.consume(key), admitted: (decision) => decision.allowed };
  const measure: Contender['measure'] = (name, args) => {
    if (name === 'heapPerKey') return heapPerKey(call, (args as { count: number }).count);
    if (name === 'boundedHeap') return boundedHeap(limiter, store, args as BoundedHeapArgs);
    throw new Error(`unknown measurement ${name}`);
  };
  if (api === 'decide') return syncLoop((key) => (limiter.decide(key) as Sluice.Decision).allowed, keyCount, measure);
  return awaitedLoop(call, keyCount, measure);
}

export interface BoundedHeapArgs {
  count: number;
  /** Where to take the "retained so far" figure to compare the end with. */
  checkpoint: number;
}

export interface BoundedHeapResult {
  decisionsPerSec: number;
  peakHeapMB: number;
  retainedAtCheckpointMB: number;
  retainedAtEndMB: number;
  keysHeld: number;
}

/** Decides `count` distinct keys on a store bounded by maxKeys; samples the heap to find its peak. */
function boundedHeap(limiter: Sluice.Limiter, store: Sluice.MemoryStore, { count, checkpoint }: BoundedHeapArgs): BoundedHeapResult {
  const base = settledHeapBytes();
  let peak = 0;
  let retainedAtCheckpoint = 0;
  const started = process.hrtime.bigint();
  let pausedNs = 0n;
  for (let i = 0; i < count; i++) {
    limiter.decide(ipKey(i));
    if ((i & 0xffff) === 0xffff) {
      const usage = process.memoryUsage();
      peak = Math.max(peak, usage.heapUsed + usage.arrayBuffers - base);
    }
    if (i + 1 === checkpoint) {
      const pause = process.hrtime.bigint();
      retainedAtCheckpoint = settledHeapBytes() - base;
      pausedNs += process.hrtime.bigint() - pause;
    }
  }
  const elapsedNs = Number(process.hrtime.bigint() - started - pausedNs);
  const retainedAtEnd = settledHeapBytes() - base;
  const MB = 2 ** 20;
  return {
    decisionsPerSec: (count / elapsedNs) * 1e9,
    peakHeapMB: peak / MB,
    retainedAtCheckpointMB: retainedAtCheckpoint / MB,
    retainedAtEndMB: retainedAtEnd / MB,
    keysHeld: store.size(),
  };
}

export function rateLimiterMemory({ keyCount }: MemoryParams): Contender {
  const limiter = new RateLimiterMemory({ points: LIMIT, duration: WINDOW_MS / 1000 });
  // consume() rejects when limited (counted as a refusal by the loop).
  const call: Call<unknown> = { decide: (key) => limiter.consume(key), admitted: () => true };
  return awaitedLoop(call, keyCount, heapMeasure(call));
}

export function expressRateLimitMemoryStore({ keyCount }: MemoryParams): Contender {
  const store = new ExpressMemoryStore();
  store.init({ windowMs: WINDOW_MS } as Parameters<ExpressMemoryStore['init']>[0]);
  // express-rate-limit's middleware compares the hit count with its limit; the store does the counting.
  const call: Call<{ totalHits: number }> = {
    decide: (key) => store.increment(key),
    admitted: (client) => client.totalHits <= LIMIT,
  };
  return awaitedLoop(call, keyCount, heapMeasure(call));
}
