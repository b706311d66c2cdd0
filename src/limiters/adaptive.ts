/**
 * Adaptive limit: a token bucket whose rate this process moves by AIMD from the outcomes the caller reports —
 * multiplied down after a window with too many errors (or too slow), stepped up after a clean window.
 */
import { ConfigError } from '../errors.js';
import { adaptiveRateGauge } from '../metrics/limiter-metrics.js';
import type { GaugeSeries } from '../metrics/series.js';
import { checkKnownOptions, checkNumber } from '../options.js';
import { parseDuration, type Duration } from '../time.js';
import { COMMON_OPTION_NAMES, type CommonLimiterOptions, type LimiterStats, type Policy, type PolicyInfo } from './limiter.js';
import { limiterSettings, makePolicy, PolicyLimiter, type LimiterSettings } from './policy-limiter.js';
import { tokenBucketAlgorithm, type TokenBucketConfig } from './token-bucket.js';

export interface AdaptiveOptions extends CommonLimiterOptions {
  /** The rate to start with, in tokens per `per`. Within [minRate, maxRate]. */
  initialRate: number;
  minRate: number;
  maxRate: number;
  /** Added to the rate after a clean window. */
  increaseStep: number;
  /** The rate is multiplied by this (0 < f < 1) after a window that went wrong. */
  decreaseFactor: number;
  /** The share of errors among a window's outcomes (0 < t <= 1) at which the window went wrong. */
  errorThreshold: number;
  /** How long outcomes are gathered before the rate is adjusted. */
  window: Duration;
  /** When set, a window whose mean reported latency is above this also went wrong. */
  latencyTarget?: Duration;
  /** The period of the rate. Default "1s". */
  per?: Duration;
  /** Bucket capacity. Default: the current rate (so the capacity follows the rate). */
  burst?: number;
}

export interface AdaptiveStats extends LimiterStats {
  /** This process's rate, in tokens per `per`. */
  currentRate: number;
}

interface AimdRule {
  minRate: number;
  maxRate: number;
  increaseStep: number;
  decreaseFactor: number;
  errorThreshold: number;
  windowMs: number;
  latencyTargetMs: number | undefined;
  perMs: number;
  /** A fixed capacity, or undefined when the capacity follows the rate. */
  burst: number | undefined;
}

/** A policy info that follows the rate: decisions report the capacity in force when they were made. */
type MutablePolicyInfo = { -readonly [K in keyof PolicyInfo]: PolicyInfo[K] };

export class AdaptiveLimiter extends PolicyLimiter {
  private rate: number;
  /** When the current window of outcomes opened; undefined until the first outcome after an adjustment. */
  private windowStartMs: number | undefined;
  private successes = 0;
  private errors = 0;
  private latencyTotalMs = 0;
  private latencyCount = 0;
  private readonly rateGauge: GaugeSeries;

  constructor(
    settings: LimiterSettings,
    private readonly policy: Policy<TokenBucketConfig>,
    private readonly info: MutablePolicyInfo,
    private readonly rule: AimdRule,
    initialRate: number,
  ) {
    super(settings, [policy]);
    this.rateGauge = adaptiveRateGauge(settings.metrics, settings.name);
    this.rate = initialRate;
    this.applyRate();
  }

  /** This process's rate, in tokens per `per` (the bucket state may be shared; the rate is not). */
  get currentRate(): number {
    return this.rate;
  }

  /** Reports a call that went well, with its latency when a `latencyTarget` should be judged. */
  reportSuccess(latencyMs?: number): void {
    if (latencyMs !== undefined && (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0)) {
      throw new ConfigError('latencyMs', 'a finite number of ms >= 0', latencyMs);
    }
    this.openWindow();
    this.successes++;
    if (latencyMs !== undefined) {
      this.latencyTotalMs += latencyMs;
      this.latencyCount++;
    }
  }

  /** Reports a call that failed downstream (an error, a timeout, a 429 or 503 from the service behind). */
  reportError(): void {
    this.openWindow();
    this.errors++;
  }

  override async stats(key: string): Promise<AdaptiveStats> {
    const stats = await super.stats(key);
    // A lowered capacity can leave a key that had spent tokens below zero until it refills: show it as empty.
    return { ...stats, available: Math.max(0, stats.available), currentRate: this.rate };
  }

