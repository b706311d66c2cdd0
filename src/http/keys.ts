/**
 * Key sources: what identifies a client to the limiters. The client IP (default), a request header (an API key),
 * a function of the framework's own request (an account id; sync or async), or a combination of these.
 */
import { ConfigError } from '../errors.js';
import type { ClientIpResolver, RequestFacts } from './facts.js';

/** A key from the framework's own request object (Express req, Fastify request, Koa ctx, Hono c). */
export type KeyFunction<Req> = (request: Req) => string | number | undefined | Promise<string | number | undefined>;

export type KeySource<Req> =
  /** The client IP, resolved with trustProxy / ipv6Subnet (the default). */
  | 'ip'
  /** A request header's value, keyed as "<header>:<value>"; the client IP when the header is missing. */
  | { header: string }
  | KeyFunction<Req>
  /** Several sources joined with "|" (e.g. ['ip', { header: 'x-tenant' }]); a missing part counts as "-". */
  | readonly KeySource<Req>[];

export type KeyResolver<Req> = (facts: RequestFacts, request: Req) => string | Promise<string>;

type PartResolver<Req> = (facts: RequestFacts, request: Req) => string | undefined | Promise<string | undefined>;

const isPromise = (value: unknown): value is Promise<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as Promise<unknown>).then === 'function';

function normalise(value: string | number | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') throw new TypeError(`A rate-limit key function returned ${typeof value}, not a string`);
  return text.length === 0 ? undefined : text;
}

function part<Req>(source: KeySource<Req>, field: string, ip: ClientIpResolver): PartResolver<Req> {
  if (source === 'ip') return (facts) => ip.key(facts);
  if (typeof source === 'function') {
    return (_facts, request) => {
      const value = source(request);
      return isPromise(value) ? value.then(normalise) : normalise(value);
    };
  }
  if (typeof source === 'object' && source !== null && !Array.isArray(source)) {
    const header = (source as { header?: unknown }).header;
    const keys = Object.keys(source);
    if (typeof header !== 'string' || header.length === 0 || keys.length !== 1) {
      throw new ConfigError(field, '{ header: "<name>" }', source);
    }
    const name = header.toLowerCase();
    return (facts) => {
      const value = facts.header(name);
      return value ? `${name}:${value}` : undefined;
    };
  }
  throw new ConfigError(field, '"ip", { header: name }, a function of the request, or an array of these', source);
}

/**
 * Compiles a key source once. A source that yields nothing (an absent header, a function returning undefined or
 * "") falls back to the client IP, so anonymous clients are still limited one by one.
 */
export function compileKey<Req>(source: KeySource<Req> | undefined, ip: ClientIpResolver, field = 'key'): KeyResolver<Req> {
  if (source === undefined || source === 'ip') return (facts) => ip.key(facts);
  if (Array.isArray(source)) {
    if (source.length === 0) throw new ConfigError(field, 'a non-empty array of key sources', source);
    const parts = source.map((item: KeySource<Req>, i) => part(item, `${field}[${i}]`, ip));
    return (facts, request) => {
      const values = parts.map((resolve) => resolve(facts, request));
      const join = (resolved: (string | undefined)[]) => resolved.map((value) => value ?? '-').join('|');
      return values.some(isPromise) ? Promise.all(values).then(join) : join(values as (string | undefined)[]);
    };
  }
  const single = part(source as KeySource<Req>, field, ip);
  return (facts, request) => {
    const value = single(facts, request);
    if (isPromise(value)) return value.then((resolved) => resolved ?? ip.key(facts));
    return value ?? ip.key(facts);
  };
}
