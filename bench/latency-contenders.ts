/** The contenders of the latency group: one decision at a time, each timed on its own. */
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { sluice } from './lib/sluice.js';
import type { Contender } from './lib/contender.js';
import { ipKeys } from './lib/keys.js';
import { timedAwaitedLoop, timedSyncLoop } from './lib/latency.js';

export interface LatencyParams {
  keyCount: number;
  /** The bench's redis-server, for the Redis and hybrid stores. */
  port?: number;
}

function connect(port: number): Redis {
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  return client;
}

const LIMIT = 1e9;

/** Two clock reads and nothing between: the floor under every other figure of the group. */
export function clockFloor({ keyCount }: LatencyParams): Contender {
  return timedSyncLoop(() => undefined, ipKeys(keyCount));
}

export function memoryDecide({ keyCount }: LatencyParams): Contender {
  const limiter = sluice.tokenBucket({ rate: 1, per: '1s', burst: LIMIT, store: sluice.memoryStore() });
  return timedSyncLoop((key) => limiter.decide(key), ipKeys(keyCount));
}

export function memoryConsume({ keyCount }: LatencyParams): Contender {
  const limiter = sluice.tokenBucket({ rate: 1, per: '1s', burst: LIMIT, store: sluice.memoryStore() });
  return timedAwaitedLoop((key) => limiter.consume(key), ipKeys(keyCount));
}

export function rateLimiterMemory({ keyCount }: LatencyParams): Contender {
  const limiter = new RateLimiterMemory({ points: LIMIT, duration: 3600 });
  return timedAwaitedLoop((key) => limiter.consume(key), ipKeys(keyCount));
}

export function redisConsume({ keyCount, port }: LatencyParams): Contender {
  const client = connect(port!);
  const limiter = sluice.tokenBucket({ rate: 1, per: '1s', burst: LIMIT, store: sluice.redisStore({ client }) });
  return timedAwaitedLoop((key) => limiter.consume(key), ipKeys(keyCount), () => client.disconnect());
}

/** Admitted decisions: the hybrid store asks Redis for each (its deny cache only answers refusals). */
export function hybridConsume({ keyCount, port }: LatencyParams): Contender {
  const client = connect(port!);
  const store = sluice.hybridStore({ remote: sluice.redisStore({ client, prefix: 'hybrid:' }) });
  const limiter = sluice.tokenBucket({ rate: 1, per: '1s', burst: LIMIT, store });
  return timedAwaitedLoop((key) => limiter.consume(key), ipKeys(keyCount), async () => {
    await store.close();
    client.disconnect();
  });
}

export function rateLimiterRedis({ keyCount, port }: LatencyParams): Contender {
  const client = connect(port!);
  const limiter = new RateLimiterRedis({ storeClient: client, points: LIMIT, duration: 3600 });
  return timedAwaitedLoop((key) => limiter.consume(key), ipKeys(keyCount), () => client.disconnect());
}
