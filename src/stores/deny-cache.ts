/**
 * The L1 deny cache of a hybrid store: refusals the remote store made, remembered until their retry time so that
 * the same key is refused again in this process without a round trip (the defence when an attacker hammers one
 * key). An entry answers only when the refusal is certain to hold:
 * - for the same policy (or the same set of policies, for a composite) and user key;
 * - for a cost at least the refused cost: a larger cost is refused for at least as long;
 * - for calls that accept no wait (`maxWaitMs` 0, every call but a shaping limiter's acquire): a shaping policy's
 *   refusal of a call that accepts a wait is not a retry time for calls that accept another wait;
 * - before the retry time, measured from when the call was made (before the remote decided), so it ends no later
 *   than the remote's refusal;
 * - while the policy's configuration is unchanged (an adaptive limiter moves its rate);
 * - never for an algorithm whose units come back on release (concurrency): a release anywhere frees a slot early.
 * Units given back through another process (a refund, a reset) are seen once the entry has run out; those given
 * back through this store drop its entries for the key at once.
 * Memory is bounded by `maxKeys` entries; the oldest written goes first. There are no timers: entries expire as
 * they are read or pushed out.
 */
import { ceilMs, type Decision, type Policy, type PolicyInfo } from '../limiters/limiter.js';
import { configValues, sameConfig } from './scale-policy.js';
import type { DecideCall } from './store.js';

/** What one policy said when it refused, frozen at the time of the call. */
interface MemberSnapshot {
  readonly policy: Policy;
  /** The policy's configuration values when it refused (compared on every hit). */
  readonly configValues: readonly unknown[];
  readonly decision: Decision;
}

interface DenyEntry {
  /** The caller's clock when the refused call was made. */
  readonly decidedAtMs: number;
  /** Answer only before this time. */
  readonly untilMs: number;
  /** Answer only for this cost or more. */
  readonly cost: number;
  /** One snapshot for a single policy; one per policy, in order, for a composite. */
  readonly members: readonly MemberSnapshot[];
}

const POLICY_SEPARATOR = '\u0001';
const KEY_SEPARATOR = '\u0000';

/** True for a refusal that cannot turn into an admission before its retry time for a cost at least as large. */
function certainRefusal(policy: Policy, decision: Decision): boolean {
  return (
    !decision.allowed &&
    decision.degraded !== true &&
    decision.retryAfterMs > 0 &&
    Number.isFinite(decision.retryAfterMs) &&
    !(policy.algorithm.kind === 'object' && policy.algorithm.holdsSlots === true)
  );
}

export class DenyCache {
  private readonly entries = new Map<string, DenyEntry>();
  /** The cache id of each composite's policy list (PolicyLimiter passes the same array on every call). */
  private readonly groupIds = new WeakMap<readonly Policy[], string>();
  /** Composites seen, by cache id: a refund or reset of one policy drops their entries too. */
  private readonly groups = new Map<string, readonly Policy[]>();

