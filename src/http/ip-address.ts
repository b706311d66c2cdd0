/**
 * Parsing, normalising, masking and range-matching of IP addresses for the client IP resolver. The per-request
 * parsers are hand-written and strict (one spelling per address); ipaddr.js is the reference they are tested
 * against and parses netmasks in configuration. Every parser here is linear in its (capped) input and never throws.
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

function hexDigitValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/**
 * RFC 4291 text (groups of 1-4 hex digits, at most one "::", an optional dotted IPv4 tail) as eight 16-bit parts,
 * or undefined. Hand-written because it runs per request: ipaddr.js takes ~1.5 µs per address, this ~0.1 µs;
 * test/http/ip-address.test.ts checks it against ipaddr.js on random input.
 */
export function parseIpv6Parts(text: string): number[] | undefined {
  const length = text.length;
  if (length < 2 || length > 45) return undefined;
  const parts: number[] = [];
  let compressAt = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58 /* : */) {
    if (text.charCodeAt(1) !== 58) return undefined;
    compressAt = 0;
    i = 2;
  }
  while (i < length) {
    if (parts.length === 8) return undefined;
    let j = i;
    let value = 0;
    for (let digit = hexDigitValue(text.charCodeAt(j)); digit >= 0 && j - i < 5; digit = hexDigitValue(text.charCodeAt(++j))) {
      value = value * 16 + digit;
    }
    if (j < length && text.charCodeAt(j) === 46 /* . */) {
      // A dotted IPv4 tail takes the last two groups and ends the address.
      const ipv4 = parts.length <= 6 ? parseIpv4(text.slice(i)) : -1;
      if (ipv4 < 0) return undefined;
      parts.push(Math.floor(ipv4 / 65536), ipv4 % 65536);
      break;
    }
    if (j === i || j - i > 4) return undefined;
    parts.push(value);
    if (j === length) break;
    if (text.charCodeAt(j) !== 58) return undefined;
    if (text.charCodeAt(j + 1) === 58) {
      if (compressAt !== -1) return undefined;
      compressAt = parts.length;
      i = j + 2;
    } else {
      if (j + 1 === length) return undefined;
      i = j + 1;
    }
  }
  if (compressAt === -1) return parts.length === 8 ? parts : undefined;
  if (parts.length > 7) return undefined;
  const zeros = new Array<number>(8 - parts.length).fill(0);
  parts.splice(compressAt, 0, ...zeros);
  return parts;
}

/** RFC 5952 text: lower-case, no leading zeros, the longest (first on a tie) run of 2+ zero groups as "::". */
export function formatIpv6(parts: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += i === 0 ? '::' : ':';
      i += bestLength - 1;
      continue;
    }
    text += parts[i]!.toString(16);
    if (i < 7) text += ':';
  }
  return text;
}

/** IPv6 text (optionally with a zone id, no brackets, no port); IPv4-mapped addresses come back as IPv4. */
export function parseIpv6(text: string): IpAddress | undefined {
  const zoneAt = text.indexOf('%');
  const parts = parseIpv6Parts(zoneAt === -1 ? text : text.slice(0, zoneAt));
  if (parts === undefined) return undefined;
  if (parts[0] === 0 && parts[1] === 0 && parts[2] === 0 && parts[3] === 0 && parts[4] === 0 && parts[5] === 0xffff) {
    return ipv4FromNumber(parts[6]! * 65536 + parts[7]!);
  }
  return new Ipv6Address(parts);
}

/** An IPv6 address whose text is formatted only when asked for (key() usually needs only the network's text). */
class Ipv6Address implements IpAddress {
  readonly ipv4 = -1;
  #text: string | undefined;

  constructor(readonly ipv6Parts: readonly number[]) {}

  get text(): string {
    return (this.#text ??= formatIpv6(this.ipv6Parts));
  }
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
  return `${formatIpv6(masked)}/${prefix}`;
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
