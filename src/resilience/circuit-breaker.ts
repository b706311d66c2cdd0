/**
 * A circuit breaker: closed (calls go through, outcomes feed a strategy) -> open (calls are refused with
 * CircuitOpenError) -> half-open (up to `halfOpenMax` trial calls decide between closed and open again).
 */
import { CircuitOpenError, ConfigError, isCircuitOpenError, isRateLimitExceededError } from '../errors.js';
import { checkFunction, checkKnownOptions, checkNumber, checkString } from '../options.js';
import { parseDuration, systemClock, type Clock, type Duration } from '../time.js';
import { BreakerInstruments } from '../metrics/breaker-metrics.js';
import { log, resolveLogger, type Logger } from '../metrics/logger.js';
import { resolveMetrics, type MetricsOption } from '../metrics/registry.js';
import { EventList, makeDisposer, type Disposer } from './events.js';
import { consecutiveFailures } from './strategies/consecutive-failures.js';
import { isBreakerStrategy, type BreakerStrategy, type StrategySnapshot } from './strategies/strategy.js';

export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';

/** Why the state changed. */
export type StateChangeReason =
  /** The strategy judged the closed-state failures enough to open. */
  | 'failures'
  /** The open time passed and a call arrived: it becomes the first trial. */
  | 'reset-timeout'
  /** `successThreshold` trials succeeded. */
  | 'trial-succeeded'
  /** A trial failed: open again (for longer, with `backoff`). */
  | 'trial-failed'
  /** `open()` or `close()`. */
  | 'manual'
  /** `isolate()`. */
  | 'isolated'
  /** The last isolation handle was released. */
  | 'released';

export interface StateChangeEvent {
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly reason: StateChangeReason;
  /** For a change to 'open': how long it stays open before admitting a trial. */
  readonly openMs?: number;
}

export interface SuccessEvent {
  readonly durationMs: number;
  /** True for a half-open trial. */
  readonly trial: boolean;
}

export interface FailureEvent {
  readonly error: unknown;
  readonly durationMs: number;
  readonly trial: boolean;
  /** True when the call was failed by the breaker's own `timeout`. */
  readonly timedOut: boolean;
}

export interface RejectionEvent {
  readonly error: CircuitOpenError;
  readonly state: CircuitState;
}

export interface BackoffOptions {
  /** Each failed trial multiplies the open time by this. Default 2. */
  factor?: number;
  /** The longest open time. Default: 10 × resetTimeout. */
  max?: Duration;
}

export interface CircuitBreakerOptions {
  /** The rule that opens the circuit. Default: `consecutiveFailures({ threshold: failureThreshold })`. */
  strategy?: BreakerStrategy;
  /** Shorthand for `strategy: consecutiveFailures({ threshold })`. Default 5. Not together with `strategy`. */
  failureThreshold?: number;
  /** How long the circuit stays open before a trial call is let through. Default "30s". */
  resetTimeout?: Duration;
  /** Trial calls allowed at the same time while half-open; the rest are refused. Default 1. */
  halfOpenMax?: number;
  /** Successful trials needed to close the circuit. Default 1. */
  successThreshold?: number;
  /**
   * Which errors count as failures. Default: every error. An error that does not count is a success for the
   * breaker (the dependency answered, e.g. "not found") and is still thrown to the caller. sluice's own refusals
   * (RateLimitExceededError, CircuitOpenError of an inner breaker) never reached the dependency: they count as
   * neither, whatever isFailure says.
   */
  isFailure?: (error: unknown) => boolean;
  /** Fails (and aborts the signal given to) a call that takes longer. Default: no timeout. */
  timeout?: Duration | false;
  /** Grow the open time after each failed trial: resetTimeout × factor^failedTrials, at most `max`. */
  backoff?: BackoffOptions | boolean;
  /** For logs and metrics. Default "circuit-breaker". */
  name?: string;
  clock?: Clock;
  /** Where to record metrics (state, transitions, rejections, call latency): default registry, another, or false. */
  metrics?: MetricsOption;
  /** Receives a structured line on every state change; silent when unset. */
  logger?: Logger;
}

