/** Fails the file's tests when any promise rejection goes unhandled while they run. */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { flushMicrotasks } from '../support/fake-clock.js';

export function failOnUnhandledRejections(): { readonly seen: unknown[] } {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => {
    seen.push(reason);
  };
  beforeAll(() => {
    process.on('unhandledRejection', listener);
  });
  afterEach(async () => {
    // Rejections are reported as unhandled after a macrotask turn: give them that turn before checking.
    await flushMicrotasks();
    expect(seen, 'unhandled rejections').toEqual([]);
  });
  afterAll(() => {
    process.off('unhandledRejection', listener);
  });
  return { seen };
}
