/**
 * The decision rule of a circuit breaker, swappable without touching the state machine: it is told the outcome
 * of every call made while the circuit is closed and answers whether the circuit should open.
 */
import { ConfigError } from '../../errors.js';

export interface StrategySnapshot {
  readonly name: string;
  /** Calls the strategy currently counts (the window, or the current run of failures). */
  readonly calls: number;
  readonly failures: number;
  readonly [detail: string]: number | string;
}

export interface BreakerStrategy {
  readonly name: string;
  /** True when `success`/`failure` need the time; the breaker reads its clock for them only then. */
  readonly usesClock: boolean;
  /** A call succeeded while the circuit was closed. `nowMs` is 0 unless `usesClock`. */
  success(nowMs: number): void;
  /** A call failed while the circuit was closed; returns true when the circuit should open. */
  failure(nowMs: number): boolean;
  /** Forgets every outcome (the circuit closed again). */
  reset(): void;
  snapshot(nowMs: number): StrategySnapshot;
}

/** Failure ratios are compared with a little slack so that 0.1 × 30 failures counts as 3. */
export const RATIO_EPSILON = 1e-9;

export function checkRatio(value: unknown, field: string): number {
  if (typeof value !== 'number' || !(value > 0) || !(value <= 1)) {
    throw new ConfigError(field, 'a failure ratio > 0 and <= 1 (0.5 = half of the calls)', value);
  }
  return value;
}

export function isBreakerStrategy(value: unknown): value is BreakerStrategy {
  if (typeof value !== 'object' || value === null) return false;
  const strategy = value as Partial<BreakerStrategy>;
  return (
    typeof strategy.success === 'function' &&
    typeof strategy.failure === 'function' &&
    typeof strategy.reset === 'function' &&
    typeof strategy.snapshot === 'function' &&
    typeof strategy.usesClock === 'boolean'
  );
}