export interface CircuitBreakerStats {
  readonly name: string;
  readonly state: CircuitState;
  /** Calls let through (closed, or as trials). */
  readonly calls: number;
  readonly successes: number;
  readonly failures: number;
  /** Calls refused because the circuit was open, half-open and full, or isolated. */
  readonly rejections: number;
  /** Calls failed by the breaker's `timeout` (also counted in `failures` when `isFailure` says so). */
  readonly timeouts: number;
  /**
   * Calls that count as neither success nor failure: abandoned through the caller's signal, or refused by
   * sluice itself further in (a rate limiter, an inner breaker).
   */
  readonly ignored: number;
  /** Times the circuit opened. */
  readonly opens: number;
  /** When the circuit last opened (undefined while it has never opened). */
  readonly openedAtMs: number | undefined;
  /** While open: ms until a trial is admitted (0 when the next call would be one). Else 0. */
  readonly retryAfterMs: number;
  /** How long the current (or next) opening lasts, growing with `backoff`. */
  readonly openMs: number;
  /** Trial calls in flight while half-open. */
  readonly halfOpenTrials: number;
  readonly strategy: StrategySnapshot;
}

/** The call: receives a signal that aborts on the breaker's timeout or the caller's signal. */
export type BreakerCall<T> = (signal: AbortSignal) => T | PromiseLike<T>;

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
const ISOLATED = 3;
const STATE_NAMES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];

/** Given to calls that can never be aborted (no timeout, no caller signal): one shared signal, no allocation. */
const NEVER_ABORTED: AbortSignal = new AbortController().signal;

const brand = Symbol.for('sluice.circuitBreaker');
/** Strategies hold the state of one breaker: sharing one between breakers would mix their outcomes. */
const strategiesInUse = new WeakSet<BreakerStrategy>();

const OPTION_NAMES = [
  'strategy',
  'failureThreshold',
  'resetTimeout',
  'halfOpenMax',
  'successThreshold',
  'isFailure',
  'timeout',
  'backoff',
  'name',
  'clock',
  'metrics',
  'logger',
] as const;

/** sluice's own refusals: the call never reached the dependency, so it says nothing about its health. */
export function isLocalRefusal(error: unknown): boolean {
  return isRateLimitExceededError(error) || isCircuitOpenError(error);
}

const countEveryError = (): boolean => true;

/** The error a call fails with when it exceeds the breaker's `timeout` (the same kind `AbortSignal.timeout` uses). */
export function callTimeoutError(timeoutMs: number): DOMException {
  return new DOMException(`The call timed out after ${timeoutMs} ms`, 'TimeoutError');
}

/** True for a timeout error: the breaker's own, `AbortSignal.timeout()`'s, or any error named TimeoutError. */
export function isTimeoutError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'TimeoutError';
}

export function isCircuitBreaker(value: unknown): value is CircuitBreaker {
  return typeof value === 'object' && value !== null && brand in value;
}

export class CircuitBreaker {
  readonly [brand] = true;
  readonly name: string;

  /** Fires on every state change. */
  readonly onStateChange: (listener: (event: StateChangeEvent) => void) => Disposer;
  /** Fires when a call let through succeeds (or fails with an error `isFailure` does not count). */
  readonly onSuccess: (listener: (event: SuccessEvent) => void) => Disposer;
  /** Fires when a call let through fails with an error that counts. */
  readonly onFailure: (listener: (event: FailureEvent) => void) => Disposer;
  /** Fires when a call is refused with CircuitOpenError. */
  readonly onRejection: (listener: (event: RejectionEvent) => void) => Disposer;

  private readonly strategy: BreakerStrategy;
  private readonly clock: Clock;
  private readonly resetTimeoutMs: number;
  private readonly maxOpenMs: number;
  private readonly backoffFactor: number;
  private readonly halfOpenMax: number;
  private readonly successThreshold: number;
  private readonly timeoutMs: number;
  private readonly isFailure: (error: unknown) => boolean;
  /** Undefined when metrics are off: then the closed-state path reads no clock. */
  private readonly instruments: BreakerInstruments | undefined;
  private readonly logger: Logger | undefined;

  private readonly stateChanges = new EventList<StateChangeEvent>();
  private readonly successes = new EventList<SuccessEvent>(() => this.updateFastPath());
  private readonly failures = new EventList<FailureEvent>(() => this.updateFastPath());
  private readonly rejections = new EventList<RejectionEvent>();

