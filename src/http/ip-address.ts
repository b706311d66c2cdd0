/**
 * Parsing, normalising, masking and range-matching of IP addresses for the client IP resolver: a strict fast path
 * for dotted IPv4, ipaddr.js for IPv6. Every parser here is linear in its (capped) input and never throws.
 */
import ipaddr from 'ipaddr.js';

/** A parsed, normalised address. IPv4-mapped IPv6 is always turned into IPv4; zone ids are dropped. */
export interface IpAddress {
  /** Canonical text: dotted-decimal IPv4, or RFC 5952 compressed IPv6 without a zone id. */
  readonly text: string;
  /** The IPv4 address as an unsigned 32-bit number, or -1 for IPv6. */
  readonly ipv4: number;
  /** The IPv6 address as eight 16-bit parts; undefined for IPv4. */
  readonly ipv6Parts: readonly number[] | undefined;
}

/** A compiled CIDR range; the network part is stored already masked. */
export type IpRange =
  | { readonly family: 4; readonly network: number; readonly mask: number; readonly notation: string }
  | { readonly family: 6; readonly parts: readonly number[]; readonly prefix: number; readonly notation: string };

/** Longer than any address with a port and a sane zone id: such input is refused before any parsing. */
export const MAX_ADDRESS_CHARS = 100;

/**
 * Strict dotted-decimal IPv4 ("1.2.3.4"; no leading zeros, no short or hex forms) as an unsigned 32-bit number,
 * or -1. Strictness means one address has one spelling, so an attacker cannot mint many keys from one address.
 */
export function parseIpv4(text: string): number {
  const length = text.length;
  if (length < 7 || length > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === 46 /* . */) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57) {
      if (digits === 1 && octet === 0) return -1;
      octet = octet * 10 + (code - 48);
      digits++;
      if (octet > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

const ipv4FromNumber = (value: number, text?: string): IpAddress => ({
  text: text ?? `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`,
  ipv4: value,
  ipv6Parts: undefined,
});

/** Only hex digits, ':' and '.' can appear in an IPv6 address once the zone id is gone. */
function hasOnlyIpv6Characters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const ok =
      (code >= 48 && code <= 58) /* 0-9 : */ ||
      code === 46 ||
      (code >= 65 && code <= 70) /* A-F */ ||
      (code >= 97 && code <= 102); /* a-f */
    if (!ok) return false;
  }
  return true;
}

/** IPv6 text (optionally with a zone id, no brackets, no port); IPv4-mapped addresses come back as IPv4. */
export function parseIpv6(text: string): IpAddress | undefined {
  const zoneAt = text.indexOf('%');
  const bare = zoneAt === -1 ? text : text.slice(0, zoneAt);
  if (bare.length < 2 || bare.length > 45 || !hasOnlyIpv6Characters(bare)) return undefined;
  let parsed: ipaddr.IPv6;
  try {
    parsed = ipaddr.IPv6.parse(bare);
  } catch {
    return undefined;
  }
  if (parsed.isIPv4MappedAddress()) {
    const [a, b, c, d] = parsed.toIPv4Address().octets as [number, number, number, number];
    return ipv4FromNumber(((a << 24) >>> 0) + (b << 16) + (c << 8) + d);
  }
  return { text: parsed.toRFC5952String(), ipv4: -1, ipv6Parts: parsed.parts };
}

/** True when `text` from `from` on is empty or a port: ":" then 1-5 digits, or an RFC 7239 obfuscated "_port". */
function isPortSuffix(text: string, from: number): boolean {
  if (from === text.length) return true;
  if (text.charCodeAt(from) !== 58 /* : */) return false;
  const port = text.slice(from + 1);
  if (port.length === 0 || port.length > 64) return false;
  if (port.charCodeAt(0) === 95 /* _ */) return /^_[A-Za-z0-9._-]+$/.test(port);
  return port.length <= 5 && /^[0-9]+$/.test(port);
}

const MAPPED_PREFIX = '::ffff:';

/**
 * One address as a socket or a forwarding header gives it: "1.2.3.4", "1.2.3.4:5678", "2001:db8::1",
 * "[2001:db8::1]", "[2001:db8::1]:443", "fe80::1%eth0", "::ffff:1.2.3.4", "::ffff:7f00:1". Surrounding whitespace
 * must already be trimmed. Anything else (names, "unknown", obfuscated ids, garbage) gives undefined.
 */
