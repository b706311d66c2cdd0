/**
 * Rate-limit response headers: one small function per standard, from decisions to header pairs.
 *
 * 'ietf' follows draft-ietf-httpapi-ratelimit-headers-11 (May 2026; the syntax is unchanged since -09):
 *   RateLimit-Policy: "name";q=100;w=60, ...     (every policy; qu="concurrent-requests" for concurrency limits)
 *   RateLimit: "name";r=50;t=30, ...             (r: available quota; t: the effective window in seconds)
 * -11 defines t as the time within which the client can use no more than r, and asks that Retry-After never
 * point earlier than its end: on a refusal t equals Retry-After; otherwise t is the time until the quota is
 * full again (the end of the window for window algorithms).
 */
import type { Decision, PolicyInfo } from '../limiters/limiter.js';

export type HeadersMode = 'ietf' | 'draft-8' | 'draft-7' | 'draft-6' | 'legacy' | false;
export const HEADERS_MODES: readonly HeadersMode[] = ['ietf', 'draft-8', 'draft-7', 'draft-6', 'legacy', false];

export type HeaderPairs = Record<string, string>;

/** Whole seconds, rounded up; `Infinity` and negatives are clamped into [0, maxSeconds]. */
export function toSeconds(ms: number): number {
  if (!(ms > 0)) return 0;
  return Number.isFinite(ms) ? Math.ceil(ms / 1000 - 1e-9) : MAX_SECONDS;
}

/** A year: the most a header will announce (a cost that can never fit has an infinite wait). */
const MAX_SECONDS = 31_536_000;

/**
 * Retry-After for a refusal: whole seconds, rounded up, never 0. A cost that can never fit (retryAfterMs
 * Infinity) is told to come back after the policy window, when at least the limit is known again.
 */
export function retryAfterSeconds(decision: Pick<Decision, 'retryAfterMs' | 'resetMs'> & { policy?: PolicyInfo }): number {
  const ms = Number.isFinite(decision.retryAfterMs)
    ? decision.retryAfterMs
    : Math.max(decision.resetMs, decision.policy?.windowMs ?? 0);
  return Math.max(1, Math.min(MAX_SECONDS, toSeconds(ms)));
}

/**
 * The decision that drives single-valued headers: a refusal over an admission; among refusals the longest wait;
 * among admissions the fewest units left (then the longest time to reset).
 */
export function mostRestrictive(decisions: readonly Decision[]): Decision {
  let worst = decisions[0]!;
  for (let i = 1; i < decisions.length; i++) {
    const decision = decisions[i]!;
    if (decision.allowed !== worst.allowed) {
      if (!decision.allowed) worst = decision;
    } else if (!decision.allowed) {
      if (decision.retryAfterMs > worst.retryAfterMs) worst = decision;
    } else if (
      decision.remaining < worst.remaining ||
      (decision.remaining === worst.remaining && decision.resetMs > worst.resetMs)
    ) {
      worst = decision;
    }
  }
  return worst;
}

/** A composite's members are listed one by one; other decisions as they are. */
export function flattenDecisions(decisions: readonly Decision[]): readonly Decision[] {
  let flat: Decision[] | undefined;
  for (let i = 0; i < decisions.length; i++) {
    const members = decisions[i]!.members;
    if (members && !flat) flat = decisions.slice(0, i) as Decision[];
    if (flat) {
      if (members) flat.push(...flattenDecisions(members));
      else flat.push(decisions[i]!);
    }
  }
  return flat ?? decisions;
}

/** A structured-field string: quotes and backslashes escaped, non-printable characters dropped. */
function sfString(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, '\\$&')}"`;
}

/** Policy names as structured-field strings, computed once per policy (policies are long-lived objects). */
const quotedNames = new WeakMap<PolicyInfo, string>();

function quotedName(policy: PolicyInfo): string {
  let quoted = quotedNames.get(policy);
  if (quoted === undefined) {
    quoted = sfString(policy.name);
    quotedNames.set(policy, quoted);
  }
  return quoted;
}

function windowSeconds(policy: PolicyInfo): number {
  return Math.max(1, toSeconds(policy.windowMs));
}

/**
 * One RateLimit-Policy item of the -09+ syntax. A concurrency limit has a quota of concurrent requests and no
 * window (its lease is not one); a policy whose window is unknown gets no w either.
 */
function policyItem(policy: PolicyInfo): string {
  if (policy.algorithm === 'concurrency') return `${quotedName(policy)};q=${policy.limit};qu="concurrent-requests"`;
  return policy.windowMs > 0
    ? `${quotedName(policy)};q=${policy.limit};w=${windowSeconds(policy)}`
    : `${quotedName(policy)};q=${policy.limit}`;
}

/** The RateLimit-Policy value for a set of policies (constant for a set of limiters: callers may cache it). */
export function ietfPolicyValue(policies: readonly PolicyInfo[]): string {
  let value = '';
  for (const policy of policies) value += (value ? ', ' : '') + policyItem(policy);
  return value;
}

/** The effective window of -11: on a refusal the wait (= Retry-After), otherwise the time to full. */
function effectiveWindowSeconds(decision: Decision): number {
  return decision.allowed ? toSeconds(decision.resetMs) : retryAfterSeconds(decision);
}

