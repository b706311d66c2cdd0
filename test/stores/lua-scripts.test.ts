import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DECISION_SCRIPT,
  DECISION_SCRIPT_SHA1,
  INCR_WITH_TTL_LUA,
  INCR_WITH_TTL_SHA1,
  LUA_ALGORITHMS,
  sha1,
} from '../../src/stores/lua/script.js';
import { memoryStore } from '../../src/index.js';
import { LIMITER_CASES } from '../support/limiter-cases.js';
import { startRedis, type RedisServer } from '../support/redis.js';

describe('Lua scripts', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('every algorithm twin matches its pinned SHA1 (a changed script is never silently stale)', () => {
    for (const algorithm of LUA_ALGORITHMS) expect(sha1(algorithm.lua), algorithm.name).toBe(algorithm.sha1);
    expect(DECISION_SCRIPT.sha1).toBe(DECISION_SCRIPT_SHA1);
    expect(sha1(INCR_WITH_TTL_LUA)).toBe(INCR_WITH_TTL_SHA1);
  });

  it('a twin with extra keys declares as many in Lua (extraKeys) as the store passes (keySuffixes)', () => {
    for (const algorithm of LUA_ALGORITHMS) {
      const declared = Number(/extraKeys = (\d+)/.exec(algorithm.lua)?.[1] ?? 0);
      expect(declared, algorithm.name).toBe(algorithm.keySuffixes?.length ?? 0);
    }
    expect(LUA_ALGORITHMS.filter((algorithm) => algorithm.keySuffixes).map((algorithm) => algorithm.name).sort()).toEqual([
      'concurrency',
      'sliding-window-exact',
    ]);
  });

  it('Redis compiles the scripts and names them by the same SHA1', async () => {
    const client = server.client();
    expect(await client.script('LOAD', DECISION_SCRIPT.lua)).toBe(DECISION_SCRIPT_SHA1);
    expect(await client.script('LOAD', INCR_WITH_TTL_LUA)).toBe(INCR_WITH_TTL_SHA1);
  });

  it('each twin reads the config fields its JS algorithm has, and every tested algorithm has a twin', () => {
    const twins = new Map(LUA_ALGORITHMS.map((algorithm) => [algorithm.name as string, algorithm]));
    for (const testCase of LIMITER_CASES) {
      const limiter = testCase.make({ store: memoryStore({ sweepInterval: 0 }), limit: 10, windowMs: 1000 });
      for (const policy of limiter.policyList) {
        const twin = twins.get(policy.algorithm.name);
        expect(twin, policy.algorithm.name).toBeDefined();
        expect([...twin!.configFields].sort()).toEqual(Object.keys(policy.config).sort());
        for (const field of twin!.configFields) expect(typeof (policy.config as Record<string, unknown>)[field]).toBe('number');
      }
    }
    expect(new Set(LIMITER_CASES.map((c) => c.algorithm))).toEqual(new Set(LUA_ALGORITHMS.map((a) => a.name)));
  });
});
