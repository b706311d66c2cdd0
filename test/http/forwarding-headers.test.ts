import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  forwardedReader,
  MAX_FORWARDED_HEADER_CHARS,
  MAX_FORWARDED_HOPS,
  xForwardedForReader,
  type HopReader,
} from '../../src/http/forwarding-headers.js';

const readAll = (next: HopReader): string[] => {
  const hops: string[] = [];
  for (let hop = next(); hop !== undefined; hop = next()) hops.push(hop);
  expect(next()).toBeUndefined();
  return hops;
};

/** Entry text without the list separator. */
const entry = fc.string({ unit: fc.constantFrom('1', '.', ':', 'a', '[', ']', ' ', '\t', '_', '"'), maxLength: 20 });

describe('xForwardedForReader', () => {
  it('yields the trimmed non-empty entries, right-most first', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 50 }), (entries) => {
        const expected = entries.map((text) => text.trim()).filter((text) => text !== '').reverse();
        expect(readAll(xForwardedForReader(entries.join(',')))).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it(`stops after ${MAX_FORWARDED_HOPS} hops`, () => {
    const entries = Array.from({ length: 150 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    const hops = readAll(xForwardedForReader(entries.join(', ')));
    expect(hops).toHaveLength(MAX_FORWARDED_HOPS);
    expect(hops[0]).toBe('10.0.0.149');
    expect(hops[99]).toBe('10.0.0.50');
  });

  it('drops the entry cut by the 8 KiB window but keeps one that starts exactly at its edge', () => {
    const tail = ', 192.0.2.1';
    const cut = `${'1'.repeat(MAX_FORWARDED_HEADER_CHARS)}${tail}`;
    expect(readAll(xForwardedForReader(cut))).toEqual(['192.0.2.1']);
    const whole = `${'9'.repeat(100)},${'1'.repeat(MAX_FORWARDED_HEADER_CHARS - tail.length)}${tail}`;
    expect(readAll(xForwardedForReader(whole))).toEqual(['192.0.2.1', '1'.repeat(MAX_FORWARDED_HEADER_CHARS - tail.length)]);
  });
});

describe('forwardedReader', () => {
  const node = fc.oneof(fc.ipV4(), fc.ipV6().map((ip) => `[${ip}]`), fc.constantFrom('unknown', '_hidden', '1.2.3.4:80', '[::1]:_p'));
  const quoted = (text: string) => `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;

  it('yields each element’s for= value, right-most first, quoted or not, among other parameters', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(node, fc.boolean(), fc.constantFrom('', ';proto=https', ';by="[::1]:80";host="a,b;c"', ';ext="x\\"y"')), { maxLength: 20 }),
        (elements) => {
          const header = elements
            .map(([value, quote, rest]) => `${rest && rest.length % 2 ? `proto=http;` : ''}FOR=${quote || value.includes(':') ? quoted(value) : value}${rest}`)
            .join(', ');
          expect(readAll(forwardedReader(header))).toEqual(elements.map(([value]) => value).reverse());
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('gives "" for an element without exactly one well-formed for=', () => {
    // Right to left: a good element; `for="1.2.3.4, for=a"b` (one element: the comma is quoted; junk after the
    // quote); a repeated for=; no for= at all.
    expect(readAll(forwardedReader('proto=https, for=1.2.3.4;for=5.6.7.8, for="1.2.3.4, for=a"b, for=1.2.3.4'))).toEqual([
      '1.2.3.4',
      '',
      '',
      '',
    ]);
    expect(readAll(forwardedReader('for=, for="", for=1.2.3.4'))).toEqual(['1.2.3.4', '', '']);
  });

  it('reads the trusted elements correctly whatever the client wrote on the left', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('"', '\\', ',', ';', '=', 'for', ' ', '1'), maxLength: 60 }), (spoofed) => {
        const hops = readAll(forwardedReader(`${spoofed}, for="[2001:db8::1]:80";proto=https, for=10.0.0.2`));
        expect(hops.slice(0, 2)).toEqual(['10.0.0.2', '[2001:db8::1]:80']);
      }),
      { numRuns: 2000 },
    );
  });
});
