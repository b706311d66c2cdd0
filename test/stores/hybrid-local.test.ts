/**
 * The hybrid store's local layers over a remote that runs every algorithm (a memory store standing in for Redis,
 * which a hybrid store accepts like any Store): the deny cache never changes an outcome, only saves round trips;
 * fallback policies are scaled per algorithm.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  adaptive,
  composite,
  concurrency,
  fixedWindow,
  gcra,
  hybridStore,
  leakyBucket,
  memoryStore,
  slidingWindow,
  tokenBucket,
  type Decision,
  type Limiter,
  type PolicyLimiter,
  type Store,
} from '../../src/index.js';
import type { Clock } from '../../src/time.js';
import type { Policy } from '../../src/limiters/limiter.js';
import { scalePolicy } from '../../src/stores/scale-policy.js';
import { FakeClock } from '../support/fake-clock.js';
import { clockMoves } from '../support/traces.js';

interface Case {
  label: string;
  /** Every case admits 4 units at once and regains them within 1 s (concurrency: within its 1 s lease). */
  make(common: { store: Store; clock: Clock; name: string }): PolicyLimiter;
}

const LIMIT = 4;
const WINDOW_MS = 1000;
const cases: Case[] = [
  { label: 'token-bucket', make: (common) => tokenBucket({ rate: LIMIT, per: WINDOW_MS, burst: LIMIT, ...common }) },
  { label: 'gcra', make: (common) => gcra({ rate: LIMIT, per: WINDOW_MS, burst: LIMIT, ...common }) },
  { label: 'fixed-window', make: (common) => fixedWindow({ limit: LIMIT, window: WINDOW_MS, ...common }) },
  { label: 'sliding-window-exact', make: (common) => slidingWindow({ limit: LIMIT, window: WINDOW_MS, precision: 'exact', ...common }) },
  {
    label: 'sliding-window-approximate',
    make: (common) => slidingWindow({ limit: LIMIT, window: WINDOW_MS, precision: 'approximate', ...common }),
  },
  { label: 'leaky-bucket-police', make: (common) => leakyBucket({ rate: LIMIT, per: WINDOW_MS, capacity: LIMIT, ...common }) },
  {
    label: 'leaky-bucket-shape',
    make: (common) => leakyBucket({ rate: LIMIT, per: WINDOW_MS, capacity: LIMIT, mode: 'shape', ...common }),
  },
  { label: 'concurrency', make: (common) => concurrency({ max: LIMIT, lease: WINDOW_MS, ...common }) },
];

/** A store that passes every call to `inner`, counting the decisions it was asked for. */
function countingStore(inner: Store): Store & { decisions: number } {
  const counting = {
    kind: 'counting',
    synchronous: inner.synchronous,
    decisions: 0,
    decide: (policy: Policy, key: string, call: Parameters<Store['decide']>[2]) => {
      counting.decisions++;
      return inner.decide(policy, key, call);
    },
    decideAll: (policies: readonly Policy[], key: string, call: Parameters<Store['decide']>[2]) => {
      counting.decisions++;
      return inner.decideAll(policies, key, call);
    },
    inspect: inner.inspect.bind(inner),
    refund: inner.refund.bind(inner),
    reset: inner.reset.bind(inner),
    get: inner.get.bind(inner),
    set: inner.set.bind(inner),
    incr: inner.incr.bind(inner),
    decr: inner.decr.bind(inner),
    delete: inner.delete.bind(inner),
    exists: inner.exists.bind(inner),
  };
  return counting;
}

type Op =
  | { kind: 'consume'; deltaMs: number; key: string; cost: number }
  | { kind: 'refund'; deltaMs: number; key: string; cost: number }
  | { kind: 'reset'; deltaMs: number; key: string };

