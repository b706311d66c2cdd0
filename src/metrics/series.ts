/**
 * One time series of a metric: the numbers behind one label set. Components hold these directly (resolved once,
 * at construction) so that recording is adding to a number, with no label lookup on the hot path.
 */

/** A label set as exported: label name to value. */
export type Labels = Readonly<Record<string, string>>;

export class CounterSeries {
  /** The running total. Components may add to it directly; it must never go down. */
  value = 0;

  constructor(readonly labels: Labels) {}

  inc(by = 1): void {
    if (!(by >= 0)) throw new RangeError(`A counter only goes up: inc(${by})`);
    this.value += by;
  }

  reset(): void {
    this.value = 0;
  }
}

export class GaugeSeries {
  value = 0;

  constructor(readonly labels: Labels) {}

  set(value: number): void {
    this.value = value;
  }

  inc(by = 1): void {
    this.value += by;
  }

  dec(by = 1): void {
    this.value -= by;
  }

  reset(): void {
    this.value = 0;
  }
}

/**
 * A histogram over fixed bucket bounds (upper bounds, inclusive, as Prometheus `le`), plus the exact minimum and
 * maximum seen. Quantiles are estimated from the buckets the way PromQL's `histogram_quantile` does (linear
 * interpolation inside the bucket holding the rank), tightened by the observed min and max: so a quantile read
 * in code agrees with what a Grafana panel over the same buckets shows, within one bucket's width.
 */
export class HistogramSeries {
  /** Observations per bucket, not cumulative; the last slot is the +Inf bucket. */
  readonly bucketCounts: Float64Array;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  constructor(
    readonly labels: Labels,
    readonly bounds: readonly number[],
  ) {
    this.bucketCounts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (Number.isNaN(value)) return;
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && value > bounds[index]!) index++;
    this.bucketCounts[index]!++;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** Cumulative counts per bound, ending with the +Inf bucket (which equals `count`). */
  cumulativeCounts(): number[] {
    const cumulative: number[] = [];
    let running = 0;
    for (const count of this.bucketCounts) {
      running += count;
      cumulative.push(running);
    }
    return cumulative;
  }

  /** The estimated q-quantile (0 <= q <= 1) of the observations; NaN when there are none. */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`A quantile is between 0 and 1: ${q}`);
    if (this.count === 0) return Number.NaN;
    if (q === 0) return this.min;
    if (q === 1) return this.max;
    const rank = q * this.count;
    let below = 0;
    for (let index = 0; index < this.bucketCounts.length; index++) {
      const inBucket = this.bucketCounts[index]!;
      if (inBucket > 0 && below + inBucket >= rank) {
        const lower = Math.max(index === 0 ? this.min : this.bounds[index - 1]!, this.min);
        const upper = Math.min(index < this.bounds.length ? this.bounds[index]! : this.max, this.max);
        return lower + (upper - lower) * ((rank - below) / inBucket);
      }
      below += inBucket;
    }
    return this.max;
  }

  get p50(): number {
    return this.quantile(0.5);
  }

  get p95(): number {
    return this.quantile(0.95);
  }

  get p99(): number {
    return this.quantile(0.99);
  }

  reset(): void {
    this.bucketCounts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }
}

export type AnySeries = CounterSeries | GaugeSeries | HistogramSeries;