  private stateCode = CLOSED;
  /** Bumped on every transition, so the outcome of a trial from an earlier half-open period is ignored. */
  private epoch = 0;
  /** Closed, no timeout and no one listening for durations: execute() takes the minimal path. */
  private fastPath: boolean;
  private openedAtMs: number | undefined;
  private openUntilMs = 0;
  private failedTrials = 0;
  private trialsInFlight = 0;
  private trialSuccesses = 0;
  private isolationHolders = 0;
  private readonly counts = {
    calls: 0,
    successes: 0,
    failures: 0,
    rejections: 0,
    timeouts: 0,
    ignored: 0,
    opens: 0,
  };

  constructor(options: CircuitBreakerOptions = {}) {
    checkKnownOptions(options, 'circuitBreaker', OPTION_NAMES);
    this.strategy = strategyFrom(options);
    this.resetTimeoutMs = parseDuration(options.resetTimeout ?? '30s', 'resetTimeout');
    this.halfOpenMax = checkNumber(options.halfOpenMax ?? 1, 'halfOpenMax', { integer: true });
    this.successThreshold = checkNumber(options.successThreshold ?? 1, 'successThreshold', { integer: true });
    this.isFailure =
      options.isFailure === undefined ? countEveryError : checkFunction<(error: unknown) => boolean>(options.isFailure, 'isFailure');
    this.timeoutMs =
      options.timeout === undefined || options.timeout === false ? 0 : parseDuration(options.timeout, 'timeout');
    const backoff = backoffFrom(options.backoff, this.resetTimeoutMs);
    this.backoffFactor = backoff.factor;
    this.maxOpenMs = backoff.maxMs;
    this.name = options.name === undefined ? 'circuit-breaker' : checkString(options.name, 'name');
    this.clock = checkClock(options.clock ?? systemClock);
    const registry = resolveMetrics(options.metrics);
    this.instruments = registry ? new BreakerInstruments(registry, this.name, 'closed', this.clock) : undefined;
    this.logger = resolveLogger(options.logger);
    strategiesInUse.add(this.strategy);

    this.onStateChange = this.stateChanges.subscribe;
    this.onSuccess = this.successes.subscribe;
    this.onFailure = this.failures.subscribe;
    this.onRejection = this.rejections.subscribe;
    this.fastPath = this.timeoutMs === 0;
    this.onClosedSuccess = this.onClosedSuccess.bind(this);
    this.recordClosedError = this.recordClosedError.bind(this);
  }

  get state(): CircuitState {
    return STATE_NAMES[this.stateCode]!;
  }

  /**
   * Runs `fn` through the breaker. Refuses at once with CircuitOpenError while open (or half-open with
   * `halfOpenMax` trials running, or isolated). `fn` receives an AbortSignal that aborts on the breaker's
   * `timeout` and on `signal`; without either it is a shared signal that never aborts.
   */
  execute<T>(fn: BreakerCall<T>, signal?: AbortSignal): Promise<T> {
    if (this.stateCode === CLOSED && this.fastPath && signal === undefined) {
      this.counts.calls++;
      if (this.instruments !== undefined) return this.executeTimed(fn, this.instruments);
      let promise: Promise<T>;
      try {
        promise = Promise.resolve(fn(NEVER_ABORTED));
      } catch (error) {
        this.recordClosedError(error);
        return Promise.reject(error);
      }
      // Observe the call's own promise and hand it back unchanged: no extra promise hop for the caller, and
      // since this reaction is registered first, the breaker has counted the outcome before the caller sees it.
      promise.then(this.onClosedSuccess, this.recordClosedError);
      return promise;
    }
    return this.executeGuarded(fn, signal);
  }

  /** Opens the circuit now, as if the strategy had tripped it (a trial is admitted after the open time). */
  open(): void {
    if (this.stateCode === ISOLATED) return;
    this.transition(OPEN, 'manual');
  }

  /** Closes the circuit now and forgets the failures seen. */
  close(): void {
    if (this.stateCode === ISOLATED || this.stateCode === CLOSED) return;
    this.transition(CLOSED, 'manual');
  }

