import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('decorators (TC39 standard, on a class)', () => {
  it('@rateLimited, @circuitBreaker and @retry wrap methods, keep `this` and act like their wrappers', async () => {
    // vitest's transformer implements only legacy decorators; tsx (esbuild) implements the standard ones.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/resilience/fixtures/decorated-class.ts'], {
      timeout: 60_000,
    });
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(report.rateLimited).toEqual([
      { value: 'acme: alice page 1' },
      { value: 'acme: alice page 2' },
      { error: 'RateLimitExceeded:alice' },
      { value: 'acme: bob page 1' },
    ]);
    expect(report.circuitBreaker).toEqual([{ error: 'Error: down' }, { error: 'Error: down' }, { error: 'CircuitOpen' }]);
    expect(report.circuitBreakerAfterReset).toEqual({ value: 'other healthy' });
    expect(report.breakerState).toBe('closed');
    expect(report.retry).toEqual({ value: 'acme flaky ok' });
    expect(report.retryAttemptsAtMs).toEqual([0, 100, 300]);
    expect(report.instanceCalls).toEqual({ acme: 8, other: 1 });
    expect(report.misuse).toBe('ConfigError:@retry');
  });
});
