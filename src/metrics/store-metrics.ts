/**
 * What a networked store (Redis) and the hybrid store record: round trips with their latency, errors, and for
 * the hybrid store its deny-cache hits and fallback decisions. Series are resolved once per store.
 */
import { DEFAULT_SECONDS_BUCKETS, type MetricsRegistry } from './registry.js';
import { CounterSeries, GaugeSeries, HistogramSeries } from './series.js';

export const STORE_METRICS = {
  roundTrips: 'sluice_store_round_trips_total',
  roundTripSeconds: 'sluice_store_round_trip_seconds',
  errors: 'sluice_store_errors_total',
  denyCacheHits: 'sluice_hybrid_deny_cache_hits_total',
  fallbackDecisions: 'sluice_hybrid_fallback_decisions_total',
  fallbackActive: 'sluice_hybrid_fallback_active',
} as const;

/** Round trips (and their latency) and errors of one store, labelled `store` (its name or kind). */
export class StoreInstruments {
  private readonly roundTrips: CounterSeries;
  private readonly latency: HistogramSeries;
  private readonly errors: CounterSeries;

  constructor(registry: MetricsRegistry | undefined, store: string) {
    const labels = { store };
    this.roundTrips = registry
      ? registry.counter({ name: STORE_METRICS.roundTrips, help: 'Commands sent to the store and answered (or failed).', labelNames: ['store'] }).labels(labels)
      : new CounterSeries(labels);
    this.latency = registry
      ? registry
          .histogram({
            name: STORE_METRICS.roundTripSeconds,
            help: 'Store round-trip time in seconds, from sending a command to its answer or failure.',
            labelNames: ['store'],
            buckets: STORE_LATENCY_BUCKETS,
          })
          .labels(labels)
      : new HistogramSeries(labels, STORE_LATENCY_BUCKETS);
    this.errors = registry
      ? registry.counter({ name: STORE_METRICS.errors, help: 'Store commands that failed (connection, timeout, script error).', labelNames: ['store'] }).labels(labels)
      : new CounterSeries(labels);
  }

  /** One command answered or failed after `seconds`. */
  roundTrip(seconds: number, failed = false): void {
    this.roundTrips.value++;
    this.latency.observe(seconds);
    if (failed) this.errors.value++;
  }

  /** A failure that never reached the server (no connection, command queue full). */
  error(): void {
    this.errors.value++;
  }
}

/** Sub-millisecond to seconds: a healthy Redis answers in well under a millisecond on a LAN. */
export const STORE_LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, ...DEFAULT_SECONDS_BUCKETS.filter((b) => b > 1),
]);

/** The hybrid store's local decisions: refusals from its deny cache, and decisions made while Redis is away. */
export class HybridInstruments {
  private readonly denyCacheHits: CounterSeries;
  private readonly fallbackDecisions: CounterSeries;
  private readonly fallbackActive: GaugeSeries;

  constructor(registry: MetricsRegistry | undefined, store: string) {
    const labels = { store };
    this.denyCacheHits = registry
      ? registry
          .counter({
            name: STORE_METRICS.denyCacheHits,
            help: 'Requests refused from the local deny cache, without a round trip (keys known exhausted until their retry time).',
            labelNames: ['store'],
          })
          .labels(labels)
      : new CounterSeries(labels);
    this.fallbackDecisions = registry
      ? registry
          .counter({
            name: STORE_METRICS.fallbackDecisions,
            help: 'Decisions made by the local fallback while the shared store (Redis) was unavailable.',
            labelNames: ['store'],
          })
          .labels(labels)
      : new CounterSeries(labels);
    this.fallbackActive = registry
      ? registry
          .gauge({ name: STORE_METRICS.fallbackActive, help: '1 while the hybrid store decides locally because Redis is unavailable, else 0.', labelNames: ['store'] })
          .labels(labels)
      : new GaugeSeries(labels);
  }

  denyCacheHit(): void {
    this.denyCacheHits.value++;
  }

  fallbackDecision(): void {
    this.fallbackDecisions.value++;
  }

  setFallbackActive(active: boolean): void {
    this.fallbackActive.value = active ? 1 : 0;
  }
}
