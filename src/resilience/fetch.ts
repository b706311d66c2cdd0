/**
 * The outbound client: a fetch-compatible function that keeps each account within a partner API's limits.
 * Before sending it waits for a token of the account's limiter (bounded by `timeout`) and for any pause the
 * partner imposed with a 429 Retry-After; 5xx answers and timeouts feed an optional circuit breaker; 429 and 503
 * are retried honouring Retry-After. Seed: the PHP Guzzle per-account middleware (retryAfterSeconds, status, reset).
 */
import { ConfigError, RateLimitExceededError, isConfigError } from '../errors.js';
import type { Limiter, Permit } from '../limiters/limiter.js';
import { checkFunction, checkKnownOptions, checkNumber } from '../options.js';
import { parseDuration, systemClock, type Clock, type Duration } from '../time.js';
import { checkClock, isCircuitBreaker, type CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js';
import { parseRetryAfter, retrySchedule, type RetryOptions, type RetrySchedule } from './retry.js';
import { breakerFrom, type BreakerOrOptions } from './wrappers.js';

/** The shape of the global fetch. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface RateLimitedFetchOptions {
  /** The fetch to call. Default: the global fetch (undici in Node). */
  fetch?: FetchFunction;
  /** One limiter; its keys are the account ids. Configure it to the partner's published limit. */
  limiter: Limiter;
  /** The account a request is counted against (read a header, the URL, ...). */
  key: (request: Request) => string;
  /**
   * Retry options, or false for none. Default `{ maxRetries: 3 }`. Unless `retryOn` is given, 429 and 503 answers
   * are retried (honouring Retry-After) and nothing else: a refusal by the local limiter, an open circuit or a
   * network error is returned to the caller at once. `retryOn` receives a ResponseStatusError for a 429 or 5xx.
   */
  retry?: RetryOptions | false;
  /** A circuit breaker (shared with other code if you like) or its options; false or absent for none. */
  breaker?: BreakerOrOptions | false;
  /** The longest a request waits before it is sent (for a token, or for a partner-imposed pause). Default "30s". */
  timeout?: Duration;
  /** Accounts whose pauses and counters are remembered, least recently used dropped first. Default 10000. */
  maxAccounts?: number;
  clock?: Clock;
}

/** What `status(id)` reports for one account. */
export interface AccountStatus {
  readonly id: string;
  /** Tokens available now in the limiter. */
  readonly available: number;
  readonly limit: number;
  /** Whole seconds until a request for this account would be sent (0: now). */
  readonly retryAfterSeconds: number;
  /** Until when the partner asked this account to pause (a 429's Retry-After), if that is still ahead. */
  readonly pausedUntilMs: number | undefined;
  /** Requests sent for this account. */
  readonly requests: number;
  /** 429 answers received for this account. */
  readonly throttled: number;
  readonly lastStatus: number | undefined;
  /** The breaker's state, when there is one. */
  readonly circuit: CircuitState | undefined;
}

export interface RateLimitedFetch extends FetchFunction {
  /** Whole seconds until a request for `id` would be sent: the limiter's wait for one token or a partner pause. */
  retryAfterSeconds(id: string): Promise<number>;
  status(id: string): Promise<AccountStatus>;
  /** Forgets the account: its limiter key, partner pause and counters. */
  reset(id: string): Promise<void>;
  readonly breaker: CircuitBreaker | undefined;
}

/**
 * A response the client treats as a failure (a 5xx for the breaker, a 429 or 503 for retry). Seen by `retryOn`
 * and a breaker's `isFailure`; the caller of the fetch never gets it: when retries end it gets the response.
 */
export class ResponseStatusError extends Error {
  readonly status: number;

  constructor(readonly response: Response) {
    super(`HTTP ${response.status} ${response.statusText}`.trim());
    this.name = 'ResponseStatusError';
    this.status = response.status;
  }
}

export function isResponseStatusError(error: unknown): error is ResponseStatusError {
  return error instanceof ResponseStatusError || (error instanceof Error && error.name === 'ResponseStatusError' && 'response' in error);
}

