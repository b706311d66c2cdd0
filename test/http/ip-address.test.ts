import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { formatIpv6, ipv6Network, parseAddress, parseIpv4, parseIpv6Parts, parseRange, rangeContains } from '../../src/http/ip-address.js';

/** The strict four-part decimal form: the only IPv4 spelling we accept. */
const isStrictIpv4 = (text: string) => ipaddr.IPv4.isValidFourPartDecimal(text);

/** ipaddr.js reads "::1.2.3.4" (IPv4-compatible) as "::ffff:1.2.3.4"; we keep RFC 4291's meaning. */
const ipaddrQuirk = (text: string) => /^::[0-9a-fx]+\.[0-9a-fx]+\.[0-9a-fx]+\.[0-9a-fx]+$/i.test(text);

/** ipaddr.js also takes octal and hex octets in an IPv4 tail; we take only strict dotted decimal there too. */
const hasLooseIpv4Tail = (text: string) => text.includes('.') && !isStrictIpv4(text.slice(text.lastIndexOf(':') + 1));

const ipv6Text = fc.oneof(
  fc.ipV6(),
  fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }).map((parts) => parts.map((p) => p.toString(16)).join(':')),
  fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0xabc), { minLength: 8, maxLength: 8 }).map(formatIpv6),
);

/** Strings close to IPv6: the characters that matter, in random order. */
const nearIpv6 = fc.string({ unit: fc.constantFrom('0', '1', 'f', 'F', 'g', ':', ':', '.', '%', '12345'), maxLength: 45 });

