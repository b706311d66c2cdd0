import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  adaptive,
  composite,
  concurrency,
  memoryStore,
  tokenBucket,
  isRateLimitExceededError,
  type Permit,
  type PolicyLimiter,
} from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { configErrorField } from '../support/config-error.js';
import { failingStore } from '../support/failing-store.js';

const setup = () => {
  const clock = new FakeClock(1_000_000);
  const store = memoryStore({ sweepInterval: 0 });
  return { clock, store };
};


type Op =
  | { kind: 'advance'; ms: number }
  | { kind: 'composite'; key: string; cost: number }
  | { kind: 'member'; member: 0 | 1; key: string; cost: number }
  | { kind: 'acquire'; key: string; cost: number }
  | { kind: 'release'; index: number }
  | { kind: 'refund'; key: string; cost: number };

const keyArb = fc.constantFrom('a', 'b');
const costArb = fc.constantFrom(0.5, 1, 1, 1, 2, 3);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 1_500 }) }),
  fc.record({ kind: fc.constant('composite' as const), key: keyArb, cost: costArb }),
  fc.record({ kind: fc.constant('composite' as const), key: keyArb, cost: costArb }),
  fc.record({ kind: fc.constant('member' as const), member: fc.constantFrom(0 as const, 1 as const), key: keyArb, cost: costArb }),
  fc.record({ kind: fc.constant('acquire' as const), key: keyArb, cost: costArb }),
  fc.record({ kind: fc.constant('release' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('refund' as const), key: keyArb, cost: costArb }),
);

