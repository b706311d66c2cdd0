/**
 * One entry per algorithm that has a Lua twin: how to build a limiter of it over a given store, so the Redis suites
 * (parity with memory, exactness across processes, Cluster) run every algorithm the same way.
 */
import type { Clock } from '../../src/time.js';
import type { Store } from '../../src/stores/store.js';
import type { PolicyLimiter } from '../../src/limiters/policy-limiter.js';
import { concurrency, fixedWindow, gcra, leakyBucket, slidingWindow, tokenBucket } from '../../src/index.js';

export interface LimiterCaseOptions {
  store: Store;
  clock?: Clock;
  /** Units per window (or at once, for concurrency). A whole number. */
  limit: number;
  windowMs: number;
  name?: string;
}

export interface LimiterCase {
  readonly algorithm: string;
  make(options: LimiterCaseOptions): PolicyLimiter;
  /**
   * True for a shaping limiter: `consume` admits only a call that can go at once, so "limit admitted" is measured
   * with reservations (store.decide with a long maxWaitMs, what acquire() does).
   */
  readonly reserves?: boolean;
}

export const LIMITER_CASES: readonly LimiterCase[] = [
  {
    algorithm: 'token-bucket',
    make: ({ store, clock, limit, windowMs, name }) => tokenBucket({ rate: limit, per: windowMs, burst: limit, store, clock, name }),
  },
  {
    algorithm: 'fixed-window',
    make: ({ store, clock, limit, windowMs, name }) => fixedWindow({ limit, window: windowMs, store, clock, name }),
  },
  {
    algorithm: 'sliding-window-approximate',
    make: ({ store, clock, limit, windowMs, name }) =>
      slidingWindow({ limit, window: windowMs, precision: 'approximate', store, clock, name }),
  },
  {
    algorithm: 'sliding-window-exact',
    make: ({ store, clock, limit, windowMs, name }) => slidingWindow({ limit, window: windowMs, precision: 'exact', store, clock, name }),
  },
  {
    algorithm: 'gcra',
    make: ({ store, clock, limit, windowMs, name }) => gcra({ rate: limit, per: windowMs, burst: limit, store, clock, name }),
  },
  {
    algorithm: 'leaky-bucket-police',
    make: ({ store, clock, limit, windowMs, name }) =>
      leakyBucket({ rate: limit, per: windowMs, capacity: limit, mode: 'police', store, clock, name }),
  },
  {
    algorithm: 'leaky-bucket-shape',
    reserves: true,
    make: ({ store, clock, limit, windowMs, name }) =>
      leakyBucket({ rate: limit, per: windowMs, capacity: limit, mode: 'shape', store, clock, name }),
  },
  {
    algorithm: 'concurrency',
    make: ({ store, clock, limit, windowMs, name }) => concurrency({ max: limit, lease: windowMs, store, clock, name }),
  },
];
