import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { concurrency, memoryStore, isRateLimitExceededError, type Duration, type Permit } from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { configErrorField } from '../support/config-error.js';

const setup = (options: { max: number; lease?: Duration }) => {
  const clock = new FakeClock(1_000_000);
  const store = memoryStore({ sweepInterval: 0 });
  return { clock, store, limiter: concurrency({ ...options, store, clock }) };
};

/** Settles when the promise does, without an unhandled rejection while the clock is being driven. */
const settle = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe('concurrency', () => {
  it('never exceeds max under 1000 concurrent acquires with random releases (property)', async () => {
    const holdArb = fc.oneof(
      { weight: 9, arbitrary: fc.integer({ min: 0, max: 3_000 }) },
      // Holders that never release: only the lease gives their slot back.
      { weight: 1, arbitrary: fc.constant(-1) },
    );
    const timeoutArb = fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 60_000 }));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.tuple(holdArb, timeoutArb), { minLength: 1000, maxLength: 1000 }),
        async (max, calls) => {
          const leaseMs = 10_000;
          const { clock, limiter } = setup({ max, lease: leaseMs });
          const holders: { startMs: number; endMs: number }[] = [];
          let admittedOverMax = 0;
          const inFlightAt = (nowMs: number) => holders.filter((h) => h.startMs <= nowMs && nowMs < h.endMs).length;
          const runs = calls.map(([holdMs, timeoutMs]) =>
            settle(
              limiter.acquire('k', timeoutMs === undefined ? {} : { timeout: timeoutMs }).then(async (permit: Permit) => {
                const nowMs = clock.now();
                const holder = { startMs: nowMs, endMs: nowMs + leaseMs };
                holders.push(holder);
                if (inFlightAt(nowMs) > max) admittedOverMax++;
                if (holdMs < 0) return 'stuck';
                await clock.sleep(holdMs);
                holder.endMs = Math.min(holder.endMs, clock.now());
                await permit.release();
                return 'released';
              }),
            ),
          );
          let settled = false;
          const all = Promise.all(runs).then((results) => {
            settled = true;
            return results;
          });
          while (!settled) await clock.advance(500);
          const results = await all;

          expect(admittedOverMax).toBe(0);
          const failures = results.filter((r) => !r.ok);
          for (const failure of failures) expect(failure.error).toSatisfy(isRateLimitExceededError);
          const metrics = limiter.metrics();
          expect(metrics.acquisitions).toBe(holders.length);
          expect(metrics.acquisitions + metrics.timeouts).toBe(1000);
          expect(metrics.timeouts).toBe(failures.length);
          expect(metrics.inFlight).toBe(results.filter((r) => r.ok && r.value === 'stuck').length);
          expect(metrics.releases).toBe(results.filter((r) => r.ok && r.value === 'released').length);
          // Acquirers really queued behind each other: far more admissions than slots.
          expect(holders.length).toBeGreaterThan(max);
          clock.set(clock.now() + leaseMs);
          expect((await limiter.stats('k')).available).toBe(max);
        },
      ),
      { numRuns: 4, endOnFailure: true },
    );
  }, 120_000);

  it('agrees with a plain model of holders on random traces (property)', async () => {
    type Op =
      | { kind: 'advance'; ms: number }
      | { kind: 'consume' | 'acquire' | 'refund'; cost: number }
      | { kind: 'release'; index: number };
    const costArb = fc.constantFrom(0, 0.25, 0.5, 1, 1, 1, 2, 3, 5);
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: -500, max: 4_000 }) }),
      fc.record({ kind: fc.constantFrom('consume' as const, 'acquire' as const, 'refund' as const), cost: costArb }),
      fc.record({ kind: fc.constant('release' as const), index: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.array(opArb, { maxLength: 150 }), async (max, ops) => {
        const leaseMs = 5_000;
        const { clock, limiter } = setup({ max, lease: leaseMs });
        // The model: a list of holders in admission order, dropped when their lease has ended.
        let holders: { cost: number; expiresAtMs: number }[] = [];
        let lastExpiresAtMs = 0;
        const permits: { permit: Permit; holder: { cost: number; expiresAtMs: number } }[] = [];
        const live = () => (holders = holders.filter((h) => h.expiresAtMs > clock.now()));
        const inUse = () => live().reduce((sum, h) => sum + h.cost, 0);
        for (const op of ops) {
          if (op.kind === 'advance') {
            clock.set(clock.now() + op.ms);
          } else if (op.kind === 'release') {
            if (permits.length === 0) continue;
            const { permit, holder } = permits.splice(op.index % permits.length, 1)[0]!;
            holders = holders.filter((h) => h !== holder);
            // The last holder gone, the key holds no state: lease order has nothing left to keep.
            if (live().length === 0) lastExpiresAtMs = 0;
            await permit.release();
          } else if (op.kind === 'refund') {
            let left = op.cost;
            for (const holder of live()) {
              const freed = Math.min(left, holder.cost);
              holder.cost -= freed;
              left -= freed;
            }
            holders = holders.filter((h) => h.cost > 1e-9);
            if (live().length === 0) lastExpiresAtMs = 0;
            await limiter.refund('k', op.cost);
          } else {
            const free = max - inUse();
            const fits = op.cost <= free + 1e-9;
            let expectedRetryMs = 0;
            if (!fits) {
              let freed = 0;
              expectedRetryMs = Infinity;
              if (op.cost <= max) {
                for (const holder of live()) {
                  freed += holder.cost;
                  if (freed + 1e-9 >= op.cost - free) {
                    expectedRetryMs = holder.expiresAtMs - clock.now();
                    break;
                  }
                }
              }
            }
            let holder: { cost: number; expiresAtMs: number } | undefined;
            if (fits && op.cost > 0) {
              lastExpiresAtMs = Math.max(clock.now() + leaseMs, lastExpiresAtMs);
              holder = { cost: op.cost, expiresAtMs: lastExpiresAtMs };
              holders.push(holder);
            }
            if (op.kind === 'consume') {
              const decision = await limiter.consume('k', op.cost);
              expect(decision.allowed).toBe(fits);
              expect(decision.retryAfterMs).toBe(Math.max(0, Math.ceil(expectedRetryMs - 1e-7)));
              expect(decision.remaining).toBe(Math.max(0, Math.floor(free - (fits ? op.cost : 0) + 1e-9)));
            } else {
              const result = await settle(limiter.acquire('k', { cost: op.cost, timeout: 0 }));
              expect(result.ok).toBe(fits);
              if (result.ok && holder) permits.push({ permit: result.value, holder });
            }
          }
          expect((await limiter.stats('k')).available).toBeCloseTo(max - inUse(), 9);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a release wakes a waiting acquire at once, long before the lease ends', async () => {
    const { clock, limiter } = setup({ max: 1, lease: '1m' });
    const held = await limiter.acquire('k');
    const waiting = limiter.acquire('k', { timeout: '30s' });
    await clock.advance(1_000);
    expect(clock.pending).toBe(1);
    await held.release();
    await clock.advance(0);
    const next = await waiting;
    expect(next.key).toBe('k');
    expect(limiter.metrics().waits).toMatchObject({ count: 1, maxMs: 1_000 });
  });

  it('a woken waiter that gives up passes the wake on', async () => {
    const { clock, limiter } = setup({ max: 1, lease: '1m' });
    const held = await limiter.acquire('k');
    const controller = new AbortController();
    const reason = new Error('gave up');
    const first = settle(limiter.acquire('k', { signal: controller.signal }));
    let admitted = false;
    const second = limiter.acquire('k', { timeout: '10s' }).then((permit) => ((admitted = true), permit));
    await clock.advance(100);
    expect(clock.pending).toBe(2);
    // The release wakes the first waiter, which is aborted before it can take the slot.
    await held.release();
    controller.abort(reason);
    expect(await first).toEqual({ ok: false, error: reason });
    await clock.advance(0);
    expect(admitted).toBe(true);
    expect((await second).key).toBe('k');
    expect(limiter.metrics()).toMatchObject({ acquisitions: 2, inFlight: 1 });
  });

  it('a release of another key does not wake a waiter', async () => {
    const { clock, limiter } = setup({ max: 1, lease: '10s' });
    const other = await limiter.acquire('other');
    await limiter.acquire('k');
    let admitted = false;
    void limiter.acquire('k').then(() => (admitted = true));
    await clock.advance(100);
    await other.release();
    await clock.advance(100);
    expect(admitted).toBe(false);
    await clock.advance(9_800);
    expect(admitted).toBe(true);
  });

  it('a timed-out acquire waits for releases until its deadline, then fails', async () => {
    const { clock, limiter } = setup({ max: 1, lease: '1m' });
    await limiter.acquire('k');
    const waiting = settle(limiter.acquire('k', { timeout: '5s' }));
    await clock.advance(4_999);
    expect(clock.pending).toBe(1);
    await clock.advance(1);
    const result = await waiting;
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toSatisfy(isRateLimitExceededError);
    expect(!result.ok && (result.error as { retryAfterMs: number }).retryAfterMs).toBe(55_000);
    expect(limiter.metrics().timeouts).toBe(1);
  });

  it('lease expiry frees a slot whose holder never releases', async () => {
    const { clock, limiter } = setup({ max: 1, lease: '5s' });
    await limiter.acquire('k');
    clock.set(clock.now() + 2_000);
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 3_000, remaining: 0, limit: 1 });
    let admitted = false;
    const waiting = limiter.acquire('k').then((permit) => ((admitted = true), permit));
    await clock.advance(2_999);
    expect(admitted).toBe(false);
    await clock.advance(1);
    expect(admitted).toBe(true);
    await (await waiting).release();
    expect((await limiter.stats('k')).available).toBe(1);
  });

  it('retryAfterMs waits for enough leases to end for the whole cost', async () => {
    const { clock, limiter } = setup({ max: 3, lease: '10s' });
    const startMs = clock.now();
    for (let i = 0; i < 3; i++) {
      clock.set(startMs + i * 1_000);
      expect((await limiter.consume('k')).allowed).toBe(true);
    }
    clock.set(startMs + 2_500);
    expect((await limiter.consume('k', 2)).retryAfterMs).toBe(8_500);
    expect((await limiter.consume('k', 1)).retryAfterMs).toBe(7_500);
    expect((await limiter.consume('k', 4)).retryAfterMs).toBe(Infinity);
  });

  it('permit release is idempotent and frees exactly its own holder', async () => {
    const { limiter } = setup({ max: 2 });
    const first = await limiter.acquire('k');
    const second = await limiter.acquire('k', { cost: 1 });
    await first.release();
    await first.release();
    await first[Symbol.asyncDispose]();
    expect((await limiter.stats('k')).available).toBe(1);
    expect(limiter.metrics()).toMatchObject({ releases: 1, inFlight: 1 });
    await second.release();
    expect((await limiter.stats('k')).available).toBe(2);
  });

  it('await using frees the slot at the end of the block', async () => {
    const { limiter } = setup({ max: 1 });
    {
      await using permit = await limiter.acquire('k');
      expect(permit.cost).toBe(1);
      expect((await limiter.consume('k')).allowed).toBe(false);
    }
    expect((await limiter.consume('k')).allowed).toBe(true);
  });

  it('consume takes a slot that refund gives back, oldest holders first', async () => {
    const { clock, limiter } = setup({ max: 4, lease: '10s' });
    expect(await limiter.consume('k', 3)).toMatchObject({ allowed: true, remaining: 1, resetMs: 10_000 });
    clock.set(clock.now() + 1_000);
    expect(await limiter.consume('k', 1)).toMatchObject({ allowed: true, remaining: 0, resetMs: 10_000 });
    expect((await limiter.consume('k')).allowed).toBe(false);
    await limiter.refund('k', 2);
    expect((await limiter.stats('k')).available).toBe(2);
    // The oldest holder kept one unit; its lease ends first.
    clock.set(clock.now() + 8_999);
    expect((await limiter.stats('k')).available).toBe(2);
    clock.set(clock.now() + 1);
    expect((await limiter.stats('k')).available).toBe(3);
    await limiter.refund('k', 10);
    expect(await limiter.stats('k')).toMatchObject({ available: 4, lastUpdateMs: undefined });
  });

  it('a clock stepping backwards frees nothing early', async () => {
    const { clock, limiter } = setup({ max: 2, lease: '10s' });
    const startMs = clock.now();
    await limiter.consume('k');
    clock.set(startMs - 5_000);
    await limiter.consume('k');
    clock.set(startMs + 9_999);
    expect((await limiter.stats('k')).available).toBe(0);
    clock.set(startMs + 10_000);
    expect((await limiter.stats('k')).available).toBe(2);
  });

  it('holds no state once every holder is gone', async () => {
    const { clock, store, limiter } = setup({ max: 2, lease: '1s' });
    const permit = await limiter.acquire('a');
    await limiter.consume('b');
    expect(store.size()).toBe(2);
    await permit.release();
    expect(store.size()).toBe(1);
    clock.set(clock.now() + 1_000);
    store.sweep();
    expect(store.size()).toBe(0);
  });

  it('rejects bad options with ConfigError naming the field', () => {
    const field = configErrorField;
    expect(field(() => concurrency(undefined as never))).toBe('max');
    for (const max of [0, -1, Number.NaN, Infinity, '3', undefined]) expect(field(() => concurrency({ max } as never))).toBe('max');
    for (const lease of [0, -1, Infinity, Number.NaN, '1 week', '']) expect(field(() => concurrency({ max: 1, lease } as never))).toBe('lease');
    expect(field(() => concurrency({ max: 1, leese: '1s' } as never))).toBe('concurrency.leese');
    expect(field(() => concurrency({ max: 1, failMode: 'maybe' } as never))).toBe('failMode');
    expect(field(() => concurrency({ max: 1, store: {} } as never))).toBe('store');
    expect(field(() => concurrency({ max: 1, clock: Date } as never))).toBe('clock');
    expect(field(() => concurrency({ max: 1, name: '' }))).toBe('name');
    expect(field(() => concurrency({ max: 1, prefix: 7 } as never))).toBe('prefix');
    expect(concurrency({ max: 2.5, lease: '250ms' }).policies[0]).toMatchObject({ limit: 2.5, windowMs: 250, algorithm: 'concurrency' });
  });
});
