import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Decision, PolicyInfo } from '../../src/index.js';
import {
  flattenDecisions,
  mostRestrictive,
  retryAfterSeconds,
  toSeconds,
  writeRateLimitHeaders,
  type HeaderPairs,
  type HeadersMode,
} from '../../src/http/headers.js';

const policy = (name: string, limit: number, windowMs: number, algorithm: PolicyInfo['algorithm'] = 'fixed-window'): PolicyInfo => ({
  name,
  algorithm,
  limit,
  windowMs,
});

const decision = (info: PolicyInfo, fields: Partial<Decision>): Decision => ({
  allowed: true,
  limit: info.limit,
  remaining: info.limit,
  resetMs: 0,
  retryAfterMs: 0,
  policy: info,
  ...fields,
});

const headers = (mode: HeadersMode, decisions: Decision[], nowMs = 0): HeaderPairs => {
  const out: HeaderPairs = {};
  writeRateLimitHeaders(mode, decisions, out, nowMs);
  return out;
};

const minute = policy('permin', 50, 60_000);
const hour = policy('perhr', 1000, 3_600_000);

describe('headers', () => {
  it("'ietf' lists every policy in RateLimit-Policy and RateLimit (draft -11 syntax)", () => {
    const out = headers('ietf', [
      decision(minute, { remaining: 49, resetMs: 59_500 }),
      decision(hour, { remaining: 999, resetMs: 3_599_001 }),
    ]);
    expect(out).toEqual({
      'RateLimit-Policy': '"permin";q=50;w=60, "perhr";q=1000;w=3600',
      RateLimit: '"permin";r=49;t=60, "perhr";r=999;t=3600',
    });
  });

  it("'ietf' on a refusal: t equals Retry-After (the effective window of -11)", () => {
    const out = headers('ietf', [decision(minute, { allowed: false, remaining: 0, resetMs: 60_000, retryAfterMs: 1_200 })]);
    expect(out.RateLimit).toBe('"permin";r=0;t=2');
    expect(retryAfterSeconds({ retryAfterMs: 1_200, resetMs: 60_000 })).toBe(2);
  });

  it("'ietf' marks concurrency policies with qu=\"concurrent-requests\" and escapes names", () => {
    const slots = policy('db "pool"', 8, 60_000, 'concurrency');
    const out = headers('ietf', [decision(slots, { remaining: 7 })]);
    expect(out['RateLimit-Policy']).toBe('"db \\"pool\\"";q=8;qu="concurrent-requests"');
    expect(out.RateLimit).toBe('"db \\"pool\\"";r=7;t=0');
  });

  it("'draft-8' uses the time to full reset for t", () => {
    const out = headers('draft-8', [decision(minute, { allowed: false, remaining: 0, resetMs: 30_000, retryAfterMs: 1_000 })]);
    expect(out).toEqual({ 'RateLimit-Policy': '"permin";q=50;w=60', RateLimit: '"permin";r=0;t=30' });
  });

  it("'draft-7' and 'draft-6' report the most restrictive policy in the single-valued fields", () => {
    const decisions = [decision(minute, { remaining: 3, resetMs: 10_000 }), decision(hour, { remaining: 900, resetMs: 100_000 })];
    expect(headers('draft-7', decisions)).toEqual({
      'RateLimit-Policy': '50;w=60, 1000;w=3600',
      RateLimit: 'limit=50, remaining=3, reset=10',
    });
    expect(headers('draft-6', decisions)).toEqual({
      'RateLimit-Policy': '50;w=60, 1000;w=3600',
      'RateLimit-Limit': '50',
      'RateLimit-Remaining': '3',
      'RateLimit-Reset': '10',
    });
  });

  it("'legacy' gives X-RateLimit-Reset as a Unix time in seconds", () => {
    const out = headers('legacy', [decision(minute, { remaining: 10, resetMs: 1_500 })], 1_700_000_000_000);
    expect(out).toEqual({ 'X-RateLimit-Limit': '50', 'X-RateLimit-Remaining': '10', 'X-RateLimit-Reset': '1700000002' });
  });

  it('false writes nothing', () => {
    expect(headers(false, [decision(minute, {})])).toEqual({});
  });

  it('a refusal drives the single-valued fields over an admission with fewer units left', () => {
    const refused = decision(hour, { allowed: false, remaining: 5, retryAfterMs: 9_000, resetMs: 9_000 });
    const tight = decision(minute, { remaining: 0, resetMs: 1_000 });
    expect(mostRestrictive([tight, refused])).toBe(refused);
    expect(headers('draft-6', [tight, refused])['RateLimit-Limit']).toBe('1000');
  });

  it('composite decisions are listed member by member', () => {
    const members = [decision(minute, { remaining: 1 }), decision(hour, { remaining: 2 })];
    const composite = { ...members[0]!, members };
    expect(flattenDecisions([composite])).toEqual(members);
    expect(headers('ietf', [composite]).RateLimit).toBe('"permin";r=1;t=0, "perhr";r=2;t=0');
  });

  it('a cost that can never fit is told to come back after the window, not Infinity', () => {
    const never = decision(minute, { allowed: false, remaining: 50, retryAfterMs: Infinity, resetMs: 0 });
    expect(retryAfterSeconds(never)).toBe(60);
    expect(headers('ietf', [never]).RateLimit).toBe('"permin";r=50;t=60');
  });

  it('Retry-After is whole seconds, rounded up, never 0 (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e9, noNaN: true }), (ms) => {
        const seconds = retryAfterSeconds({ retryAfterMs: ms, resetMs: 0 });
        expect(Number.isInteger(seconds)).toBe(true);
        expect(seconds).toBeGreaterThanOrEqual(1);
        expect(seconds * 1000).toBeGreaterThanOrEqual(Math.min(ms, 31_536_000_000) - 1e-3);
        expect(seconds).toBe(Math.max(1, toSeconds(ms)));
      }),
    );
  });
});
