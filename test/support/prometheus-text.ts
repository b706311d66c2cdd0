/**
 * Reading the Prometheus text exposition (0.0.4) back in tests, two ways: a strict parser written from the format
 * specification (rejects anything the spec does not allow, and checks histogram invariants), and the
 * `parse-prometheus-text-format` package (a port of the Python client's parser). Both give the same normalised
 * shape, so a test runs once per parser.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedExposition {
  types: Record<string, string>;
  help: Record<string, string>;
  samples: Sample[];
}

export interface TextParser {
  name: string;
  parse(text: string): ParsedExposition;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseFloatStrict(text: string, line: string): number {
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`Bad value "${text}" in: ${line}`);
  return Number(text);
}

function unescapeHelp(text: string, line: string): string {
  return text.replace(/\\(.?)/g, (_, next: string) => {
    if (next === '\\') return '\\';
    if (next === 'n') return '\n';
    throw new Error(`Bad escape in HELP: ${line}`);
  });
}

function familyOf(sampleName: string, types: Record<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length);
      if (types[base] === 'histogram' || types[base] === 'summary') return base;
    }
  }
  return sampleName;
}

function parseLabels(text: string, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let at = 1; // after "{"
  for (;;) {
    if (text[at] === '}') return { labels, rest: text.slice(at + 1) };
    const name = LABEL_NAME.exec(text.slice(at))?.[0];
    if (!name) throw new Error(`Bad label name in: ${line}`);
    at += name.length;
    if (text[at] !== '=' || text[at + 1] !== '"') throw new Error(`Expected ="..." after ${name} in: ${line}`);
    at += 2;
    let value = '';
    for (;;) {
      const char = text[at];
      if (char === undefined) throw new Error(`Unterminated label value in: ${line}`);
      if (char === '"') break;
      if (char === '\n') throw new Error(`Raw newline in label value: ${line}`);
      if (char === '\\') {
        const next = text[at + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new Error(`Bad escape \\${next} in label value: ${line}`);
        at += 2;
        continue;
      }
      value += char;
      at++;
    }
    at++; // closing quote
    if (name in labels) throw new Error(`Duplicate label ${name} in: ${line}`);
    labels[name] = value;
    if (text[at] === ',') at++;
    else if (text[at] !== '}') throw new Error(`Expected , or } in: ${line}`);
  }
}

/** A strict reading of the 0.0.4 text format, with the histogram rules checked. */
export function parseStrict(text: string): ParsedExposition {
  const result: ParsedExposition = { types: {}, help: {}, samples: [] };
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('The exposition must end with a newline');
  const finished = new Set<string>();
  let current: string | undefined;
  const enter = (family: string, line: string) => {
    if (family === current) return;
    if (finished.has(family)) throw new Error(`Samples of ${family} are not contiguous: ${line}`);
    if (current !== undefined) finished.add(current);
    current = family;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line);
      if (!meta) continue; // a plain comment
      const [, keyword, name, rest] = meta as unknown as [string, string, string, string];
      enter(name, line);
      if (keyword === 'HELP') {
        if (name in result.help) throw new Error(`Second HELP for ${name}`);
        result.help[name] = unescapeHelp(rest, line);
      } else {
        if (name in result.types) throw new Error(`Second TYPE for ${name}`);
        if (result.samples.some((sample) => familyOf(sample.name, result.types) === name)) {
          throw new Error(`TYPE for ${name} after its samples`);
        }
        if (!TYPES.has(rest)) throw new Error(`Unknown type "${rest}" in: ${line}`);
        result.types[name] = rest;
      }
      continue;
    }
    const name = METRIC_NAME.exec(line)?.[0];
    if (!name) throw new Error(`Bad sample line: ${line}`);
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, line));
    const fields = rest.trim().split(/[ \t]+/);
    if (!/^[ \t]/.test(rest) || fields.length < 1 || fields.length > 2) throw new Error(`Bad value part in: ${line}`);
    if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) throw new Error(`Bad timestamp in: ${line}`);
    enter(familyOf(name, result.types), line);
    result.samples.push({ name, labels, value: parseFloatStrict(fields[0]!, line) });
  }
  checkHistograms(result);
  return result;
}

