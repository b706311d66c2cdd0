/**
 * The `logger` option every component takes: pino's call shape, `logger.warn(fields, message)`, so pino, bunyan
 * and console (which prints both arguments) plug in as they are. Components are silent without one.
 */
import { ConfigError } from '../errors.js';

/** A structured log line: `fields` first (a flat object), then a human message. */
export type LogMethod = (fields: LogFields, message: string) => void;

export interface Logger {
  debug: LogMethod;
  /** Optional: a logger without `info` gets info lines at `debug`. */
  info?: LogMethod;
  warn: LogMethod;
  error: LogMethod;
}

/**
 * Every line carries `event` (a stable code such as "rate_limit.refused") and `component` (what logged it), so
 * lines can be filtered without parsing messages.
 */
export interface LogFields {
  event: string;
  component: string;
  [field: string]: unknown;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Checks a `logger` option: undefined (silent) or an object with debug, warn and error functions. */
export function resolveLogger(value: unknown, field = 'logger'): Logger | undefined {
  if (value === undefined || value === false) return undefined;
  const expected = 'a logger with debug, warn and error methods called as (fields, message), like pino or console';
  if (typeof value !== 'object' || value === null) throw new ConfigError(field, expected, value);
  const candidate = value as Record<string, unknown>;
  for (const method of ['debug', 'warn', 'error'] as const) {
    if (typeof candidate[method] !== 'function') throw new ConfigError(field, expected, value);
  }
  if (candidate.info !== undefined && typeof candidate.info !== 'function') {
    throw new ConfigError(`${field}.info`, 'a function or undefined', candidate.info);
  }
  return value as Logger;
}

/**
 * Writes one line at `level`, never letting a logger failure reach the caller (a broken logger must not turn a
 * rate-limit decision into an error). Methods are called on the logger so pino's `this` binding holds.
 */
export function log(logger: Logger, level: LogLevel, fields: LogFields, message: string): void {
  try {
    if (level === 'info') {
      if (logger.info) logger.info(fields, message);
      else logger.debug(fields, message);
    } else {
      logger[level](fields, message);
    }
  } catch {
    // A logger that throws is the application's problem to notice; the decision goes on.
  }
}

/** How a store failure is described in a log line: the error's name, code and message, and its cause's. */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const description: Record<string, unknown> = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') description.code = code;
  if (error.cause !== undefined) description.cause = describeError(error.cause);
  return description;
}

/**
 * Logs a run of failures (a store that is down) without a line per failed call: the first failure is logged at
 * once, later ones at most every `intervalMs` with the count since the last line, and the first success after
 * the run logs a recovery with the run's length. Under an outage at 10,000 decisions a second this writes one
 * line every 10 s, not 10,000.
 */
export class FailureRunLog {
  private failing = false;
  private runStartMs = 0;
  private lastLineMs = 0;
  private failures = 0;
  private unlogged = 0;

  constructor(
    private readonly logger: Logger | undefined,
    private readonly now: () => number,
    private readonly intervalMs = 10_000,
  ) {}

  /** Records a failure; `fields` builds the line only when one is written. */
  failure(level: LogLevel, message: string, fields: () => LogFields): void {
    if (!this.logger) return;
    const nowMs = this.now();
    this.failures++;
    if (!this.failing) {
      this.failing = true;
      this.runStartMs = nowMs;
    } else if (nowMs - this.lastLineMs < this.intervalMs) {
      this.unlogged++;
      return;
    }
    const line = fields();
    if (this.unlogged > 0) line.suppressed = this.unlogged;
    line.failuresInRun = this.failures;
    log(this.logger, level, line, message);
    this.lastLineMs = nowMs;
    this.unlogged = 0;
  }

  /** Records a success; after a run of failures, logs the recovery. */
  success(level: LogLevel, message: string, fields: () => LogFields): void {
    if (!this.failing || !this.logger) return;
    const line = fields();
    line.failuresInRun = this.failures;
    line.outageMs = this.now() - this.runStartMs;
    log(this.logger, level, line, message);
    this.failing = false;
    this.failures = 0;
    this.unlogged = 0;
  }

  get inFailureRun(): boolean {
    return this.failing;
  }
}