  /**
   * Holds the circuit open (every call refused) until the returned disposer is called; then it closes.
   * Several isolations nest: the circuit closes when the last one is released. `open()` and `close()` do
   * nothing while isolated.
   */
  isolate(): Disposer {
    this.isolationHolders++;
    if (this.stateCode !== ISOLATED) this.transition(ISOLATED, 'isolated');
    return makeDisposer(() => {
      if (--this.isolationHolders === 0) this.transition(CLOSED, 'released');
    });
  }

  stats(): CircuitBreakerStats {
    const nowMs = this.clock.now();
    const c = this.counts;
    return {
      name: this.name,
      state: this.state,
      calls: c.calls,
      successes: c.successes,
      failures: c.failures,
      rejections: c.rejections,
      timeouts: c.timeouts,
      ignored: c.ignored,
      opens: c.opens,
      openedAtMs: this.openedAtMs,
      retryAfterMs:
        this.stateCode === OPEN ? Math.max(0, this.openUntilMs - nowMs) : this.stateCode === ISOLATED ? Infinity : 0,
      openMs: this.openDurationMs(),
      halfOpenTrials: this.stateCode === HALF_OPEN ? this.trialsInFlight : 0,
      strategy: this.strategy.snapshot(nowMs),
    };
  }

  /** The closed-state path with metrics on: the same, plus the call's duration by outcome. */
  private executeTimed<T>(fn: BreakerCall<T>, instruments: BreakerInstruments): Promise<T> {
    const startMs = instruments.now();
    let promise: Promise<T>;
    try {
      promise = Promise.resolve(fn(NEVER_ABORTED));
    } catch (error) {
      this.recordClosedError(error);
      return Promise.reject(error);
    }
    promise.then(
      () => {
        this.onClosedSuccess();
        instruments.call((instruments.now() - startMs) / 1000, 'success');
      },
      (error: unknown) => {
        const outcome = this.recordClosedError(error);
        if (outcome !== 'ignored') instruments.call((instruments.now() - startMs) / 1000, outcome);
      },
    );
    return promise;
  }

  private onClosedSuccess(): void {
    this.counts.successes++;
    if (this.stateCode === CLOSED) this.strategy.success(this.strategy.usesClock ? this.clock.now() : 0);
  }

  /** Counts an error of a closed-state call; says how it counted (for the call-duration metric). */
  private recordClosedError(error: unknown): 'failure' | 'success' | 'ignored' {
    if (isLocalRefusal(error)) {
      this.counts.ignored++;
      return 'ignored';
    } else if (this.countsAsFailure(error)) {
      this.counts.failures++;
      if (this.stateCode === CLOSED && this.strategy.failure(this.strategy.usesClock ? this.clock.now() : 0)) {
        this.transition(OPEN, 'failures');
      }
      return 'failure';
    }
    this.onClosedSuccess();
    return 'success';
  }

  /** Every path but the minimal one: admission in every state, timeouts, caller signals, timed events. */
  private async executeGuarded<T>(fn: BreakerCall<T>, signal: AbortSignal | undefined): Promise<T> {
    signal?.throwIfAborted();
    const trial = this.admit();
    const epoch = this.epoch;
    this.counts.calls++;
    const timed = this.successes.count > 0 || this.failures.count > 0;
    const startMs = timed ? this.clock.now() : 0;
    const instruments = this.instruments;
    const metricStartMs = instruments ? instruments.now() : 0;
    let timedOut = false;
    try {
      const value = await this.run(fn, signal, () => {
        timedOut = true;
        this.counts.timeouts++;
      });
      instruments?.call((instruments.now() - metricStartMs) / 1000, 'success');
      this.recordSuccess(trial, epoch, timed ? this.clock.now() - startMs : 0);
      return value;
    } catch (error) {
      if ((signal?.aborted && !timedOut) || isLocalRefusal(error)) {
        this.counts.ignored++;
        if (trial && epoch === this.epoch) this.trialsInFlight--;
      } else if (this.countsAsFailure(error)) {
        instruments?.call((instruments.now() - metricStartMs) / 1000, timedOut ? 'timeout' : 'failure');
        this.recordFailure(error, trial, epoch, timed ? this.clock.now() - startMs : 0, timedOut);
      } else {
        instruments?.call((instruments.now() - metricStartMs) / 1000, 'success');
        this.recordSuccess(trial, epoch, timed ? this.clock.now() - startMs : 0);
      }
      throw error;
    }
  }

