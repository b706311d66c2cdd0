/** The instrument sets components record through, read back from the exposition. */
import { describe, expect, it } from 'vitest';
import { BreakerInstruments, HttpInstruments, HybridInstruments, StoreInstruments, metricsRegistry } from '../../src/index.js';
import { parsers, sampleValue } from '../support/prometheus-text.js';

describe('BreakerInstruments', () => {
  it('keeps exactly one state series at 1, counts transitions, rejections and calls by outcome', () => {
    const registry = metricsRegistry();
    const breaker = new BreakerInstruments(registry, 'payments');
    breaker.call(0.05, 'success');
    breaker.call(2, 'failure');
    breaker.call(5, 'timeout');
    breaker.stateChanged('closed', 'open');
    breaker.rejected();
    breaker.rejected();
    breaker.stateChanged('open', 'half-open');
    breaker.stateChanged('half-open', 'open');
    breaker.stateChanged('open', 'half-open');
    for (const parser of parsers) {
      const parsed = parser.parse(registry.toPrometheus());
      const state = (name: string) => sampleValue(parsed, 'sluice_breaker_state', { breaker: 'payments', state: name });
      expect([state('closed'), state('open'), state('half-open'), state('isolated')]).toEqual([0, 0, 1, 0]);
      const transitions = (from: string, to: string) => sampleValue(parsed, 'sluice_breaker_transitions_total', { breaker: 'payments', from, to });
      expect(transitions('closed', 'open')).toBe(1);
      expect(transitions('open', 'half-open')).toBe(2);
      expect(transitions('half-open', 'open')).toBe(1);
      expect(sampleValue(parsed, 'sluice_breaker_rejections_total', { breaker: 'payments' })).toBe(2);
      expect(sampleValue(parsed, 'sluice_breaker_call_seconds_count', { breaker: 'payments', outcome: 'failure' })).toBe(1);
      expect(sampleValue(parsed, 'sluice_breaker_call_seconds_sum', { breaker: 'payments', outcome: 'timeout' })).toBe(5);
      expect(sampleValue(parsed, 'sluice_breaker_call_seconds_bucket', { breaker: 'payments', outcome: 'success', le: '0.05' })).toBe(1);
    }
  });

  it('records nowhere with metrics off', () => {
    const breaker = new BreakerInstruments(undefined, 'x');
    breaker.stateChanged('closed', 'open');
    breaker.call(1, 'success');
    expect(metricsRegistry().list()).toEqual([]);
  });
});

describe('HttpInstruments', () => {
  it('counts requests by route pattern and outcome, unmatched routes apart', () => {
    const registry = metricsRegistry();
    const http = new HttpInstruments(registry);
    http.request('/users/:id', 'allowed');
    http.request('/users/:id', 'allowed');
    http.request('/users/:id', 'limited');
    http.request(undefined, 'skipped');
    http.request('/login', 'failed_closed');
    const parsed = parsers[1]!.parse(registry.toPrometheus());
    expect(sampleValue(parsed, 'sluice_http_requests_total', { route: '/users/:id', outcome: 'allowed' })).toBe(2);
    expect(sampleValue(parsed, 'sluice_http_requests_total', { route: '/users/:id', outcome: 'limited' })).toBe(1);
    expect(sampleValue(parsed, 'sluice_http_requests_total', { route: 'none', outcome: 'skipped' })).toBe(1);
    expect(sampleValue(parsed, 'sluice_http_requests_total', { route: '/login', outcome: 'failed_closed' })).toBe(1);
    // Only outcomes seen get a series.
    expect(registry.get('sluice_http_requests_total')!.series()).toHaveLength(4);
  });

  it('stays within the label cap when routes are unbounded', () => {
    const warnings: unknown[] = [];
    const registry = metricsRegistry({ maxLabelSets: 20, logger: { debug() {}, warn: (fields) => warnings.push(fields), error() {} } });
    const http = new HttpInstruments(registry);
    for (let i = 0; i < 500; i++) http.request(`/raw/${i}`, 'allowed');
    const series = registry.get('sluice_http_requests_total')!.series();
    expect(series.length).toBe(21); // 20 label sets + the overflow series
    const total = series.reduce((sum, s) => sum + ('value' in s ? s.value : 0), 0);
    expect(total).toBe(500);
    expect(warnings).toHaveLength(1);
  });
});

describe('StoreInstruments and HybridInstruments', () => {
  it('count round trips with latency, errors, deny-cache hits and fallbacks', () => {
    const registry = metricsRegistry();
    const redis = new StoreInstruments(registry, 'redis');
    redis.roundTrip(0.0003);
    redis.roundTrip(0.002);
    redis.roundTrip(1.5, true);
    redis.error();
    const hybrid = new HybridInstruments(registry, 'hybrid');
    hybrid.denyCacheHit();
    hybrid.fallbackDecision();
    hybrid.fallbackDecision();
    hybrid.setFallbackActive(true);
    const parsed = parsers[0]!.parse(registry.toPrometheus());
    expect(sampleValue(parsed, 'sluice_store_round_trips_total', { store: 'redis' })).toBe(3);
    expect(sampleValue(parsed, 'sluice_store_errors_total', { store: 'redis' })).toBe(2);
    expect(sampleValue(parsed, 'sluice_store_round_trip_seconds_bucket', { store: 'redis', le: '0.0005' })).toBe(1);
    expect(sampleValue(parsed, 'sluice_store_round_trip_seconds_bucket', { store: 'redis', le: '0.0025' })).toBe(2);
    expect(sampleValue(parsed, 'sluice_hybrid_deny_cache_hits_total', { store: 'hybrid' })).toBe(1);
    expect(sampleValue(parsed, 'sluice_hybrid_fallback_decisions_total', { store: 'hybrid' })).toBe(2);
    expect(sampleValue(parsed, 'sluice_hybrid_fallback_active', { store: 'hybrid' })).toBe(1);
    hybrid.setFallbackActive(false);
    expect(registry.value('sluice_hybrid_fallback_active', { store: 'hybrid' })).toBe(0);
  });
});
