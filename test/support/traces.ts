/** Random request traces for property tests: clock moves (forward, and sometimes back) with a cost per call. */
import fc from 'fast-check';
import { expect } from 'vitest';

export interface TraceStep {
  /** How far the clock moves before this call; negative when it steps back. */
  deltaMs: number;
  cost: number;
}

/** Mostly forward moves, sometimes a step back, at most `maxStepMs` either way. */
export function clockMoves(maxStepMs: number, { back = true } = {}): fc.Arbitrary<number> {
  const forward = fc.integer({ min: 0, max: maxStepMs });
  return back ? fc.oneof({ arbitrary: forward, weight: 4 }, { arbitrary: fc.integer({ min: -maxStepMs, max: -1 }), weight: 1 }) : forward;
}

/** Whole costs 1..maxCost, or costs with two decimals when `fractional`. */
export function costs(maxCost: number, { fractional = false } = {}): fc.Arbitrary<number> {
  return fractional
    ? fc.integer({ min: 1, max: maxCost * 100 }).map((hundredths) => hundredths / 100)
    : fc.integer({ min: 1, max: maxCost });
}

export function trace(
  moves: fc.Arbitrary<number>,
  cost: fc.Arbitrary<number>,
  maxLength = 150,
): fc.Arbitrary<TraceStep[]> {
  return fc.array(fc.record({ deltaMs: moves, cost }), { maxLength });
}

/**
 * The time an algorithm may take a call to happen at: the clock reading, but never before the latest call it
 * admitted. A clock stepping back can not make an algorithm forget what it admitted later, so bounds are checked
 * on these times.
 */
export class EffectiveTime {
  private latestAdmittedMs = -Infinity;

  at(nowMs: number): number {
    return Math.max(nowMs, this.latestAdmittedMs);
  }

  admitted(nowMs: number): number {
    this.latestAdmittedMs = this.at(nowMs);
    return this.latestAdmittedMs;
  }
}

/** Sum of the costs of `calls` whose time is in (endMs - windowMs, endMs]. */
export function unitsInWindow(calls: readonly { atMs: number; cost: number }[], endMs: number, windowMs: number): number {
  let units = 0;
  for (const call of calls) if (call.atMs > endMs - windowMs && call.atMs <= endMs) units += call.cost;
  return units;
}

/**
 * Replays `steps` on key "k" and checks after every admission that the units admitted never exceed
 * burst + rate x (latest effective time - earliest clock reading): the bound of a token bucket and of GCRA.
 */
export async function expectWithinRateBound(
  limiter: { consume(key: string, cost: number): Promise<{ allowed: boolean }> },
  clock: { now(): number; set(nowMs: number): void },
  steps: readonly TraceStep[],
  { rate, perMs, burst }: { rate: number; perMs: number; burst: number },
): Promise<void> {
  let startMs = clock.now();
  let latestMs = startMs;
  const time = new EffectiveTime();
  let admitted = 0;
  for (const { deltaMs, cost } of steps) {
    clock.set(clock.now() + deltaMs);
    startMs = Math.min(startMs, clock.now());
    if (!(await limiter.consume('k', cost)).allowed) continue;
    admitted += cost;
    latestMs = Math.max(latestMs, time.admitted(clock.now()));
    expect(admitted).toBeLessThanOrEqual(burst + (rate * (latestMs - startMs)) / perMs + 1e-6);
  }
}