  /** Lets a call through or throws CircuitOpenError; returns true when the call is a half-open trial. */
  private admit(): boolean {
    switch (this.stateCode) {
      case CLOSED:
        return false;
      case OPEN: {
        const nowMs = this.clock.now();
        if (nowMs < this.openUntilMs) throw this.reject(this.openUntilMs - nowMs);
        this.transition(HALF_OPEN, 'reset-timeout');
        this.trialsInFlight = 1;
        return true;
      }
      case HALF_OPEN:
        // A trial's outcome is unknown: suggest waiting as long as it may take, else one open period.
        if (this.trialsInFlight >= this.halfOpenMax) throw this.reject(this.timeoutMs || this.openDurationMs());
        this.trialsInFlight++;
        return true;
      default:
        throw this.reject(Infinity, 'Circuit is isolated: held open until released');
    }
  }

  private reject(retryAfterMs: number, message?: string): CircuitOpenError {
    const error = new CircuitOpenError(retryAfterMs, message);
    this.counts.rejections++;
    this.instruments?.rejected();
    if (this.rejections.count > 0) this.rejections.emit({ error, state: this.state });
    return error;
  }

  /** Runs the call with its signal: the caller's, the timeout's, both, or none. */
  private run<T>(fn: BreakerCall<T>, callerSignal: AbortSignal | undefined, onTimeout: () => void): Promise<T> {
    if (this.timeoutMs === 0 && callerSignal === undefined) return invoke(fn, NEVER_ABORTED);
    const controller = new AbortController();
    const stopTimer = new AbortController();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        stopTimer.abort();
        callerSignal?.removeEventListener('abort', onCallerAbort);
        return true;
      };
      const onCallerAbort = () => {
        if (!settle()) return;
        controller.abort(callerSignal!.reason);
        reject(callerSignal!.reason);
      };
      callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
      if (this.timeoutMs > 0) {
        this.clock.sleep(this.timeoutMs, stopTimer.signal).then(() => {
          if (!settle()) return;
          const error = callTimeoutError(this.timeoutMs);
          onTimeout();
          controller.abort(error);
          reject(error);
        }, ignore);
      }
      invoke(fn, controller.signal).then(
        (value) => {
          if (settle()) resolve(value);
        },
        (error: unknown) => {
          if (settle()) reject(error);
        },
      );
    });
  }

  private countsAsFailure(error: unknown): boolean {
    try {
      return this.isFailure(error) !== false;
    } catch {
      return true;
    }
  }

  private recordSuccess(trial: boolean, epoch: number, durationMs: number): void {
    this.counts.successes++;
    if (trial) {
      if (epoch === this.epoch) {
        this.trialsInFlight--;
        if (++this.trialSuccesses >= this.successThreshold) this.transition(CLOSED, 'trial-succeeded');
      }
    } else if (this.stateCode === CLOSED) {
      this.strategy.success(this.strategy.usesClock ? this.clock.now() : 0);
    }
    if (this.successes.count > 0) this.successes.emit({ durationMs, trial });
  }

  private recordFailure(error: unknown, trial: boolean, epoch: number, durationMs: number, timedOut: boolean): void {
    this.counts.failures++;
    if (trial) {
      if (epoch === this.epoch) {
        this.failedTrials++;
        this.transition(OPEN, 'trial-failed');
      }
    } else if (this.stateCode === CLOSED && this.strategy.failure(this.strategy.usesClock ? this.clock.now() : 0)) {
      this.transition(OPEN, 'failures');
    }
    if (this.failures.count > 0) this.failures.emit({ error, durationMs, trial, timedOut });
  }

  private openDurationMs(): number {
    if (this.failedTrials === 0 || this.backoffFactor === 1) return this.resetTimeoutMs;
    return Math.min(this.maxOpenMs, this.resetTimeoutMs * this.backoffFactor ** this.failedTrials);
  }

  private transition(to: number, reason: StateChangeReason): void {
    const from = this.stateCode;
    this.stateCode = to;
    this.epoch++;
    this.trialsInFlight = 0;
    this.trialSuccesses = 0;
    let openMs: number | undefined;
    if (to === OPEN) {
      openMs = this.openDurationMs();
      const nowMs = this.clock.now();
      this.openedAtMs = nowMs;
      this.openUntilMs = nowMs + openMs;
      this.counts.opens++;
    } else if (to === CLOSED) {
      this.failedTrials = 0;
      this.strategy.reset();
    } else if (to === ISOLATED) {
      this.openedAtMs = this.clock.now();
    }
    this.updateFastPath();
    this.instruments?.stateChanged(STATE_NAMES[from]!, STATE_NAMES[to]!);
    if (this.logger) this.logStateChange(STATE_NAMES[from]!, STATE_NAMES[to]!, reason, openMs);
    if (this.stateChanges.count > 0) {
      this.stateChanges.emit({ from: STATE_NAMES[from]!, to: STATE_NAMES[to]!, reason, ...(openMs === undefined ? {} : { openMs }) });
    }
  }

  /** Opening (or isolating) is a warning; closing and half-opening are news. */
  private logStateChange(from: CircuitState, to: CircuitState, reason: StateChangeReason, openMs: number | undefined): void {
    const failing = to === 'open' || to === 'isolated';
    log(
      this.logger!,
      failing ? 'warn' : 'info',
      {
        event: 'breaker.state_change',
        component: 'breaker',
        breaker: this.name,
        from,
        to,
        reason,
        ...(openMs === undefined ? {} : { openMs }),
        failures: this.counts.failures,
      },
      `sluice: circuit "${this.name}" ${to === 'half-open' ? 'half-open: trying a call' : to}`,
    );
  }

  private updateFastPath(): void {
    this.fastPath = this.timeoutMs === 0 && this.successes.count === 0 && this.failures.count === 0;
  }
}

