/** Opens the circuit after `threshold` failures in a row; any success starts the count again. */
import { checkKnownOptions, checkNumber } from '../../options.js';
import type { BreakerStrategy, StrategySnapshot } from './strategy.js';

export interface ConsecutiveFailuresOptions {
  /** Failures in a row that open the circuit. Default 5. */
  threshold?: number;
}

class ConsecutiveFailures implements BreakerStrategy {
  readonly name = 'consecutive-failures';
  readonly usesClock = false;
  private failures = 0;

  constructor(private readonly threshold: number) {}

  success(): void {
    this.failures = 0;
  }

  failure(): boolean {
    return ++this.failures >= this.threshold;
  }

  reset(): void {
    this.failures = 0;
  }

  snapshot(): StrategySnapshot {
    return { name: this.name, calls: this.failures, failures: this.failures, threshold: this.threshold };
  }
}

export function consecutiveFailures(options: ConsecutiveFailuresOptions = {}): BreakerStrategy {
  checkKnownOptions(options, 'consecutiveFailures', ['threshold']);
  return new ConsecutiveFailures(checkNumber(options.threshold ?? 5, 'threshold', { integer: true }));
}