/** Every histogram series: `le` buckets increasing in bound and cumulative count, +Inf present and equal to _count. */
function checkHistograms(parsed: ParsedExposition): void {
  for (const [family, type] of Object.entries(parsed.types)) {
    if (type !== 'histogram') continue;
    const bySeries = new Map<string, { le: number; count: number }[]>();
    const counts = new Map<string, number>();
    for (const sample of parsed.samples) {
      const { le, ...rest } = sample.labels;
      const key = JSON.stringify(Object.entries(rest).sort());
      if (sample.name === `${family}_bucket`) {
        if (le === undefined) throw new Error(`${family}_bucket without le`);
        const list = bySeries.get(key) ?? [];
        list.push({ le: parseFloatStrict(le, le), count: sample.value });
        bySeries.set(key, list);
      } else if (sample.name === `${family}_count`) {
        counts.set(key, sample.value);
      }
    }
    for (const [key, buckets] of bySeries) {
      for (let i = 1; i < buckets.length; i++) {
        if (!(buckets[i]!.le > buckets[i - 1]!.le)) throw new Error(`${family}${key}: le bounds not increasing`);
        if (buckets[i]!.count < buckets[i - 1]!.count) throw new Error(`${family}${key}: bucket counts not cumulative`);
      }
      const last = buckets[buckets.length - 1]!;
      if (last.le !== Infinity) throw new Error(`${family}${key}: no le="+Inf" bucket`);
      if (counts.get(key) !== last.count) throw new Error(`${family}${key}: _count differs from the +Inf bucket`);
    }
  }
}

export const strictParser: TextParser = { name: 'strict (spec)', parse: parseStrict };

interface PackageFamily {
  name: string;
  help?: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }[];
}

/**
 * The parse-prometheus-text-format package (a devDependency).
 *
 * Its 1.1.1 release reads every sample line, but its histogram grouping (flattenMetrics) merges all series of a
 * labelled histogram into one, dropping their labels, _sum and _count. So it reads the text twice: as written,
 * for the TYPE and HELP of every family, and with histogram TYPE lines turned into "untyped", so it reads each
 * _bucket, _sum and _count line as a plain sample with its labels. The histogram rules themselves are checked by
 * the strict parser.
 */
export function packageParser(): TextParser {
  const number = (text: string | undefined): number =>
    text === '+Inf' || text === 'Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);
  return {
    name: 'parse-prometheus-text-format',
    parse(text) {
      const result: ParsedExposition = { types: {}, help: {}, samples: [] };
      for (const family of parsePrometheusTextFormat(text) as PackageFamily[]) {
        result.types[family.name] = family.type.toLowerCase();
        if (family.help) result.help[family.name] = family.help;
      }
      const untypedHistograms = text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped');
      for (const family of parsePrometheusTextFormat(untypedHistograms) as PackageFamily[]) {
        for (const metric of family.metrics) {
          if (metric.value === undefined) throw new Error(`parse-prometheus-text-format gave no value for ${family.name}`);
          result.samples.push({ name: family.name, labels: metric.labels ?? {}, value: number(metric.value) });
        }
      }
      return result;
    },
  };
}

/** Both parsers. */
export const parsers: readonly TextParser[] = [strictParser, packageParser()];

/** The one sample with this name and exactly these labels (fails the test if absent or repeated). */
export function sampleValue(parsed: ParsedExposition, name: string, labels: Record<string, string> = {}): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const matches = parsed.samples.filter((sample) => sample.name === name && JSON.stringify(Object.entries(sample.labels).sort()) === wanted);
  if (matches.length !== 1) throw new Error(`Expected one sample ${name}${wanted}, found ${matches.length}`);
  return matches[0]!.value;
}
