import { describe, expect, it } from 'vitest';
import { Counter as PromCounter, Registry as PromRegistry } from 'prom-client';
import { ConfigError, bridgeToPromClient, memoryStore, metricsRegistry, tokenBucket } from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { parsers, sampleValue } from '../support/prometheus-text.js';

describe('bridgeToPromClient', () => {
  it("publishes sluice metrics into a prom-client registry, read back through prom-client's metrics()", async () => {
    const registry = metricsRegistry();
    const promRegistry = new PromRegistry();
    const appCounter = new PromCounter({ name: 'app_jobs_total', help: 'The app’s own metric.', registers: [promRegistry] });
    appCounter.inc(4);
    const clock = new FakeClock(0);
    const limiter = tokenBucket({ name: 'api', rate: 2, burst: 2, clock, store: memoryStore({ sweepInterval: 0, clock }), metrics: registry });
    const bridge = bridgeToPromClient(promRegistry, { registry });
    for (let i = 0; i < 3; i++) await limiter.consume('k');
    await limiter.acquire('k', { timeout: 0 }).catch(() => undefined);
    const waiting = limiter.acquire('k');
    await clock.advance(500);
    await waiting;

    const text = await promRegistry.metrics();
    for (const parser of parsers) {
      const parsed = parser.parse(text);
      expect(sampleValue(parsed, 'app_jobs_total')).toBe(4);
      expect(sampleValue(parsed, 'sluice_limiter_decisions_total', { limiter: 'api', policy: 'api', outcome: 'accepted' })).toBe(3);
      expect(sampleValue(parsed, 'sluice_limiter_decisions_total', { limiter: 'api', policy: 'api', outcome: 'rejected' })).toBe(3);
      expect(sampleValue(parsed, 'sluice_limiter_acquire_timeouts_total', { limiter: 'api' })).toBe(1);
      expect(sampleValue(parsed, 'sluice_limiter_wait_seconds_bucket', { limiter: 'api', le: '0.25' })).toBe(0);
      expect(sampleValue(parsed, 'sluice_limiter_wait_seconds_bucket', { limiter: 'api', le: '0.5' })).toBe(1);
      expect(sampleValue(parsed, 'sluice_limiter_wait_seconds_sum', { limiter: 'api' })).toBe(0.5);
      expect(sampleValue(parsed, 'sluice_limiter_wait_seconds_count', { limiter: 'api' })).toBe(1);
      expect(parsed.types.sluice_limiter_wait_seconds).toBe('histogram');
    }
    // prom-client formats the same samples the same way our exposition does, line for line.
    const ours = registry.toPrometheus().split('\n').filter(Boolean);
    const theirs = new Set(text.split('\n'));
    for (const line of ours) expect(theirs.has(line), line).toBe(true);

    // Values are read at scrape time: the next scrape sees new decisions.
    await limiter.consume('other');
    const json = await promRegistry.getMetricsAsJSON();
    const decisions = json.find((metric) => metric.name === 'sluice_limiter_decisions_total');
    expect(decisions?.values.find((value) => value.labels.outcome === 'accepted')?.value).toBe(4);
    bridge.close();
  });

  it('publishes metrics registered after the bridge, and close() takes them all back', async () => {
    const registry = metricsRegistry();
    const promRegistry = new PromRegistry();
    const bridge = bridgeToPromClient(promRegistry, { registry });
    expect(bridge.names).toEqual([]);
    const limiter = tokenBucket({ name: 'late', rate: 1, store: memoryStore({ sweepInterval: 0 }), metrics: registry });
    await limiter.consume('k');
    expect(bridge.names).toContain('sluice_limiter_decisions_total');
    expect(await promRegistry.metrics()).toContain('sluice_limiter_decisions_total{limiter="late",policy="late",outcome="accepted"} 1');
    bridge.close();
    expect(await promRegistry.metrics()).not.toContain('sluice_');
    registry.counter({ name: 'after_close_total', help: 'x' });
    expect(promRegistry.getSingleMetric('after_close_total')).toBeUndefined();
  });

  it("prom-client's resetMetrics() resets the bridged metrics", async () => {
    const registry = metricsRegistry();
    const promRegistry = new PromRegistry();
    registry.counter({ name: 'resettable_total', help: 'x' }).labels().inc(3);
    bridgeToPromClient(promRegistry, { registry });
    promRegistry.resetMetrics();
    expect(await promRegistry.metrics()).toContain('resettable_total 0');
  });

  it('refuses a name the prom-client registry already has, and bad arguments, with ConfigError', () => {
    const registry = metricsRegistry();
    registry.counter({ name: 'taken_total', help: 'x' });
    const promRegistry = new PromRegistry();
    new PromCounter({ name: 'taken_total', help: 'theirs', registers: [promRegistry] });
    expect(() => bridgeToPromClient(promRegistry, { registry })).toThrow(/taken_total/);
    expect(promRegistry.getSingleMetric('taken_total')).toBeInstanceOf(PromCounter);
    expect(() => bridgeToPromClient({} as never)).toThrow(ConfigError);
    expect(() => bridgeToPromClient(new PromRegistry(), { registry: {} as never })).toThrow(/registry/);
    expect(() => bridgeToPromClient(new PromRegistry(), { regsitry: registry } as never)).toThrow(/regsitry/);
  });

  it('warns once, and skips, when a later metric collides with one of the app', async () => {
    const lines: unknown[] = [];
    const logger = { debug() {}, warn: (fields: unknown) => lines.push(fields), error() {} };
    const registry = metricsRegistry({ logger });
    const promRegistry = new PromRegistry();
    new PromCounter({ name: 'clash_total', help: 'theirs', registers: [promRegistry] }).inc(9);
    bridgeToPromClient(promRegistry, { registry });
    registry.counter({ name: 'clash_total', help: 'ours' }).labels().inc(1);
    expect(lines).toMatchObject([{ event: 'metrics.bridge_conflict', metric: 'clash_total' }]);
    expect(await promRegistry.metrics()).toContain('clash_total 9');
  });
});
