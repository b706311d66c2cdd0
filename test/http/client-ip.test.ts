import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { ConfigError, createClientIpResolver, type ClientIpOptions, type RequestFacts } from '../../src/index.js';
import { UNEXPECTED_FORWARDING_HEADER_WARNING } from '../../src/http/client-ip.js';
import { clientIpGoldenRows } from './client-ip-golden.js';

/** Synthetic request facts: what an adapter would hand over for this socket address and these headers. */
function facts(socketAddress: string | undefined, headers: Record<string, string> = {}, frameworkIp?: string): RequestFacts {
  const lowerCased = new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return {
    method: 'GET',
    path: '/',
    socketAddress,
    header: (name) => lowerCased.get(name),
    ...(frameworkIp === undefined ? {} : { frameworkIp: () => frameworkIp }),
  };
}

const quiet = (options: ClientIpOptions): ClientIpOptions => ({ warn: () => {}, ...options });

describe('client IP golden table', () => {
  it('has at least 40 rows with distinct names', () => {
    expect(clientIpGoldenRows.length).toBeGreaterThanOrEqual(40);
    expect(new Set(clientIpGoldenRows.map((row) => row.name)).size).toBe(clientIpGoldenRows.length);
  });

  it('is rendered in docs/proxies.md, row by row', () => {
    const docs = readFileSync(new URL('../../docs/proxies.md', import.meta.url), 'utf8');
    clientIpGoldenRows.forEach((row, index) => {
      const line = docs.split('\n').find((text) => text.startsWith(`| ${index + 1} | ${row.name.replace(/\|/g, '\\|')} |`));
      expect(line, row.name).toBeDefined();
      expect(line!.endsWith(`| \`${row.expectedKey}\` |`), row.name).toBe(true);
      expect(line).toContain(`\`${row.socketAddress}\``);
    });
  });

  for (const row of clientIpGoldenRows) {
    it(row.name, () => {
      const resolver = createClientIpResolver(quiet(row.options));
      expect(resolver.key(facts(row.socketAddress, row.headers))).toBe(row.expectedKey);
    });
  }
});

