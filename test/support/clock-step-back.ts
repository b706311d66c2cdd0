/** The shared check behind "a clock stepping back after a key is exhausted grants nothing and changes nothing". */
import { expect } from 'vitest';
import type { Limiter } from '../../src/index.js';
import type { FakeClock } from './fake-clock.js';

/**
 * Exhausts key "k" (at most `maxTries` more consumes), steps the clock back by each `backMs` and asks for each
 * `cost`: every one must be refused, and back at the original time the key's stats and retry time are unchanged.
 */
export async function expectStepBackGrantsNothing(
  limiter: Limiter,
  clock: FakeClock,
  backSteps: readonly { backMs: number; cost: number }[],
  maxTries: number,
): Promise<void> {
  let refusal = await limiter.consume('k');
  for (let i = 0; refusal.allowed && i <= maxTries; i++) refusal = await limiter.consume('k');
  expect(refusal.allowed).toBe(false);
  const exhaustedAtMs = clock.now();
  const before = await limiter.stats('k');
  for (const { backMs, cost } of backSteps) {
    clock.set(exhaustedAtMs - backMs);
    expect((await limiter.consume('k', cost)).allowed).toBe(false);
  }
  clock.set(exhaustedAtMs);
  expect(await limiter.stats('k')).toEqual(before);
  expect(await limiter.consume('k')).toMatchObject({ allowed: false, retryAfterMs: refusal.retryAfterMs });
}
