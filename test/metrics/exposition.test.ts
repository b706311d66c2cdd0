/** The text exposition read back by two Prometheus text parsers: the strict one in test/support and parse-prometheus-text-format. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import express from 'express';
import { metricsRoute, rateLimit } from '../../adapters/express/index.js';
import { circuitBreaker, isCircuitOpenError, memoryStore, metricsRegistry, tokenBucket } from '../../src/index.js';
import { listening } from '../adapters/drivers/driver.js';
import { FakeClock } from '../support/fake-clock.js';
import { parseStrict, parsers, sampleValue } from '../support/prometheus-text.js';

describe.each(parsers)('Prometheus text exposition, read by the $name parser', (parser) => {
  it('escapes backslashes, double quotes and newlines in label values and HELP', () => {
    const registry = metricsRegistry();
    const tricky = 'C:\\dir\\ "quoted"\nsecond line\\n';
    registry.counter({ name: 'odd_total', help: 'Help with \\ a backslash\nand a newline.', labelNames: ['path'] }).labels({ path: tricky }).inc(3);
    const text = registry.toPrometheus();
    expect(text).toContain('odd_total{path="C:\\\\dir\\\\ \\"quoted\\"\\nsecond line\\\\n"} 3\n');
    expect(text).toContain('# HELP odd_total Help with \\\\ a backslash\\nand a newline.\n');
    const parsed = parser.parse(text);
    expect(sampleValue(parsed, 'odd_total', { path: tricky })).toBe(3);
    expect(parsed.help.odd_total).toBe('Help with \\ a backslash\nand a newline.');
    expect(parsed.types.odd_total).toBe('counter');
  });

  it('round-trips any label value (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '\\', '"', '\n', 'n', ' ', '{', '}', ',', '=', 'é', '🚦') }), (value) => {
        const registry = metricsRegistry();
        registry.gauge({ name: 'v', help: 'V.', labelNames: ['x'] }).labels({ x: value }).set(1);
        expect(parser.parse(registry.toPrometheus()).samples).toEqual([{ name: 'v', labels: { x: value }, value: 1 }]);
      }),
      { numRuns: 200 },
    );
  });

  it('writes histograms with cumulative le buckets, le="+Inf", _sum and _count', () => {
    const registry = metricsRegistry();
    const histogram = registry.histogram({ name: 'wait_seconds', help: 'Wait.', labelNames: ['limiter'], buckets: [0.5, 1, 2] });
    for (const value of [0.1, 0.5, 0.7, 1.5, 9]) histogram.labels({ limiter: 'api' }).observe(value);
    const text = registry.toPrometheus();
    expect(text).toContain('wait_seconds_bucket{limiter="api",le="+Inf"} 5\n');
    const parsed = parser.parse(text);
    expect(parsed.types.wait_seconds).toBe('histogram');
    const bucket = (le: string) => sampleValue(parsed, 'wait_seconds_bucket', { limiter: 'api', le });
    expect([bucket('0.5'), bucket('1'), bucket('2'), bucket('+Inf')]).toEqual([2, 3, 4, 5]);
    expect(sampleValue(parsed, 'wait_seconds_sum', { limiter: 'api' })).toBeCloseTo(11.8, 9);
    expect(sampleValue(parsed, 'wait_seconds_count', { limiter: 'api' })).toBe(5);
  });

  it('spells special values as Prometheus does', () => {
    const registry = metricsRegistry();
    const gauge = registry.gauge({ name: 'g', help: 'G.', labelNames: ['k'] });
    gauge.labels({ k: 'inf' }).set(Infinity);
    gauge.labels({ k: 'neg' }).set(-Infinity);
    gauge.labels({ k: 'nan' }).set(Number.NaN);
    gauge.labels({ k: 'tiny' }).set(1.5e-7);
    const text = registry.toPrometheus();
    expect(text).toContain('g{k="inf"} +Inf\n');
    expect(text).toContain('g{k="neg"} -Inf\n');
    expect(text).toContain('g{k="nan"} NaN\n');
    const parsed = parser.parse(text);
    expect(sampleValue(parsed, 'g', { k: 'inf' })).toBe(Infinity);
    expect(sampleValue(parsed, 'g', { k: 'neg' })).toBe(-Infinity);
    expect(sampleValue(parsed, 'g', { k: 'nan' })).toBeNaN();
    expect(sampleValue(parsed, 'g', { k: 'tiny' })).toBe(1.5e-7);
  });

  it('reports a scripted run of limiters value by value', async () => {
    const registry = metricsRegistry();
    const clock = new FakeClock(1_000_000);
    const store = memoryStore({ sweepInterval: 0, clock });
    const api = tokenBucket({ name: 'api', rate: 5, per: '1s', burst: 5, store, clock, metrics: registry });
    const login = tokenBucket({ name: 'login', rate: 1, per: '1m', burst: 2, store, clock, metrics: registry });

    for (let i = 0; i < 8; i++) await api.consume('10.0.0.1'); // 5 admitted, 3 refused
    await api.consume('10.0.0.2'); // another client: admitted
    for (let i = 0; i < 3; i++) await login.consume('alice'); // 2 admitted, 1 refused
    const waiting = api.acquire('10.0.0.1', { timeout: '1s' }); // one token back in 200 ms
    await clock.advance(200);
    const permit = await waiting;
    await expect(api.acquire('10.0.0.1', { timeout: 10 })).rejects.toThrow(); // would wait 200 ms: gives up
    await permit.release();
    await login.acquire('bob');

    const parsed = parser.parse(registry.toPrometheus());
    const decisions = (limiter: string, outcome: string) =>
      sampleValue(parsed, 'sluice_limiter_decisions_total', { limiter, policy: limiter, outcome });
    expect(decisions('api', 'accepted')).toBe(7); // 5 + other client + the acquire after its wait
    expect(decisions('api', 'rejected')).toBe(5); // 3 + the acquire's first try + the timed-out acquire
    expect(decisions('login', 'accepted')).toBe(3);
    expect(decisions('login', 'rejected')).toBe(1);
    expect(sampleValue(parsed, 'sluice_limiter_acquisitions_total', { limiter: 'api' })).toBe(1);
    expect(sampleValue(parsed, 'sluice_limiter_acquisitions_total', { limiter: 'login' })).toBe(1);
    expect(sampleValue(parsed, 'sluice_limiter_acquire_timeouts_total', { limiter: 'api' })).toBe(1);
    expect(sampleValue(parsed, 'sluice_limiter_releases_total', { limiter: 'api' })).toBe(1);
    expect(sampleValue(parsed, 'sluice_limiter_in_flight', { limiter: 'api' })).toBe(0);
    expect(sampleValue(parsed, 'sluice_limiter_in_flight', { limiter: 'login' })).toBe(1);
    expect(sampleValue(parsed, 'sluice_limiter_store_errors_total', { limiter: 'api', store: 'memory' })).toBe(0);
    expect(sampleValue(parsed, 'sluice_limiter_degraded_decisions_total', { limiter: 'api', outcome: 'accepted' })).toBe(0);
    // The api acquire waited 0.2 s: in the 0.25 bucket, not the 0.1 one; login's acquire did not wait.
    const apiWait = (le: string) => sampleValue(parsed, 'sluice_limiter_wait_seconds_bucket', { limiter: 'api', le });
    expect([apiWait('0.1'), apiWait('0.25'), apiWait('+Inf')]).toEqual([0, 1, 1]);
    expect(sampleValue(parsed, 'sluice_limiter_wait_seconds_sum', { limiter: 'api' })).toBeCloseTo(0.2, 9);
    expect(sampleValue(parsed, 'sluice_limiter_wait_seconds_sum', { limiter: 'login' })).toBe(0);
    expect(sampleValue(parsed, 'sluice_limiter_wait_seconds_count', { limiter: 'login' })).toBe(1);
    // Never a client key as a label.
    expect(parsed.samples.some((sample) => Object.values(sample.labels).some((value) => /10\.0\.0|alice|bob/.test(value)))).toBe(false);
    // limiter.metrics() is the plain per-limiter object, unchanged.
    expect(api.metrics()).toMatchObject({ accepted: 7, rejected: 5, acquisitions: 1, timeouts: 1, releases: 1, inFlight: 0 });
  });
});

describe.each(parsers)('one registry after limiters, a breaker and HTTP requests, read by the $name parser', (parser) => {
  it('holds every component\'s figures, value by value', async () => {
    const registry = metricsRegistry();
    const clock = new FakeClock(0);
    const limiter = tokenBucket({ name: 'orders', rate: 2, per: '1h', store: memoryStore({ sweepInterval: 0 }), metrics: registry });
    const breaker = circuitBreaker({ name: 'payments', failureThreshold: 1, resetTimeout: '1m', clock, metrics: registry });
    const app = express();
    app.post('/orders/:id', rateLimit({ limiter, metrics: registry }), async (_req, res) => {
      try {
        res.json(await breaker.execute(() => Promise.reject(new Error('payment service down'))));
      } catch (error) {
        res.status(isCircuitOpenError(error) ? 503 : 502).end();
      }
    });
    app.get('/metrics', metricsRoute(registry));
    const server = await listening(app.listen(0, '127.0.0.1'));
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await fetch(`${server.url}/orders/${i}`, { method: 'POST' })).status);
      expect(statuses).toEqual([502, 503, 429]); // the call fails and opens the circuit; then refused; then limited
      const parsed = parser.parse(await (await fetch(`${server.url}/metrics`)).text());
      expect(sampleValue(parsed, 'sluice_http_requests_total', { route: '/orders/:id', outcome: 'allowed' })).toBe(2);
      expect(sampleValue(parsed, 'sluice_http_requests_total', { route: '/orders/:id', outcome: 'limited' })).toBe(1);
      expect(sampleValue(parsed, 'sluice_limiter_decisions_total', { limiter: 'orders', policy: 'orders', outcome: 'accepted' })).toBe(2);
      expect(sampleValue(parsed, 'sluice_limiter_decisions_total', { limiter: 'orders', policy: 'orders', outcome: 'rejected' })).toBe(1);
      expect(sampleValue(parsed, 'sluice_breaker_state', { breaker: 'payments', state: 'open' })).toBe(1);
      expect(sampleValue(parsed, 'sluice_breaker_transitions_total', { breaker: 'payments', from: 'closed', to: 'open' })).toBe(1);
      expect(sampleValue(parsed, 'sluice_breaker_rejections_total', { breaker: 'payments' })).toBe(1);
      expect(sampleValue(parsed, 'sluice_breaker_call_seconds_count', { breaker: 'payments', outcome: 'failure' })).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('strict parser', () => {
  // The checks above mean something only if the strict parser refuses what the format does not allow.
  it.each([
    ['a bad escape', '# TYPE a counter\na{x="\\t"} 1\n'],
    ['an unterminated label value', '# TYPE a counter\na{x="v} 1\n'],
    ['a missing final newline', '# TYPE a counter\na 1'],
    ['a bad value', '# TYPE a counter\na one\n'],
    ['non-cumulative buckets', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2\n'],
    ['a _count unlike +Inf', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ['a second TYPE', '# TYPE a counter\n# TYPE a gauge\na 1\n'],
    ['scattered samples', '# TYPE a counter\na{x="1"} 1\n# TYPE b counter\nb 1\na{x="2"} 1\n'],
  ])('rejects %s', (_, text) => {
    expect(() => parseStrict(text)).toThrow();
  });
});
