/** The store contract: run a policy's step atomically for one key, plus a small key-value facet. */
import type { Decision, Policy } from '../limiters/limiter.js';

export interface DecideCall {
  /** The caller's clock reading; a Redis store ignores it unless configured with `clock: 'client'`. */
  nowMs: number;
  cost: number;
  /** A shaping policy may admit with a wait up to this long (see StepInput.maxWaitMs). Default 0. */
  maxWaitMs?: number;
  /** A concurrency holder's id. */
  token?: string;
}

/** A read of a key's state without changing it (for `stats`). */
export interface StateView {
  /** Units available now (may be fractional). */
  available: number;
  resetMs: number;
  lastUpdateMs: number | undefined;
}

export interface KeyValueFacet {
  get(key: string): Promise<string | undefined>;
  /** Sets a value, optionally expiring after `ttlMs`. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Adds `by` (default 1) to an integer value (missing counts as 0); `ttlMs` applies when the key is created. */
  incr(key: string, by?: number, ttlMs?: number): Promise<number>;
  decr(key: string, by?: number, ttlMs?: number): Promise<number>;
  /** Resolves true when a key was deleted. */
  delete(key: string): Promise<boolean>;
  exists(key: string): Promise<boolean>;
}

export interface Store extends KeyValueFacet {
  readonly kind: string;
  /**
   * True when `decide` returns plain values (never a promise): lets the HTTP guard decide without a promise hop.
   */
  readonly synchronous: boolean;
  decide(policy: Policy, key: string, call: DecideCall): Decision | Promise<Decision>;
  /** All-or-nothing over several policies for one key: either every policy is charged or none is. */
  decideAll(policies: readonly Policy[], key: string, call: DecideCall): Decision[] | Promise<Decision[]>;
  inspect(policy: Policy, key: string, nowMs: number): StateView | Promise<StateView>;
  refund(policy: Policy, key: string, cost: number, nowMs: number, token?: string): void | Promise<void>;
  reset(policy: Policy, key: string): void | Promise<void>;
  /** Releases timers and connections the store owns (not a client passed in by the user). */
  close?(): Promise<void>;
}
