/** A store whose decisions always fail, as a Redis store does when Redis is down (not a Redis mock: no Redis here). */
import type { Store } from '../../src/index.js';

export function failingStore(asynchronous: boolean, message = 'connection refused'): Store {
  const fail = () => {
    const error = new Error(message);
    if (asynchronous) return Promise.reject(error);
    throw error;
  };
  return {
    kind: 'failing',
    synchronous: !asynchronous,
    decide: fail as Store['decide'],
    decideAll: fail as Store['decideAll'],
    inspect: fail as Store['inspect'],
    refund: fail as Store['refund'],
    reset: fail as Store['reset'],
    get: async () => undefined,
    set: async () => {},
    incr: async () => 0,
    decr: async () => 0,
    delete: async () => false,
    exists: async () => false,
  };
}
