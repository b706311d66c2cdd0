/** Every option of hybridStore: each bad value throws ConfigError naming the field, at construction. */
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ConfigError, hybridStore, memoryStore } from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

const remote = memoryStore({ sweepInterval: 0 });
const valid = { remote, clock: new FakeClock() };

const badValues: Record<string, unknown[]> = {
  remote: [5, 'redis', {}, { decide: () => undefined }, null],
  timeout: [0, -1, Number.NaN, Infinity, '0s', 'soon', true, null],
  instances: [0, -1, 1.5, Number.NaN, Infinity, '2', true, null],
  fallback: ['yes', 1, 0, {}, null],
  probeInterval: [0, -5, Number.NaN, Infinity, '0ms', 'often', false, null],
  denyCache: ['on', 1, {}, null],
  kvCacheTtl: [-1, Number.NaN, Infinity, '-1s', 'brief', true, null],
  maxKeys: [0, -1, 2.5, Number.NaN, Infinity, '10', null],
  clock: [5, {}, { now: () => 0 }, null],
  onFallback: ['log', 1, {}, null],
  onRecover: ['log', 1, {}, null],
};

describe('hybridStore options', () => {
  it('accepts every option with a valid value', async () => {
    const store = hybridStore({
      remote,
      timeout: '250ms',
      instances: 4,
      fallback: true,
      probeInterval: 100,
      denyCache: false,
      kvCacheTtl: 0,
      maxKeys: 10,
      clock: new FakeClock(),
      onFallback: () => {},
      onRecover: () => {},
    });
    expect(store.kind).toBe('hybrid');
    expect(store.instances).toBe(4);
    expect(store.probeIntervalMs).toBe(100);
    expect(store.mode).toBe('remote');
    await store.close();
  });

  for (const [field, values] of Object.entries(badValues)) {
    it.each(values.map((value) => [typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value), value]))(
      `${field} = %s throws ConfigError naming "${field}"`,
      (_label, value) => {
        const error = configErrorOf(() => hybridStore({ ...valid, [field]: value } as never));
        expect(error.field).toBe(field);
        expect(error.message).toContain(field);
      },
    );
  }

  it('redis that is not an ioredis client throws ConfigError naming "redis"', () => {
    for (const value of [5, 'redis://127.0.0.1', {}, { status: 'ready' }, null]) {
      expect(configErrorOf(() => hybridStore({ redis: value } as never)).field).toBe('redis');
    }
  });

  it('remote and redis together throw ConfigError naming "redis"', () => {
    const client = new Redis({ lazyConnect: true, port: 1 });
    try {
      expect(configErrorOf(() => hybridStore({ remote, redis: client })).field).toBe('redis');
    } finally {
      client.disconnect();
    }
  });

  it('neither remote nor redis throws ConfigError naming "remote"', () => {
    expect(configErrorOf(() => hybridStore({ instances: 2 })).field).toBe('remote');
  });

  it('a hybrid store as the remote throws ConfigError naming "remote"', () => {
    const inner = hybridStore({ remote });
    expect(configErrorOf(() => hybridStore({ remote: inner })).field).toBe('remote');
  });

  it('rejects unknown option names and a missing options object', () => {
    expect(configErrorOf(() => hybridStore({ ...valid, instance: 2 } as never)).field).toBe('hybridStore.instance');
    expect(configErrorOf(() => hybridStore(undefined as never)).field).toBe('hybridStore');
    expect(configErrorOf(() => hybridStore(5 as never)).field).toBe('hybridStore');
  });
});
