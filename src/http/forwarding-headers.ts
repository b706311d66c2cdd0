/**
 * Right-to-left readers for X-Forwarded-For and RFC 7239 Forwarded. They hand out one hop at a time, nearest the
 * server first, so a walk that stops at hop 1 never parses the hundred entries a client may have prepended.
 */

/** At most this many hops are read from a forwarding header, counted from the right (nearest the server). */
export const MAX_FORWARDED_HOPS = 100;

/** Only the right-most 8 KiB of a forwarding header are read; anything further left is never looked at. */
export const MAX_FORWARDED_HEADER_CHARS = 8 * 1024;

/**
 * Gives the next hop to the left on each call: its address text (trimmed, possibly garbage), '' for a hop that
 * carries no usable value (a Forwarded element without `for=`), or undefined when there are no more hops.
 */
export type HopReader = () => string | undefined;

interface Window {
  text: string;
  /** True when the window starts inside an entry, which must then be dropped rather than read in part. */
  cutsEntry: boolean;
}

function rightWindow(header: string): Window {
  if (header.length <= MAX_FORWARDED_HEADER_CHARS) return { text: header, cutsEntry: false };
  const start = header.length - MAX_FORWARDED_HEADER_CHARS;
  return { text: header.slice(start), cutsEntry: header.charCodeAt(start - 1) !== 44 /* , */ };
}

/** X-Forwarded-For entries, right-most first, trimmed; empty entries are skipped (RFC 9110 list rules). */
export function xForwardedForReader(header: string): HopReader {
  const { text, cutsEntry } = rightWindow(header);
  let end = text.length;
  let hopsRead = 0;
  return () => {
    while (end >= 0 && hopsRead < MAX_FORWARDED_HOPS) {
      const comma = end > 0 ? text.lastIndexOf(',', end - 1) : -1;
      if (comma === -1 && cutsEntry) break;
      const entry = text.slice(comma + 1, end).trim();
      end = comma;
      if (entry !== '') {
        hopsRead++;
        return entry;
      }
    }
    end = -1;
    return undefined;
  };
}

/**
 * The `for=` node of each Forwarded element, right-most element first ('' for an element without exactly one
 * well-formed `for`). Elements are split right to left with quote awareness, so whatever a client writes on the
 * left (an unterminated quote, say) cannot change how the elements appended by the trusted proxies are read.
 */
export function forwardedReader(header: string): HopReader {
  const { text, cutsEntry } = rightWindow(header);
  let position = text.length - 1;
  let hopsRead = 0;
  return () => {
    while (position >= -1 && hopsRead < MAX_FORWARDED_HOPS) {
      const end = position + 1;
      let inQuotes = false;
      let i = position;
      for (; i >= 0; i--) {
        const code = text.charCodeAt(i);
        if (code === 34 /* " */) {
          if (!(inQuotes && precededByOddBackslashes(text, i))) inQuotes = !inQuotes;
        } else if (code === 44 /* , */ && !inQuotes) {
          break;
        }
      }
      position = i - 1;
      if (i === -1 && cutsEntry) break;
      const element = text.slice(i + 1, end);
      if (element.trim() === '') continue;
      hopsRead++;
      return forParameter(element) ?? '';
    }
    position = -2;
    return undefined;
  };
}

function precededByOddBackslashes(text: string, at: number): boolean {
  let count = 0;
  for (let j = at - 1; j >= 0 && text.charCodeAt(j) === 92 /* \ */; j--) count++;
  return count % 2 === 1;
}

/** The unquoted value of the single `for` parameter of one Forwarded element, or undefined. */
function forParameter(element: string): string | undefined {
  let found: string | undefined;
  let start = 0;
  let inQuotes = false;
  for (let i = 0; i <= element.length; i++) {
    const code = i < element.length ? element.charCodeAt(i) : 59; /* ; */
    if (code === 92 /* \ */ && inQuotes) {
      i++;
    } else if (code === 34 /* " */) {
      inQuotes = !inQuotes;
    } else if (code === 59 /* ; */ && !inQuotes) {
      const pair = element.slice(start, i);
      start = i + 1;
      const equals = pair.indexOf('=');
      if (equals === -1 || pair.slice(0, equals).trim().toLowerCase() !== 'for') continue;
      if (found !== undefined) return undefined; // a parameter may appear once per element
      const value = unquote(pair.slice(equals + 1).trim());
      if (value === undefined) return undefined;
      found = value;
    }
  }
  return inQuotes ? undefined : found;
}

function unquote(value: string): string | undefined {
  if (value.charCodeAt(0) !== 34) return value.includes('"') ? undefined : value;
  if (value.length < 2 || value.charCodeAt(value.length - 1) !== 34) return undefined;
  const inner = value.slice(1, -1);
  return inner.includes('\\') ? inner.replace(/\\(.)/g, '$1') : inner;
}
