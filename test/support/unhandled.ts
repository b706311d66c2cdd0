/** Fails the file's tests when any promise rejection goes unhandled while they run. */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { flushMicrotasks } from './fake-clock.js';

/**
 * `settleMs`: how long to wait after each test before checking, for rejections that come from real timers (a
 * store's timeout); by default only a few macrotask turns, which is when Node reports a rejection as unhandled.
 */
export function failOnUnhandledRejections({ settleMs = 0 } = {}): { readonly seen: unknown[] } {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => {
    seen.push(reason);
  };
  beforeAll(() => {
    process.on('unhandledRejection', listener);
  });
  afterEach(async () => {
    if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
    await flushMicrotasks();
    // Each test answers for its own rejections.
    expect(seen.splice(0), 'unhandled rejections').toEqual([]);
  });
  afterAll(() => {
    process.off('unhandledRejection', listener);
  });
  return { seen };
}
