// Retry with backoff and jitter, and a failure that says how long to wait (an HTTP 429 with Retry-After).
// Run: npx tsx examples/retry.ts
import { retry } from '../src/index.js';

let attempts = 0;
const flaky = async ({ attempt }: { attempt: number }): Promise<string> => {
  attempts++;
  if (attempt === 1) throw new Error('connection reset');
  if (attempt === 2) {
    // An error carrying the response: retry reads its Retry-After (seconds or an HTTP date).
    const response = new Response('slow down', { status: 429, headers: { 'Retry-After': '1' } });
    throw Object.assign(new Error('HTTP 429'), { response });
  }
  return `succeeded on attempt ${attempt}`;
};

const startMs = Date.now();
const result = await retry(flaky, {
  maxRetries: 4,
  baseDelay: '100ms',
  maxDelay: '2s',
  jitter: 'equal',
  deadline: '10s',
  onRetry: ({ attempt, error, delayMs, retryAfterMs }) =>
    console.log(
      `attempt ${attempt} failed (${(error as Error).message}); waiting ${Math.round(delayMs)} ms` +
        (retryAfterMs === undefined ? ' (backoff)' : ' (Retry-After)'),
    ),
});
console.log(`${result} after ${Date.now() - startMs} ms, ${attempts} attempts`);

// The deadline: no attempt starts after it, and retry gives up rather than sleep past it.
try {
  await retry(() => Promise.reject(new Error('still down')), { maxRetries: 10, baseDelay: '200ms', jitter: 'none', deadline: '700ms' });
} catch (error) {
  console.log(`gave up before the deadline: ${(error as Error).message}`);
}
