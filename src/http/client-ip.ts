/**
 * The trusted-proxy-aware client IP: which address a request comes from, and the rate-limit key derived from it.
 * The options are validated and compiled once; each request then costs a parse of the socket address and, only
 * when the socket peer is a trusted proxy, a right-to-left walk over the forwarding header. See docs/proxies.md.
 */
import { ConfigError } from '../errors.js';
import { checkFunction, checkKnownOptions, checkNumber } from '../options.js';
import type { ClientIpOptions, ClientIpResolver, RequestFacts } from './facts.js';
import { forwardedReader, xForwardedForReader, type HopReader } from './forwarding-headers.js';
import { ipv6Network, parseAddress, parseRange, rangeContains, type IpAddress, type IpRange } from './ip-address.js';

/** The key of a request whose client address cannot be known (no socket address, e.g. a unix socket). */
export const UNKNOWN_CLIENT_KEY = 'unknown';

export const DEFAULT_IPV6_SUBNET = 56;

/** proxy-addr's (Express's) presets, plus 'private' as an alias of 'uniquelocal'. */
export const TRUST_PROXY_PRESETS: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

const KNOWN_OPTIONS = ['trustProxy', 'clientIpHeader', 'ipv6Subnet', 'warn'] as const;

/** Headers that carry lists of hops: they are walked through trustProxy, never read as one value. */
const LIST_HEADERS = new Set(['x-forwarded-for', 'forwarded']);

/** Decides whether the address seen at `hop` (0 = the socket peer) is a proxy we trust to tell the next hop. */
type TrustCheck = (address: IpAddress | undefined, hop: number) => boolean;

type TrustMode = { kind: 'none' } | { kind: 'framework' } | { kind: 'walk'; isTrusted: TrustCheck };

export function createClientIpResolver(options: ClientIpOptions = {}): ClientIpResolver {
  checkKnownOptions(options, 'clientIp', KNOWN_OPTIONS);
  const mode = compileTrustProxy(options.trustProxy === undefined ? false : options.trustProxy);
  const ipv6Subnet = compileIpv6Subnet(options.ipv6Subnet);
  const clientIpHeader = compileClientIpHeader(options.clientIpHeader, mode);
  const warn =
    options.warn === undefined ? (message: string) => console.warn(message) : checkFunction<(m: string) => void>(options.warn, 'warn');

  let warned = false;
  const warnOnceAboutForwardingHeaders = (facts: RequestFacts): void => {
    if (facts.header('x-forwarded-for') === undefined && facts.header('forwarded') === undefined) return;
    warned = true;
    warn(UNEXPECTED_FORWARDING_HEADER_WARNING);
  };

  const resolve = (facts: RequestFacts): IpAddress | undefined => {
    const socket = facts.socketAddress ? parseAddress(facts.socketAddress) : undefined;
    switch (mode.kind) {
      case 'none':
        if (!warned) warnOnceAboutForwardingHeaders(facts);
        return socket;
      case 'framework': {
        const claimed = facts.frameworkIp?.();
        return (claimed ? parseAddress(claimed.trim()) : undefined) ?? socket;
      }
      case 'walk':
        // A socket address that is present but does not parse is no trusted proxy.
        if (socket === undefined && facts.socketAddress) return undefined;
        if (!mode.isTrusted(socket, 0)) return socket;
        if (clientIpHeader !== undefined) {
          const value = facts.header(clientIpHeader);
          const claimed = value === undefined ? undefined : parseAddress(value.trim());
          if (claimed !== undefined) return claimed;
        }
        return walkForwardingHeader(facts, socket, mode.isTrusted);
    }
  };

  return {
    address: (facts) => resolve(facts)?.text,
    key(facts) {
      const address = resolve(facts);
      if (address === undefined) return UNKNOWN_CLIENT_KEY;
      if (address.ipv6Parts === undefined || ipv6Subnet === false) return address.text;
      return ipv6Network(address.ipv6Parts, ipv6Subnet);
    },
  };
}

export const UNEXPECTED_FORWARDING_HEADER_WARNING =
  'sluice: a request carries an X-Forwarded-For or Forwarded header but trustProxy is false, so the header is ' +
  'ignored and every client behind a proxy shares the proxy address as its rate-limit key. If the app runs behind ' +
  "a reverse proxy or load balancer, set trustProxy to the proxies' addresses (e.g. 'loopback' for nginx on the " +
  "same host, a CIDR list such as ['10.0.0.0/8'], or the number of proxies, e.g. 1). If clients connect directly, " +
  'the header is spoofed and ignoring it is right. This warning is shown once. See docs/proxies.md.';

/**
 * The walk: starting from the trusted socket peer, step left through X-Forwarded-For (or, when the request has
 * none, the `for=` values of Forwarded) while the current hop is trusted. The client is the first untrusted
 * hop; when every hop is trusted, the left-most one. A hop that does not parse ends the walk at the last
 * trusted address, so garbage, "unknown" and obfuscated ids never become keys.
 */
