/**
 * Composite limit: several limiters that must all admit a call. The members' policies are decided together in one
 * all-or-nothing store call, so a refusal by one member takes nothing from the others.
 */
import { ConfigError } from '../errors.js';
import type { Policy } from './limiter.js';
import { PolicyLimiter } from './policy-limiter.js';

/**
 * Admits only when every member admits; a refusal leaves every member as it was. The decision is the refusal that
 * waits longest (or, when all admit, the member with the least left), with `members` listing each policy's decision.
 * Members must share one store; composites of composites flatten.
 */
export function composite(...limiters: PolicyLimiter[]): PolicyLimiter {
  if (limiters.length === 0) throw new ConfigError('limiters', 'at least one limiter', limiters);
  limiters.forEach((limiter, index) => {
    if (!(limiter instanceof PolicyLimiter)) {
      throw new ConfigError(`limiters[${index}]`, 'a limiter made by sluice (tokenBucket(), concurrency(), ...)', limiter);
    }
  });
  const [first] = limiters as [PolicyLimiter, ...PolicyLimiter[]];
  const policies: Policy[] = [];
  const byId = new Map<string, Policy>();
  limiters.forEach((limiter, index) => {
    if (limiter.store !== first.store) {
      throw new ConfigError(
        `limiters[${index}].store`,
        'the store of limiters[0]: a composite charges all members in one all-or-nothing store call',
        limiter.store?.kind,
      );
    }
    for (const policy of limiter.policyList) {
      const known = byId.get(policy.id);
      if (known === policy) continue; // the same member reached twice through nested composites
      if (known !== undefined) {
        throw new ConfigError(
          `limiters[${index}].name`,
          `a name not used by another member (two members would share the counters of ${policy.id})`,
          policy.info.name,
        );
      }
      byId.set(policy.id, policy);
      policies.push(policy);
    }
  });
  const settings = {
    store: first.store,
    clock: first.clock,
    // A member that must refuse when its store cannot answer makes the whole composite refuse.
    failMode: limiters.some((limiter) => limiter.failMode === 'closed') ? ('closed' as const) : ('open' as const),
    name: [...new Set(limiters.map((limiter) => limiter.name))].join('+'),
    prefix: '',
    // Decisions are recorded and logged where the first member's are.
    metrics: first.metricsRegistry,
    logger: first.logger,
  };
  return new PolicyLimiter(settings, policies);
}
