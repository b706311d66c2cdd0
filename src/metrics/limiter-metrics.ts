/**
 * What a limiter records: its series are resolved once, at construction, so a decision costs a couple of
 * additions to plain numbers. With metrics off the series are detached (recorded into, exported nowhere), which
 * keeps the hot path free of "is it on?" branches.
 */
import type { Decision, PolicyInfo } from '../limiters/limiter.js';
import { DEFAULT_SECONDS_BUCKETS, type MetricsRegistry } from './registry.js';
import { CounterSeries, GaugeSeries, HistogramSeries, type Labels } from './series.js';

export const LIMITER_METRICS = {
  decisions: 'sluice_limiter_decisions_total',
  degraded: 'sluice_limiter_degraded_decisions_total',
  storeErrors: 'sluice_limiter_store_errors_total',
  acquisitions: 'sluice_limiter_acquisitions_total',
  timeouts: 'sluice_limiter_acquire_timeouts_total',
  releases: 'sluice_limiter_releases_total',
  inFlight: 'sluice_limiter_in_flight',
  waitSeconds: 'sluice_limiter_wait_seconds',
  adaptiveRate: 'sluice_limiter_adaptive_rate',
} as const;

/** The adaptive limiter's current rate (tokens per its `per`), set on every AIMD step. */
export function adaptiveRateGauge(registry: MetricsRegistry | undefined, limiter: string): GaugeSeries {
  return registry
    ? registry
        .gauge({
          name: LIMITER_METRICS.adaptiveRate,
          help: "An adaptive limiter's current rate in this process, in tokens per its `per` period (moved by AIMD).",
          labelNames: ['limiter'],
        })
        .labels({ limiter })
    : new GaugeSeries({ limiter });
}

interface PolicySeries {
  readonly info: PolicyInfo;
  readonly accepted: CounterSeries;
  readonly rejected: CounterSeries;
}

export interface LimiterMetricsLabels {
  limiter: string;
  /** The store's kind or name ("memory", "redis", "hybrid"). */
  store: string;
}

export class LimiterInstruments {
  private readonly byPolicy: PolicySeries[];
  /** The series of a single-policy limiter: no search per decision. */
  private readonly single: PolicySeries | undefined;
  private readonly degradedAccepted: CounterSeries;
  private readonly degradedRejected: CounterSeries;
  private readonly storeErrors: CounterSeries;
  private readonly acquisitions: CounterSeries;
  private readonly timeouts: CounterSeries;
  private readonly releases: CounterSeries;
  private readonly inFlight: GaugeSeries;
  private readonly waitSeconds: HistogramSeries;

  constructor(registry: MetricsRegistry | undefined, labels: LimiterMetricsLabels, policies: readonly PolicyInfo[]) {
    const { limiter, store } = labels;
    const counter = (name: string, help: string, labelNames: string[], values: Record<string, string>): CounterSeries =>
      registry ? registry.counter({ name, help, labelNames }).labels(values) : new CounterSeries(values as Labels);
    this.byPolicy = policies.map((info) => ({
      info,
      accepted: counter(LIMITER_METRICS.decisions, DECISIONS_HELP, ['limiter', 'policy', 'outcome'], {
        limiter,
        policy: info.name,
        outcome: 'accepted',
      }),
      rejected: counter(LIMITER_METRICS.decisions, DECISIONS_HELP, ['limiter', 'policy', 'outcome'], {
        limiter,
        policy: info.name,
        outcome: 'rejected',
      }),
    }));
    this.single = this.byPolicy.length === 1 ? this.byPolicy[0] : undefined;
    const degradedHelp = 'Decisions made without the configured store (fail-open/closed, or a hybrid store fallback).';
    this.degradedAccepted = counter(LIMITER_METRICS.degraded, degradedHelp, ['limiter', 'outcome'], { limiter, outcome: 'accepted' });
    this.degradedRejected = counter(LIMITER_METRICS.degraded, degradedHelp, ['limiter', 'outcome'], { limiter, outcome: 'rejected' });
    this.storeErrors = counter(
      LIMITER_METRICS.storeErrors,
      'Decisions the store failed to make, answered by the failMode.',
      ['limiter', 'store'],
      { limiter, store },
    );
    this.acquisitions = counter(LIMITER_METRICS.acquisitions, 'Permits granted by acquire().', ['limiter'], { limiter });
    this.timeouts = counter(
      LIMITER_METRICS.timeouts,
      'acquire() calls that gave up: the wait would pass the timeout.',
      ['limiter'],
      { limiter },
    );
    this.releases = counter(LIMITER_METRICS.releases, 'Permits released.', ['limiter'], { limiter });
    this.inFlight = registry
      ? registry.gauge({ name: LIMITER_METRICS.inFlight, help: 'Permits granted and not yet released.', labelNames: ['limiter'] }).labels({ limiter })
      : new GaugeSeries({ limiter });
    this.waitSeconds = registry
      ? registry
          .histogram({
            name: LIMITER_METRICS.waitSeconds,
            help: 'Time acquire() waited before its permit was granted, in seconds (0 when admitted at once).',
            labelNames: ['limiter'],
            buckets: DEFAULT_SECONDS_BUCKETS,
          })
          .labels({ limiter })
      : new HistogramSeries({ limiter }, DEFAULT_SECONDS_BUCKETS);
  }

  /** One decision: accepted or rejected, by the policy that decided it; degraded when the store did not. */
  decided(decision: Decision): void {
    const series = this.single ?? this.seriesOf(decision.policy);
    if (decision.allowed) series.accepted.value++;
    else series.rejected.value++;
    if (decision.degraded === true) (decision.allowed ? this.degradedAccepted : this.degradedRejected).value++;
  }

  private seriesOf(policy: PolicyInfo): PolicySeries {
    const list = this.byPolicy;
    for (let i = 1; i < list.length; i++) if (list[i]!.info === policy) return list[i]!;
    return list[0]!;
  }

  storeError(): void {
    this.storeErrors.value++;
  }

  acquired(waitedMs: number): void {
    this.acquisitions.value++;
    this.inFlight.value++;
    this.waitSeconds.observe(Math.max(0, waitedMs) / 1000);
  }

  timedOut(): void {
    this.timeouts.value++;
  }

  released(): void {
    this.releases.value++;
    this.inFlight.value--;
  }
}

const DECISIONS_HELP =
  'Limiter decisions by outcome (accepted, rejected) and the policy that decided (for a composite, the one that refused, or on admission the one with least left).';
