/** resilience group: the cost of a circuit breaker and of a retry wrapper around a call that succeeds. */
import type { BenchGroup, GroupContext } from './lib/group.js';
import { pick } from './lib/group.js';
import { pendingGoal } from './lib/goals.js';
import type { Goal, Row } from './lib/report.js';
import { compareHosts, nsPerOpRows } from './lib/rotation.js';
import type { Sample } from './lib/contender.js';
import { pairedDifferences } from './lib/stats.js';

const MODULE = 'resilience-contenders.ts';
const DIRECT = 'direct call';

async function compare(context: GroupContext, comparison: string, contenders: Array<{ name: string; export: string; params?: unknown }>) {
  context.log(comparison);
  return compareHosts(
    contenders.map((spec) => ({ ...spec, module: MODULE, sampleMs: pick(context, 300, 30), warmupMs: pick(context, 500, 30) })),
    { rounds: context.rounds, log: context.log },
  );
}

/** Per wrapper: its ns/call minus the direct call's, paired round by round. */
function overheadRows(samples: Map<string, Sample[]>, comparison: string): Row[] {
  const cost = (name: string) => samples.get(name)!.map((s) => s.wallNs / s.ops);
  return [...samples.keys()]
    .filter((name) => name !== DIRECT)
    .map((name) => ({
      comparison,
      contender: name,
      unit: 'ns/call',
      higherIsBetter: false,
      value: pairedDifferences(cost(name), cost(DIRECT)),
    }));
}

export const group: BenchGroup = {
  name: 'resilience',
  async run(context) {
    const rows: Row[] = [];
    const BREAKER = 'circuit breaker around an async call that succeeds (closed circuit)';
    const breakerSamples = await compare(context, BREAKER, [
      { name: DIRECT, export: 'direct' },
      { name: 'opossum', export: 'opossum', params: { timeout: false } },
      { name: 'opossum, default 10 s timeout', export: 'opossum', params: {} },
      { name: 'cockatiel', export: 'cockatiel' },
    ]);
    rows.push(...nsPerOpRows(breakerSamples, { comparison: BREAKER, unit: 'ns/call', ratiosVs: [DIRECT] }));
    rows.push(...overheadRows(breakerSamples, `${BREAKER}: overhead over the direct call`));

    const RETRY = 'retry wrapper around an async call that succeeds at once';
    const retrySamples = await compare(context, RETRY, [
      { name: DIRECT, export: 'direct' },
      { name: 'cockatiel retry', export: 'cockatielRetryPolicy' },
    ]);
    rows.push(...nsPerOpRows(retrySamples, { comparison: RETRY, unit: 'ns/call', ratiosVs: [DIRECT] }));
    rows.push(...overheadRows(retrySamples, `${RETRY}: overhead over the direct call`));

    const goals: Goal[] = [
      pendingGoal('resilience.breaker.ns', 'sluice breaker overhead ≤ 100 ns/call', 'the circuit breaker has not landed on main'),
      pendingGoal('resilience.breaker.opossum', 'sluice breaker below opossum', 'the circuit breaker has not landed on main'),
      pendingGoal('resilience.breaker.cockatiel', 'sluice breaker below cockatiel', 'the circuit breaker has not landed on main'),
    ];
    const notes = [
      'Each call awaits the wrapper around `async () => 1`; overhead rows subtract the direct call measured in the same round.',
      'opossum runs with timeout: false unless said otherwise (its default arms a 10 s timer per call); cockatiel uses a ConsecutiveBreaker(5) and, for retry, maxAttempts 3 with exponential backoff.',
    ];
    return { title: 'circuit breaker and retry overhead', rows, goals, notes };
  },
};
