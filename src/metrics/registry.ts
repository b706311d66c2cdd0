/**
 * The metrics registry: named counters, gauges and histograms, each a family of series with a bounded number of
 * label sets. Every sluice component records into `defaultRegistry` unless given `metrics: registry` (another
 * registry) or `metrics: false` (none).
 */
import { ConfigError } from '../errors.js';
import { checkKnownOptions, checkNumber } from '../options.js';
import { formatPrometheus } from './exposition.js';
import { log, resolveLogger, type Logger } from './logger.js';
import { CounterSeries, GaugeSeries, HistogramSeries, type AnySeries, type Labels } from './series.js';

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Label values as given: numbers and booleans are exported as their string form. */
export type LabelValues = Readonly<Record<string, string | number | boolean>>;

export interface MetricOptions<M = AnyMetric> {
  /** A Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*. */
  name: string;
  help: string;
  labelNames?: readonly string[];
  /** Called before every export or snapshot, to set values read from elsewhere (a pool size, a store's key count). */
  collect?: (metric: M) => void;
}

export interface HistogramOptions extends MetricOptions<Histogram> {
  /** Increasing upper bounds; the +Inf bucket is implicit. Default: DEFAULT_SECONDS_BUCKETS. */
  buckets?: readonly number[];
}

/** Bounds for durations in seconds: 1 ms to 1 minute. */
export const DEFAULT_SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]);

/** The label value of the one series that takes every label set past the cap. */
export const OVERFLOW_LABEL_VALUE = '_overflow';

/** Default cap on label sets per metric. */
export const DEFAULT_MAX_LABEL_SETS = 1000;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const registryBrand = Symbol.for('sluice.metrics-registry');

/**
 * A metric: a name, a type, label names, and one series per label set seen. At most `maxLabelSets` label sets
 * are kept; past that, every new label set is recorded into one overflow series (every label "_overflow"), so
 * totals stay right while the series count stays bounded, and the registry warns once.
 */
export class MetricFamily<S extends AnySeries> {
  readonly labelNames: readonly string[];
  private readonly table = new Map<string, S>();
  private overflow: S | undefined;

  constructor(
    private readonly registry: MetricsRegistry,
    readonly type: MetricType,
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
    private readonly newSeries: (labels: Labels) => S,
    /** Histogram bucket bounds (empty for counters and gauges). */
    readonly buckets: readonly number[],
    readonly collect: ((metric: any) => void) | undefined,
  ) {
    this.labelNames = Object.freeze([...labelNames]);
    if (this.labelNames.length === 0) this.labels();
  }

  /**
   * The series for a label set, created on first use. Resolve it once and keep it: this does a Map lookup and
   * builds a key, which a hot path should not do per call.
   */
  labels(values: LabelValues = {}): S {
    const labels = this.checkLabels(values);
    const key = JSON.stringify(this.labelNames.map((name) => labels[name]));
    let series = this.table.get(key);
    if (series !== undefined) return series;
    if (this.table.size >= this.registry.maxLabelSets) return this.overflowSeries();
    series = this.newSeries(Object.freeze(labels));
    this.table.set(key, series);
    return series;
  }

  /** The series for a label set if it exists (never creates one). */
  find(values: LabelValues = {}): S | undefined {
    const labels = this.checkLabels(values);
    return this.table.get(JSON.stringify(this.labelNames.map((name) => labels[name])));
  }

  /** Every series, in creation order, the overflow series last. */
  series(): S[] {
    const all = [...this.table.values()];
    if (this.overflow) all.push(this.overflow);
    return all;
  }

  /** Zeroes every series (keeping them, so components holding a series keep recording into this metric). */
  reset(): void {
    for (const series of this.series()) series.reset();
  }

  private overflowSeries(): S {
    if (this.overflow === undefined) {
      const labels: Record<string, string> = {};
      for (const name of this.labelNames) labels[name] = OVERFLOW_LABEL_VALUE;
      this.overflow = this.newSeries(Object.freeze(labels));
      this.registry.warnOnce(
        {
          event: 'metrics.label_cap',
          component: 'metrics',
          metric: this.name,
          maxLabelSets: this.registry.maxLabelSets,
        },
        `sluice metrics: "${this.name}" reached ${this.registry.maxLabelSets} label sets; further label sets are ` +
          `recorded under the "${OVERFLOW_LABEL_VALUE}" label value. A label probably carries an unbounded value ` +
          '(a client key, a raw path); raise maxLabelSets only if the label set is truly bounded.',
      );
    }
    return this.overflow;
  }

  private checkLabels(values: LabelValues): Record<string, string> {
    if (typeof values !== 'object' || values === null) {
      throw new ConfigError(`${this.name} labels`, `an object with ${this.describeLabels()}`, values);
    }
    const labels: Record<string, string> = {};
    for (const name of this.labelNames) {
      const value = values[name];
      if (typeof value === 'string') labels[name] = value;
      else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') labels[name] = String(value);
      else throw new ConfigError(`${this.name} labels.${name}`, 'a string, finite number or boolean', value);
    }
    for (const name of Object.keys(values)) {
      if (!this.labelNames.includes(name)) {
        throw new ConfigError(`${this.name} labels.${name}`, `only ${this.describeLabels()}`, name);
      }
    }
    return labels;
  }