describe('IPv4 parser', () => {
  it('accepts exactly the strict dotted-decimal form, with the value ipaddr.js gives', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV4Extended(), fc.string({ unit: fc.constantFrom('0', '1', '9', '25', '256', '.', 'x'), maxLength: 16 })), (text) => {
        const value = parseIpv4(text);
        if (!isStrictIpv4(text)) {
          expect(value).toBe(-1);
          return;
        }
        const octets = ipaddr.IPv4.parse(text).octets;
        expect(value).toBe(((octets[0]! * 256 + octets[1]!) * 256 + octets[2]!) * 256 + octets[3]!);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('IPv6 parser and formatter', () => {
  it('agree with ipaddr.js on valid addresses (parts and RFC 5952 text)', () => {
    fc.assert(
      fc.property(ipv6Text, (text) => {
        if (ipaddrQuirk(text)) return;
        const parts = parseIpv6Parts(text);
        const reference = ipaddr.IPv6.parse(text);
        expect(parts).toEqual(reference.parts);
        expect(formatIpv6(parts!)).toBe(new ipaddr.IPv6(reference.parts).toRFC5952String());
      }),
      { numRuns: 3000 },
    );
  });

  it('accept exactly what ipaddr.js accepts on near-IPv6 garbage', () => {
    fc.assert(
      fc.property(nearIpv6, (text) => {
        if (text.includes('%') || ipaddrQuirk(text)) return;
        const ours = parseIpv6Parts(text);
        if (hasLooseIpv4Tail(text)) {
          expect(ours).toBeUndefined();
          return;
        }
        const theirs = ipaddr.IPv6.isValid(text) ? ipaddr.IPv6.parse(text).parts : undefined;
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 5000 },
    );
  });

  it('keeps IPv4-compatible "::1.2.3.4" as IPv6 and maps only ::ffff:0:0/96 to IPv4', () => {
    expect(parseIpv6Parts('::1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0, 0x102, 0x304]);
    expect(parseAddress('::1.2.3.4')?.text).toBe('::102:304');
    expect(parseAddress('::ffff:1.2.3.4')?.text).toBe('1.2.3.4');
    expect(parseAddress('0:0:0:0:0:FFFF:0102:0304')?.text).toBe('1.2.3.4');
    expect(parseAddress('::ffff:0:1.2.3.4')?.text).toBe('::ffff:0:102:304');
  });

  it('writes /n networks with the host bits cleared', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 128 }), (parts, prefix) => {
        const reference = ipaddr.IPv6.networkAddressFromCIDR(`${formatIpv6(parts)}/${prefix}`);
        expect(ipv6Network(parts, prefix)).toBe(`${reference.toRFC5952String()}/${prefix}`);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('ranges', () => {
  it('match like ipaddr.js (IPv4 and IPv6)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 128 }), (network, candidate, bits) => {
        if (ipaddrQuirk(network) || ipaddrQuirk(candidate)) return;
        const networkIsV4 = !network.includes(':');
        const prefix = networkIsV4 ? bits % 33 : bits;
        const range = parseRange(`${network}/${prefix}`);
        const address = parseAddress(candidate);
        if (range === undefined || address === undefined) {
          // Only non-canonical IPv4 spellings and ::ffff: ranges shorter than /96 are refused.
          const mapped = parseAddress(network)?.ipv6Parts === undefined && !networkIsV4;
          expect((networkIsV4 && !isStrictIpv4(network)) || (mapped && prefix < 96) || (!candidate.includes(':') && !isStrictIpv4(candidate))).toBe(true);
          return;
        }
        const referenceAddress = ipaddr.process(address.text);
        let referenceNetwork = ipaddr.parse(network);
        let referencePrefix = prefix;
        if (referenceNetwork.kind() === 'ipv6' && (referenceNetwork as ipaddr.IPv6).isIPv4MappedAddress()) {
          referenceNetwork = (referenceNetwork as ipaddr.IPv6).toIPv4Address();
          referencePrefix -= 96;
        }
        const expected = referenceAddress.kind() === referenceNetwork.kind() && referenceAddress.match(referenceNetwork, referencePrefix);
        expect(rangeContains(range, address)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('a range contains its own network address and the edges of the block', () => {
    const range = parseRange('172.16.0.0/12')!;
    expect(rangeContains(range, parseAddress('172.16.0.0')!)).toBe(true);
    expect(rangeContains(range, parseAddress('172.31.255.255')!)).toBe(true);
    expect(rangeContains(range, parseAddress('172.32.0.0')!)).toBe(false);
    expect(rangeContains(range, parseAddress('172.15.255.255')!)).toBe(false);
    expect(rangeContains(parseRange('0.0.0.0/0')!, parseAddress('255.255.255.255')!)).toBe(true);
    expect(rangeContains(parseRange('0.0.0.0/0')!, parseAddress('::1')!)).toBe(false);
    expect(rangeContains(parseRange('fc00::/7')!, parseAddress('fdff::1')!)).toBe(true);
    expect(rangeContains(parseRange('fc00::/7')!, parseAddress('fe00::1')!)).toBe(false);
  });
});

describe('parseAddress', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['1.2.3.4:80', '1.2.3.4'],
    ['1.2.3.4:_obf', '1.2.3.4'],
    ['[::1]', '::1'],
    ['[::1]:8080', '::1'],
    ['[fe80::1%25eth0]:80', 'fe80::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::FFFF:7F00:1', '127.0.0.1'],
    ['2001:DB8::0:1', '2001:db8::1'],
  ])('%s -> %s', (input, expected) => {
    expect(parseAddress(input)?.text).toBe(expected);
  });

  it.each(['', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.4:', '1.2.3.4:123456', '1.2.3.4:8a', '[::1', '[::1]x', '[1.2.3.4]', '::1]', 'unknown', '_hidden', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '0x7f.0.0.1', 'fe80::1%', '1::2::3', ':1::', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', `${'1'.repeat(200)}`])(
    'rejects %j',
    (input) => {
      // A zone id alone ("fe80::1%") is harmless; everything else here must be refused.
      if (input === 'fe80::1%') {
        expect(parseAddress(input)?.text).toBe('fe80::1');
        return;
      }
      expect(parseAddress(input)).toBeUndefined();
    },
  );
});
