/** Durations ("250ms", "1s", "1m", "1h", "1d" or milliseconds) and the injectable clock. */
import { ConfigError } from './errors.js';

export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

/** The time source every component takes, so tests can drive time instead of sleeping. */
export interface Clock {
  /** Milliseconds since the epoch (any monotonic-enough origin works for a fake clock). */
  now(): number;
  /** Resolves after `ms` of this clock's time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: Date.now,
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortReason(signal!));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/;

/**
 * Parses a duration option into milliseconds. `allowZero` admits 0 (e.g. a timeout of "no wait").
 * Throws ConfigError naming the field for anything else.
 */
export function parseDuration(value: unknown, field: string, { allowZero = false, allowInfinity = false } = {}): number {
  const expected =
    `a duration: ${allowZero ? 'a number of ms >= 0' : 'a positive number of ms'}` +
    `${allowInfinity ? ' or Infinity' : ''}, or a string like "250ms", "1s", "1m", "1h", "1d"`;
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const match = DURATION.exec(value);
    if (!match) throw new ConfigError(field, expected, value);
    ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  } else {
    throw new ConfigError(field, expected, value);
  }
  if (Number.isNaN(ms) || ms < 0 || (ms === 0 && !allowZero) || (ms === Infinity && !allowInfinity)) {
    throw new ConfigError(field, expected, value);
  }
  return ms;
}

/**
 * Settles like `pending`, or rejects with `onTimeout()` after `ms` of real time (an unref'd timer, so a pending race
 * never keeps the process alive). For bounding calls to a store that may hang.
 */
export function withTimeout<T>(pending: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref?.();
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
