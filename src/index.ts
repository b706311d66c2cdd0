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
export { slidingWindow, type SlidingWindowOptions } from './limiters/sliding-window.js';
export { fixedWindow, type FixedWindowOptions } from './limiters/fixed-window.js';
export { leakyBucket, type LeakyBucketOptions } from './limiters/leaky-bucket.js';
export { gcra, type GcraOptions } from './limiters/gcra.js';
export { concurrency, type ConcurrencyOptions } from './limiters/concurrency.js';
export { adaptive, AdaptiveLimiter, type AdaptiveOptions, type AdaptiveStats } from './limiters/adaptive.js';
export { composite } from './limiters/composite.js';
export { memoryStore, defaultStore, MemoryStore, type MemoryStoreOptions } from './stores/memory.js';
export type { Store, DecideCall, StateView, KeyValueFacet } from './stores/store.js';

export type { RequestFacts, ResponsePlan, TrustProxyOption, ClientIpOptions, ClientIpResolver } from './http/facts.js';
export { createClientIpResolver } from './http/client-ip.js';
export {
  Guard,
  createGuard,
  errorResponsePlan,
  checkErrorMappingOptions,
  PASS,
  GUARD_OPTION_NAMES,
  type GuardResult,
  type RateLimitOptions,
  type RateLimitInfo,
  type LimiterOption,
  type LimiterList,
  type LimitedResponse,
  type PathPattern,
  type ErrorMappingOptions,
} from './http/guard.js';
export {
  writeRateLimitHeaders,
  joinHeaderValue,
  isPolicyList,
  ietfPolicyValue,
  mostRestrictive,
  retryAfterSeconds,
  HEADERS_MODES,
  type HeadersMode,
  type HeaderPairs,
} from './http/headers.js';
export { compileKey, type KeySource, type KeyFunction, type KeyResolver } from './http/keys.js';
export type { BlockForOptions } from './http/penalty-box.js';
export {
  PROBLEM_CONTENT_TYPE,
  QUOTA_EXCEEDED_TYPE,
  REDUCED_CAPACITY_TYPE,
  type ProblemDetails,
} from './http/problem.js';
export {
  circuitBreaker,
  CircuitBreaker,
  isCircuitBreaker,
  isTimeoutError,
  isLocalRefusal,
  type BackoffOptions,
  type BreakerCall,
  type CircuitBreakerOptions,
  type CircuitBreakerStats,
  type CircuitState,
  type FailureEvent,
  type RejectionEvent,
  type StateChangeEvent,
  type StateChangeReason,
  type SuccessEvent,
} from './resilience/circuit-breaker.js';
export type { BreakerStrategy, StrategySnapshot } from './resilience/strategies/strategy.js';
export { consecutiveFailures, type ConsecutiveFailuresOptions } from './resilience/strategies/consecutive-failures.js';
export { countWindow, type CountWindowOptions } from './resilience/strategies/count-window.js';
export { samplingWindow, type SamplingWindowOptions } from './resilience/strategies/sampling-window.js';
export type { Disposer } from './resilience/events.js';
export {
  retry,
  retryAfterMsOf,
  parseRetryAfter,
  defaultRetryOn,
  type Jitter,
  type RetryContext,
  type RetryEvent,
  type RetryOptions,
} from './resilience/retry.js';
export {
  rateLimited,
  withCircuitBreaker,
  withRetry,
  type BreakerOrOptions,
  type RateLimitedOptions,
  type Wrapped,
} from './resilience/wrappers.js';
export * as decorators from './resilience/decorators.js';
export {
  rateLimitedFetch,
  ResponseStatusError,
  isResponseStatusError,
  isRetryableResponse,
  type AccountStatus,
  type FetchFunction,
  type RateLimitedFetch,
  type RateLimitedFetchOptions,
} from './resilience/fetch.js';
export {
  redisStore,
  RedisStore,
  CLIENT_CLOCK_TTL_SLACK_MS,
  type RedisStoreOptions,
  type RedisStoreClock,
} from './stores/redis.js';
export {
  hybridStore,
  HybridStore,
  PROBE_KEY,
  type HybridStoreOptions,
  type HybridStoreStats,
  type HybridMode,
} from './stores/hybrid.js';
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
  metricsEndpoint,
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
export { HTTP_METRICS, HttpInstruments, NO_ROUTE, type HttpOutcome } from './metrics/http-metrics.js';
export { HybridInstruments, STORE_METRICS, StoreInstruments } from './metrics/store-metrics.js';