/** The default `retryOn`: the partner said "too many" or "unavailable"; nothing else is retried. */
export function isRetryableResponse(error: unknown): boolean {
  return isResponseStatusError(error) && (error.status === 429 || error.status === 503);
}

interface AccountState {
  pausedUntilMs: number;
  requests: number;
  throttled: number;
  lastStatus: number | undefined;
}

const OPTION_NAMES = ['fetch', 'limiter', 'key', 'retry', 'breaker', 'timeout', 'maxAccounts', 'clock'] as const;

export function rateLimitedFetch(options: RateLimitedFetchOptions): RateLimitedFetch {
  checkKnownOptions(options, 'rateLimitedFetch', OPTION_NAMES);
  const limiter = options?.limiter;
  if (typeof limiter !== 'object' || limiter === null || typeof limiter.acquire !== 'function' || typeof limiter.stats !== 'function') {
    throw new ConfigError('limiter', 'a limiter (tokenBucket(), slidingWindow(), ...)', limiter);
  }
  const keyOf = checkFunction<(request: Request) => string>(options.key, 'key');
  const fetchImpl = checkFunction<FetchFunction>(options.fetch ?? globalThis.fetch, 'fetch');
  const clock = checkClock(options.clock ?? systemClock);
  const timeoutMs = parseDuration(options.timeout ?? '30s', 'timeout', { allowZero: true, allowInfinity: true });
  const maxAccounts = checkNumber(options.maxAccounts ?? 10_000, 'maxAccounts', { integer: true });
  const schedule = fetchRetrySchedule(options.retry, clock);
  const breaker =
    options.breaker === undefined || options.breaker === false ? undefined : fetchBreaker(options.breaker, clock);
  const limit = limiter.policies[0]?.limit ?? 0;
  const accounts = new Map<string, AccountState>();

  /** The account's state, marked most recently used; the least recently used goes past `maxAccounts`. */
  const account = (id: string): AccountState => {
    let state = accounts.get(id);
    if (state) {
      accounts.delete(id);
    } else {
      state = { pausedUntilMs: 0, requests: 0, throttled: 0, lastStatus: undefined };
      if (accounts.size >= maxAccounts) accounts.delete(accounts.keys().next().value!);
    }
    accounts.set(id, state);
    return state;
  };

  /** Waits out a partner pause and takes a token, within `timeoutMs` in all. */
  const admit = async (id: string, signal: AbortSignal): Promise<Permit> => {
    const startMs = clock.now();
    const pausedMs = (accounts.get(id)?.pausedUntilMs ?? 0) - startMs;
    if (pausedMs > 0) {
      if (pausedMs > timeoutMs) {
        throw new RateLimitExceededError(
          { key: id, limit, remaining: 0, retryAfterMs: pausedMs },
          `The partner asked account "${id}" to pause: retry in ${Math.ceil(pausedMs)} ms`,
        );
      }
      await clock.sleep(pausedMs, signal);
    }
    const leftMs = Math.max(0, timeoutMs - (clock.now() - startMs));
    return limiter.acquire(id, { timeout: leftMs, signal });
  };

  const send = async (request: Request, id: string, signal: AbortSignal): Promise<Response> => {
    account(id).requests++;
    const response = await fetchImpl(request.clone(), { signal });
    const state = account(id);
    state.lastStatus = response.status;
    if (response.status === 429) {
      state.throttled++;
      const pauseMs = parseRetryAfter(response.headers.get('retry-after'), clock.now());
      if (pauseMs !== undefined) state.pausedUntilMs = Math.max(state.pausedUntilMs, clock.now() + pauseMs);
    }
    // A 5xx is the partner failing: the breaker (when there is one) counts the thrown error.
    if (response.status >= 500) throw new ResponseStatusError(response);
    return response;
  };

  const attempt = async (request: Request, id: string, signal: AbortSignal): Promise<Response> => {
    const permit = await admit(id, signal);
    try {
      const response = breaker
        ? await breaker.execute((callSignal) => send(request, id, callSignal), signal)
        : await send(request, id, signal);
      if (response.status === 429) throw new ResponseStatusError(response);
      return response;
    } finally {
      await permit.release();
    }
  };

  const rateLimited = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const id = keyOf(request);
    if (typeof id !== 'string' || id.length === 0) throw new ConfigError('key', 'a function returning a non-empty account id', id);
    let failed: Response | undefined;
    try {
      return await schedule.run(async () => {
        // The answer of an attempt that is being retried is not read: free its connection.
        if (failed) cancelBody(failed);
        failed = undefined;
        try {
          return await attempt(request, id, request.signal);
        } catch (error) {
          if (error instanceof ResponseStatusError) failed = error.response;
          throw error;
        }
      }, request.signal);
    } catch (error) {
      // Out of retries on an HTTP answer: like fetch, hand back the response instead of throwing.
      if (error instanceof ResponseStatusError && error.response === failed) return error.response;
      throw error;
    }
  };

  const retryAfterSeconds = async (id: string): Promise<number> => {
    const nowMs = clock.now();
    const pausedMs = Math.max(0, (accounts.get(id)?.pausedUntilMs ?? 0) - nowMs);
    const stats = await limiter.stats(id);
    const tokenWaitMs =
      stats.available >= 1 ? 0 : stats.refillPerSecond > 0 ? ((1 - stats.available) / stats.refillPerSecond) * 1000 : stats.resetMs;
    // The epsilon forgives float noise (3000.0000001 ms is 3 s); max(0) turns the -0 of ceil(-1e-9) into 0.
    return Math.max(0, Math.ceil(Math.max(pausedMs, tokenWaitMs) / 1000 - 1e-9));
  };

  const status = async (id: string): Promise<AccountStatus> => {
    const stats = await limiter.stats(id);
    const state = accounts.get(id);
    const nowMs = clock.now();
    return {
      id,
      available: stats.available,
      limit: stats.max,
      retryAfterSeconds: await retryAfterSeconds(id),
      pausedUntilMs: state && state.pausedUntilMs > nowMs ? state.pausedUntilMs : undefined,
      requests: state?.requests ?? 0,
      throttled: state?.throttled ?? 0,
      lastStatus: state?.lastStatus,
      circuit: breaker?.state,
    };
  };

  const reset = async (id: string): Promise<void> => {
    accounts.delete(id);
    await limiter.reset(id);
  };

  return Object.assign(rateLimited, { retryAfterSeconds, status, reset, breaker });
}