  constructor(private readonly maxKeys: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** A local refusal for a single policy, or undefined when the remote must decide. */
  find(policy: Policy, userKey: string, call: DecideCall): Decision | undefined {
    const id = policy.id + KEY_SEPARATOR + userKey;
    const entry = this.live(id, call);
    return entry === undefined ? undefined : answer(entry.members[0]!, entry, call.nowMs);
  }

  /** Local refusals for every policy of a composite, or undefined when the remote must decide. */
  findAll(policies: readonly Policy[], userKey: string, call: DecideCall): Decision[] | undefined {
    const id = this.groupId(policies) + KEY_SEPARATOR + userKey;
    const entry = this.live(id, call);
    if (entry === undefined) return undefined;
    return entry.members.map((member) => answer(member, entry, call.nowMs));
  }

  /** Remembers a remote refusal of one policy (when it is certain to hold). */
  remember(policy: Policy, userKey: string, call: DecideCall, decision: Decision): void {
    if (!(call.cost > 0) || (call.maxWaitMs ?? 0) > 0 || !certainRefusal(policy, decision)) return;
    this.put(policy.id + KEY_SEPARATOR + userKey, {
      decidedAtMs: call.nowMs,
      untilMs: call.nowMs + decision.retryAfterMs,
      cost: call.cost,
      members: [{ policy, configValues: configValues(policy.config), decision }],
    });
  }

  /**
   * Remembers a remote refusal of a composite: each refusing policy on its own, and the whole answer until the
   * first refusing policy's retry time (after that, its answer alone is not known).
   */
  rememberAll(policies: readonly Policy[], userKey: string, call: DecideCall, decisions: readonly Decision[]): void {
    if (!(call.cost > 0) || (call.maxWaitMs ?? 0) > 0 || decisions.length !== policies.length) return;
    let firstRetryMs = Infinity;
    let certain = true;
    let refused = false;
    decisions.forEach((decision, index) => {
      if (decision.allowed) return;
      refused = true;
      const policy = policies[index]!;
      if (certainRefusal(policy, decision)) {
        this.remember(policy, userKey, call, decision);
        firstRetryMs = Math.min(firstRetryMs, decision.retryAfterMs);
      } else {
        certain = false;
      }
    });
    if (!refused || !certain) return;
    const groupId = this.groupId(policies);
    this.groups.set(groupId, policies);
    this.put(groupId + KEY_SEPARATOR + userKey, {
      decidedAtMs: call.nowMs,
      untilMs: call.nowMs + firstRetryMs,
      cost: call.cost,
      members: policies.map((policy, index) => ({ policy, configValues: configValues(policy.config), decision: decisions[index]! })),
    });
  }

  /** Drops what is known about a key of a policy (units were given back, or the key was reset). */
  forget(policy: Policy, userKey: string): void {
    this.entries.delete(policy.id + KEY_SEPARATOR + userKey);
    for (const [groupId, policies] of this.groups) {
      if (policies.includes(policy)) this.entries.delete(groupId + KEY_SEPARATOR + userKey);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  private live(id: string, call: DecideCall): DenyEntry | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    const nowMs = call.nowMs;
    // A clock that stepped back would stretch the refusal: drop it instead.
    if (nowMs >= entry.untilMs || nowMs < entry.decidedAtMs || !entry.members.every((m) => sameConfig(m.policy.config, m.configValues))) {
      this.entries.delete(id);
      return undefined;
    }
    if (call.cost < entry.cost || (call.maxWaitMs ?? 0) > 0) return undefined;
    return entry;
  }

  private put(id: string, entry: DenyEntry): void {
    this.entries.delete(id);
    const oldest = this.entries.entries().next();
    if (!oldest.done && (this.entries.size >= this.maxKeys || oldest.value[1].untilMs <= entry.decidedAtMs)) {
      // Full, or the oldest entry has run out anyway: drop it (this also sweeps expired entries as new ones arrive).
      this.entries.delete(oldest.value[0]);
    }
    this.entries.set(id, entry);
  }

  private groupId(policies: readonly Policy[]): string {
    let id = this.groupIds.get(policies);
    if (id === undefined) {
      id = policies.map((policy) => policy.id).join(POLICY_SEPARATOR);
      this.groupIds.set(policies, id);
    }
    return id;
  }
}

/** The snapshot's decision, with its times counted down to `nowMs`. A refusal shows nothing left. */
function answer(member: MemberSnapshot, entry: DenyEntry, nowMs: number): Decision {
  const { decision } = member;
  const elapsedMs = nowMs - entry.decidedAtMs;
  const info: PolicyInfo = decision.policy;
  if (decision.allowed) return { ...decision, resetMs: ceilMs(Math.max(0, decision.resetMs - elapsedMs)) };
  return {
    allowed: false,
    limit: decision.limit,
    remaining: 0,
    resetMs: ceilMs(Math.max(0, decision.resetMs - elapsedMs)),
    retryAfterMs: Math.max(1, ceilMs(decision.retryAfterMs - elapsedMs)),
    policy: info,
  };
}