/** Creates a circuit breaker. See CircuitBreakerOptions for the defaults. */
export function circuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  return new CircuitBreaker(options);
}

function invoke<T>(fn: BreakerCall<T>, signal: AbortSignal): Promise<T> {
  try {
    return Promise.resolve(fn(signal));
  } catch (error) {
    return Promise.reject(error);
  }
}

function ignore(): void {}

function strategyFrom(options: CircuitBreakerOptions): BreakerStrategy {
  if (options.strategy === undefined) {
    return consecutiveFailures({ threshold: checkNumber(options.failureThreshold ?? 5, 'failureThreshold', { integer: true }) });
  }
  if (options.failureThreshold !== undefined) {
    throw new ConfigError('failureThreshold', 'no failureThreshold when a strategy is given (set it on the strategy)', options.failureThreshold);
  }
  if (!isBreakerStrategy(options.strategy)) {
    throw new ConfigError('strategy', 'a strategy: consecutiveFailures(), countWindow() or samplingWindow()', options.strategy);
  }
  if (strategiesInUse.has(options.strategy)) {
    throw new ConfigError('strategy', 'a strategy not used by another breaker (create one per breaker)', options.strategy);
  }
  return options.strategy;
}

function backoffFrom(backoff: CircuitBreakerOptions['backoff'], resetTimeoutMs: number): { factor: number; maxMs: number } {
  if (backoff === undefined || backoff === false) return { factor: 1, maxMs: resetTimeoutMs };
  const settings = backoff === true ? {} : backoff;
  if (typeof settings !== 'object' || settings === null) {
    throw new ConfigError('backoff', 'true, false or { factor, max }', backoff);
  }
  checkKnownOptions(settings, 'backoff', ['factor', 'max']);
  const factor = checkNumber(settings.factor ?? 2, 'backoff.factor', { min: 1, exclusiveMin: false });
  const maxMs = settings.max === undefined ? resetTimeoutMs * 10 : parseDuration(settings.max, 'backoff.max');
  if (maxMs < resetTimeoutMs) {
    throw new ConfigError('backoff.max', `a duration >= resetTimeout (${resetTimeoutMs} ms)`, settings.max);
  }
  return { factor, maxMs };
}

export function checkClock(clock: unknown): Clock {
  if (typeof clock !== 'object' || clock === null || typeof (clock as Clock).now !== 'function' || typeof (clock as Clock).sleep !== 'function') {
    throw new ConfigError('clock', 'a Clock with now() and sleep()', clock);
  }
  return clock as Clock;
}
