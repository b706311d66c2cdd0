/**
 * Error types. Each carries a brand so the `isXxx` guards work even when two copies of sluice are loaded
 * (where `instanceof` would fail).
 */
const brand = Symbol.for('sluice.error');

export type SluiceErrorCode =
  | 'CONFIG'
  | 'RATE_LIMIT_EXCEEDED'
  | 'STORE_UNAVAILABLE'
  | 'CIRCUIT_OPEN'
  | 'QUEUE_FULL'
  | 'QUEUE_STOPPED';

export class SluiceError extends Error {
  readonly [brand]: SluiceErrorCode;
  readonly code: SluiceErrorCode;

  constructor(code: SluiceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this[brand] = code;
  }
}

/** A bad option, thrown at construction: names the field, what was expected and what was received. */
export class ConfigError extends SluiceError {
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly received: unknown,
  ) {
    super('CONFIG', `Invalid option "${field}": expected ${expected}, received ${describeValue(received)}`);
  }
}

export interface RateLimitExceededDetails {
  key: string;
  limit: number;
  remaining: number;
  retryAfterMs: number;
  policy?: string;
}

/** Thrown by `acquire()` on timeout or when the cost can never fit, and by wrappers that refuse a call. */
export class RateLimitExceededError extends SluiceError {
  readonly key: string;
  readonly limit: number;
  readonly remaining: number;
  readonly retryAfterMs: number;
  readonly policy: string | undefined;

  constructor(details: RateLimitExceededDetails, message?: string) {
    super(
      'RATE_LIMIT_EXCEEDED',
      message ??
        `Rate limit exceeded for "${details.key}"` +
          (Number.isFinite(details.retryAfterMs) ? `: retry in ${Math.ceil(details.retryAfterMs)} ms` : ': the cost can never fit'),
    );
    this.key = details.key;
    this.limit = details.limit;
    this.remaining = details.remaining;
    this.retryAfterMs = details.retryAfterMs;
    this.policy = details.policy;
  }
}

/** The store could not answer (Redis down, timed out, script error); `cause` holds the original error. */
export class StoreUnavailableError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_UNAVAILABLE', message, options);
  }
}

export class CircuitOpenError extends SluiceError {
  constructor(
    readonly retryAfterMs: number,
    message = `Circuit is open: retry in ${Math.ceil(retryAfterMs)} ms`,
  ) {
    super('CIRCUIT_OPEN', message);
  }
}

export class QueueFullError extends SluiceError {
  constructor(message = 'Queue is full') {
    super('QUEUE_FULL', message);
  }
}

export class QueueStoppedError extends SluiceError {
  constructor(message = 'Queue is stopped') {
    super('QUEUE_STOPPED', message);
  }
}

const hasCode = (error: unknown, code?: SluiceErrorCode): boolean =>
  typeof error === 'object' &&
  error !== null &&
  brand in error &&
  (code === undefined || (error as { [brand]: unknown })[brand] === code);

export const isSluiceError = (error: unknown): error is SluiceError => hasCode(error);
export const isConfigError = (error: unknown): error is ConfigError => hasCode(error, 'CONFIG');
export const isRateLimitExceededError = (error: unknown): error is RateLimitExceededError =>
  hasCode(error, 'RATE_LIMIT_EXCEEDED');
export const isStoreUnavailableError = (error: unknown): error is StoreUnavailableError =>
  hasCode(error, 'STORE_UNAVAILABLE');
export const isCircuitOpenError = (error: unknown): error is CircuitOpenError => hasCode(error, 'CIRCUIT_OPEN');
export const isQueueFullError = (error: unknown): error is QueueFullError => hasCode(error, 'QUEUE_FULL');
export const isQueueStoppedError = (error: unknown): error is QueueStoppedError => hasCode(error, 'QUEUE_STOPPED');

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) {
    return String(value);
  }
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
