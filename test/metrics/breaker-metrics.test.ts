import { describe, expect, it } from 'vitest';
import { ConfigError, circuitBreaker, isCircuitOpenError, metricsRegistry, type LogFields } from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { parsers, sampleValue } from '../support/prometheus-text.js';

function recordingLogger() {
  const lines: { level: string; fields: LogFields; message: string }[] = [];
  const at = (level: string) => (fields: LogFields, message: string) => lines.push({ level, fields, message });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

const fail = (message: string) => () => Promise.reject(new Error(message));

describe('circuit breaker metrics and logs', () => {
  it('records state, transitions, rejections and call durations through a scripted outage', async () => {
    const registry = metricsRegistry();
    const clock = new FakeClock(0);
    const { lines, logger } = recordingLogger();
    const breaker = circuitBreaker({ name: 'payments', failureThreshold: 2, resetTimeout: '10s', clock, metrics: registry, logger });
    // A call that takes 30 ms of the breaker's clock.
    const slow = <T>(value: T, ms: number) => () => clock.sleep(ms).then(() => value);

    const ok = breaker.execute(slow('paid', 30));
    await clock.advance(30);
    expect(await ok).toBe('paid');
    await expect(breaker.execute(fail('down'))).rejects.toThrow('down');
    await expect(breaker.execute(fail('down'))).rejects.toThrow('down'); // second failure: opens
    for (let i = 0; i < 3; i++) await expect(breaker.execute(slow('never', 1))).rejects.toSatisfy(isCircuitOpenError);
    clock.set(10_030); // the circuit opened at 30 ms for 10 s
    const trial = breaker.execute(slow('back', 200)); // half-open trial
    await clock.advance(200);
    expect(await trial).toBe('back');

    for (const parser of parsers) {
      const parsed = parser.parse(registry.toPrometheus());
      const state = (name: string) => sampleValue(parsed, 'sluice_breaker_state', { breaker: 'payments', state: name });
      expect([state('closed'), state('open'), state('half-open'), state('isolated')]).toEqual([1, 0, 0, 0]);
      const transitions = (from: string, to: string) => sampleValue(parsed, 'sluice_breaker_transitions_total', { breaker: 'payments', from, to });
      expect([transitions('closed', 'open'), transitions('open', 'half-open'), transitions('half-open', 'closed')]).toEqual([1, 1, 1]);
      expect(sampleValue(parsed, 'sluice_breaker_rejections_total', { breaker: 'payments' })).toBe(3);
      const calls = (outcome: string, suffix = 'count') =>
        sampleValue(parsed, `sluice_breaker_call_seconds_${suffix}`, { breaker: 'payments', outcome });
      expect([calls('success'), calls('failure'), calls('timeout')]).toEqual([2, 2, 0]);
      expect(calls('success', 'sum')).toBeCloseTo(0.23, 9);
      expect(sampleValue(parsed, 'sluice_breaker_call_seconds_bucket', { breaker: 'payments', outcome: 'success', le: '0.025' })).toBe(0);
      expect(sampleValue(parsed, 'sluice_breaker_call_seconds_bucket', { breaker: 'payments', outcome: 'success', le: '0.05' })).toBe(1);
      expect(sampleValue(parsed, 'sluice_breaker_call_seconds_bucket', { breaker: 'payments', outcome: 'success', le: '0.25' })).toBe(2);
    }
    expect(registry.get('sluice_breaker_call_seconds')?.find({ breaker: 'payments', outcome: 'success' })).toMatchObject({ min: 0.03, max: 0.2 });

    expect(lines.map((line) => [line.level, line.fields.from, line.fields.to, line.fields.reason])).toEqual([
      ['warn', 'closed', 'open', 'failures'],
      ['info', 'open', 'half-open', 'reset-timeout'],
      ['info', 'half-open', 'closed', 'trial-succeeded'],
    ]);
    expect(lines[0]).toMatchObject({
      message: 'sluice: circuit "payments" open',
      fields: { event: 'breaker.state_change', component: 'breaker', breaker: 'payments', openMs: 10_000 },
    });
  });

  it('times out calls as outcome "timeout", and counts isolation', async () => {
    const registry = metricsRegistry();
    const clock = new FakeClock(0);
    const breaker = circuitBreaker({ name: 'search', timeout: '100ms', failureThreshold: 10, clock, metrics: registry });
    const hanging = expect(breaker.execute(() => new Promise(() => {}))).rejects.toThrow(/timed out/);
    await clock.advance(100);
    await hanging;
    const release = breaker.isolate();
    await expect(breaker.execute(async () => 1)).rejects.toSatisfy(isCircuitOpenError);
    expect(registry.value('sluice_breaker_state', { breaker: 'search', state: 'isolated' })).toBe(1);
    release[Symbol.dispose]?.();
    expect(registry.value('sluice_breaker_state', { breaker: 'search', state: 'closed' })).toBe(1);
    const timeouts = registry.get('sluice_breaker_call_seconds')?.find({ breaker: 'search', outcome: 'timeout' });
    expect(timeouts).toMatchObject({ count: 1, sum: 0.1 });
    expect(registry.value('sluice_breaker_rejections_total', { breaker: 'search' })).toBe(1);
  });

  it("does not time sluice's own refusals passing through", async () => {
    const registry = metricsRegistry();
    const inner = circuitBreaker({ name: 'inner', failureThreshold: 1, metrics: false });
    inner.open();
    const outer = circuitBreaker({ name: 'outer', metrics: registry });
    await expect(outer.execute(() => inner.execute(async () => 1))).rejects.toSatisfy(isCircuitOpenError);
    const series = registry.get('sluice_breaker_call_seconds')!.series();
    expect(series.map((s) => ('count' in s ? s.count : -1))).toEqual([0, 0, 0]);
  });

  it('records nothing with metrics: false, and rejects bad metrics and logger options', async () => {
    const registry = metricsRegistry();
    const breaker = circuitBreaker({ name: 'quiet', metrics: false });
    await breaker.execute(async () => 1);
    expect(registry.list()).toEqual([]);
    expect(() => circuitBreaker({ metrics: 'on' as never })).toThrow(ConfigError);
    expect(() => circuitBreaker({ logger: { warn() {} } as never })).toThrow(/logger/);
  });
});
