/** The contenders of the latency group: one decision at a time, each timed on its own. */
import { RateLimiterMemory } from 'rate-limiter-flexible';
import * as sluice from '../src/index.js';
import type { Contender } from './lib/contender.js';
import { ipKeys } from './lib/keys.js';
import { timedAwaitedLoop, timedSyncLoop } from './lib/latency.js';

export interface LatencyParams {
  keyCount: number;
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
