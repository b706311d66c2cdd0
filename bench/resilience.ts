/** resilience group: the cost of a circuit breaker and of a retry wrapper around a call that succeeds. */
import type { BenchGroup, GroupContext } from './lib/group.js';
import { pick } from './lib/group.js';
import { findRow } from './lib/goals.js';
import type { Goal, Row } from './lib/report.js';
import { compareHosts, nsPerOpRows } from './lib/rotation.js';
import type { Sample } from './lib/contender.js';
import { pairedDifferences, pairedRatios } from './lib/stats.js';

const MODULE = 'resilience-contenders.ts';
const DIRECT = 'direct call';
const SLUICE = 'sluice circuitBreaker';

async function compare(context: GroupContext, comparison: string, contenders: Array<{ name: string; export: string; params?: unknown }>) {
  context.log(comparison);
  return compareHosts(
    contenders.map((spec) => ({ ...spec, module: MODULE, sampleMs: pick(context, 300, 30), warmupMs: pick(context, 500, 30) })),
    { rounds: context.rounds, log: context.log, shareProcess: context.quick },
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

function overheadGoal(rows: readonly Row[], comparison: string): Goal {
  const text = 'sluice breaker overhead ≤ 100 ns/call';
  const row = findRow(rows, comparison, SLUICE);
  if (!row) return { id: 'resilience.breaker.ns', text, measured: 'no figures', pass: null };
  return {
    id: 'resilience.breaker.ns',
    text,
    measured: `${row.value.median.toFixed(0)} ns/call (rounds: ${row.value.min.toFixed(0)}–${row.value.max.toFixed(0)})`,
    pass: row.value.median <= 100,
  };
}

/** The sluice breaker's ns/call below a peer's, judged on the paired per-round ratio. */
function belowGoal(samples: Map<string, Sample[]>, peer: string): Goal {
  const text = `sluice breaker below ${peer} (ns/call)`;
  const cost = (name: string) => samples.get(name)?.map((s) => s.wallNs / s.ops);
  const ours = cost(SLUICE);
  const theirs = cost(peer);
  if (!ours || !theirs) return { id: `resilience.breaker.${peer}`, text, measured: 'no figures', pass: null };
  const ratio = pairedRatios(ours, theirs);
  return {
    id: `resilience.breaker.${peer}`,
    text,
    measured: `${ratio.median.toFixed(2)}× ${peer}'s ns/call (rounds: ${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`,
    pass: ratio.median < 1,
  };
}

export const group: BenchGroup = {
  name: 'resilience',
  async run(context) {
    const rows: Row[] = [];
    const BREAKER = 'circuit breaker around an async call that succeeds (closed circuit)';
    const breakerSamples = await compare(context, BREAKER, [
      { name: DIRECT, export: 'direct' },
      { name: SLUICE, export: 'sluiceBreaker' },
      { name: `${SLUICE}, metrics: false`, export: 'sluiceBreaker', params: { metrics: false } },
      { name: 'opossum', export: 'opossum', params: { timeout: false } },
      { name: 'opossum, default 10 s timeout', export: 'opossum', params: {} },
      { name: 'cockatiel', export: 'cockatiel' },
    ]);
    rows.push(...nsPerOpRows(breakerSamples, { comparison: BREAKER, unit: 'ns/call', ratiosVs: [DIRECT] }));
    const OVERHEAD = `${BREAKER}: overhead over the direct call`;
    rows.push(...overheadRows(breakerSamples, OVERHEAD));

    const RETRY = 'retry wrapper around an async call that succeeds at once';
    const retrySamples = await compare(context, RETRY, [
      { name: DIRECT, export: 'direct' },
      { name: 'sluice withRetry', export: 'sluiceWithRetry' },
      { name: 'sluice retry() per call', export: 'sluiceRetryPerCall' },
      { name: 'cockatiel retry', export: 'cockatielRetryPolicy' },
    ]);
    rows.push(...nsPerOpRows(retrySamples, { comparison: RETRY, unit: 'ns/call', ratiosVs: [DIRECT] }));
    rows.push(...overheadRows(retrySamples, `${RETRY}: overhead over the direct call`));

    const goals: Goal[] = [overheadGoal(rows, OVERHEAD), ...['opossum', 'cockatiel'].map((peer) => belowGoal(breakerSamples, peer))];
    const notes = [
      'Each call awaits the wrapper around `async () => 1`; overhead rows subtract the direct call measured in the same round.',
      "sluice: circuitBreaker({ failureThreshold: 5, resetTimeout: '10s' }) with metrics on (the default: every call timed into a histogram) and with metrics: false; the goals are judged on the default. " +
        'withRetry(fn, { maxRetries: 3 }) made once, and retry(fn, { maxRetries: 3 }) per call.',
      'opossum runs with timeout: false unless said otherwise (its default arms a 10 s timer per call); cockatiel uses a ConsecutiveBreaker(5) and, for retry, maxAttempts 3 with exponential backoff.',
    ];
    return { title: 'circuit breaker and retry overhead', rows, goals, notes };
  },
};