  private describeLabels(): string {
    return this.labelNames.length ? `the labels ${this.labelNames.join(', ')}` : 'no labels';
  }
}

export type Counter = MetricFamily<CounterSeries>;
export type Gauge = MetricFamily<GaugeSeries>;
export type Histogram = MetricFamily<HistogramSeries>;
export type AnyMetric = Counter | Gauge | Histogram;

export interface MetricsRegistryOptions {
  /** Most label sets per metric before new ones go to the overflow series. Default 1000. */
  maxLabelSets?: number;
  /** Receives the registry's warnings (label cap reached, a failing collect hook). Default: process warnings. */
  logger?: Logger;
}

export interface SeriesSnapshot {
  labels: Labels;
  /** Counters and gauges. */
  value?: number;
  /** Histograms: observation count, sum, extremes, cumulative buckets and estimated quantiles. */
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  buckets?: { le: number; count: number }[];
  p50?: number;
  p95?: number;
  p99?: number;
}

export interface MetricSnapshot {
  type: MetricType;
  help: string;
  labelNames: readonly string[];
  series: SeriesSnapshot[];
}

export class MetricsRegistry {
  readonly [registryBrand] = true;
  readonly maxLabelSets: number;
  private readonly logger: Logger | undefined;
  private readonly families = new Map<string, AnyMetric>();
  private readonly listeners = new Set<(metric: AnyMetric) => void>();
  private readonly warned = new Set<string>();

  constructor(options: MetricsRegistryOptions = {}) {
    checkKnownOptions(options, 'metricsRegistry', ['maxLabelSets', 'logger']);
    this.maxLabelSets = checkNumber(options.maxLabelSets ?? DEFAULT_MAX_LABEL_SETS, 'maxLabelSets', {
      integer: true,
      min: 1,
      exclusiveMin: false,
    });
    this.logger = resolveLogger(options.logger);
  }

  /** A counter: a total that only goes up (requests, errors). Registering an existing name returns it. */
  counter(options: MetricOptions<Counter>): Counter {
    return this.register('counter', options, [], (labels) => new CounterSeries(labels));
  }

  /** A gauge: a value that goes up and down (in flight, breaker state). */
  gauge(options: MetricOptions<Gauge>): Gauge {
    return this.register('gauge', options, [], (labels) => new GaugeSeries(labels));
  }

  /** A histogram with fixed buckets; quantiles (p50, p95, p99) readable from each series. */
  histogram(options: HistogramOptions): Histogram {
    const buckets = checkBuckets(options?.buckets ?? DEFAULT_SECONDS_BUCKETS);
    return this.register('histogram', options, buckets, (labels) => new HistogramSeries(labels, buckets));
  }

  get(name: string): AnyMetric | undefined {
    return this.families.get(name);
  }

  /**
   * The current value of one counter or gauge series (collect hook run first), or undefined when the metric or
   * the label set does not exist. For histograms, read `get(name).find(labels)` (count, sum, p50, p95, p99).
   */
  value(name: string, labels: LabelValues = {}): number | undefined {
    const metric = this.families.get(name);
    if (metric === undefined || metric.type === 'histogram') return undefined;
    this.collect([metric]);
    const series = metric.find(labels) as CounterSeries | GaugeSeries | undefined;
    return series?.value;
  }

  /** Every metric, in registration order. */
  list(): AnyMetric[] {
    return [...this.families.values()];
  }

  /** Runs the collect hooks of `metrics` (default: all), then returns them: what an export reads. */
  collect(metrics: AnyMetric[] = this.list()): AnyMetric[] {
    for (const metric of metrics) {
      if (!metric.collect) continue;
      try {
        metric.collect(metric);
      } catch (error) {
        this.warnOnce(
          { event: 'metrics.collect_failed', component: 'metrics', metric: metric.name, error: String(error) },
          `sluice metrics: the collect hook of "${metric.name}" threw; its values may be stale`,
        );
      }
    }
    return metrics;
  }

  /** The Prometheus text exposition (format 0.0.4) of every metric. */
  toPrometheus(): string {
    return formatPrometheus(this.collect());
  }

  /** Every metric's current values as plain data, keyed by metric name (histograms with p50/p95/p99). */
  snapshot(): Record<string, MetricSnapshot> {
    const result: Record<string, MetricSnapshot> = {};
    for (const metric of this.collect()) {
      result[metric.name] = {
        type: metric.type,
        help: metric.help,
        labelNames: metric.labelNames,
        series: (metric.series() as AnySeries[]).map(snapshotSeries),
      };
    }
    return result;
  }

