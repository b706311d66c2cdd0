/**
 * Composes the one decision script every Redis decision runs: the dispatcher plus the Lua twin of every
 * algorithm. A single policy, a composite (all-or-nothing over several policies) and a batch of decisions are all
 * the same script, so each costs one EVALSHA.
 */
import { createHash } from 'node:crypto';
import type { AlgorithmName } from '../../limiters/limiter.js';
import { DISPATCHER_MAIN, DISPATCHER_PRELUDE } from './dispatcher.lua.js';
import type { LuaAlgorithm } from './lua-algorithm.js';
import { concurrencyLua } from './concurrency.lua.js';
import { fixedWindowLua } from './fixed-window.lua.js';
import { gcraLua } from './gcra.lua.js';
import { leakyBucketPoliceLua, leakyBucketShapeLua } from './leaky-bucket.lua.js';
import { slidingWindowApproximateLua } from './sliding-window-approximate.lua.js';
import { slidingWindowExactLua } from './sliding-window-exact.lua.js';
import { tokenBucketLua } from './token-bucket.lua.js';

export type { LuaAlgorithm } from './lua-algorithm.js';

/** Every algorithm with a Lua twin. An algorithm's id in the script is its position here, from 1. */
export const LUA_ALGORITHMS: readonly LuaAlgorithm[] = [
  tokenBucketLua,
  fixedWindowLua,
  slidingWindowApproximateLua,
  slidingWindowExactLua,
  gcraLua,
  leakyBucketPoliceLua,
  leakyBucketShapeLua,
  concurrencyLua,
];

export interface DecisionScript {
  readonly lua: string;
  readonly sha1: string;
  /** The script's id of each algorithm. */
  readonly ids: ReadonlyMap<AlgorithmName, number>;
  readonly algorithms: ReadonlyMap<AlgorithmName, LuaAlgorithm>;
}

export function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

export function composeDecisionScript(algorithms: readonly LuaAlgorithm[]): DecisionScript {
  const parts = [DISPATCHER_PRELUDE];
  const ids = new Map<AlgorithmName, number>();
  const byName = new Map<AlgorithmName, LuaAlgorithm>();
  algorithms.forEach((algorithm, index) => {
    parts.push(`-- ${algorithm.name}\nALGORITHMS[${index + 1}] = function() return ${algorithm.lua} end\n`);
    ids.set(algorithm.name, index + 1);
    byName.set(algorithm.name, algorithm);
  });
  parts.push(DISPATCHER_MAIN);
  const lua = parts.join('');
  return { lua, sha1: sha1(lua), ids, algorithms: byName };
}

export const DECISION_SCRIPT: DecisionScript = composeDecisionScript(LUA_ALGORITHMS);

/** Pinned SHA1 of DECISION_SCRIPT (checked by test/stores/lua-scripts.test.ts): update it with the script. */
export const DECISION_SCRIPT_SHA1 = '475854514a845f69403744eec275e09dd99523fe';

/**
 * INCRBY that sets an expiry only when it creates the key (the key-value facet's `incr(key, by, ttlMs)`).
 * KEYS[1]: the key. ARGV[1]: the increment (an integer). ARGV[2]: the TTL in ms.
 */
export const INCR_WITH_TTL_LUA = `local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if created then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value
`;

/** Pinned SHA1 of INCR_WITH_TTL_LUA. */
export const INCR_WITH_TTL_SHA1 = '12bfbfccf93aa4441af51c66ad75efc7b04548ff';
