/**
 * One entry per algorithm that has a Lua twin: how to build a limiter of it over a given store, so the Redis suites
 * (parity with memory, exactness across processes, Cluster) run every algorithm the same way.
 */
import type { Clock } from '../../src/time.js';
import type { Store } from '../../src/stores/store.js';
import type { PolicyLimiter } from '../../src/limiters/policy-limiter.js';
import { tokenBucket } from '../../src/limiters/token-bucket.js';

export interface LimiterCase {
  readonly algorithm: string;
  /** A limiter admitting `limit` units per `windowMs` (or at once, for concurrency). */
  make(options: { store: Store; clock?: Clock; limit: number; windowMs: number; name?: string }): PolicyLimiter;
  /** True when admitted units come back only on release (concurrency): no refill during a test. */
  readonly holdsSlots?: boolean;
}

export const LIMITER_CASES: readonly LimiterCase[] = [
  {
    algorithm: 'token-bucket',
    make: ({ store, clock, limit, windowMs, name }) => tokenBucket({ rate: limit, per: windowMs, burst: limit, store, clock, name }),
  },
];
