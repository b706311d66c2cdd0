/** Runs a constructor expected to fail validation and returns the ConfigError's field. */
import { expect } from 'vitest';
import { ConfigError } from '../../src/index.js';

export function configErrorField(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).field;
  }
  throw new Error('expected a ConfigError');
}