function fetchRetrySchedule(retry: RetryOptions | false | undefined, clock: Clock): RetrySchedule {
  if (retry === false) return retrySchedule({ maxRetries: 0, clock });
  if (retry !== undefined && (typeof retry !== 'object' || retry === null)) {
    throw new ConfigError('retry', 'retry options or false', retry);
  }
  const options = retry ?? {};
  return prefixed('retry', () =>
    retrySchedule({ clock, ...options, retryOn: options.retryOn ?? isRetryableResponse, maxRetries: options.maxRetries ?? 3 }),
  );
}

function fetchBreaker(breaker: BreakerOrOptions, clock: Clock): CircuitBreaker {
  if (typeof breaker !== 'object' || breaker === null) throw new ConfigError('breaker', 'a circuit breaker, its options, or false', breaker);
  if (isCircuitBreaker(breaker)) return breaker;
  return prefixed('breaker', () => breakerFrom({ clock, ...(breaker as CircuitBreakerOptions) }));
}

/** Names nested options in errors: "retry.maxRetries" rather than "maxRetries". */
function prefixed<T>(prefix: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (isConfigError(error) && !error.field.startsWith(`${prefix}.`)) {
      // checkKnownOptions names the component ("circuitBreaker.x"): name the option of this client instead.
      const field = error.field.replace(/^circuitBreaker\./, '');
      throw new ConfigError(`${prefix}.${field}`, error.expected, error.received);
    }
    throw error;
  }
}

function cancelBody(response: Response): void {
  if (response.body && !response.bodyUsed) response.body.cancel().catch(() => {});
}