function walkForwardingHeader(facts: RequestFacts, socket: IpAddress | undefined, isTrusted: TrustCheck): IpAddress | undefined {
  const xForwardedFor = facts.header('x-forwarded-for');
  let nextHop: HopReader;
  if (xForwardedFor !== undefined && xForwardedFor.trim() !== '') {
    nextHop = xForwardedForReader(xForwardedFor);
  } else {
    const forwarded = facts.header('forwarded');
    if (forwarded === undefined) return socket;
    nextHop = forwardedReader(forwarded);
  }
  let last = socket;
  for (let hop = 1; ; hop++) {
    const text = nextHop();
    if (text === undefined) return last;
    const address = parseAddress(text);
    if (address === undefined || !isTrusted(address, hop)) return address ?? last;
    last = address;
  }
}

function compileTrustProxy(option: unknown): TrustMode {
  if (option === false || option === 0) return { kind: 'none' };
  if (option === true) return { kind: 'walk', isTrusted: () => true };
  if (option === 'framework') return { kind: 'framework' };
  if (typeof option === 'number') {
    const hops = checkNumber(option, 'trustProxy', { integer: true, min: 0, exclusiveMin: false });
    return { kind: 'walk', isTrusted: (_address, hop) => hop < hops };
  }
  if (typeof option === 'function') {
    const decide = option as (address: string, hop: number) => boolean;
    return { kind: 'walk', isTrusted: (address, hop) => address !== undefined && decide(address.text, hop) === true };
  }
  const ranges = compileRanges(option);
  return {
    kind: 'walk',
    isTrusted: (address) => {
      if (address === undefined) return false;
      for (const range of ranges) if (rangeContains(range, address)) return true;
      return false;
    },
  };
}

const TRUST_PROXY_EXPECTED =
  "false, true, a hop count (integer >= 0), 'framework', a function (address, hop) => boolean, or an address, " +
  `CIDR or preset (${Object.keys(TRUST_PROXY_PRESETS).join(', ')}) — or a list of those`;

/** An address, CIDR or preset, a comma-separated string of those (as Express accepts), or an array of them. */
function compileRanges(option: unknown): IpRange[] {
  let items: { text: unknown; field: string }[];
  if (typeof option === 'string') {
    items = option.split(',').map((text) => ({ text: text.trim(), field: 'trustProxy' }));
  } else if (Array.isArray(option)) {
    if (option.length === 0) throw new ConfigError('trustProxy', 'a non-empty list of addresses, CIDRs or presets', option);
    items = (option as unknown[]).map((text, index) => ({
      text: typeof text === 'string' ? text.trim() : text,
      field: `trustProxy[${index}]`,
    }));
  } else {
    throw new ConfigError('trustProxy', TRUST_PROXY_EXPECTED, option);
  }
  const ranges: IpRange[] = [];
  for (const { text, field } of items) {
    if (typeof text !== 'string' || text === '') {
      throw new ConfigError(field, 'an address, a CIDR or a preset', text);
    }
    const preset = Object.hasOwn(TRUST_PROXY_PRESETS, text) ? TRUST_PROXY_PRESETS[text] : undefined;
    for (const notation of preset ?? [text]) {
      const range = parseRange(notation);
      if (range === undefined) {
        throw new ConfigError(
          field,
          `an IP address, a CIDR ("10.0.0.0/8", "2001:db8::/32") or a preset (${Object.keys(TRUST_PROXY_PRESETS).join(', ')})`,
          text,
        );
      }
      ranges.push(range);
    }
  }
  return ranges;
}

function compileIpv6Subnet(option: unknown): number | false {
  if (option === undefined) return DEFAULT_IPV6_SUBNET;
  if (option === false) return false;
  if (typeof option !== 'number') throw new ConfigError('ipv6Subnet', 'an integer prefix length 0..128, or false', option);
  return checkNumber(option, 'ipv6Subnet', { integer: true, min: 0, exclusiveMin: false, max: 128 });
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function compileClientIpHeader(option: unknown, mode: TrustMode): string | undefined {
  if (option === undefined) return undefined;
  if (typeof option !== 'string' || !HEADER_NAME.test(option)) {
    throw new ConfigError('clientIpHeader', 'a header name such as "cf-connecting-ip"', option);
  }
  const name = option.toLowerCase();
  if (LIST_HEADERS.has(name)) {
    throw new ConfigError('clientIpHeader', 'a single-value header (X-Forwarded-For and Forwarded are walked through trustProxy)', option);
  }
  if (mode.kind !== 'walk') {
    throw new ConfigError(
      'clientIpHeader',
      'a trustProxy that trusts the peer which sets the header (it is read only from a trusted socket peer)',
      option,
    );
  }
  return name;
}