describe('composite', () => {
  it('leaves no partial consumption: a refused call changes no member (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('token-bucket', 'concurrency'), fc.array(opArb, { maxLength: 120 }), async (second, ops) => {
        const { clock, store } = setup();
        const first = tokenBucket({ rate: 2, per: '1s', burst: 4, name: 'first', store, clock });
        const other =
          second === 'token-bucket'
            ? tokenBucket({ rate: 1, per: '1s', burst: 3, name: 'second', store, clock })
            : concurrency({ max: 3, lease: '5s', name: 'second', store, clock });
        const members: PolicyLimiter[] = [first, other];
        const both = composite(first, other);
        const permits: Permit[] = [];
        const snapshot = async (key: string) => Promise.all(members.map((member) => member.stats(key)));
        for (const op of ops) {
          if (op.kind === 'advance') {
            clock.set(clock.now() + op.ms);
          } else if (op.kind === 'member') {
            await members[op.member]!.consume(op.key, op.cost);
          } else if (op.kind === 'release') {
            if (permits.length > 0) await permits.splice(op.index % permits.length, 1)[0]!.release();
          } else if (op.kind === 'refund') {
            await both.refund(op.key, op.cost);
          } else {
            const before = await snapshot(op.key);
            const fits = before.every((stats) => op.cost <= stats.available + 1e-9);
            let allowed: boolean;
            if (op.kind === 'composite') {
              const decision = await both.consume(op.key, op.cost);
              allowed = decision.allowed;
              expect(decision.members?.map((m) => m.policy.name)).toEqual(['first', 'second']);
              expect(decision.allowed).toBe(decision.members!.every((m) => m.allowed));
            } else {
              try {
                permits.push(await both.acquire(op.key, { cost: op.cost, timeout: 0 }));
                allowed = true;
              } catch (error) {
                expect(error).toSatisfy(isRateLimitExceededError);
                allowed = false;
              }
            }
            expect(allowed).toBe(fits);
            const after = await snapshot(op.key);
            if (allowed) {
              after.forEach((stats, i) => expect(stats.available).toBeCloseTo(before[i]!.available - op.cost, 9));
            } else {
              expect(after).toEqual(before);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('decides with the refusal that waits longest, or the member with least left', async () => {
    const { clock, store } = setup();
    const perSecond = tokenBucket({ rate: 10, per: '1s', name: 'per-second', store, clock });
    const perMinute = tokenBucket({ rate: 3, per: '1m', name: 'per-minute', store, clock });
    const both = composite(perSecond, perMinute);
    expect(both.name).toBe('per-second+per-minute');
    expect(both.policies.map((p) => p.name)).toEqual(['per-second', 'per-minute']);
    const first = await both.consume('k');
    expect(first).toMatchObject({ allowed: true, remaining: 2, limit: 3, policy: { name: 'per-minute' } });
    expect(first.members).toHaveLength(2);
    await both.consume('k');
    await both.consume('k');
    const refused = await both.consume('k');
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 20_000, policy: { name: 'per-minute' } });
    expect(refused.members!.map((m) => m.allowed)).toEqual([true, false]);
    expect((await perSecond.stats('k')).available).toBe(7);
    await expect(both.acquire('k', { timeout: '10s' })).rejects.toSatisfy(isRateLimitExceededError);
    const pending = both.acquire('k', { timeout: '30s' });
    await clock.advance(20_000);
    expect((await pending).key).toBe('k');
  });

  it('a permit release frees the concurrency slot and never refunds rate tokens', async () => {
    const { store, clock } = setup();
    const rate = tokenBucket({ rate: 5, per: '1m', name: 'rate', store, clock });
    const slots = concurrency({ max: 2, name: 'slots', store, clock });
    const both = composite(rate, slots);
    const permit = await both.acquire('k');
    expect((await rate.stats('k')).available).toBe(4);
    expect((await slots.stats('k')).available).toBe(1);
    await permit.release();
    expect((await rate.stats('k')).available).toBe(4);
    expect((await slots.stats('k')).available).toBe(2);
    // A pure rate composite's permits give nothing back either.
    const rates = composite(rate, tokenBucket({ rate: 9, per: '1m', name: 'rate2', store, clock }));
    await (await rates.acquire('k')).release();
    expect((await rate.stats('k')).available).toBe(3);
    // refund is for an operation that did not happen: it gives back to every member.
    await both.consume('k', 2);
    await both.refund('k', 2);
    expect((await rate.stats('k')).available).toBe(3);
    expect((await slots.stats('k')).available).toBe(2);
  });

  it('a slot freed through the member wakes a waiter of the composite', async () => {
    const { store, clock } = setup();
    const slots = concurrency({ max: 1, lease: '1m', store, clock });
    const both = composite(tokenBucket({ rate: 100, store, clock }), slots);
    const held = await slots.acquire('k');
    const waiting = both.acquire('k', { timeout: '10s' });
    await clock.advance(1_000);
    await held.release();
    await clock.advance(0);
    const permit = await waiting;
    expect(both.metrics().waits.maxMs).toBe(1_000);
    await permit.release();
    expect((await slots.stats('k')).available).toBe(1);
  });

  it('flattens composites of composites and follows an adaptive member', async () => {
    const { store, clock } = setup();
    const a = tokenBucket({ rate: 10, name: 'a', store, clock });
    const b = tokenBucket({ rate: 10, name: 'b', store, clock });
    const c = adaptive({
      initialRate: 4,
      minRate: 1,
      maxRate: 8,
      increaseStep: 1,
      decreaseFactor: 0.5,
      errorThreshold: 0.5,
      window: '1s',
      name: 'c',
      store,
      clock,
    });
    const nested = composite(composite(a, b), composite(a, c));
    expect(nested.policies.map((p) => p.name)).toEqual(['a', 'b', 'c']);
    expect((await nested.consume('k')).members).toHaveLength(3);
    c.reportError();
    clock.set(clock.now() + 1_000);
    c.reportError();
    expect(c.currentRate).toBe(2);
    const decision = await nested.consume('k');
    expect(decision).toMatchObject({ allowed: true, limit: 2, remaining: 1, policy: { name: 'c' } });
    expect((await nested.consume('k')).allowed).toBe(true);
    expect(await nested.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 500, policy: { name: 'c' } });
  });

  it('is fail-closed when any member is', async () => {
    const failing = failingStore(false, 'down');
    const open = tokenBucket({ rate: 1, store: failing });
    const closed = concurrency({ max: 1, store: failing, failMode: 'closed' });
    expect(composite(open, open).failMode).toBe('open');
    const both = composite(open, closed);
    expect(both.failMode).toBe('closed');
    expect(await both.consume('k')).toMatchObject({ allowed: false, degraded: true });
    expect(both.metrics()).toMatchObject({ storeErrors: 1, degraded: 1, rejected: 1 });
  });

  it('rejects bad members with ConfigError naming the field', () => {
    const { store, clock } = setup();
    const a = tokenBucket({ rate: 1, name: 'a', store, clock });
    expect(configErrorField(() => composite())).toBe('limiters');
    expect(configErrorField(() => composite(a, {} as never))).toBe('limiters[1]');
    expect(configErrorField(() => composite(a, null as never))).toBe('limiters[1]');
    const elsewhere = tokenBucket({ rate: 1, name: 'b', store: memoryStore({ sweepInterval: 0 }), clock });
    expect(configErrorField(() => composite(a, elsewhere))).toBe('limiters[1].store');
    expect(configErrorField(() => composite(a, tokenBucket({ rate: 5, name: 'a', store, clock })))).toBe('limiters[1].name');
    expect(composite(a, a).policies).toHaveLength(1);
  });
});
