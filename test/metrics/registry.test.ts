import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ConfigError,
  DEFAULT_SECONDS_BUCKETS,
  HistogramSeries,
  OVERFLOW_LABEL_VALUE,
  isMetricsRegistry,
  metricsRegistry,
  type LogFields,
} from '../../src/index.js';
import { parseStrict, sampleValue } from '../support/prometheus-text.js';

function recordingLogger() {
  const lines: { level: string; fields: LogFields; message: string }[] = [];
  const at = (level: string) => (fields: LogFields, message: string) => lines.push({ level, fields, message });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('metricsRegistry', () => {
  it('counts, sets and observes per label set', () => {
    const registry = metricsRegistry();
    const requests = registry.counter({ name: 'requests_total', help: 'Requests.', labelNames: ['route'] });
    requests.labels({ route: '/a' }).inc();
    requests.labels({ route: '/a' }).inc(2);
    requests.labels({ route: '/b' }).inc();
    const depth = registry.gauge({ name: 'depth', help: 'Depth.' });
    depth.labels().set(7);
    depth.labels().dec(2);
    const latency = registry.histogram({ name: 'latency_seconds', help: 'Latency.', buckets: [0.1, 1] });
    latency.labels().observe(0.05);
    latency.labels().observe(0.5);
    latency.labels().observe(3);

    expect(requests.find({ route: '/a' })?.value).toBe(3);
    expect(requests.find({ route: '/b' })?.value).toBe(1);
    expect(requests.find({ route: '/c' })).toBeUndefined();
    const snapshot = registry.snapshot();
    expect(snapshot.depth?.series[0]?.value).toBe(5);
    expect(snapshot.latency_seconds?.series[0]).toMatchObject({
      count: 3,
      sum: 3.55,
      min: 0.05,
      max: 3,
      buckets: [
        { le: 0.1, count: 1 },
        { le: 1, count: 2 },
        { le: Infinity, count: 3 },
      ],
    });
  });

  it('returns the same metric for the same definition and refuses a conflicting one', () => {
    const registry = metricsRegistry();
    const first = registry.counter({ name: 'x_total', help: 'X.', labelNames: ['a'] });
    expect(registry.counter({ name: 'x_total', help: 'X again.', labelNames: ['a'] })).toBe(first);
    expect(() => registry.gauge({ name: 'x_total', help: 'X.', labelNames: ['a'] })).toThrow(ConfigError);
    expect(() => registry.counter({ name: 'x_total', help: 'X.', labelNames: ['b'] })).toThrow(/x_total/);
    registry.histogram({ name: 'h', help: 'H.', buckets: [1, 2] });
    expect(() => registry.histogram({ name: 'h', help: 'H.', buckets: [1, 3] })).toThrow(ConfigError);
  });

  it('counters never go down', () => {
    const counter = metricsRegistry().counter({ name: 'c_total', help: 'C.' });
    expect(() => counter.labels().inc(-1)).toThrow(RangeError);
    expect(() => counter.labels().inc(Number.NaN)).toThrow(RangeError);
    expect(counter.labels().value).toBe(0);
  });

  it('caps label sets per metric: later sets go to one overflow series, with one warning', () => {
    const { lines, logger } = recordingLogger();
    const registry = metricsRegistry({ maxLabelSets: 3, logger });
    const counter = registry.counter({ name: 'hits_total', help: 'Hits.', labelNames: ['route', 'outcome'] });
    for (let i = 0; i < 10; i++) counter.labels({ route: `/r${i}`, outcome: 'ok' }).inc();
    counter.labels({ route: '/r0', outcome: 'ok' }).inc(); // an existing set still has its own series

    const series = counter.series();
    expect(series).toHaveLength(4);
    expect(series.map((s) => s.labels.route)).toEqual(['/r0', '/r1', '/r2', OVERFLOW_LABEL_VALUE]);
    expect(counter.find({ route: '/r0', outcome: 'ok' })?.value).toBe(2);
    expect(series[3]).toMatchObject({ labels: { route: '_overflow', outcome: '_overflow' }, value: 7 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', fields: { event: 'metrics.label_cap', metric: 'hits_total', maxLabelSets: 3 } });

    const other = registry.gauge({ name: 'other', help: 'Other.', labelNames: ['k'] });
    for (let i = 0; i < 5; i++) other.labels({ k: String(i) }).set(i);
    expect(lines).toHaveLength(2);
    expect(lines[1]?.fields.metric).toBe('other');
    // The exposition shows the overflow series like any other.
    const parsed = parseStrict(registry.toPrometheus());
    expect(sampleValue(parsed, 'hits_total', { route: '_overflow', outcome: '_overflow' })).toBe(7);
  });

  it('warns through process warnings when no logger is given', async () => {
    const registry = metricsRegistry({ maxLabelSets: 1 });
    const warning = new Promise<Error>((resolve) => process.once('warning', resolve));
    const gauge = registry.gauge({ name: 'g', help: 'G.', labelNames: ['k'] });
    gauge.labels({ k: 'a' });
    gauge.labels({ k: 'b' });
    gauge.labels({ k: 'c' });
    const emitted = await warning;
    expect(emitted.message).toMatch(/"g" reached 1 label sets/);
    expect((emitted as Error & { code?: string }).code).toBe('SLUICE_METRICS');
  });

  it('runs collect hooks before each export', () => {
    const registry = metricsRegistry();
    let size = 4;
    registry.gauge({ name: 'pool_size', help: 'Pool size.', collect: (gauge) => gauge.labels().set(size) });
    expect(registry.snapshot().pool_size?.series[0]?.value).toBe(4);
    size = 9;
    expect(sampleValue(parseStrict(registry.toPrometheus()), 'pool_size')).toBe(9);
  });

  it('survives a collect hook that throws, warning once', () => {
    const { lines, logger } = recordingLogger();
    const registry = metricsRegistry({ logger });
    registry.gauge({
      name: 'broken',
      help: 'Broken.',
      collect: () => {
        throw new Error('nope');
      },
    });
    registry.counter({ name: 'fine_total', help: 'Fine.' }).labels().inc();
    expect(sampleValue(parseStrict(registry.toPrometheus()), 'fine_total')).toBe(1);
    registry.toPrometheus();
    expect(lines.filter((line) => line.fields.event === 'metrics.collect_failed')).toHaveLength(1);
  });

  it('reset zeroes series that components still hold', () => {
    const registry = metricsRegistry();
    const held = registry.counter({ name: 'r_total', help: 'R.' }).labels();
    held.inc(5);
    registry.reset();
    expect(held.value).toBe(0);
    held.inc();
    expect(registry.snapshot().r_total?.series[0]?.value).toBe(1);
  });

  it('rejects bad definitions and label sets with ConfigError', () => {
    const registry = metricsRegistry();
    expect(() => metricsRegistry({ maxLabelSets: 0 })).toThrow(/maxLabelSets/);
    expect(() => metricsRegistry({ maxLabelSet: 10 } as never)).toThrow(/maxLabelSet/);
    expect(() => metricsRegistry({ logger: { warn() {} } as never })).toThrow(/logger/);
    expect(() => registry.counter({ name: 'bad-name', help: 'x' })).toThrow(/name/);
    expect(() => registry.counter({ name: 'ok', help: '' })).toThrow(/help/);
    expect(() => registry.counter({ name: 'ok', help: 'x', labelNames: ['__reserved'] })).toThrow(/labelNames/);
    expect(() => registry.counter({ name: 'ok', help: 'x', labelNames: ['a', 'a'] })).toThrow(/labelNames/);
    expect(() => registry.counter({ name: 'ok', help: 'x', labelNames: ['1a'] })).toThrow(ConfigError);
    expect(() => registry.histogram({ name: 'h', help: 'x', labelNames: ['le'] })).toThrow(/le/);
    expect(() => registry.histogram({ name: 'h', help: 'x', buckets: [] })).toThrow(/buckets/);
    expect(() => registry.histogram({ name: 'h', help: 'x', buckets: [1, 1] })).toThrow(/buckets/);
    expect(() => registry.histogram({ name: 'h', help: 'x', buckets: [1, Infinity] })).toThrow(/buckets/);
    expect(() => registry.counter({ name: 'ok', help: 'x', colect: () => {} } as never)).toThrow(/colect/);
    const counter = registry.counter({ name: 'labelled_total', help: 'x', labelNames: ['route'] });
    expect(() => counter.labels({})).toThrow(/labels\.route/);
    expect(() => counter.labels({ route: '/a', extra: 'x' })).toThrow(/labels\.extra/);
    expect(() => counter.labels({ route: { path: '/' } as never })).toThrow(ConfigError);
    expect(counter.labels({ route: 404 }).labels).toEqual({ route: '404' });
  });

  it('recognises registries by brand', () => {
    expect(isMetricsRegistry(metricsRegistry())).toBe(true);
    expect(isMetricsRegistry({ counter() {} })).toBe(false);
  });
});

describe('histogram', () => {
  const bounds = DEFAULT_SECONDS_BUCKETS;

  it('keeps cumulative buckets monotonic, +Inf equal to the count, and the sum exact (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1, max: 120, noNaN: true }), { maxLength: 300 }), (values) => {
        const series = new HistogramSeries({}, bounds);
        for (const value of values) series.observe(value);
        const cumulative = series.cumulativeCounts();
        for (let i = 1; i < cumulative.length; i++) expect(cumulative[i]!).toBeGreaterThanOrEqual(cumulative[i - 1]!);
        expect(cumulative[cumulative.length - 1]).toBe(values.length);
        // Each bucket holds exactly the values <= its bound.
        bounds.forEach((bound, index) => expect(cumulative[index]).toBe(values.filter((value) => value <= bound).length));
        expect(series.sum).toBeCloseTo(values.reduce((total, value) => total + value, 0), 6);
      }),
    );
  });

  it('estimates quantiles inside the bucket that holds the true quantile (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.constantFrom(0.5, 0.9, 0.95, 0.99),
        (values, q) => {
          const series = new HistogramSeries({}, bounds);
          for (const value of values) series.observe(value);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
          const estimate = series.quantile(q);
          const upperIndex = bounds.findIndex((bound) => exact <= bound);
          const lower = upperIndex <= 0 ? sorted[0]! : bounds[upperIndex - 1]!;
          const upper = upperIndex === -1 ? sorted[sorted.length - 1]! : bounds[upperIndex]!;
          expect(estimate).toBeGreaterThanOrEqual(Math.min(lower, exact) - 1e-9);
          expect(estimate).toBeLessThanOrEqual(upper + 1e-9);
          expect(estimate).toBeGreaterThanOrEqual(sorted[0]! - 1e-9);
          expect(estimate).toBeLessThanOrEqual(sorted[sorted.length - 1]! + 1e-9);
        },
      ),
    );
  });

  it('reads p50, p95 and p99, exactly for a single repeated value, NaN when empty', () => {
    const series = new HistogramSeries({}, bounds);
    expect(series.p50).toBeNaN();
    for (let i = 0; i < 100; i++) series.observe(0.2);
    expect([series.p50, series.p95, series.p99]).toEqual([0.2, 0.2, 0.2]);
    const spread = new HistogramSeries({}, [10, 20, 30, 40]);
    for (let i = 1; i <= 40; i++) spread.observe(i);
    expect(spread.p50).toBe(20);
    expect(spread.quantile(0.25)).toBe(10);
    expect(spread.p99).toBeCloseTo(39.6, 6);
    expect(() => spread.quantile(1.5)).toThrow(RangeError);
  });
});
