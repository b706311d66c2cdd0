/**
 * The contenders of the redis group, each in its own host process with its own ioredis connection: sluice's
 * Redis store (token bucket, sliding window, a composite of both), rate-limiter-flexible's RateLimiterRedis, and
 * the hybrid store under an attack of refused requests. Each keeps `inFlight` decisions outstanding.
 */
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import type * as Sluice from '../src/index.js';
import { sluice } from './lib/sluice.js';
import type { Contender } from './lib/contender.js';
import { ipKeys } from './lib/keys.js';

export interface RedisParams {
  port: number;
  inFlight: number;
  keyCount: number;
  /** For sluice: which limiter. */
  limiter?: 'tokenBucket' | 'slidingWindow' | 'composite';
  /** For the attack: the store ('redis' or 'hybrid'). */
  store?: 'redis' | 'hybrid';
}

const LIMIT = 1e9;

function connect(port: number): Redis {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  return client;
}

/**
 * Keeps `inFlight` decisions outstanding until `ops` have completed (each worker starts its next decision when its
 * last one settles). Counts refusals and failures; `expectAllowed` says which of the two outcomes is right.
 */
function inFlightLoop(decide: (key: string) => Promise<boolean>, { inFlight, keyCount }: RedisParams, expectAllowed: boolean, close: () => Promise<void>): Contender {
  const keys = ipKeys(keyCount);
  let next = 0;
  let wrong = 0;
  let failed = 0;
  const nextKey = () => {
    const key = keys[next]!;
    if (++next === keys.length) next = 0;
    return key;
  };
  return {
    run(ops) {
      return new Promise<void>((resolve) => {
        let started = 0;
        let settled = 0;
        const onSettled = (allowed: boolean | undefined) => {
          if (allowed === undefined) failed++;
          else if (allowed !== expectAllowed) wrong++;
          if (++settled === ops) resolve();
          else if (started < ops) start();
        };
        const onError = () => onSettled(undefined);
        const start = () => {
          started++;
          decide(nextKey()).then(onSettled, onError);
        };
        for (let i = 0; i < Math.min(inFlight, ops); i++) start();
      });
    },
    collect() {
      const figures = { wrong, failed };
      wrong = 0;
      failed = 0;
      return figures;
    },
    close,
  };
}

function sluiceLimiterOn(store: Sluice.Store, limiter: RedisParams['limiter']): Sluice.Limiter {
  const tokenBucket = () => sluice.tokenBucket({ rate: 1, per: '1s', burst: LIMIT, store });
  const slidingWindow = () => sluice.slidingWindow({ limit: LIMIT, window: '1h', store });
  if (limiter === 'slidingWindow') return slidingWindow();
  if (limiter === 'composite') return sluice.composite(tokenBucket(), slidingWindow());
  return tokenBucket();
}

export function sluiceRedis(params: RedisParams): Contender {
  const client = connect(params.port);
  const store = sluice.redisStore({ client, timeout: '5s' });
  const limiter = sluiceLimiterOn(store, params.limiter);
  return inFlightLoop(async (key) => (await limiter.consume(key)).allowed, params, true, async () => {
    client.disconnect();
  });
}

export function rateLimiterRedis(params: RedisParams): Contender {
  const client = connect(params.port);
  const limiter = new RateLimiterRedis({ storeClient: client, points: LIMIT, duration: 3600 });
  // consume() rejects when limited or when Redis fails; with a limit no run reaches, a rejection is a failure.
  return inFlightLoop(
    (key) => limiter.consume(key).then(() => true),
    params,
    true,
    async () => {
      client.disconnect();
    },
  );
}

/**
 * An attack: every key has spent its one request of the hour, so every decision refuses. On the Redis store each
 * refusal is a script call; the hybrid store's deny cache answers refusals locally until their retry time.
 */
export async function attack(params: RedisParams): Promise<Contender> {
  const client = connect(params.port);
  const remote = sluice.redisStore({ client, timeout: '5s', prefix: `attack-${params.store}:` });
  const store = params.store === 'hybrid' ? sluice.hybridStore({ remote }) : remote;
  const limiter = sluice.tokenBucket({ rate: 1, per: '1h', burst: 1, store });
  for (const key of ipKeys(params.keyCount)) await limiter.consume(key);
  return inFlightLoop(async (key) => (await limiter.consume(key)).allowed, params, false, async () => {
    await store.close?.();
    client.disconnect();
  });
}