const ops: fc.Arbitrary<Op[]> = fc.array(
  fc.oneof(
    {
      weight: 12,
      arbitrary: fc.record({
        kind: fc.constant('consume' as const),
        deltaMs: clockMoves(300),
        key: fc.constantFrom('a', 'b'),
        cost: fc.integer({ min: 1, max: 300 }).map((hundredths) => hundredths / 100),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('refund' as const),
        deltaMs: clockMoves(300),
        key: fc.constantFrom('a', 'b'),
        cost: fc.integer({ min: 1, max: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), deltaMs: clockMoves(300), key: fc.constantFrom('a', 'b') }) },
  ),
  { maxLength: 120 },
);

/**
 * A cached refusal may differ from the remote's only by being less precise: remaining 0, and a retry time no later
 * than the remote's (it was measured for a cost at most this one, before later admissions).
 */
function expectCachedRefusal(cached: Decision, truth: Decision, clockBehindMs = 0): void {
  expect(cached.allowed).toBe(false);
  if (truth.allowed) {
    // Only after the clock stepped back: the store alone may have dropped an expired state at the later time and
    // now sees a fresh key, while the cache still holds the refusal. Stricter, never more generous.
    expect(clockBehindMs).toBeGreaterThan(0);
    return;
  }
  expect(cached.limit).toBe(truth.limit);
  expect(cached.remaining).toBe(0);
  expect(cached.retryAfterMs).toBeGreaterThan(0);
  expect(cached.retryAfterMs).toBeLessThanOrEqual(truth.retryAfterMs);
  expect(cached.degraded).toBeUndefined();
}

describe('hybridStore deny cache over a remote running every algorithm', () => {
  describe.each(cases)('$label', (testCase) => {
    it('gives the outcome the remote alone gives for any trace of consumes, refunds, resets and clock steps (property)', async () => {
      await fc.assert(
        fc.asyncProperty(ops, async (trace) => {
          const clock = new FakeClock(1_000_000);
          const remote = countingStore(memoryStore({ sweepInterval: 0 }));
          const hybrid = hybridStore({ remote, clock });
          const plainStore = memoryStore({ sweepInterval: 0 });
          const viaHybrid = testCase.make({ store: hybrid, clock, name: 'p' });
          const alone = testCase.make({ store: plainStore, clock, name: 'p' });
          let consumes = 0;
          let latestMs = clock.now();
          for (const op of trace) {
            clock.set(clock.now() + op.deltaMs);
            latestMs = Math.max(latestMs, clock.now());
            if (op.kind === 'refund') {
              await viaHybrid.refund(op.key, op.cost);
              await alone.refund(op.key, op.cost);
              continue;
            }
            if (op.kind === 'reset') {
              await viaHybrid.reset(op.key);
              await alone.reset(op.key);
              continue;
            }
            consumes++;
            const hitsBefore = hybrid.stats().denyCacheHits;
            const got = await viaHybrid.consume(op.key, op.cost);
            const truth = await alone.consume(op.key, op.cost);
            if (hybrid.stats().denyCacheHits > hitsBefore) expectCachedRefusal(got, truth, latestMs - clock.now());
            else expect(got).toEqual(truth);
          }
          // Every decision was made either by the remote or by the deny cache, never both.
          expect(remote.decisions + hybrid.stats().denyCacheHits).toBe(consumes);
          if (testCase.label === 'concurrency') expect(hybrid.stats().denyCacheHits).toBe(0);
        }),
        { numRuns: 60 },
      );
    });
  });

  it('leaky-bucket-shape: calls that accept a wait (reservations) get the outcome the remote alone gives (property)', async () => {
    const steps = fc.array(
      fc.record({
        deltaMs: fc.constantFrom(0, 0, 50, 100, 300),
        cost: fc.integer({ min: 1, max: 3 }),
        maxWaitMs: fc.constantFrom(0, 0, 250, 500, 1_000),
      }),
      { maxLength: 100 },
    );
    await fc.assert(
      fc.asyncProperty(steps, async (trace) => {
        const clock = new FakeClock(1_000_000);
        const hybrid = hybridStore({ remote: memoryStore({ sweepInterval: 0 }), clock });
        const plainStore = memoryStore({ sweepInterval: 0 });
        const policy = leakyBucket({ rate: LIMIT, per: WINDOW_MS, capacity: LIMIT, mode: 'shape', store: hybrid, clock, name: 'shape' }).policyList[0]!;
        for (const { deltaMs, cost, maxWaitMs } of trace) {
          clock.set(clock.now() + deltaMs);
          const call = { nowMs: clock.now(), cost, maxWaitMs };
          const hitsBefore = hybrid.stats().denyCacheHits;
          const got = await hybrid.decide(policy, 'k', call);
          const truth = plainStore.decide(policy, 'k', call);
          if (hybrid.stats().denyCacheHits > hitsBefore) expectCachedRefusal(got, truth);
          else expect(got).toEqual(truth);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('adaptive: a refusal is not answered locally once the rate has moved (property)', async () => {
    type AdaptiveOp = { kind: 'consume'; deltaMs: number; cost: number } | { kind: 'success' | 'error'; deltaMs: number };
    const trace: fc.Arbitrary<AdaptiveOp[]> = fc.array(
      fc.oneof(
        { weight: 6, arbitrary: fc.record({ kind: fc.constant('consume' as const), deltaMs: fc.integer({ min: 0, max: 60 }), cost: fc.integer({ min: 1, max: 3 }) }) },
        { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('success' as const, 'error' as const), deltaMs: fc.integer({ min: 0, max: 60 }) }) },
      ),
      { maxLength: 120 },
    );
    await fc.assert(
      fc.asyncProperty(trace, async (steps) => {
        const clock = new FakeClock(1_000_000);
        const hybrid = hybridStore({ remote: memoryStore({ sweepInterval: 0 }), clock });
        const options = {
          initialRate: 4,
          minRate: 1,
          maxRate: 20,
          increaseStep: 4,
          decreaseFactor: 0.5,
          errorThreshold: 0.5,
          window: 100,
          per: WINDOW_MS,
          clock,
          name: 'adaptive',
        };
        const viaHybrid = adaptive({ ...options, store: hybrid });
        const alone = adaptive({ ...options, store: memoryStore({ sweepInterval: 0 }) });
        for (const step of steps) {
          clock.set(clock.now() + step.deltaMs);
          if (step.kind !== 'consume') {
            for (const limiter of [viaHybrid, alone]) {
              if (step.kind === 'success') limiter.reportSuccess();
              else limiter.reportError();
            }
            continue;
          }
          const hitsBefore = hybrid.stats().denyCacheHits;
          const got = await viaHybrid.consume('k', step.cost);
          const truth = await alone.consume('k', step.cost);
          if (hybrid.stats().denyCacheHits > hitsBefore) expectCachedRefusal(got, truth);
          else expect(got).toEqual(truth);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('adaptive: a refusal made at the old rate is not answered locally after the rate went up', async () => {
    const clock = new FakeClock(0);
    const remote = countingStore(memoryStore({ sweepInterval: 0 }));
    const store = hybridStore({ remote, clock });
    const limiter = adaptive({
      initialRate: 4,
      minRate: 1,
      maxRate: 20,
      increaseStep: 4,
      decreaseFactor: 0.5,
      errorThreshold: 0.5,
      window: 300,
      per: WINDOW_MS,
      store,
      clock,
    });
    limiter.reportSuccess();
    await clock.advance(60);
    for (let i = 0; i < 4; i++) expect((await limiter.consume('k')).allowed).toBe(true);
    await clock.advance(200);
    const refusal = await limiter.consume('k');
    expect(refusal.allowed).toBe(false);
    expect(refusal.retryAfterMs).toBe(50);
    await clock.advance(10);
    expect((await limiter.consume('k')).allowed).toBe(false);
    expect(store.stats().denyCacheHits).toBe(1);
    // A clean window closes at 300 ms: the rate (and the capacity that follows it) goes from 4 to 8, while the
    // refusal, had the rate stayed, would hold until 310 ms.
    await clock.advance(30);
    limiter.reportSuccess();
    expect(limiter.currentRate).toBe(8);
    const decisionsBefore = remote.decisions;
    expect((await limiter.consume('k')).allowed).toBe(true);
    expect(remote.decisions).toBe(decisionsBefore + 1);
  });

  it('composite: decided in one remote call when nothing is cached, then refused locally while the refusal holds', async () => {
    const clock = new FakeClock(0);
    const remote = countingStore(memoryStore({ sweepInterval: 0 }));
    const store = hybridStore({ remote, clock });
    const perSecond = tokenBucket({ rate: 2, per: '1s', burst: 2, store, clock, name: 'per-second' });
    const perMinute = fixedWindow({ limit: 10, window: '1m', store, clock, name: 'per-minute' });
    const both = composite(perSecond, perMinute);
    expect((await both.consume('k')).allowed).toBe(true);
    expect((await both.consume('k')).allowed).toBe(true);
    expect(remote.decisions).toBe(2);
    const refusal = await both.consume('k');
    expect(refusal.allowed).toBe(false);
    expect(refusal.retryAfterMs).toBe(500);
    expect(remote.decisions).toBe(3);
    await clock.advance(200);
    const local = await both.consume('k');
    expect(remote.decisions).toBe(3);
    expect(local.allowed).toBe(false);
    expect(local.retryAfterMs).toBe(300);
    expect(local.policy.name).toBe('per-second');
    expect(local.members?.map((member) => member.allowed)).toEqual([false, true]);
    // The refusing member alone is known refused too: its own limiter is answered locally.
    expect((await perSecond.consume('k')).retryAfterMs).toBe(300);
    expect(remote.decisions).toBe(3);
    await clock.advance(300);
    expect((await both.consume('k')).allowed).toBe(true);
    expect(remote.decisions).toBe(4);
  });

  it('answers only for the refused cost or more: a smaller cost goes to the remote', async () => {
    const clock = new FakeClock(0);
    const remote = countingStore(memoryStore({ sweepInterval: 0 }));
    const store = hybridStore({ remote, clock });
    const limiter = tokenBucket({ rate: 1, per: '1s', burst: 5, store, clock });
    expect((await limiter.consume('k', 3)).allowed).toBe(true);
    expect((await limiter.consume('k', 3)).allowed).toBe(false);
    expect(remote.decisions).toBe(2);
    expect((await limiter.consume('k', 4)).allowed).toBe(false);
    expect(remote.decisions).toBe(2);
    expect((await limiter.consume('k', 2)).allowed).toBe(true);
    expect(remote.decisions).toBe(3);
  });

  it('a refund or reset through the store drops the key from the deny cache', async () => {
    const clock = new FakeClock(0);
    const remote = countingStore(memoryStore({ sweepInterval: 0 }));
    const store = hybridStore({ remote, clock });
    const limiter = fixedWindow({ limit: 1, window: '1h', store, clock });
    expect((await limiter.consume('k')).allowed).toBe(true);
    expect((await limiter.consume('k')).allowed).toBe(false);
    expect((await limiter.consume('k')).allowed).toBe(false);
    expect(store.stats().denyCacheHits).toBe(1);
    await limiter.refund('k');
    expect((await limiter.consume('k')).allowed).toBe(true);
    expect((await limiter.consume('k')).allowed).toBe(false);
    await limiter.reset('k');
    expect((await limiter.consume('k')).allowed).toBe(true);
    expect(store.stats().denyCacheHits).toBe(1);
  });

  it('holds at most maxKeys refusals, the oldest going first', async () => {
    const clock = new FakeClock(0);
    const remote = countingStore(memoryStore({ sweepInterval: 0 }));
    const store = hybridStore({ remote, clock, maxKeys: 3 });
    const limiter = fixedWindow({ limit: 1, window: '1h', store, clock });
    for (const key of ['a', 'b', 'c', 'd']) {
      await limiter.consume(key);
      await limiter.consume(key);
    }
    expect(store.stats().denyCacheSize).toBe(3);
    const before = remote.decisions;
    for (const key of ['b', 'c', 'd']) expect((await limiter.consume(key)).allowed).toBe(false);
    expect(remote.decisions).toBe(before);
    expect((await limiter.consume('a')).allowed).toBe(false);
    expect(remote.decisions).toBe(before + 1);
  });

  it('denyCache: false sends every decision to the remote', async () => {
    const clock = new FakeClock(0);
    const remote = countingStore(memoryStore({ sweepInterval: 0 }));
    const store = hybridStore({ remote, clock, denyCache: false });
    const limiter = fixedWindow({ limit: 1, window: '1h', store, clock });
    for (let i = 0; i < 10; i++) await limiter.consume('k');
    expect(remote.decisions).toBe(10);
    expect(store.stats().denyCacheHits).toBe(0);
  });
});

describe('fallback policies scaled by instances', () => {
  const limitOf = (limiter: Limiter) => limiter.policies[0]!.limit;

  describe.each(cases)('$label', (testCase) => {
    it.each([1, 2, 3, 4, 5, 8])('1/%i of the limit at once, and of the units regained over a window', async (instances) => {
      const clock = new FakeClock(1_000_000);
      const store = memoryStore({ sweepInterval: 0 });
      const limiter = testCase.make({ store, clock, name: `scaled-${instances}` });
      const policy = limiter.policyList[0]!;
      const scaled = scalePolicy(policy, 1 / instances);
      const share = Math.max(LIMIT / instances, 1);
      expect(scaled.info.limit).toBeCloseTo(share, 9);
      expect(scaled.id).toBe(policy.id);
      expect(scaled.info.name).toBe(policy.info.name);
      expect(limitOf(limiter)).toBe(LIMIT);
      const admitAll = (): number => {
        let admitted = 0;
        // A shaping bucket admits a call that would wait only through acquire (maxWaitMs); give it the whole window.
        const maxWaitMs = testCase.label === 'leaky-bucket-shape' ? WINDOW_MS * instances : 0;
        for (let i = 0; i < 2 * LIMIT; i++) {
          if (store.decide(scaled, 'k', { nowMs: clock.now(), cost: 1, maxWaitMs, token: `t${i}-${clock.now()}` }).allowed) admitted++;
        }
        return admitted;
      };
      expect(admitAll()).toBe(Math.floor(share + 1e-9));
      // The same share again once the key has had time to come back to full (two windows of the scaled rate).
      clock.set(clock.now() + 2 * WINDOW_MS * instances + 1);
      expect(admitAll()).toBe(Math.floor(share + 1e-9));
    });
  });

  it('token bucket: the refill rate is divided too', () => {
    const clock = new FakeClock(0);
    const store = memoryStore({ sweepInterval: 0 });
    const limiter = tokenBucket({ rate: 100, per: '1s', burst: 100, store, clock });
    const scaled = scalePolicy(limiter.policyList[0]!, 1 / 4);
    expect(scaled.info.limit).toBe(25);
    let admitted = 0;
    for (let i = 0; i < 100; i++) if (store.decide(scaled, 'k', { nowMs: 0, cost: 1 }).allowed) admitted++;
    expect(admitted).toBe(25);
    // 25 per second: after 400 ms, 10 tokens.
    admitted = 0;
    for (let i = 0; i < 100; i++) if (store.decide(scaled, 'k', { nowMs: 400, cost: 1 }).allowed) admitted++;
    expect(admitted).toBe(10);
  });
});