/** 'ietf': RateLimit-Policy lists every policy, RateLimit every policy's state. */
export function ietfHeaders(decisions: readonly Decision[], out: HeaderPairs, policyValue?: string): void {
  listHeaders(decisions, out, policyValue, effectiveWindowSeconds);
}

/** 'draft-8': the same list syntax, with t the seconds until the quota is full again (as express-rate-limit). */
export function draft8Headers(decisions: readonly Decision[], out: HeaderPairs, policyValue?: string): void {
  listHeaders(decisions, out, policyValue, (decision) => toSeconds(decision.resetMs));
}

function listHeaders(
  decisions: readonly Decision[],
  out: HeaderPairs,
  policyValue: string | undefined,
  seconds: (decision: Decision) => number,
): void {
  const single = decisions.length === 1 && decisions[0]!.members === undefined ? decisions[0]! : undefined;
  if (single !== undefined) {
    // The common case, without building lists.
    out['RateLimit-Policy'] = policyValue ?? policyItem(single.policy);
    out['RateLimit'] = `${quotedName(single.policy)};r=${single.remaining};t=${seconds(single)}`;
    return;
  }
  const flat = flattenDecisions(decisions);
  let rateLimit = '';
  for (const decision of flat) {
    rateLimit += `${rateLimit ? ', ' : ''}${quotedName(decision.policy)};r=${decision.remaining};t=${seconds(decision)}`;
  }
  out['RateLimit-Policy'] = policyValue ?? ietfPolicyValue(flat.map((decision) => decision.policy));
  out['RateLimit'] = rateLimit;
}

/** 'draft-7': `RateLimit-Policy: 100;w=60` (every policy) and one `RateLimit: limit=, remaining=, reset=`. */
export function draft7Headers(decisions: readonly Decision[], out: HeaderPairs): void {
  const flat = flattenDecisions(decisions);
  const driving = mostRestrictive(flat);
  let policy = '';
  for (const decision of flat) policy += `${policy ? ', ' : ''}${decision.policy.limit};w=${windowSeconds(decision.policy)}`;
  out['RateLimit-Policy'] = policy;
  out['RateLimit'] = `limit=${driving.limit}, remaining=${driving.remaining}, reset=${toSeconds(resetOf(driving))}`;
}

/** 'draft-6': RateLimit-Policy plus the three RateLimit-Limit / -Remaining / -Reset fields. */
export function draft6Headers(decisions: readonly Decision[], out: HeaderPairs): void {
  const flat = flattenDecisions(decisions);
  const driving = mostRestrictive(flat);
  let policy = '';
  for (const decision of flat) policy += `${policy ? ', ' : ''}${decision.policy.limit};w=${windowSeconds(decision.policy)}`;
  out['RateLimit-Policy'] = policy;
  out['RateLimit-Limit'] = String(driving.limit);
  out['RateLimit-Remaining'] = String(driving.remaining);
  out['RateLimit-Reset'] = String(toSeconds(resetOf(driving)));
}

/** 'legacy': X-RateLimit-Limit / -Remaining, and -Reset as a Unix time in seconds (GitHub's convention). */
export function legacyHeaders(decisions: readonly Decision[], out: HeaderPairs, nowMs: number): void {
  const driving = mostRestrictive(flattenDecisions(decisions));
  out['X-RateLimit-Limit'] = String(driving.limit);
  out['X-RateLimit-Remaining'] = String(driving.remaining);
  out['X-RateLimit-Reset'] = String(Math.ceil((nowMs + Math.min(resetOf(driving), MAX_SECONDS * 1000)) / 1000));
}

/** A refused decision's reset is at least its wait, so a client reading only Reset does not come back early. */
function resetOf(decision: Decision): number {
  return decision.allowed ? decision.resetMs : Math.max(decision.resetMs, retryAfterSeconds(decision) * 1000);
}

/**
 * The value to set when a header may already be there from another guard (global middleware, then a route's):
 * structured-field lists of named policies ('ietf', 'draft-8') are joined, so every policy stays listed; anything
 * else is replaced by the later guard's value.
 */
export function joinHeaderValue(existing: unknown, incoming: string): string {
  return typeof existing === 'string' && isPolicyList(existing) && isPolicyList(incoming) ? `${existing}, ${incoming}` : incoming;
}

/** A structured-field list of named policies (it starts with a quoted name). */
export function isPolicyList(value: string): boolean {
  return value.charCodeAt(0) === 34;
}

/**
 * Writes the rate-limit headers of `mode` for `decisions` into `out` (Retry-After is the caller's: it belongs to
 * refusals only). `policyValue` is a cached RateLimit-Policy value for 'ietf' and 'draft-8'.
 */
export function writeRateLimitHeaders(
  mode: HeadersMode,
  decisions: readonly Decision[],
  out: HeaderPairs,
  nowMs: number,
  policyValue?: string,
): void {
  switch (mode) {
    case 'ietf':
      ietfHeaders(decisions, out, policyValue);
      break;
    case 'draft-8':
      draft8Headers(decisions, out, policyValue);
      break;
    case 'draft-7':
      draft7Headers(decisions, out);
      break;
    case 'draft-6':
      draft6Headers(decisions, out);
      break;
    case 'legacy':
      legacyHeaders(decisions, out, nowMs);
      break;
    default:
      break;
  }
}
