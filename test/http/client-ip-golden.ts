/**
 * The client IP golden table: (socket address, headers, options) -> expected rate-limit key. Framework-free data,
 * run against the resolver in client-ip.test.ts and through every framework adapter by the adapter suite.
 * docs/proxies.md renders it as a table.
 */
import type { ClientIpOptions } from '../../src/http/facts.js';

export interface ClientIpGoldenRow {
  name: string;
  /** The peer address as the socket reports it. */
  socketAddress: string;
  /** Request headers, lower-case names. */
  headers: Record<string, string>;
  options: ClientIpOptions;
  expectedKey: string;
}

const CLIENT = '203.0.113.7';
const SPOOF = '198.51.100.1';

/** 150 distinct addresses, so the hop cap (100 from the right) is what stops the walk. */
const longTrustedChain = Array.from({ length: 150 }, (_, i) => `192.0.2.${i}`).join(', ');

export const clientIpGoldenRows: ClientIpGoldenRow[] = [
  // --- No proxy trusted (the default): the socket address is the client, headers never count.
  { name: 'direct IPv4 client', socketAddress: CLIENT, headers: {}, options: {}, expectedKey: CLIENT },
  { name: 'spoofed XFF from an untrusted peer is ignored (default)', socketAddress: CLIENT, headers: { 'x-forwarded-for': SPOOF }, options: {}, expectedKey: CLIENT },
  { name: 'spoofed Forwarded from an untrusted peer is ignored (default)', socketAddress: CLIENT, headers: { forwarded: `for=${SPOOF}` }, options: {}, expectedKey: CLIENT },
  { name: 'trustProxy false ignores XFF even from loopback', socketAddress: '127.0.0.1', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: false }, expectedKey: '127.0.0.1' },
  { name: 'trustProxy 0 is the same as false', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: 0 }, expectedKey: '10.0.0.1' },
  { name: "spoofed XFF from a peer outside 'loopback' is ignored", socketAddress: '198.51.100.9', headers: { 'x-forwarded-for': `${SPOOF}, 127.0.0.1` }, options: { trustProxy: 'loopback' }, expectedKey: '198.51.100.9' },
  { name: 'spoofed XFF from a peer outside the CIDR is ignored', socketAddress: '11.0.0.1', headers: { 'x-forwarded-for': SPOOF }, options: { trustProxy: '10.0.0.0/8' }, expectedKey: '11.0.0.1' },

  // --- Socket address normalisation.
  { name: 'IPv4-mapped socket address (dotted) becomes IPv4', socketAddress: '::ffff:203.0.113.7', headers: {}, options: {}, expectedKey: CLIENT },
  { name: 'IPv4-mapped socket address (hex) becomes IPv4', socketAddress: '::ffff:cb00:7107', headers: {}, options: {}, expectedKey: CLIENT },
  { name: 'IPv4-mapped socket address (upper case) becomes IPv4', socketAddress: '::FFFF:203.0.113.7', headers: {}, options: {}, expectedKey: CLIENT },
  { name: 'IPv6 client keyed by its /56 (default)', socketAddress: '2001:db8:abcd:12ff:1:2:3:4', headers: {}, options: {}, expectedKey: '2001:db8:abcd:1200::/56' },
  { name: 'IPv6 neighbour in the same /56 shares the key', socketAddress: '2001:db8:abcd:1234::99', headers: {}, options: {}, expectedKey: '2001:db8:abcd:1200::/56' },
  { name: 'IPv6 with ipv6Subnet false keeps the full address', socketAddress: '2001:db8:abcd:12ff:1:2:3:4', headers: {}, options: { ipv6Subnet: false }, expectedKey: '2001:db8:abcd:12ff:1:2:3:4' },
  { name: 'IPv6 with ipv6Subnet 64', socketAddress: '2001:db8:abcd:12ff:1:2:3:4', headers: {}, options: { ipv6Subnet: 64 }, expectedKey: '2001:db8:abcd:12ff::/64' },
  { name: 'IPv6 with ipv6Subnet 48', socketAddress: '2001:db8:abcd:12ff:1:2:3:4', headers: {}, options: { ipv6Subnet: 48 }, expectedKey: '2001:db8:abcd::/48' },
  { name: 'IPv6 with ipv6Subnet 128 keeps the prefix notation', socketAddress: '2001:db8:abcd:12ff:1:2:3:4', headers: {}, options: { ipv6Subnet: 128 }, expectedKey: '2001:db8:abcd:12ff:1:2:3:4/128' },
  { name: 'uncompressed upper-case IPv6 is written canonically', socketAddress: '2001:0DB8:0000:0000:0000:0000:0000:0001', headers: {}, options: { ipv6Subnet: false }, expectedKey: '2001:db8::1' },
  { name: 'zone id stripped from a link-local socket address', socketAddress: 'fe80::1%eth0', headers: {}, options: { ipv6Subnet: false }, expectedKey: 'fe80::1' },
  { name: 'zone id stripped, then keyed by /56', socketAddress: 'fe80::1:2:3:4%en0', headers: {}, options: {}, expectedKey: 'fe80::/56' },
  { name: 'IPv6 loopback keyed by /56', socketAddress: '::1', headers: {}, options: {}, expectedKey: '::/56' },

  // --- Hop counts: the socket peer is hop 1; the client is the first address left of the trusted hops.
  { name: 'trustProxy 1: the right-most XFF entry is the client', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: 1 }, expectedKey: CLIENT },
  { name: 'trustProxy 1: entries the client prepended are ignored', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': `${SPOOF}, ${CLIENT}` }, options: { trustProxy: 1 }, expectedKey: CLIENT },
  { name: 'trustProxy 2: two proxies, spoofed entry ignored', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': `${SPOOF}, ${CLIENT}, 10.0.0.2` }, options: { trustProxy: 2 }, expectedKey: CLIENT },
  { name: 'trustProxy 3 with a shorter chain: the left-most entry', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: 3 }, expectedKey: CLIENT },
  { name: 'trustProxy 1 without any forwarding header: the socket', socketAddress: '10.0.0.1', headers: {}, options: { trustProxy: 1 }, expectedKey: '10.0.0.1' },
  { name: 'trustProxy 1: XFF entry with an IPv4 port', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': `${CLIENT}:5678` }, options: { trustProxy: 1 }, expectedKey: CLIENT },
  { name: 'trustProxy 1: XFF entry bracketed IPv6 with port', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '[2001:db8::1]:443' }, options: { trustProxy: 1, ipv6Subnet: false }, expectedKey: '2001:db8::1' },
  { name: 'trustProxy 1: XFF entry IPv4-mapped (dotted)', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '::ffff:203.0.113.7' }, options: { trustProxy: 1 }, expectedKey: CLIENT },
  { name: 'trustProxy 1: XFF entry IPv4-mapped (hex)', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '::ffff:cb00:7107' }, options: { trustProxy: 1 }, expectedKey: CLIENT },
  { name: 'trustProxy 1: XFF entry with a zone id', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': 'fe80::abcd%25eth0' }, options: { trustProxy: 1, ipv6Subnet: false }, expectedKey: 'fe80::abcd' },
  { name: 'trustProxy 1: XFF IPv6 client keyed by /56', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '2001:db8:1234:5678::1' }, options: { trustProxy: 1 }, expectedKey: '2001:db8:1234:5600::/56' },
  { name: 'trustProxy 2: empty entries and whitespace are skipped', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': ` ${CLIENT} ,, \t10.0.0.2 , ` }, options: { trustProxy: 2 }, expectedKey: CLIENT },

  // --- Addresses and CIDRs.
  { name: 'CIDR: chain through 10/8 proxies', socketAddress: '10.1.2.3', headers: { 'x-forwarded-for': `${SPOOF}, ${CLIENT}, 10.0.0.5` }, options: { trustProxy: '10.0.0.0/8' }, expectedKey: CLIENT },
  { name: 'CIDR list: two internal networks', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': `${SPOOF}, ${CLIENT}, 192.168.1.1` }, options: { trustProxy: ['10.0.0.0/8', '192.168.0.0/16'] }, expectedKey: CLIENT },
  { name: 'CIDR with a dotted netmask', socketAddress: '10.9.9.9', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: '10.0.0.0/255.0.0.0' }, expectedKey: CLIENT },
  { name: 'a single trusted address', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': `${SPOOF}, ${CLIENT}` }, options: { trustProxy: '10.0.0.1' }, expectedKey: CLIENT },
  { name: 'a single trusted address does not trust its neighbour', socketAddress: '10.0.0.2', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: '10.0.0.1' }, expectedKey: '10.0.0.2' },
  { name: 'IPv6 CIDR of the proxies, IPv6 client', socketAddress: '2001:db8:ffff::1', headers: { 'x-forwarded-for': '2001:db8:1234:5678::1' }, options: { trustProxy: '2001:db8:ffff::/48' }, expectedKey: '2001:db8:1234:5600::/56' },
  { name: 'IPv4 CIDR trusts an IPv4-mapped socket address', socketAddress: '::ffff:10.0.0.1', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: '10.0.0.0/8' }, expectedKey: CLIENT },
  { name: 'IPv4-mapped CIDR notation is matched as IPv4', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: '::ffff:10.0.0.0/104' }, expectedKey: CLIENT },
  { name: 'comma-separated string of presets and CIDRs', socketAddress: '127.0.0.1', headers: { 'x-forwarded-for': `${CLIENT}, 10.2.3.4` }, options: { trustProxy: 'loopback, 10.0.0.0/8' }, expectedKey: CLIENT },

  // --- Presets (proxy-addr's meanings).
  { name: "'loopback': a chain of loopback proxies", socketAddress: '127.0.0.1', headers: { 'x-forwarded-for': `${SPOOF}, ${CLIENT}, 127.0.0.2, ::1` }, options: { trustProxy: 'loopback' }, expectedKey: CLIENT },
  { name: "'loopback' trusts the dotted IPv4-mapped loopback socket", socketAddress: '::ffff:127.0.0.1', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: 'loopback' }, expectedKey: CLIENT },
  { name: "'loopback' trusts the hex IPv4-mapped loopback socket", socketAddress: '::ffff:7f00:1', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: 'loopback' }, expectedKey: CLIENT },
  { name: "'loopback' trusts ::1", socketAddress: '::1', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: 'loopback' }, expectedKey: CLIENT },
  { name: "'private': RFC 1918 proxies", socketAddress: '172.16.5.4', headers: { 'x-forwarded-for': `${CLIENT}, 192.168.0.10` }, options: { trustProxy: 'private' }, expectedKey: CLIENT },
  { name: "'private' stops at 172.16/12's edge", socketAddress: '172.32.0.1', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: 'private' }, expectedKey: '172.32.0.1' },
  { name: "'private' does not include loopback", socketAddress: '127.0.0.1', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: 'private' }, expectedKey: '127.0.0.1' },
  { name: "'uniquelocal': an fc00::/7 proxy", socketAddress: 'fd12:3456::1', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: 'uniquelocal' }, expectedKey: CLIENT },
  { name: "'linklocal': a 169.254/16 proxy", socketAddress: '169.254.1.1', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: 'linklocal' }, expectedKey: CLIENT },
  { name: "'linklocal': an fe80::/10 proxy with a zone id", socketAddress: 'fe80::1%eth0', headers: { 'x-forwarded-for': '2001:db8::1' }, options: { trustProxy: 'linklocal' }, expectedKey: '2001:db8::/56' },
  { name: 'preset list', socketAddress: '127.0.0.1', headers: { 'x-forwarded-for': `${CLIENT}, 10.2.3.4` }, options: { trustProxy: ['loopback', 'private'] }, expectedKey: CLIENT },

  // --- trustProxy true: every hop trusted, the left-most entry wins (spoofable: see docs/proxies.md).
  { name: 'trustProxy true takes the left-most entry (spoofable!)', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': `${SPOOF}, ${CLIENT}` }, options: { trustProxy: true }, expectedKey: SPOOF },

  // --- RFC 7239 Forwarded.
  { name: 'Forwarded for= behind loopback', socketAddress: '127.0.0.1', headers: { forwarded: `for=${CLIENT};proto=https` }, options: { trustProxy: 'loopback' }, expectedKey: CLIENT },
  { name: 'Forwarded quoted IPv6 with port', socketAddress: '127.0.0.1', headers: { forwarded: 'for="[2001:db8:cafe::17]:4711"' }, options: { trustProxy: 'loopback' }, expectedKey: '2001:db8:cafe::/56' },
  { name: 'Forwarded quoted IPv6 without port', socketAddress: '127.0.0.1', headers: { forwarded: 'for="[2001:db8:cafe::17]"' }, options: { trustProxy: 'loopback', ipv6Subnet: false }, expectedKey: '2001:db8:cafe::17' },
  { name: 'Forwarded quoted IPv4 with port', socketAddress: '127.0.0.1', headers: { forwarded: `for="${CLIENT}:8080"` }, options: { trustProxy: 'loopback' }, expectedKey: CLIENT },
  { name: 'Forwarded chain of elements', socketAddress: '127.0.0.1', headers: { forwarded: `for=${SPOOF}, for=${CLIENT};proto=http, for=127.0.0.5;by=127.0.0.1` }, options: { trustProxy: 'loopback' }, expectedKey: CLIENT },
  { name: 'Forwarded parameter names are case-insensitive', socketAddress: '127.0.0.1', headers: { forwarded: `proto=https;For=${CLIENT}` }, options: { trustProxy: 'loopback' }, expectedKey: CLIENT },
  { name: 'Forwarded obfuscated id ends the walk at the last trusted hop', socketAddress: '127.0.0.1', headers: { forwarded: `for=${SPOOF}, for=_hidden` }, options: { trustProxy: 'loopback' }, expectedKey: '127.0.0.1' },
  { name: 'Forwarded "unknown" ends the walk at the last trusted hop', socketAddress: '127.0.0.1', headers: { forwarded: 'for=unknown' }, options: { trustProxy: 'loopback' }, expectedKey: '127.0.0.1' },
  { name: 'Forwarded obfuscated port is accepted', socketAddress: '127.0.0.1', headers: { forwarded: `for="${CLIENT}:_p1"` }, options: { trustProxy: 'loopback' }, expectedKey: CLIENT },
  { name: "a client's unterminated quote cannot swallow the proxy's element", socketAddress: '127.0.0.1', headers: { forwarded: `for="${SPOOF}, for=${CLIENT}` }, options: { trustProxy: 'loopback' }, expectedKey: CLIENT },
  { name: 'Forwarded quoted comma inside another parameter', socketAddress: '127.0.0.1', headers: { forwarded: `for=${CLIENT};ext="a,b"` }, options: { trustProxy: 'loopback' }, expectedKey: CLIENT },
  { name: 'Forwarded element without for= ends the walk', socketAddress: '127.0.0.1', headers: { forwarded: `for=${SPOOF}, proto=https` }, options: { trustProxy: 'loopback' }, expectedKey: '127.0.0.1' },
  { name: 'X-Forwarded-For takes precedence over Forwarded', socketAddress: '127.0.0.1', headers: { 'x-forwarded-for': CLIENT, forwarded: `for=${SPOOF}` }, options: { trustProxy: 'loopback' }, expectedKey: CLIENT },

  // --- Garbage hops end the walk at the last trusted address; they never become the key.
  { name: 'garbage right of the client ends the walk at the socket', socketAddress: '127.0.0.1', headers: { 'x-forwarded-for': `${CLIENT}, garbage` }, options: { trustProxy: 'loopback' }, expectedKey: '127.0.0.1' },
  { name: 'garbage after a trusted hop ends at that hop', socketAddress: '127.0.0.1', headers: { 'x-forwarded-for': 'garbage, 127.0.0.2' }, options: { trustProxy: 'loopback' }, expectedKey: '127.0.0.2' },
  { name: 'trustProxy true with a garbage entry', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': 'not-an-ip' }, options: { trustProxy: true }, expectedKey: '10.0.0.1' },
  { name: 'leading-zero IPv4 is not an address', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '010.0.0.1' }, options: { trustProxy: 1 }, expectedKey: '10.0.0.1' },
  { name: 'short-form IPv4 is not an address', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '127.1' }, options: { trustProxy: 1 }, expectedKey: '10.0.0.1' },
  { name: 'a host name is not an address', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': 'proxy.example.com' }, options: { trustProxy: 1 }, expectedKey: '10.0.0.1' },

  // --- Oversized headers: only the right-most 8 KiB and 100 hops are read.
  { name: '100 kB of garbage on the left does not hide the client', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': `${'x'.repeat(100_000)}, ${CLIENT}` }, options: { trustProxy: 1 }, expectedKey: CLIENT },
  { name: 'an entry cut by the 8 KiB window is dropped, not read in part', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': `${'1'.repeat(9000)}, 192.0.2.1` }, options: { trustProxy: true }, expectedKey: '192.0.2.1' },
  { name: 'a 150-hop trusted chain stops at the 100th hop', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': longTrustedChain }, options: { trustProxy: true }, expectedKey: '192.0.2.50' },
  { name: 'a 5000-character entry is garbage', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '1'.repeat(5000) }, options: { trustProxy: 1 }, expectedKey: '10.0.0.1' },
  { name: 'oversized Forwarded: the proxy element is still read', socketAddress: '127.0.0.1', headers: { forwarded: `for="${'['.repeat(20_000)}, for=${CLIENT}` }, options: { trustProxy: 'loopback' }, expectedKey: CLIENT },

  // --- Single-value headers from a trusted edge (clientIpHeader).
  { name: 'CF-Connecting-IP from a trusted peer', socketAddress: '127.0.0.1', headers: { 'cf-connecting-ip': CLIENT, 'x-forwarded-for': SPOOF }, options: { trustProxy: 'loopback', clientIpHeader: 'cf-connecting-ip' }, expectedKey: CLIENT },
  { name: 'CF-Connecting-IP from an untrusted peer is ignored', socketAddress: '198.51.100.9', headers: { 'cf-connecting-ip': SPOOF }, options: { trustProxy: 'loopback', clientIpHeader: 'cf-connecting-ip' }, expectedKey: '198.51.100.9' },
  { name: 'invalid CF-Connecting-IP falls back to the walk', socketAddress: '127.0.0.1', headers: { 'cf-connecting-ip': 'garbage', 'x-forwarded-for': CLIENT }, options: { trustProxy: 'loopback', clientIpHeader: 'cf-connecting-ip' }, expectedKey: CLIENT },
  { name: 'X-Real-IP (name in mixed case) with an IPv6 client', socketAddress: '10.0.0.1', headers: { 'x-real-ip': '2001:db8::5' }, options: { trustProxy: 1, clientIpHeader: 'X-Real-IP' }, expectedKey: '2001:db8::/56' },
  { name: 'True-Client-IP IPv4-mapped', socketAddress: '10.0.0.1', headers: { 'true-client-ip': '::ffff:203.0.113.7' }, options: { trustProxy: '10.0.0.0/8', clientIpHeader: 'true-client-ip' }, expectedKey: CLIENT },
  { name: 'Fly-Client-IP missing: the walk decides', socketAddress: 'fd00::2', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: 'uniquelocal', clientIpHeader: 'fly-client-ip' }, expectedKey: CLIENT },

  // --- A trust function (address, hop).
  { name: 'trust function by address', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': `${SPOOF}, ${CLIENT}, 10.9.9.9` }, options: { trustProxy: (address) => address.startsWith('10.') }, expectedKey: CLIENT },
  { name: 'trust function by hop (same as 1)', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': `${SPOOF}, ${CLIENT}` }, options: { trustProxy: (_address, hop) => hop === 0 }, expectedKey: CLIENT },
  { name: 'trust function that trusts nothing', socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': CLIENT }, options: { trustProxy: () => false }, expectedKey: '10.0.0.1' },
];
