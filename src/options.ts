/** Validation helpers shared by every constructor: each failure is a ConfigError with field, expected, received. */
import { ConfigError } from './errors.js';

/** Rejects option names the constructor does not know (a typo would otherwise be silently ignored). */
export function checkKnownOptions(options: unknown, component: string, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError(component, 'an options object', options);
  }
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new ConfigError(`${component}.${name}`, `one of the known options: ${known.join(', ')}`, name);
    }
  }
}

export interface NumberRule {
  integer?: boolean;
  min?: number;
  /** When true, `min` itself is not allowed (e.g. a rate must be > 0). */
  exclusiveMin?: boolean;
  max?: number;
}

export function checkNumber(value: unknown, field: string, rule: NumberRule = {}): number {
  const { integer = false, min = 0, exclusiveMin = true, max } = rule;
  const expected =
    `a finite ${integer ? 'integer' : 'number'} ${exclusiveMin ? '>' : '>='} ${min}` +
    (max !== undefined ? ` and <= ${max}` : '');
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    (exclusiveMin ? value <= min : value < min) ||
    (max !== undefined && value > max)
  ) {
    throw new ConfigError(field, expected, value);
  }
  return value;
}

export function checkOneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new ConfigError(field, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  }
  return value as T;
}

export function checkString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(field, 'a non-empty string', value);
  return value;
}

export function checkFunction<T extends (...args: any[]) => unknown>(value: unknown, field: string): T {
  if (typeof value !== 'function') throw new ConfigError(field, 'a function', value);
  return value as T;
}
