/** Redis and hybrid store metrics and logs, against real redis-server processes (killed and restarted). */
import { afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { hybridStore, metricsRegistry, redisStore, tokenBucket, type HybridStore, type LogFields, type RedisStore } from '../../src/index.js';
import { configErrorField } from '../support/config-error.js';
import { parsers, sampleValue } from '../support/prometheus-text.js';
import { startRedis, type RedisServer } from '../support/redis.js';

const servers: RedisServer[] = [];
const hybrids: HybridStore[] = [];

afterEach(async () => {
  for (const store of hybrids.splice(0)) await store.close();
  for (const server of servers.splice(0)) await server.stop();
});

async function server(): Promise<RedisServer> {
  const started = await startRedis();
  servers.push(started);
  return started;
}

function recordingLogger() {
  const lines: { level: string; fields: LogFields; message: string }[] = [];
  const at = (level: string) => (fields: LogFields, message: string) => lines.push({ level, fields, message });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

async function scriptCalls(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  const calls = (command: string) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return calls('eval') + calls('evalsha');
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Redis store metrics and logs', () => {
  it('counts one round trip per script call (as Redis counts them), with their time, and errors while Redis is down', async () => {
    const redis = await server();
    const admin = redis.client();
    const registry = metricsRegistry();
    const { lines, logger } = recordingLogger();
    const store: RedisStore = redisStore({ client: redis.client({ retryStrategy: () => 20 }), timeout: 200, metrics: registry, logger });
    const limiter = tokenBucket({ name: 'redis-api', rate: 3, per: '1h', store, metrics: registry });
    for (let i = 0; i < 5; i++) await limiter.consume('client-1');
    await Promise.all([limiter.consume('a'), limiter.consume('b'), limiter.consume('c')]); // one tick: one batch

    const calls = await scriptCalls(admin);
    const afterUp = parsers[0]!.parse(registry.toPrometheus());
    expect(calls).toBe(6);
    expect(sampleValue(afterUp, 'sluice_store_round_trips_total', { store: 'redis' })).toBe(calls);
    expect(sampleValue(afterUp, 'sluice_store_round_trip_seconds_count', { store: 'redis' })).toBe(calls);
    expect(sampleValue(afterUp, 'sluice_store_round_trip_seconds_sum', { store: 'redis' })).toBeGreaterThan(0);
    expect(sampleValue(afterUp, 'sluice_store_errors_total', { store: 'redis' })).toBe(0);
    expect(sampleValue(afterUp, 'sluice_limiter_decisions_total', { limiter: 'redis-api', policy: 'redis-api', outcome: 'rejected' })).toBe(2);

    await redis.kill();
    for (let i = 0; i < 4; i++) expect((await limiter.consume('client-1')).degraded).toBe(true);
    for (const parser of parsers) {
      const afterDown = parser.parse(registry.toPrometheus());
      expect(sampleValue(afterDown, 'sluice_store_errors_total', { store: 'redis' })).toBe(4);
      expect(sampleValue(afterDown, 'sluice_limiter_store_errors_total', { limiter: 'redis-api', store: 'redis' })).toBe(4);
      expect(sampleValue(afterDown, 'sluice_limiter_degraded_decisions_total', { limiter: 'redis-api', outcome: 'accepted' })).toBe(4);
    }
    const unavailable = lines.filter((line) => line.fields.event === 'store.unavailable');
    expect(unavailable).toHaveLength(1);
    expect(unavailable[0]).toMatchObject({ level: 'warn', fields: { component: 'store', store: 'redis', cause: { name: expect.any(String) } } });

    await redis.restart();
    for (let tries = 0; !(await store.ping()); tries++) {
      if (tries > 250) throw new Error('the restarted Redis never answered');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(store.available).toBe(true);
    expect(lines.filter((line) => line.fields.event === 'store.available')).toMatchObject([
      { level: 'info', fields: { store: 'redis', outageMs: expect.any(Number) } },
    ]);
  });

  it('rejects bad metrics and logger options with ConfigError', async () => {
    const redis = await server();
    expect(configErrorField(() => redisStore({ client: redis.client(), metrics: 'yes' as never }))).toBe('metrics');
    expect(configErrorField(() => redisStore({ client: redis.client(), logger: {} as never }))).toBe('logger');
  });
});

describe('hybrid store metrics and logs', () => {
  it('counts deny-cache hits, fallback decisions and the fallback flag; logs the fallback and the return', async () => {
    const redis = await server();
    const registry = metricsRegistry();
    const { lines, logger } = recordingLogger();
    const store = hybridStore({
      remote: redisStore({ client: redis.client({ retryStrategy: () => 20 }), timeout: 200, metrics: registry }),
      instances: 2,
      probeInterval: 20,
      metrics: registry,
      logger,
    });
    hybrids.push(store);
    const limiter = tokenBucket({ name: 'hybrid-api', rate: 4, per: '1h', store, metrics: registry });
    for (let i = 0; i < 4; i++) expect((await limiter.consume('k')).allowed).toBe(true);
    expect((await limiter.consume('k')).allowed).toBe(false); // refused by Redis: remembered
    for (let i = 0; i < 3; i++) expect((await limiter.consume('k')).allowed).toBe(false); // refused locally
    const roundTripsBefore = registry.value('sluice_store_round_trips_total', { store: 'redis' });
    expect(roundTripsBefore).toBe(5);

    await redis.kill();
    const down = [];
    for (let i = 0; i < 3; i++) down.push(await limiter.consume('other'));
    expect(down.map((decision) => [decision.allowed, decision.degraded])).toEqual([
      [true, true],
      [true, true],
      [false, true], // 4 / instances = 2 per process while Redis is away
    ]);
    for (const parser of parsers) {
      const parsed = parser.parse(registry.toPrometheus());
      expect(sampleValue(parsed, 'sluice_hybrid_deny_cache_hits_total', { store: 'hybrid' })).toBe(3);
      expect(sampleValue(parsed, 'sluice_hybrid_fallback_decisions_total', { store: 'hybrid' })).toBe(3);
      expect(sampleValue(parsed, 'sluice_hybrid_fallback_active', { store: 'hybrid' })).toBe(1);
      expect(sampleValue(parsed, 'sluice_limiter_degraded_decisions_total', { limiter: 'hybrid-api', outcome: 'rejected' })).toBe(1);
      expect(sampleValue(parsed, 'sluice_store_errors_total', { store: 'redis' })).toBeGreaterThanOrEqual(1);
    }
    const fallback = lines.filter((line) => line.fields.event === 'hybrid.fallback');
    expect(fallback).toEqual([
      {
        level: 'warn',
        message: expect.stringContaining('deciding locally'),
        fields: expect.objectContaining({ component: 'store', store: 'hybrid', instances: 2, cause: expect.objectContaining({ name: 'StoreUnavailableError' }) }),
      },
    ]);

    await redis.restart();
    await until(() => store.mode === 'remote');
    expect(registry.value('sluice_hybrid_fallback_active', { store: 'hybrid' })).toBe(0);
    expect(lines.filter((line) => line.fields.event === 'hybrid.return')).toMatchObject([
      { level: 'info', fields: { store: 'hybrid', fallbackMs: expect.any(Number) } },
    ]);
    expect((await limiter.consume('fresh')).degraded).toBeUndefined();
  });

  it('passes its metrics option to the Redis store it makes from `redis`', async () => {
    const redis = await server();
    const registry = metricsRegistry();
    const store = hybridStore({ redis: redis.client(), metrics: registry });
    hybrids.push(store);
    await tokenBucket({ name: 'shorthand', rate: 1, store, metrics: false }).consume('k');
    expect(registry.value('sluice_store_round_trips_total', { store: 'redis' })).toBe(1);
    const off = hybridStore({ redis: redis.client(), metrics: false });
    hybrids.push(off);
    expect(configErrorField(() => hybridStore({ redis: redis.client(), metrics: 1 as never }))).toBe('metrics');
    expect(configErrorField(() => hybridStore({ redis: redis.client(), logger: { debug() {} } as never }))).toBe('logger');
  });
});