  /** Zeroes every series of every metric. */
  reset(): void {
    for (const metric of this.families.values()) metric.reset();
  }

  /** Calls `listener` for each metric registered from now on (the prom-client bridge uses it). Returns an unsubscribe. */
  onRegister(listener: (metric: AnyMetric) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Logs a warning once per event and metric: to the registry's logger, or as a process warning. */
  warnOnce(fields: { event: string; component: string; metric?: string; [field: string]: unknown }, message: string): void {
    const key = `${fields.event}:${fields.metric ?? ''}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    if (this.logger) log(this.logger, 'warn', fields, message);
    else process.emitWarning(message, { code: 'SLUICE_METRICS' });
  }

  private register<S extends AnySeries>(
    type: MetricType,
    options: MetricOptions<any>,
    buckets: readonly number[],
    newSeries: (labels: Labels) => S,
  ): MetricFamily<S> {
    checkKnownOptions(options, type, type === 'histogram' ? ['name', 'help', 'labelNames', 'collect', 'buckets'] : ['name', 'help', 'labelNames', 'collect']);
    const { name, help, collect } = options;
    if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
      throw new ConfigError('name', 'a Prometheus metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*', name);
    }
    if (typeof help !== 'string' || help.length === 0) throw new ConfigError('help', 'a non-empty description', help);
    if (collect !== undefined && typeof collect !== 'function') throw new ConfigError('collect', 'a function', collect);
    const labelNames = checkLabelNames(options.labelNames ?? [], type);
    const existing = this.families.get(name);
    if (existing !== undefined) {
      if (
        existing.type !== type ||
        existing.labelNames.join(',') !== labelNames.join(',') ||
        existing.buckets.join(',') !== buckets.join(',')
      ) {
        throw new ConfigError(
          'name',
          `a name not already registered as a ${existing.type} with labels [${existing.labelNames.join(', ')}]`,
          name,
        );
      }
      return existing as unknown as MetricFamily<S>;
    }
    const metric = new MetricFamily<S>(this, type, name, help, labelNames, newSeries, buckets, collect);
    this.families.set(name, metric as unknown as AnyMetric);
    for (const listener of this.listeners) listener(metric as unknown as AnyMetric);
    return metric;
  }
}

function checkLabelNames(value: unknown, type: MetricType): string[] {
  const expected = 'an array of distinct label names matching [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"';
  if (!Array.isArray(value)) throw new ConfigError('labelNames', expected, value);
  const seen = new Set<string>();
  for (const name of value) {
    if (typeof name !== 'string' || !LABEL_NAME.test(name) || name.startsWith('__') || seen.has(name)) {
      throw new ConfigError('labelNames', expected, name);
    }
    if (type === 'histogram' && name === 'le') throw new ConfigError('labelNames', 'no "le" label on a histogram (it names buckets)', name);
    seen.add(name);
  }
  return [...value];
}

function checkBuckets(value: unknown): readonly number[] {
  const expected = 'a non-empty array of finite, strictly increasing numbers';
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError('buckets', expected, value);
  for (let i = 0; i < value.length; i++) {
    const bound = value[i];
    if (typeof bound !== 'number' || !Number.isFinite(bound) || (i > 0 && bound <= value[i - 1])) {
      throw new ConfigError('buckets', expected, bound);
    }
  }
  return Object.freeze([...value]);
}

function snapshotSeries(series: AnySeries): SeriesSnapshot {
  if (!(series instanceof HistogramSeries)) return { labels: series.labels, value: series.value };
  const cumulative = series.cumulativeCounts();
  return {
    labels: series.labels,
    count: series.count,
    sum: series.sum,
    min: series.count ? series.min : Number.NaN,
    max: series.count ? series.max : Number.NaN,
    buckets: [...series.bounds, Infinity].map((le, index) => ({ le, count: cumulative[index]! })),
    p50: series.p50,
    p95: series.p95,
    p99: series.p99,
  };
}

/** A new registry: for an app that keeps sluice's metrics apart, or for tests. */
export function metricsRegistry(options?: MetricsRegistryOptions): MetricsRegistry {
  return new MetricsRegistry(options);
}

/** The process-wide registry every component records into by default. */
export const defaultRegistry = new MetricsRegistry();

/** True for a MetricsRegistry, including one from another copy of sluice. */
export function isMetricsRegistry(value: unknown): value is MetricsRegistry {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[registryBrand] === true;
}

/** The `metrics` option of a component: undefined or true (the default registry), a registry, or false (off). */
export type MetricsOption = MetricsRegistry | boolean;

/** Checks a `metrics` option; undefined result means metrics are off. */
export function resolveMetrics(value: unknown, field = 'metrics'): MetricsRegistry | undefined {
  if (value === undefined || value === true) return defaultRegistry;
  if (value === false) return undefined;
  if (isMetricsRegistry(value)) return value;
  throw new ConfigError(field, 'a MetricsRegistry (metricsRegistry()), true for the default registry, or false for none', value);
}