export function parseAddress(raw: string): IpAddress | undefined {
  const length = raw.length;
  if (length === 0 || length > MAX_ADDRESS_CHARS) return undefined;
  const ipv4 = parseIpv4(raw);
  if (ipv4 >= 0) return ipv4FromNumber(ipv4, raw);
  // The usual socket address on a dual-stack server: skip ipaddr.js for it.
  if (length > 7 && raw.slice(0, 7).toLowerCase() === MAPPED_PREFIX) {
    const mapped = parseIpv4(raw.slice(7));
    if (mapped >= 0) return ipv4FromNumber(mapped, raw.slice(7));
  }
  if (raw.charCodeAt(0) === 91 /* [ */) {
    const close = raw.indexOf(']');
    if (close === -1 || !isPortSuffix(raw, close + 1)) return undefined;
    return parseIpv6(raw.slice(1, close));
  }
  const firstColon = raw.indexOf(':');
  if (firstColon === -1) return undefined;
  if (raw.indexOf(':', firstColon + 1) === -1) {
    // Exactly one colon: IPv4 with a port.
    if (!isPortSuffix(raw, firstColon)) return undefined;
    const host = raw.slice(0, firstColon);
    const value = parseIpv4(host);
    return value >= 0 ? ipv4FromNumber(value, host) : undefined;
  }
  return parseIpv6(raw);
}

/** The /prefix network of an IPv6 address, written "2001:db8:1200::/56". */
export function ipv6Network(parts: readonly number[], prefix: number): string {
  const masked = new Array<number>(8);
  for (let i = 0; i < 8; i++) {
    const bits = Math.min(16, Math.max(0, prefix - i * 16));
    masked[i] = bits === 0 ? 0 : (parts[i]! & (0xffff << (16 - bits))) & 0xffff;
  }
  return `${new ipaddr.IPv6(masked).toRFC5952String()}/${prefix}`;
}

const ipv4Mask = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/**
 * "10.0.0.0/8", "10.0.0.0/255.0.0.0", "2001:db8::/32", a single address (a /32 or /128), or an IPv4-mapped range
 * "::ffff:10.0.0.0/104" (stored as IPv4, since mapped addresses are matched as IPv4). Undefined when invalid.
 */
export function parseRange(notation: string): IpRange | undefined {
  const slash = notation.lastIndexOf('/');
  const addressText = slash === -1 ? notation : notation.slice(0, slash);
  const prefixText = slash === -1 ? undefined : notation.slice(slash + 1);
  const address = addressText.includes(':') ? parseIpv6(addressText) : parseAddressStrictIpv4(addressText);
  if (address === undefined || addressText.includes('%')) return undefined;
  const writtenAsIpv6 = addressText.includes(':');
  const maxPrefix = writtenAsIpv6 ? 128 : 32;
  let prefix: number;
  if (prefixText === undefined) {
    prefix = maxPrefix;
  } else if (/^[0-9]{1,3}$/.test(prefixText)) {
    prefix = Number(prefixText);
  } else if (!writtenAsIpv6 && parseIpv4(prefixText) >= 0) {
    const fromMask = ipaddr.IPv4.parse(prefixText).prefixLengthFromSubnetMask();
    if (fromMask === null) return undefined;
    prefix = fromMask;
  } else {
    return undefined;
  }
  if (prefix > maxPrefix) return undefined;
  if (address.ipv6Parts === undefined) {
    if (writtenAsIpv6) {
      // An IPv4-mapped range: only meaningful when the prefix covers the whole ::ffff:0:0/96 part.
      if (prefix < 96) return undefined;
      prefix -= 96;
    }
    const mask = ipv4Mask(prefix);
    return { family: 4, network: (address.ipv4 & mask) >>> 0, mask, notation };
  }
  return { family: 6, parts: address.ipv6Parts, prefix, notation };
}

function parseAddressStrictIpv4(text: string): IpAddress | undefined {
  const value = parseIpv4(text);
  return value >= 0 ? ipv4FromNumber(value, text) : undefined;
}

export function rangeContains(range: IpRange, address: IpAddress): boolean {
  if (range.family === 4) return address.ipv4 >= 0 && ((address.ipv4 & range.mask) >>> 0) === range.network;
  const parts = address.ipv6Parts;
  if (parts === undefined) return false;
  let remaining = range.prefix;
  for (let i = 0; i < 8 && remaining > 0; i++, remaining -= 16) {
    const bits = remaining >= 16 ? 16 : remaining;
    const mask = (0xffff << (16 - bits)) & 0xffff;
    if ((parts[i]! & mask) !== (range.parts[i]! & mask)) return false;
  }
  return true;
}