describe('createClientIpResolver', () => {
  it('address() is the normalised address, key() the /56 for IPv6', () => {
    const resolver = createClientIpResolver({ trustProxy: 1 });
    const request = facts('10.0.0.1', { 'x-forwarded-for': '[2001:DB8:0:0:1::9]:80' });
    expect(resolver.address(request)).toBe('2001:db8::1:0:0:9');
    expect(resolver.key(request)).toBe('2001:db8::/56');
    expect(resolver.address(facts('::ffff:7f00:1'))).toBe('127.0.0.1');
  });

  it('keys a request without a socket address as "unknown" and never throws', () => {
    for (const options of [{}, { trustProxy: 'loopback' }, { trustProxy: ['10.0.0.0/8'] }, { trustProxy: () => true }] as ClientIpOptions[]) {
      const resolver = createClientIpResolver(quiet(options));
      expect(resolver.address(facts(undefined, { 'x-forwarded-for': '203.0.113.7' }))).toBeUndefined();
      expect(resolver.key(facts(undefined, { 'x-forwarded-for': '203.0.113.7' }))).toBe('unknown');
      expect(resolver.key(facts(''))).toBe('unknown');
    }
  });

  it('a missing socket address (unix socket) is trusted by position with a hop count, like Express', () => {
    expect(createClientIpResolver({ trustProxy: 1 }).key(facts(undefined, { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' }))).toBe('203.0.113.7');
    expect(createClientIpResolver({ trustProxy: 1 }).key(facts(undefined))).toBe('unknown');
    expect(createClientIpResolver({ trustProxy: 1 }).key(facts(undefined, { 'x-forwarded-for': 'garbage' }))).toBe('unknown');
  });

  it('a socket address that does not parse is no trusted proxy', () => {
    const resolver = createClientIpResolver({ trustProxy: true });
    expect(resolver.key(facts('not-an-address', { 'x-forwarded-for': '203.0.113.7' }))).toBe('unknown');
  });

  it("'framework' uses the framework's own client IP, normalised, else the socket", () => {
    const resolver = createClientIpResolver({ trustProxy: 'framework' });
    expect(resolver.key(facts('127.0.0.1', { 'x-forwarded-for': '198.51.100.1' }, '::ffff:203.0.113.7'))).toBe('203.0.113.7');
    expect(resolver.key(facts('127.0.0.1', {}, '2001:db8:1:2ff::1'))).toBe('2001:db8:1:200::/56');
    expect(resolver.key(facts('127.0.0.1'))).toBe('127.0.0.1');
    expect(resolver.key(facts('127.0.0.1', {}, 'garbage'))).toBe('127.0.0.1');
    expect(resolver.key(facts(undefined, {}, ''))).toBe('unknown');
  });

  it('the trust function sees normalised addresses and hop numbers from 0', () => {
    const seen: [string, number][] = [];
    const resolver = createClientIpResolver({
      trustProxy: (address, hop) => {
        seen.push([address, hop]);
        return hop < 2;
      },
    });
    expect(resolver.key(facts('::ffff:10.0.0.1', { 'x-forwarded-for': '203.0.113.7, [::ffff:7f00:2]:99' }))).toBe('203.0.113.7');
    expect(seen).toEqual([
      ['10.0.0.1', 0],
      ['127.0.0.2', 1],
      ['203.0.113.7', 2],
    ]);
  });

  it('a trust function must return true, not merely something truthy', () => {
    const resolver = createClientIpResolver({ trustProxy: (() => 'yes') as never });
    expect(resolver.key(facts('10.0.0.1', { 'x-forwarded-for': '203.0.113.7' }))).toBe('10.0.0.1');
  });
});

describe('spoofing', () => {
  /** What a client may put in a header: anything printable, IP-looking values, quotes, commas, brackets. */
  const spoofedValue = fc.oneof(
    fc.string({ unit: 'binary-ascii', maxLength: 200 }),
    fc.ipV4(),
    fc.ipV6(),
    fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('unknown', '_hidden', '"', '\\', '[', ']', ';', '=', ' ', '127.0.0.1', '::1')), {
      maxLength: 30,
    }).map((parts) => parts.join(', ')),
    fc.array(fc.oneof(fc.ipV4(), fc.ipV6()).map((ip) => `for="[${ip}]:1"`), { maxLength: 10 }).map((parts) => parts.join(', ')),
  );

  it('1000 random spoofed XFF/Forwarded values from one untrusted client all give the client key', () => {
    const resolvers = [{}, { trustProxy: 'loopback' }, { trustProxy: ['10.0.0.0/8', 'private'] }, { trustProxy: 'linklocal', clientIpHeader: 'x-real-ip' }].map(
      (options) => createClientIpResolver(quiet(options as ClientIpOptions)),
    );
    const keys = new Set<string>();
    fc.assert(
      fc.property(spoofedValue, spoofedValue, spoofedValue, (xForwardedFor, forwarded, realIp) => {
        for (const resolver of resolvers) {
          const key = resolver.key(facts('203.0.113.7', { 'x-forwarded-for': xForwardedFor, forwarded, 'x-real-ip': realIp }));
          keys.add(key);
          expect(key).toBe('203.0.113.7');
        }
      }),
      { numRuns: 1000 },
    );
    expect([...keys]).toEqual(['203.0.113.7']);
  });

  it('whatever a client prepends, the address its trusted proxy appends is the key', () => {
    const xffResolver = createClientIpResolver({ trustProxy: 1 });
    const loopbackResolver = createClientIpResolver({ trustProxy: 'loopback' });
    fc.assert(
      fc.property(spoofedValue, (spoofed) => {
        expect(xffResolver.key(facts('10.0.0.1', { 'x-forwarded-for': `${spoofed}, 203.0.113.7` }))).toBe('203.0.113.7');
        expect(loopbackResolver.key(facts('127.0.0.1', { forwarded: `${spoofed}, for=203.0.113.7` }))).toBe('203.0.113.7');
        expect(loopbackResolver.key(facts('127.0.0.1', { forwarded: `${spoofed}, for="[2001:db8:aa:bbcc::1]:8443"` }))).toBe('2001:db8:aa:bb00::/56');
      }),
      { numRuns: 1000 },
    );
  });

  it("with trustProxy 'loopback' a chain of loopback proxies resolves to the first non-loopback hop", () => {
    const resolver = createClientIpResolver({ trustProxy: 'loopback', ipv6Subnet: false });
    const loopbackHop = fc.oneof(
      fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map(([a, b, c]) => `127.${a}.${b}.${c}`),
      fc.constantFrom('::1', '[::1]:8080', '::ffff:127.0.0.1', '::ffff:7f00:1', '127.0.0.1:3000'),
    );
    const publicIpv4 = fc.ipV4().filter((ip) => !ip.startsWith('127.') && /^(0|[1-9]\d*)(\.(0|[1-9]\d*)){3}$/.test(ip));
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.ipV4(), fc.constant('garbage')), { maxLength: 5 }),
        fc.oneof(publicIpv4, fc.constant('2001:db8::42')),
        fc.array(loopbackHop, { maxLength: 20 }),
        fc.oneof(fc.constant('127.0.0.1'), fc.constant('::1'), fc.constant('::ffff:127.0.0.1')),
        fc.boolean(),
        (spoofed, client, proxies, socketAddress, useForwarded) => {
          const hops = [...spoofed, client, ...proxies];
          const headers: Record<string, string> = useForwarded
            ? { forwarded: hops.map((hop) => `for="${hop.includes(':') && !hop.startsWith('[') && !hop.includes('.') ? `[${hop}]` : hop}"`).join(', ') }
            : { 'x-forwarded-for': hops.join(', ') };
          expect(resolver.key(facts(socketAddress, headers))).toBe(client);
        },
      ),
      { numRuns: 500 },
    );
  });

  // No wall-clock bound here (CI is noisy; speed lives in the benchmarks): a parser that backtracked or rescanned
  // a 1 MB header per hop would not finish within the test timeout, and garbage must end the walk at the peer.
  it('ends the walk at the trusted peer on 1 MB pathological headers', () => {
    const resolver = createClientIpResolver({ trustProxy: true });
    const patterns = ['"\\', '\\"', ',', '"', '[', ':', 'for=', ';', ' ', '::ffff:', '1.'];
    for (const pattern of patterns) {
      const value = pattern.repeat(Math.ceil(1_000_000 / pattern.length));
      for (let i = 0; i < 20; i++) {
        expect(resolver.key(facts('10.0.0.1', { 'x-forwarded-for': value })), pattern).toBe('10.0.0.1');
        expect(resolver.key(facts('10.0.0.1', { forwarded: value })), pattern).toBe('10.0.0.1');
      }
    }
  });
});

