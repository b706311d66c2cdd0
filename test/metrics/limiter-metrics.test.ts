import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  PolicyLimiter,
  adaptive,
  defaultRegistry,
  memoryStore,
  metricsRegistry,
  tokenBucket,
  type Decision,
  type DecideCall,
  type LogFields,
  type Policy,
  type Store,
} from '../../src/index.js';
import { limiterSettings, makePolicy } from '../../src/limiters/policy-limiter.js';
import { tokenBucketAlgorithm } from '../../src/limiters/token-bucket.js';
import { configErrorField } from '../support/config-error.js';
import { FakeClock } from '../support/fake-clock.js';

function recordingLogger() {
  const lines: { level: string; fields: LogFields; message: string }[] = [];
  const at = (level: string) => (fields: LogFields, message: string) => lines.push({ level, fields, message });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

/** A store that answers from memory, or fails like an unreachable server while `down` is set. */
class SwitchableStore implements Store {
  readonly kind = 'switchable';
  readonly synchronous = false;
  down = false;
  private readonly inner = memoryStore({ sweepInterval: 0 });

  private fail(): Promise<never> {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    return Promise.reject(error);
  }
  decide(policy: Policy, key: string, call: DecideCall): Promise<Decision> {
    return this.down ? this.fail() : Promise.resolve(this.inner.decide(policy, key, call));
  }
  decideAll(policies: readonly Policy[], key: string, call: DecideCall): Promise<Decision[]> {
    return this.down ? this.fail() : Promise.resolve(this.inner.decideAll(policies, key, call));
  }
  inspect = this.inner.inspect.bind(this.inner);
  refund = this.inner.refund.bind(this.inner);
  reset = this.inner.reset.bind(this.inner);
  get = this.inner.get.bind(this.inner);
  set = this.inner.set.bind(this.inner);
  incr = this.inner.incr.bind(this.inner);
  decr = this.inner.decr.bind(this.inner);
  delete = this.inner.delete.bind(this.inner);
  exists = this.inner.exists.bind(this.inner);
}

const decisions = (registry: typeof defaultRegistry, labels: Record<string, string>) =>
  registry.value('sluice_limiter_decisions_total', labels);

describe('limiter metrics', () => {
  it('record into the default registry unless told otherwise, and not at all with metrics: false', async () => {
    const store = memoryStore({ sweepInterval: 0 });
    const onDefault = tokenBucket({ name: 'default-metrics-test', rate: 1, store });
    const off = tokenBucket({ name: 'metrics-off-test', rate: 1, store, metrics: false });
    const own = metricsRegistry();
    const mine = tokenBucket({ name: 'own-registry-test', rate: 1, store, metrics: own });
    for (const limiter of [onDefault, off, mine]) {
      await limiter.consume('k');
      await limiter.consume('k');
    }
    expect(decisions(defaultRegistry, { limiter: 'default-metrics-test', policy: 'default-metrics-test', outcome: 'rejected' })).toBe(1);
    expect(defaultRegistry.toPrometheus()).not.toContain('metrics-off-test');
    expect(defaultRegistry.toPrometheus()).not.toContain('own-registry-test');
    expect(decisions(own, { limiter: 'own-registry-test', policy: 'own-registry-test', outcome: 'accepted' })).toBe(1);
    // The plain per-limiter object is kept whatever the metrics option.
    expect(off.metrics()).toMatchObject({ accepted: 1, rejected: 1 });
  });

  it('attributes a multi-policy decision to the policy that decided it', async () => {
    const registry = metricsRegistry();
    const clock = new FakeClock(0);
    const store = memoryStore({ sweepInterval: 0, clock });
    const settings = (name: string) => limiterSettings({ name, store, clock, metrics: registry }, 'test', [], name);
    const perSecond = makePolicy(settings('per-second'), {
      algorithm: tokenBucketAlgorithm,
      config: { ratePerMs: 10 / 1000, burst: 10 },
      limit: 10,
      windowMs: 1000,
      defaultName: 'per-second',
    });
    const perMinute = makePolicy(settings('per-minute'), {
      algorithm: tokenBucketAlgorithm,
      config: { ratePerMs: 3 / 60_000, burst: 3 },
      limit: 3,
      windowMs: 60_000,
      defaultName: 'per-minute',
    });
    const both = new PolicyLimiter(settings('both'), [perSecond, perMinute]);
    for (let i = 0; i < 5; i++) await both.consume('k');
    expect(decisions(registry, { limiter: 'both', policy: 'per-minute', outcome: 'accepted' })).toBe(3);
    expect(decisions(registry, { limiter: 'both', policy: 'per-minute', outcome: 'rejected' })).toBe(2);
    expect(decisions(registry, { limiter: 'both', policy: 'per-second', outcome: 'rejected' })).toBe(0);
  });

  it('count store errors and degraded decisions, for fail-open and fail-closed', async () => {
    const registry = metricsRegistry();
    const store = new SwitchableStore();
    const open = tokenBucket({ name: 'open', rate: 1, store, metrics: registry });
    const closed = tokenBucket({ name: 'closed', rate: 1, store, metrics: registry, failMode: 'closed' });
    store.down = true;
    expect((await open.consume('k')).allowed).toBe(true);
    expect((await closed.consume('k')).allowed).toBe(false);
    expect((await closed.consume('k')).allowed).toBe(false);
    const snapshot = registry.snapshot();
    expect(snapshot.sluice_limiter_store_errors_total?.series).toEqual([
      { labels: { limiter: 'open', store: 'switchable' }, value: 1 },
      { labels: { limiter: 'closed', store: 'switchable' }, value: 2 },
    ]);
    expect(registry.value('sluice_limiter_degraded_decisions_total', { limiter: 'open', outcome: 'accepted' })).toBe(1);
    expect(registry.value('sluice_limiter_degraded_decisions_total', { limiter: 'closed', outcome: 'rejected' })).toBe(2);
    expect(registry.value('sluice_limiter_degraded_decisions_total', { limiter: 'nobody', outcome: 'rejected' })).toBeUndefined();
    expect(closed.metrics()).toMatchObject({ storeErrors: 2, degraded: 2, rejected: 2 });
  });
});

describe('adaptive limiter metrics', () => {
  it('publish the current rate as it moves', async () => {
    const registry = metricsRegistry();
    const clock = new FakeClock(0);
    const limiter = adaptive({
      name: 'downstream',
      initialRate: 100,
      minRate: 10,
      maxRate: 200,
      increaseStep: 10,
      decreaseFactor: 0.5,
      errorThreshold: 0.5,
      window: '1s',
      store: memoryStore({ sweepInterval: 0, clock }),
      clock,
      metrics: registry,
    });
    const rate = () => registry.value('sluice_limiter_adaptive_rate', { limiter: 'downstream' });
    expect(rate()).toBe(100);
    limiter.reportError();
    clock.set(1_000);
    limiter.reportSuccess(); // closes the erroring window: halved
    expect(rate()).toBe(50);
    clock.set(2_000);
    limiter.reportSuccess(); // closes a clean window: stepped up
    expect(rate()).toBe(60);
    expect(rate()).toBe(limiter.currentRate);
  });
});

describe('limiter logs', () => {
  it('are silent by default', async () => {
    // No logger: nothing to observe but that nothing throws and no console method is touched.
    const calls: unknown[] = [];
    const original = { ...console };
    for (const level of ['debug', 'info', 'warn', 'error', 'log'] as const) console[level] = (...args: unknown[]) => calls.push(args);
    try {
      const store = new SwitchableStore();
      const limiter = tokenBucket({ name: 'quiet', rate: 1, store, metrics: false });
      await limiter.consume('k');
      await limiter.consume('k');
      store.down = true;
      await limiter.consume('k');
    } finally {
      Object.assign(console, original);
    }
    expect(calls).toEqual([]);
  });

  it('write a debug line with the fields of a refusal', async () => {
    const { lines, logger } = recordingLogger();
    const limiter = tokenBucket({ name: 'login', rate: 1, per: '1m', burst: 2, store: memoryStore({ sweepInterval: 0 }), logger, metrics: false });
    await limiter.consume('alice', 2);
    expect(lines).toEqual([]);
    const refused = await limiter.consume('alice', 1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual({
      level: 'debug',
      message: 'sluice: request refused',
      fields: {
        event: 'rate_limit.refused',
        component: 'limiter',
        limiter: 'login',
        key: 'alice',
        policy: 'login',
        cost: 1,
        limit: 2,
        remaining: 0,
        retryAfterMs: refused.retryAfterMs,
      },
    });
    expect(refused.retryAfterMs).toBeGreaterThan(59_000);
    await expect(limiter.acquire('alice', { timeout: 5 })).rejects.toThrow();
    expect(lines[1]?.fields).toMatchObject({ event: 'rate_limit.acquire_refused', key: 'alice', cost: 1 });
  });

  it('log a store failure with its cause and the failMode choice, once per run, then the recovery', async () => {
    const { lines, logger } = recordingLogger();
    const clock = new FakeClock(0);
    const store = new SwitchableStore();
    const limiter = tokenBucket({ name: 'search', rate: 100, store, clock, logger, metrics: false, failMode: 'closed' });
    store.down = true;
    for (let i = 0; i < 50; i++) await limiter.consume('k'); // 50 failures in one instant: one line
    expect(lines).toHaveLength(50 + 1); // 50 refusals at debug, 1 failure at error
    const failures = lines.filter((line) => line.fields.event === 'store.failure');
    expect(failures).toEqual([
      {
        level: 'error',
        message: 'sluice: the store failed; failing closed (refusing)',
        fields: {
          event: 'store.failure',
          component: 'limiter',
          limiter: 'search',
          store: 'switchable',
          failMode: 'closed',
          cause: { name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:1', code: 'ECONNREFUSED' },
          failuresInRun: 1,
        },
      },
    ]);
    expect(lines.find((line) => line.fields.event === 'rate_limit.refused')?.fields).toMatchObject({ degraded: true });

    clock.set(10_000); // the run goes on: a reminder line with the count of lines held back
    await limiter.consume('k');
    expect(lines.filter((line) => line.fields.event === 'store.failure').at(-1)?.fields).toMatchObject({
      suppressed: 49,
      failuresInRun: 51,
    });

    clock.set(12_500);
    store.down = false;
    await limiter.consume('k');
    await limiter.consume('k');
    const recoveries = lines.filter((line) => line.fields.event === 'store.recovered');
    expect(recoveries).toEqual([
      {
        level: 'info',
        message: 'sluice: the store answers again',
        fields: { event: 'store.recovered', component: 'limiter', limiter: 'search', store: 'switchable', failuresInRun: 51, outageMs: 12_500 },
      },
    ]);
  });

  it('a logger that throws never breaks a decision', async () => {
    const boom = () => {
      throw new Error('logger down');
    };
    const limiter = tokenBucket({
      name: 'robust',
      rate: 1,
      store: memoryStore({ sweepInterval: 0 }),
      metrics: false,
      logger: { debug: boom, warn: boom, error: boom },
    });
    await limiter.consume('k');
    expect((await limiter.consume('k')).allowed).toBe(false);
  });

  it('a logger without info gets info lines at debug', async () => {
    const { lines, logger } = recordingLogger();
    const { info: _info, ...withoutInfo } = logger;
    const store = new SwitchableStore();
    const limiter = tokenBucket({ name: 'no-info', rate: 1, store, logger: withoutInfo, metrics: false });
    store.down = true;
    await limiter.consume('k');
    store.down = false;
    await limiter.consume('k');
    expect(lines.find((line) => line.fields.event === 'store.recovered')?.level).toBe('debug');
  });
});

describe('limiter metrics and logger options', () => {
  it('reject bad values with ConfigError naming the field', () => {
    expect(configErrorField(() => tokenBucket({ rate: 1, metrics: 'yes' as never }))).toBe('metrics');
    expect(configErrorField(() => tokenBucket({ rate: 1, metrics: {} as never }))).toBe('metrics');
    expect(configErrorField(() => tokenBucket({ rate: 1, logger: {} as never }))).toBe('logger');
    expect(configErrorField(() => tokenBucket({ rate: 1, logger: console.log as never }))).toBe('logger');
    expect(configErrorField(() => tokenBucket({ rate: 1, logger: { debug() {}, warn() {}, error() {}, info: 'x' } as never }))).toBe('logger.info');
    expect(() => tokenBucket({ rate: 1, metrics: 'yes' as never })).toThrow(ConfigError);
    expect(() => tokenBucket({ rate: 1, metrics: true, logger: console })).not.toThrow();
  });
});
