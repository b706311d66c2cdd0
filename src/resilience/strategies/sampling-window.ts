/**
 * Opens the circuit when at least `failureRatio` of the calls of the last `window` failed, once the window holds
 * at least `minimumThroughput` calls (so a quiet period with one failure does not open it). The window is cut
 * into `buckets` slices that roll over as time passes, so it covers between (buckets-1)/buckets and all of
 * `window`.
 */
import { checkKnownOptions, checkNumber } from '../../options.js';
import { parseDuration, type Duration } from '../../time.js';
import { checkRatio, RATIO_EPSILON, type BreakerStrategy, type StrategySnapshot } from './strategy.js';

export interface SamplingWindowOptions {
  /** How far back calls are judged. */
  window: Duration;
  /** The share of failures in the window that opens the circuit, in (0, 1]. Default 0.5. */
  failureRatio?: number;
  /** Fewer calls than this in the window never open the circuit. Default 10. */
  minimumThroughput?: number;
  /** Slices the window is cut into (its time resolution). Default 10. */
  buckets?: number;
}

class SamplingWindow implements BreakerStrategy {
  readonly name = 'sampling-window';
  readonly usesClock = true;
  private readonly bucketIds: Float64Array;
  private readonly successes: Float64Array;
  private readonly failures: Float64Array;
  private readonly bucketMs: number;
  private latestMs = -Infinity;

  constructor(
    private readonly windowMs: number,
    private readonly failureRatio: number,
    private readonly minimumThroughput: number,
    private readonly buckets: number,
  ) {
    this.bucketMs = windowMs / buckets;
    this.bucketIds = new Float64Array(buckets).fill(-1);
    this.successes = new Float64Array(buckets);
    this.failures = new Float64Array(buckets);
  }

  success(nowMs: number): void {
    this.successes[this.slot(nowMs)]!++;
  }

  failure(nowMs: number): boolean {
    const slot = this.slot(nowMs);
    this.failures[slot]!++;
    const { calls, failures } = this.totals(this.bucketIds[slot]!);
    return calls >= this.minimumThroughput && failures >= this.failureRatio * calls - RATIO_EPSILON;
  }

  reset(): void {
    this.bucketIds.fill(-1);
    this.successes.fill(0);
    this.failures.fill(0);
  }

  snapshot(nowMs: number): StrategySnapshot {
    const { calls, failures } = this.totals(Math.floor(Math.max(nowMs, this.latestMs) / this.bucketMs));
    return {
      name: this.name,
      calls,
      failures,
      windowMs: this.windowMs,
      failureRatio: this.failureRatio,
      minimumThroughput: this.minimumThroughput,
    };
  }

  /** The ring slot for `nowMs`, emptied first when it still holds an older slice. */
  private slot(nowMs: number): number {
    // A clock that steps backwards is treated as standing still, so no newer slice is overwritten.
    if (nowMs < this.latestMs) nowMs = this.latestMs;
    else this.latestMs = nowMs;
    const id = Math.floor(nowMs / this.bucketMs);
    const slot = id % this.buckets;
    if (this.bucketIds[slot] !== id) {
      this.bucketIds[slot] = id;
      this.successes[slot] = 0;
      this.failures[slot] = 0;
    }
    return slot;
  }

  private totals(currentId: number): { calls: number; failures: number } {
    let calls = 0;
    let failures = 0;
    const oldestId = currentId - this.buckets;
    for (let slot = 0; slot < this.buckets; slot++) {
      const id = this.bucketIds[slot]!;
      if (id > oldestId && id <= currentId) {
        calls += this.successes[slot]! + this.failures[slot]!;
        failures += this.failures[slot]!;
      }
    }
    return { calls, failures };
  }
}

export function samplingWindow(options: SamplingWindowOptions): BreakerStrategy {
  checkKnownOptions(options, 'samplingWindow', ['window', 'failureRatio', 'minimumThroughput', 'buckets']);
  const windowMs = parseDuration(options?.window, 'window');
  const failureRatio = checkRatio(options.failureRatio ?? 0.5, 'failureRatio');
  const minimumThroughput = checkNumber(options.minimumThroughput ?? 10, 'minimumThroughput', { integer: true });
  const buckets = checkNumber(options.buckets ?? 10, 'buckets', { integer: true, max: 1000 });
  return new SamplingWindow(windowMs, failureRatio, minimumThroughput, buckets);
}
