/**
 * Shared test vectors: hand-checked request traces in test/vectors/*.json, replayed against any store. The store is
 * a parameter and time comes from a clock the replay sets to each step's `atMs`, so the Redis suite replays the very
 * same files (with a store that takes the caller's time).
 *
 * Format of one vector (a file holds one vector or an array of them):
 * {
 *   "name": "unique name", "description"?: "...",
 *   "limiter": "tokenBucket" | "slidingWindow" | "fixedWindow" | "leakyBucket" | "gcra",
 *   "options": { constructor options; durations as ms or strings },
 *   "steps": [ { "atMs": absolute ms, "key": "a", "cost": 1,
 *                "op"?: "consume" (default) | "refund" | "reset" | "reserve",
 *                "maxWaitMs"?: for "reserve": a shaping step that may wait up to this long (what acquire() passes),
 *                "expect"?: { "allowed", "remaining", "retryAfterMs" (null: Infinity), "resetMs", "waitMs" } } ]
 * }
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixedWindow, gcra, leakyBucket, slidingWindow, tokenBucket } from '../../src/index.js';
import type { Decision, Limiter } from '../../src/limiters/limiter.js';
import type { PolicyLimiter } from '../../src/limiters/policy-limiter.js';
import type { Store } from '../../src/stores/store.js';
import type { Clock } from '../../src/time.js';

export interface VectorExpectation {
  allowed?: boolean;
  remaining?: number;
  /** null stands for Infinity (JSON has no Infinity). */
  retryAfterMs?: number | null;
  resetMs?: number;
  waitMs?: number;
}

export interface VectorStep {
  atMs: number;
  key: string;
  cost?: number;
  op?: 'consume' | 'refund' | 'reset' | 'reserve';
  maxWaitMs?: number;
  expect?: VectorExpectation;
}

export interface Vector {
  name: string;
  description?: string;
  limiter: string;
  options: Record<string, unknown>;
  steps: VectorStep[];
  /** The file the vector came from (set by loadVectors). */
  file?: string;
}

/** A clock the replay can set: the repository's FakeClock is one. */
export interface SettableClock extends Clock {
  set(nowMs: number): void;
}

export interface ReplayOptions {
  store: Store;
  clock: SettableClock;
  /** Store key prefix, so replays sharing a store (e.g. one Redis) do not see each other. Default "vectors". */
  prefix?: string;
}

type LimiterFactory = (options: any) => Limiter;

/** Limiter constructors by the name used in vector files. */
export const limiterFactories: Record<string, LimiterFactory> = {
  tokenBucket,
  slidingWindow,
  fixedWindow,
  leakyBucket,
  gcra,
};

export const VECTOR_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors');

export function loadVectors(dir = VECTOR_DIR): Vector[] {
  const vectors: Vector[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.json')).sort()) {
    const parsed = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Vector | Vector[];
    for (const vector of Array.isArray(parsed) ? parsed : [parsed]) vectors.push({ ...vector, file });
  }
  return vectors;
}

export function buildLimiter(vector: Vector, { store, clock, prefix = 'vectors' }: ReplayOptions): Limiter {
  const factory = limiterFactories[vector.limiter];
  if (!factory) throw new Error(`Vector "${vector.name}": unknown limiter "${vector.limiter}"`);
  return factory({ name: vector.name, ...vector.options, prefix, store, clock });
}

/** One replayed step: what it was and what came back (for consume and reserve). */
export interface ReplayedStep {
  step: VectorStep;
  decision?: Decision;
}

/** Replays every step; throws an Error listing every step whose result differs from its expectation. */
export async function replayVector(vector: Vector, options: ReplayOptions): Promise<ReplayedStep[]> {
  const limiter = buildLimiter(vector, options);
  const replayed: ReplayedStep[] = [];
  const mismatches: string[] = [];
  for (const [index, step] of vector.steps.entries()) {
    options.clock.set(step.atMs);
    const cost = step.cost ?? 1;
    const op = step.op ?? 'consume';
    let decision: Decision | undefined;
    if (op === 'consume') {
      decision = await limiter.consume(step.key, cost);
    } else if (op === 'reserve') {
      const policy = (limiter as PolicyLimiter).policyList[0]!;
      decision = await options.store.decide(policy, step.key, { nowMs: step.atMs, cost, maxWaitMs: step.maxWaitMs ?? 0 });
    } else if (op === 'refund') {
      await limiter.refund(step.key, cost);
    } else if (op === 'reset') {
      await limiter.reset(step.key);
    } else {
      throw new Error(`Vector "${vector.name}" step ${index}: unknown op "${String(op)}"`);
    }
    replayed.push({ step, decision });
    if (step.expect) {
      const problem = compare(step.expect, decision);
      if (problem) mismatches.push(`step ${index} (${op} "${step.key}" cost ${cost} at ${step.atMs} ms): ${problem}`);
    }
  }
  if (mismatches.length > 0) {
    throw new Error(`Vector "${vector.name}" (${vector.file ?? 'inline'}):\n  ${mismatches.join('\n  ')}`);
  }
  return replayed;
}

function compare(expect: VectorExpectation, decision: Decision | undefined): string | undefined {
  if (!decision) return 'expectations given for a step that returns no decision';
  const actual: Record<string, unknown> = {
    allowed: decision.allowed,
    remaining: decision.remaining,
    retryAfterMs: decision.retryAfterMs,
    resetMs: decision.resetMs,
    waitMs: decision.waitMs ?? 0,
  };
  const wrong: string[] = [];
  for (const [field, value] of Object.entries(expect)) {
    const wanted = field === 'retryAfterMs' && value === null ? Infinity : value;
    if (!(field in actual)) wrong.push(`unknown expectation "${field}"`);
    else if (actual[field] !== wanted) wrong.push(`${field} expected ${String(wanted)}, got ${String(actual[field])}`);
  }
  return wrong.length > 0 ? wrong.join('; ') : undefined;
}