  /** Before an outcome is counted: closes a window that has run its length (judging it), and opens one if none is. */
  private openWindow(): void {
    const nowMs = this.clock.now();
    if (this.windowStartMs !== undefined && nowMs - this.windowStartMs >= this.rule.windowMs) this.closeWindow();
    this.windowStartMs ??= nowMs;
  }

  private closeWindow(): void {
    const { decreaseFactor, increaseStep, errorThreshold, latencyTargetMs, minRate, maxRate } = this.rule;
    const tooManyErrors = this.errors / (this.successes + this.errors) >= errorThreshold;
    const tooSlow = latencyTargetMs !== undefined && this.latencyCount > 0 && this.latencyTotalMs / this.latencyCount > latencyTargetMs;
    const next = tooManyErrors || tooSlow ? this.rate * decreaseFactor : this.rate + increaseStep;
    this.rate = Math.min(maxRate, Math.max(minRate, next));
    this.applyRate();
    this.windowStartMs = undefined;
    this.successes = this.errors = this.latencyTotalMs = this.latencyCount = 0;
  }

  /** The policy's config is the one mutable config: every store call passes the current rate. */
  private applyRate(): void {
    const config = this.policy.config;
    const burst = this.rule.burst ?? this.rate;
    config.ratePerMs = this.rate / this.rule.perMs;
    config.burst = burst;
    this.info.limit = burst;
    this.info.windowMs = (burst / this.rate) * this.rule.perMs;
    this.rateGauge.value = this.rate;
  }
}

const ADAPTIVE_OPTION_NAMES = [
  'initialRate',
  'minRate',
  'maxRate',
  'increaseStep',
  'decreaseFactor',
  'errorThreshold',
  'window',
  'latencyTarget',
  'per',
  'burst',
] as const;

export function adaptive(options: AdaptiveOptions): AdaptiveLimiter {
  checkKnownOptions(options, 'adaptive', [...COMMON_OPTION_NAMES, ...ADAPTIVE_OPTION_NAMES]);
  const minRate = checkNumber(options?.minRate, 'minRate');
  const maxRate = checkNumber(options.maxRate, 'maxRate');
  if (maxRate < minRate) throw new ConfigError('maxRate', `a finite number >= minRate (${minRate})`, maxRate);
  const initialRate = checkNumber(options.initialRate, 'initialRate');
  if (initialRate < minRate || initialRate > maxRate) {
    throw new ConfigError('initialRate', `a number between minRate (${minRate}) and maxRate (${maxRate})`, initialRate);
  }
  const decreaseFactor = checkNumber(options.decreaseFactor, 'decreaseFactor');
  if (decreaseFactor >= 1) throw new ConfigError('decreaseFactor', 'a number > 0 and < 1', decreaseFactor);
  const rule: AimdRule = {
    minRate,
    maxRate,
    increaseStep: checkNumber(options.increaseStep, 'increaseStep'),
    decreaseFactor,
    errorThreshold: checkNumber(options.errorThreshold, 'errorThreshold', { max: 1 }),
    windowMs: parseDuration(options.window, 'window'),
    latencyTargetMs: options.latencyTarget === undefined ? undefined : parseDuration(options.latencyTarget, 'latencyTarget'),
    perMs: parseDuration(options.per ?? '1s', 'per'),
    burst: options.burst === undefined ? undefined : checkNumber(options.burst, 'burst'),
  };
  const settings = limiterSettings(
    options,
    'adaptive',
    ADAPTIVE_OPTION_NAMES,
    `adaptive-${minRate}to${maxRate}per${rule.perMs}ms` + (rule.burst === undefined ? '' : `-burst${rule.burst}`),
  );
  const config: TokenBucketConfig = { ratePerMs: initialRate / rule.perMs, burst: rule.burst ?? initialRate };
  const fixed = makePolicy(settings, {
    algorithm: tokenBucketAlgorithm,
    config,
    limit: config.burst,
    windowMs: (config.burst / initialRate) * rule.perMs,
    defaultName: settings.name,
  });
  const info: MutablePolicyInfo = { ...fixed.info };
  const policy: Policy<TokenBucketConfig> = { id: fixed.id, algorithm: fixed.algorithm, config, info };
  return new AdaptiveLimiter(settings, policy, info, rule, initialRate);
}
