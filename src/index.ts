export * from './errors.js';
export { parseDuration, systemClock, type Clock, type Duration } from './time.js';
export type {
  AcquireOptions,
  AlgorithmName,
  CommonLimiterOptions,
  Decision,
  FailMode,
  Limiter,
  LimiterMetrics,
  LimiterStats,
  Permit,
  Policy,
  PolicyInfo,
} from './limiters/limiter.js';
export { PolicyLimiter } from './limiters/policy-limiter.js';
export { tokenBucket, type TokenBucketOptions } from './limiters/token-bucket.js';
export { memoryStore, defaultStore, MemoryStore, type MemoryStoreOptions } from './stores/memory.js';
export type { Store, DecideCall, StateView, KeyValueFacet } from './stores/store.js';
export type { RequestFacts, ResponsePlan, TrustProxyOption, ClientIpOptions, ClientIpResolver } from './http/facts.js';
export { createClientIpResolver } from './http/client-ip.js';
export {
  MetricsRegistry,
  MetricFamily,
  metricsRegistry,
  defaultRegistry,
  isMetricsRegistry,
  DEFAULT_SECONDS_BUCKETS,
  DEFAULT_MAX_LABEL_SETS,
  OVERFLOW_LABEL_VALUE,
  type AnyMetric,
  type Counter,
  type Gauge,
  type Histogram,
  type HistogramOptions,
  type LabelValues,
  type MetricOptions,
  type MetricSnapshot,
  type MetricType,
  type MetricsOption,
  type MetricsRegistryOptions,
  type SeriesSnapshot,
} from './metrics/registry.js';
export { CounterSeries, GaugeSeries, HistogramSeries, type Labels } from './metrics/series.js';
export {
  bridgeToPromClient,
  metricsResponse,
  prometheusHandler,
  PROMETHEUS_CONTENT_TYPE,
  type PromClientBridge,
  type PromClientBridgeOptions,
  type PromClientRegistryLike,
} from './metrics/prometheus.js';
export type { Logger, LogFields, LogLevel, LogMethod } from './metrics/logger.js';
export { LIMITER_METRICS } from './metrics/limiter-metrics.js';
export { BREAKER_METRICS, BreakerInstruments, type BreakerCallOutcome, type BreakerStateName } from './metrics/breaker-metrics.js';
export { HTTP_METRICS, HttpInstruments, UNMATCHED_ROUTE, type HttpOutcome } from './metrics/http-metrics.js';
export { HybridInstruments, STORE_METRICS, StoreInstruments } from './metrics/store-metrics.js';
