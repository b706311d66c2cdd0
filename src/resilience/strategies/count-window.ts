/**
 * Opens the circuit when at least `failureRatio` of the last `size` calls failed, once at least `minimumCalls`
 * calls have been seen (so two early failures do not open it). The window is a ring of the last outcomes.
 */
import { ConfigError } from '../../errors.js';
import { checkKnownOptions, checkNumber } from '../../options.js';
import { checkRatio, RATIO_EPSILON, type BreakerStrategy, type StrategySnapshot } from './strategy.js';

export interface CountWindowOptions {
  /** How many of the most recent calls are judged. */
  size: number;
  /** The share of failures among them that opens the circuit, in (0, 1]. Default 0.5. */
  failureRatio?: number;
  /** Fewer calls than this never open the circuit. Default: `size`. */
  minimumCalls?: number;
}

const EMPTY = 0;
const SUCCESS = 1;
const FAILURE = 2;

class CountWindow implements BreakerStrategy {
  readonly name = 'count-window';
  readonly usesClock = false;
  private readonly outcomes: Uint8Array;
  private next = 0;
  private calls = 0;
  private failures = 0;

  constructor(
    private readonly size: number,
    private readonly failureRatio: number,
    private readonly minimumCalls: number,
  ) {
    this.outcomes = new Uint8Array(size);
  }

  success(): void {
    this.record(SUCCESS);
  }

  failure(): boolean {
    this.record(FAILURE);
    return this.calls >= this.minimumCalls && this.failures >= this.failureRatio * this.calls - RATIO_EPSILON;
  }

  reset(): void {
    this.outcomes.fill(EMPTY);
    this.next = 0;
    this.calls = 0;
    this.failures = 0;
  }

  snapshot(): StrategySnapshot {
    return {
      name: this.name,
      calls: this.calls,
      failures: this.failures,
      size: this.size,
      failureRatio: this.failureRatio,
      minimumCalls: this.minimumCalls,
    };
  }

  private record(outcome: number): void {
    const previous = this.outcomes[this.next]!;
    if (previous === EMPTY) this.calls++;
    else if (previous === FAILURE) this.failures--;
    if (outcome === FAILURE) this.failures++;
    this.outcomes[this.next] = outcome;
    this.next = this.next + 1 === this.size ? 0 : this.next + 1;
  }
}

export function countWindow(options: CountWindowOptions): BreakerStrategy {
  checkKnownOptions(options, 'countWindow', ['size', 'failureRatio', 'minimumCalls']);
  const size = checkNumber(options?.size, 'size', { integer: true, max: 1_000_000 });
  const failureRatio = checkRatio(options.failureRatio ?? 0.5, 'failureRatio');
  const minimumCalls = checkNumber(options.minimumCalls ?? size, 'minimumCalls', { integer: true });
  if (minimumCalls > size) throw new ConfigError('minimumCalls', `an integer between 1 and size (${size})`, minimumCalls);
  return new CountWindow(size, failureRatio, minimumCalls);
}
