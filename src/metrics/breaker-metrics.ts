/** What a circuit breaker records: its state (one gauge series per state), transitions, rejections, call latency. */
import { performance } from 'node:perf_hooks';
import { systemClock, type Clock } from '../time.js';
import { DEFAULT_SECONDS_BUCKETS, type Counter, type MetricsRegistry } from './registry.js';
import { CounterSeries, GaugeSeries, HistogramSeries } from './series.js';

export const BREAKER_METRICS = {
  state: 'sluice_breaker_state',
  transitions: 'sluice_breaker_transitions_total',
  rejections: 'sluice_breaker_rejections_total',
  callSeconds: 'sluice_breaker_call_seconds',
} as const;

export type BreakerStateName = 'closed' | 'open' | 'half-open' | 'isolated';
/** success and failure as the breaker counted them; timeout: failed by the breaker's own timeout. */
export type BreakerCallOutcome = 'success' | 'failure' | 'timeout';

const STATES: readonly BreakerStateName[] = ['closed', 'open', 'half-open', 'isolated'];

export class BreakerInstruments {
  private readonly states: Record<BreakerStateName, GaugeSeries>;
  private readonly transitions: Counter | undefined;
  private readonly transitionSeries = new Map<string, CounterSeries>();
  private readonly rejections: CounterSeries;
  private readonly calls: Record<BreakerCallOutcome, HistogramSeries>;
  /**
   * Milliseconds for timing calls: the breaker's clock, except that the system clock (Date.now, whole ms) is
   * replaced by the monotonic sub-millisecond performance.now(), so fast calls do not all read as 0.
   */
  readonly now: () => number;

  constructor(
    registry: MetricsRegistry | undefined,
    private readonly breaker: string,
    initial: BreakerStateName = 'closed',
    clock: Clock = systemClock,
  ) {
    this.now = clock === systemClock ? () => performance.now() : () => clock.now();
    const stateGauge = registry?.gauge({
      name: BREAKER_METRICS.state,
      help: 'Circuit breaker state: 1 on the series of the current state (closed, open, half-open, isolated), 0 on the others.',
      labelNames: ['breaker', 'state'],
    });
    const gauge = (state: BreakerStateName) => stateGauge?.labels({ breaker, state }) ?? new GaugeSeries({ breaker, state });
    this.states = { closed: gauge('closed'), open: gauge('open'), 'half-open': gauge('half-open'), isolated: gauge('isolated') };
    this.transitions = registry?.counter({
      name: BREAKER_METRICS.transitions,
      help: 'Circuit breaker state changes, by the state left and the state entered.',
      labelNames: ['breaker', 'from', 'to'],
    });
    this.rejections = registry
      ? registry
          .counter({ name: BREAKER_METRICS.rejections, help: 'Calls refused without running: the circuit was open, isolated, or half-open with its trials busy.', labelNames: ['breaker'] })
          .labels({ breaker })
      : new CounterSeries({ breaker });
    const callHistogram = registry?.histogram({
      name: BREAKER_METRICS.callSeconds,
      help: 'Duration of calls run through the breaker, in seconds, by outcome (success, failure, timeout).',
      labelNames: ['breaker', 'outcome'],
      buckets: DEFAULT_SECONDS_BUCKETS,
    });
    const calls = (outcome: BreakerCallOutcome) =>
      callHistogram?.labels({ breaker, outcome }) ?? new HistogramSeries({ breaker, outcome }, DEFAULT_SECONDS_BUCKETS);
    this.calls = { success: calls('success'), failure: calls('failure'), timeout: calls('timeout') };
    this.setState(initial);
  }

  /** Records a state change (a transition counted when `from` differs). */
  stateChanged(from: BreakerStateName, to: BreakerStateName): void {
    this.setState(to);
    if (from === to) return;
    const key = `${from}>${to}`;
    let series = this.transitionSeries.get(key);
    if (series === undefined) {
      series = this.transitions?.labels({ breaker: this.breaker, from, to }) ?? new CounterSeries({ breaker: this.breaker, from, to });
      this.transitionSeries.set(key, series);
    }
    series.value++;
  }

  rejected(): void {
    this.rejections.value++;
  }

  call(seconds: number, outcome: BreakerCallOutcome): void {
    this.calls[outcome].observe(seconds);
  }

  private setState(current: BreakerStateName): void {
    for (const state of STATES) this.states[state].value = state === current ? 1 : 0;
  }
}
