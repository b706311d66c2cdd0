/** The shape of an algorithm's Lua twin, as the decision script (dispatcher.lua.ts) composes it. */
import type { AlgorithmName } from '../../limiters/limiter.js';

export interface LuaAlgorithm {
  /** The JS algorithm this twin mirrors (the `name` of its NumericAlgorithm / ObjectAlgorithm). */
  readonly name: AlgorithmName;
  /** The fields of the JS config object, in the order the Lua twin reads them (c[1], c[2], ...). */
  readonly configFields: readonly string[];
  /**
   * For a twin that keeps more than one Redis structure per user key: the suffixes of its extra keys (the policy
   * key + suffix, so they share its hash tag). Passed in KEYS after the policy key; `extraKeys` in the Lua table
   * must equal their number.
   */
  readonly keySuffixes?: readonly string[];
  /**
   * A Lua expression (a table constructor) evaluating to the algorithm, in one of two shapes:
   * numeric: { kind = 'numeric', size = N, step(s, input, c, out), refund(s, nowMs, cost, c), expiresAt(s, c),
   *            lastUpdate(s) } where s is the state as a 1-based array of N numbers (all zero = fresh), loaded
   *            from and saved to one string key by the dispatcher;
   * object:  { kind = 'object', extraKeys = E, step(key, input, c, out), refund(key, nowMs, cost, c, token),
   *            lastUpdate(key, c) } which read and write their own Redis structures under `key` (and `key` + each
   *            suffix of keySuffixes), setting their expiry with expireKey.
   * Every function also receives the algorithm table itself as a last argument (`self`), for its helpers.
   */
  readonly lua: string;
  /** SHA1 of `lua`, pinned so a changed twin is never silently stale (test/stores/lua-scripts.test.ts). */
  readonly sha1: string;
}
