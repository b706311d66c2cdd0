import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { memoryStore, redisStore } from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { loadVectors, replayVector } from '../support/vectors.js';

let server: RedisServer;
let client: Redis;

beforeAll(async () => {
  server = await startRedis();
  client = server.client();
});

afterAll(async () => {
  await server?.stop();
});

const vectors = loadVectors();

describe('shared test vectors on the Redis store (clock: client)', () => {
  it('there are vectors for every rate-limiting algorithm', () => {
    expect(new Set(vectors.map((vector) => vector.limiter))).toEqual(
      new Set(['tokenBucket', 'slidingWindow', 'fixedWindow', 'leakyBucket', 'gcra']),
    );
  });

  for (const vector of vectors) {
    it(`${vector.name} (${vector.file})`, async () => {
      const prefix = `vectors-${process.pid}`;
      const onRedis = await replayVector(vector, { store: redisStore({ client, clock: 'client' }), clock: new FakeClock(), prefix });
      // Not only the expectations written in the file: every decision equals the memory store's.
      const onMemory = await replayVector(vector, { store: memoryStore({ sweepInterval: 0 }), clock: new FakeClock(), prefix });
      expect(onRedis.map((step) => step.decision)).toEqual(onMemory.map((step) => step.decision));
    });
  }
});