describe('the trustProxy warning', () => {
  it('fires once per resolver when a forwarding header arrives while trustProxy is false', () => {
    const messages: string[] = [];
    const resolver = createClientIpResolver({ warn: (message) => messages.push(message) });
    resolver.key(facts('203.0.113.7'));
    expect(messages).toEqual([]);
    resolver.key(facts('203.0.113.7', { 'x-forwarded-for': '198.51.100.1' }));
    resolver.key(facts('203.0.113.7', { forwarded: 'for=198.51.100.1' }));
    resolver.address(facts('203.0.113.7', { 'x-forwarded-for': '198.51.100.1' }));
    expect(messages).toEqual([UNEXPECTED_FORWARDING_HEADER_WARNING]);
    expect(messages[0]).toMatch(/trustProxy/);
    expect(messages[0]).toMatch(/docs\/proxies\.md/);

    const second: string[] = [];
    createClientIpResolver({ warn: (message) => second.push(message) }).key(facts('203.0.113.7', { forwarded: 'for=1.2.3.4' }));
    expect(second).toHaveLength(1);
  });

  it('does not fire when proxies are trusted or the framework decides', () => {
    const messages: string[] = [];
    for (const trustProxy of ['loopback', 1, 'framework'] as const) {
      createClientIpResolver({ trustProxy, warn: (message) => messages.push(message) }).key(facts('203.0.113.7', { 'x-forwarded-for': '198.51.100.1' }));
    }
    expect(messages).toEqual([]);
  });

  it('goes to console.warn by default', () => {
    const spy = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const resolver = createClientIpResolver();
      resolver.key(facts('203.0.113.7', { 'x-forwarded-for': '198.51.100.1' }));
      resolver.key(facts('203.0.113.7', { 'x-forwarded-for': '198.51.100.1' }));
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy).toHaveBeenCalledWith(UNEXPECTED_FORWARDING_HEADER_WARNING);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('bad options', () => {
  const cases: [string, unknown, string][] = [
    ['bad CIDR', { trustProxy: '10.0.0.0/33' }, 'trustProxy'],
    ['bad CIDR prefix text', { trustProxy: '10.0.0.0/8x' }, 'trustProxy'],
    ['bad IPv6 CIDR', { trustProxy: '2001:db8::/129' }, 'trustProxy'],
    ['bad netmask', { trustProxy: '10.0.0.0/255.0.255.0' }, 'trustProxy'],
    ['not an address', { trustProxy: 'example.com' }, 'trustProxy'],
    ['unknown preset', { trustProxy: 'localhost' }, 'trustProxy'],
    ['preset names are not object properties', { trustProxy: 'toString' }, 'trustProxy'],
    ['preset names are not object properties (in a list)', { trustProxy: ['loopback', '__proto__'] }, 'trustProxy[1]'],
    ['preset names are case-sensitive', { trustProxy: 'Loopback' }, 'trustProxy'],
    ['IPv4-mapped range shorter than /96', { trustProxy: '::ffff:0:0/64' }, 'trustProxy'],
    ['zone id in a CIDR', { trustProxy: 'fe80::%eth0/64' }, 'trustProxy'],
    ['empty string', { trustProxy: '' }, 'trustProxy'],
    ['empty item in a comma list', { trustProxy: 'loopback,,private' }, 'trustProxy'],
    ['bad item in a list', { trustProxy: ['loopback', '10.0.0.0/99'] }, 'trustProxy[1]'],
    ['non-string item in a list', { trustProxy: ['loopback', 10] }, 'trustProxy[1]'],
    ['empty list', { trustProxy: [] }, 'trustProxy'],
    ['negative hop count', { trustProxy: -1 }, 'trustProxy'],
    ['non-integer hop count', { trustProxy: 1.5 }, 'trustProxy'],
    ['infinite hop count', { trustProxy: Infinity }, 'trustProxy'],
    ['NaN hop count', { trustProxy: NaN }, 'trustProxy'],
    ['object trustProxy', { trustProxy: { cidr: '10.0.0.0/8' } }, 'trustProxy'],
    ['null trustProxy', { trustProxy: null }, 'trustProxy'],
    ['ipv6Subnet above 128', { ipv6Subnet: 129 }, 'ipv6Subnet'],
    ['ipv6Subnet below 0', { ipv6Subnet: -1 }, 'ipv6Subnet'],
    ['ipv6Subnet not an integer', { ipv6Subnet: 56.5 }, 'ipv6Subnet'],
    ['ipv6Subnet true', { ipv6Subnet: true }, 'ipv6Subnet'],
    ['ipv6Subnet string', { ipv6Subnet: '56' }, 'ipv6Subnet'],
    ['clientIpHeader not a string', { trustProxy: 1, clientIpHeader: 42 }, 'clientIpHeader'],
    ['clientIpHeader not a header name', { trustProxy: 1, clientIpHeader: 'cf connecting ip' }, 'clientIpHeader'],
    ['clientIpHeader a list header', { trustProxy: 1, clientIpHeader: 'X-Forwarded-For' }, 'clientIpHeader'],
    ['clientIpHeader without trustProxy', { clientIpHeader: 'cf-connecting-ip' }, 'clientIpHeader'],
    ['clientIpHeader with framework', { trustProxy: 'framework', clientIpHeader: 'cf-connecting-ip' }, 'clientIpHeader'],
    ['warn not a function', { warn: 'console' }, 'warn'],
    ['unknown option name', { trustProxies: 1 }, 'clientIp.trustProxies'],
    ['options not an object', 'loopback', 'clientIp'],
  ];

  for (const [name, options, field] of cases) {
    it(`${name} -> ConfigError on ${field}`, () => {
      let thrown: unknown;
      try {
        createClientIpResolver(options as ClientIpOptions);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).field).toBe(field);
    });
  }

  it('accepts every documented form', () => {
    const good: ClientIpOptions[] = [
      {},
      { trustProxy: false },
      { trustProxy: true },
      { trustProxy: 0 },
      { trustProxy: 3 },
      { trustProxy: 'loopback' },
      { trustProxy: 'private' },
      { trustProxy: 'linklocal' },
      { trustProxy: 'uniquelocal' },
      { trustProxy: 'framework' },
      { trustProxy: '10.0.0.1' },
      { trustProxy: '0.0.0.0/0' },
      { trustProxy: '2001:db8::/32' },
      { trustProxy: ' loopback , 10.0.0.0/8 ' },
      { trustProxy: ['loopback', '::ffff:10.0.0.0/104', '192.168.0.0/255.255.0.0'] },
      { trustProxy: () => true },
      { ipv6Subnet: 0 },
      { ipv6Subnet: 128 },
      { ipv6Subnet: false },
      { trustProxy: 'loopback', clientIpHeader: 'CF-Connecting-IP' },
    ];
    for (const options of good) expect(() => createClientIpResolver(options)).not.toThrow();
  });
});
