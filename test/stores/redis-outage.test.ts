import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { isStoreUnavailableError, redisStore, tokenBucket, type Decision, type PolicyLimiter, type RedisStore } from '../../src/index.js';
import { numericState, startRedis, type RedisServer } from '../support/redis.js';
import { failOnUnhandledRejections } from '../support/unhandled.js';

const TIMEOUT_MS = 250;
/** Scheduling noise allowed on top of the timeout on a loaded 2-core machine. */
const LATENCY_MARGIN_MS = 250;

let server: RedisServer;
// Give stray promises of timed-out calls a chance to surface before checking.
failOnUnhandledRejections({ settleMs: 20 });

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  await server?.stop();
});

interface Sample {
  decision: Decision;
  latencyMs: number;
  endedAt: number;
}

/** `workers` loops consuming until `until()` says stop; every decision with its latency and end time. */
async function load(limiter: PolicyLimiter, key: string, workers: number, until: () => boolean): Promise<Sample[]> {
  const samples: Sample[] = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!until()) {
        const startedAt = performance.now();
        const decision = await limiter.consume(key);
        const endedAt = performance.now();
        samples.push({ decision, latencyMs: endedAt - startedAt, endedAt });
        // Keep the loop from spinning when decisions fail fast.
        if (decision.degraded) await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }),
  );
  return samples;
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
}

async function storedDeficit(admin: Redis, store: RedisStore, limiter: PolicyLimiter, key: string): Promise<number> {
  const state = await numericState(admin, store.policyKey(limiter.policyList[0]!, key));
  return state === undefined ? 0 : Math.round(state[0]!);
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('redisStore when Redis fails', () => {
  it('kill under load: open admits, closed refuses, latency bounded by the timeout, recovery without double counting', async () => {
    // A client as users create it (offline queue on, unanswered commands resent after reconnect), reconnecting fast.
    const client = server.client({ retryStrategy: () => 20 });
    const admin = server.client({ retryStrategy: () => 20 });
    const store = redisStore({ client, timeout: TIMEOUT_MS });
    const availability: boolean[] = [];
    store.onAvailabilityChange((available) => availability.push(available));
    const open = tokenBucket({ rate: 1, per: '1d', burst: 1_000_000, store, failMode: 'open', name: 'outage-open' });
    const closed = tokenBucket({ rate: 1, per: '1d', burst: 1_000_000, store, failMode: 'closed', name: 'outage-closed' });

    let phase: 'healthy' | 'down' | 'recovered' | 'done' = 'healthy';
    let killedAt = Infinity;
    const running = Promise.all([
      load(open, 'k', 10, () => phase === 'done'),
      load(closed, 'k', 10, () => phase === 'done'),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    phase = 'down';
    await server.kill();
    killedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(store.available).toBe(false);
    expect(await store.ping()).toBe(false);
    await server.restart();
    await until(() => store.available);
    phase = 'recovered';
    await new Promise((resolve) => setTimeout(resolve, 300));
    phase = 'done';
    const [openSamples, closedSamples] = await running;

    for (const [samples, mode] of [[openSamples, 'open'], [closedSamples, 'closed']] as const) {
      const degraded = samples.filter((s) => s.decision.degraded);
      const decided = samples.filter((s) => !s.decision.degraded);
      expect(degraded.length, mode).toBeGreaterThan(10);
      expect(decided.length, mode).toBeGreaterThan(100);
      // failMode: open admits without the store, closed refuses.
      expect(degraded.every((s) => s.decision.allowed === (mode === 'open')), mode).toBe(true);
      expect(decided.every((s) => s.decision.allowed), mode).toBe(true);
      // A dead Redis costs at most the timeout.
      expect(p99(samples.map((s) => s.latencyMs)), mode).toBeLessThanOrEqual(TIMEOUT_MS + LATENCY_MARGIN_MS);
      // Even the slowest failure is the timeout plus scheduling noise, never a hang.
      expect(Math.max(...degraded.map((s) => s.latencyMs)), mode).toBeLessThanOrEqual(TIMEOUT_MS + 3 * LATENCY_MARGIN_MS);
      // The restarted server started empty: it must hold exactly the decisions it answered, none replayed.
      const answeredByNewServer = decided.filter((s) => s.endedAt > killedAt).length;
      expect(answeredByNewServer, mode).toBeGreaterThan(0);
      expect(await storedDeficit(admin, store, mode === 'open' ? open : closed, 'k'), mode).toBe(answeredByNewServer);
    }
    expect(open.metrics().storeErrors).toBeGreaterThan(0);
    expect(isStoreUnavailableError(open.lastStoreError)).toBe(true);
    expect(availability).toEqual([false, true]);
    expect(await store.ping()).toBe(true);
  });

  it('a stalled Redis: calls time out, and no timed-out call is executed when the connection comes back', async () => {
    const client = server.client({ retryStrategy: () => 20 });
    const admin = server.client({ retryStrategy: () => 20 });
    const store = redisStore({ client, timeout: TIMEOUT_MS });
    const limiter = tokenBucket({ rate: 1, per: '1d', burst: 1_000, store, failMode: 'closed', name: 'stall' });
    expect((await limiter.consume('k')).degraded).toBeUndefined();

    server.pause();
    try {
      // The connection stays up, so these are written to the socket and wait for an answer that never comes.
      const startedAt = performance.now();
      const stalled = await Promise.all(Array.from({ length: 50 }, (_, i) => limiter.consume(i % 2 ? 'k' : 'other')));
      const elapsedMs = performance.now() - startedAt;
      expect(stalled.every((d) => d.degraded && !d.allowed)).toBe(true);
      expect(elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expect(elapsedMs).toBeLessThanOrEqual(TIMEOUT_MS + LATENCY_MARGIN_MS);
      expect(client.status).toBe('ready');
    } finally {
      // Killing the paused server drops the connection with those commands unanswered; ioredis resends them
      // after reconnecting, and the store turns each into a harmless PING.
      await server.restart();
    }
    await until(() => client.status === 'ready');
    await until(async () => !(await limiter.consume('fresh')).degraded);
    const after = await Promise.all(Array.from({ length: 7 }, () => limiter.consume('k')));
    expect(after.every((d) => d.allowed && !d.degraded)).toBe(true);
    expect(await storedDeficit(admin, store, limiter, 'k')).toBe(7);
    expect(await admin.exists(store.policyKey(limiter.policyList[0]!, 'other'))).toBe(0);
  });

  it('fails at once while the client is reconnecting or closed, and never rejects a consume', async () => {
    const client = server.client({ retryStrategy: () => 50 });
    const store = redisStore({ client, timeout: 5_000 });
    const limiter = tokenBucket({ rate: 1, per: '1d', burst: 10, store, failMode: 'open', name: 'fast-fail' });
    expect((await limiter.consume('k')).degraded).toBeUndefined();
    await server.kill();
    await until(() => client.status !== 'ready');
    const startedAt = performance.now();
    const decision = await limiter.consume('k');
    expect(decision).toMatchObject({ allowed: true, degraded: true });
    // Half of the 5 s timeout at most: it failed at once rather than waiting for the timeout.
    expect(performance.now() - startedAt).toBeLessThan(2_500);
    await expect(store.get('x')).rejects.toSatisfy(isStoreUnavailableError);
    await server.restart();
    await until(() => client.status === 'ready');
    client.disconnect();
    await until(() => client.status === 'end');
    expect((await limiter.consume('k')).degraded).toBe(true);
    expect(String(limiter.lastStoreError?.message)).toMatch(/client status "end"/);
  });
});
