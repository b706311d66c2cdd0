import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isRateLimitExceededError, leakyBucket, memoryStore } from '../../src/index.js';
import { leakyBucketShapeAlgorithm } from '../../src/limiters/leaky-bucket.js';
import { newStepOutcome, type StepInput } from '../../src/limiters/limiter.js';
import { FakeClock } from '../support/fake-clock.js';
import { EffectiveTime, clockMoves, costs, trace } from '../support/traces.js';

const setup = (options: { rate: number; per?: number | string; capacity?: number; mode?: 'police' | 'shape' }) => {
  const clock = new FakeClock(1_000_000);
  const store = memoryStore({ sweepInterval: 0 });
  return { clock, store, limiter: leakyBucket({ ...options, store, clock } as never) };
};

describe('leakyBucket police', () => {
  it('is the default mode and refuses a call that would overflow', async () => {
    const { clock, limiter } = setup({ rate: 1, per: '100ms', capacity: 3 });
    expect(limiter.policies[0]!.algorithm).toBe('leaky-bucket-police');
    expect(await limiter.consume('k', 3)).toMatchObject({ allowed: true, remaining: 0, resetMs: 300 });
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 100 });
    clock.set(clock.now() + 150);
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 0 });
    // 150 ms drained 1.5 of 3, the call poured 1: level 2.5.
    expect(await limiter.stats('k')).toMatchObject({ available: 0.5, max: 3, refillPerSecond: 10, resetMs: 250 });
  });

  it('never holds more than capacity + what has drained, even when the clock steps back (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        trace(clockMoves(400), costs(5, { fractional: true }), 200),
        async (rate, capacity, steps) => {
          const { clock, limiter } = setup({ rate, per: 1000, capacity, mode: 'police' });
          let startMs = clock.now();
          const time = new EffectiveTime();
          let latestMs = startMs;
          let poured = 0;
          for (const { deltaMs, cost } of steps) {
            clock.set(clock.now() + deltaMs);
            startMs = Math.min(startMs, clock.now());
            const decision = await limiter.consume('k', cost);
            expect(decision.remaining).toBeLessThanOrEqual(capacity);
            if (!decision.allowed) continue;
            poured += cost;
            latestMs = Math.max(latestMs, time.admitted(clock.now()));
            expect(poured).toBeLessThanOrEqual(capacity + (rate * (latestMs - startMs)) / 1000 + 1e-6);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('leakyBucket shape', () => {
  it('consume admits only calls that can go at once: strict spacing', async () => {
    const { clock, limiter } = setup({ rate: 10, per: '1s', capacity: 5, mode: 'shape' });
    const first = await limiter.consume('k');
    expect(first.allowed).toBe(true);
    expect(first.waitMs).toBeUndefined();
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 100 });
    clock.set(clock.now() + 99);
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 1 });
    clock.set(clock.now() + 1);
    expect((await limiter.consume('k')).allowed).toBe(true);
  });

  it('spaces admitted start times by cost x interval and never lets the backlog exceed capacity (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(
          fc.record({
            deltaMs: clockMoves(300),
            cost: costs(3, { fractional: true }),
            maxWaitMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3000 }), fc.constant(Infinity)),
          }),
          { maxLength: 200 },
        ),
        (rate, capacity, steps) => {
          // On the step itself, so waits are exact (decisions round them up to whole ms).
          const config = { intervalMs: 1000 / rate, capacity };
          const state = new Float64Array(1);
          const input: StepInput = { nowMs: 1_000_000, cost: 1, commit: true, maxWaitMs: 0, token: '' };
          const out = newStepOutcome();
          const starts: { atMs: number; cost: number }[] = [];
          for (const { deltaMs, cost, maxWaitMs } of steps) {
            input.nowMs += deltaMs;
            input.cost = cost;
            input.maxWaitMs = maxWaitMs;
            leakyBucketShapeAlgorithm.step(state, 0, input, config, out);
            if (!out.allowed) continue;
            expect(out.waitMs).toBeLessThanOrEqual(maxWaitMs);
            const startMs = input.nowMs + out.waitMs;
            const previous = starts.at(-1);
            if (previous) expect(startMs).toBeGreaterThanOrEqual(previous.atMs + previous.cost * config.intervalMs - 1e-6);
            starts.push({ atMs: startMs, cost });
            // Units admitted and not yet gone out (a call of cost c goes out over c intervals from its start).
            let waiting = 0;
            for (const start of starts) {
              waiting += Math.min(start.cost, Math.max(0, (start.atMs + start.cost * config.intervalMs - input.nowMs) / config.intervalMs));
            }
            expect(waiting).toBeLessThanOrEqual(capacity + 1e-6);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('acquire spaces concurrent callers at the output rate', async () => {
    const { clock, limiter } = setup({ rate: 10, per: '1s', capacity: 5, mode: 'shape' });
    const startedAt: number[] = [];
    const pending = Array.from({ length: 5 }, () => limiter.acquire('k').then(() => startedAt.push(clock.now() - 1_000_000)));
    await clock.advance(1000);
    await Promise.all(pending);
    expect(startedAt).toEqual([0, 100, 200, 300, 400]);
    expect(limiter.metrics()).toMatchObject({ acquisitions: 5, timeouts: 0 });
    expect(limiter.metrics().waits).toMatchObject({ count: 4, maxMs: 400, totalMs: 1000 });
  });

  it('acquire waits for room when the backlog is full, without polling', async () => {
    const { clock, limiter } = setup({ rate: 10, per: '1s', capacity: 2, mode: 'shape' });
    const startedAt: number[] = [];
    const pending = Array.from({ length: 4 }, () => limiter.acquire('k').then(() => startedAt.push(clock.now() - 1_000_000)));
    await clock.advance(0);
    // Two have slots (0 and 100 ms); the others sleep until the backlog has room.
    expect(clock.pending).toBe(3);
    await clock.advance(1000);
    await Promise.all(pending);
    expect(startedAt).toEqual([0, 100, 200, 300]);
  });

  it('acquire fails at once when the wait would pass the timeout, and when the cost can never fit', async () => {
    const { clock, limiter } = setup({ rate: 10, per: '1s', capacity: 5, mode: 'shape' });
    await limiter.acquire('k', { cost: 3 }); // the next slot is 300 ms away
    const started = clock.now();
    const error = await limiter.acquire('k', { timeout: 250 }).catch((e: unknown) => e);
    expect(isRateLimitExceededError(error)).toBe(true);
    expect(error).toMatchObject({ retryAfterMs: 300 });
    expect(clock.now()).toBe(started);
    expect(clock.pending).toBe(0);
    expect(limiter.metrics().timeouts).toBe(1);
    await expect(limiter.acquire('k', { cost: 6 })).rejects.toMatchObject({ retryAfterMs: Infinity });
    // Within the timeout it reserves the slot and sleeps until it.
    const pending = limiter.acquire('k', { timeout: 300 });
    await clock.advance(300);
    await expect(pending).resolves.toMatchObject({ key: 'k', cost: 1 });
  });

  it('an aborted acquire rejects with the reason and leaves its reserved slot unused', async () => {
    const { clock, limiter } = setup({ rate: 10, per: '1s', capacity: 5, mode: 'shape' });
    await limiter.acquire('k'); // slot 0
    const controller = new AbortController();
    const aborted = limiter.acquire('k', { signal: controller.signal }); // slot 100
    await clock.advance(0);
    controller.abort(new Error('client went away'));
    await expect(aborted).rejects.toThrow('client went away');
    let startedAtMs = -1;
    const next = limiter.acquire('k').then(() => (startedAtMs = clock.now() - 1_000_000));
    await clock.advance(500);
    await next;
    expect(startedAtMs).toBe(200);
  });

  it('refund gives nothing back: slots are on a schedule', async () => {
    const { limiter } = setup({ rate: 10, per: '1s', capacity: 5, mode: 'shape' });
    await limiter.consume('k');
    await limiter.refund('k', 5);
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 100 });
  });
});
