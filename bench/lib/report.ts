/** Result rows and goals of a benchmark group, printed as a table and rendered into docs/benchmarks.md. */
import { describeMachine, type MachineFacts } from './machine.js';
import type { Summary } from './stats.js';

export interface Ratio {
  /** The contender this row is compared with. */
  vs: string;
  /** This row's figure divided by the other's, paired round by round. */
  value: Summary;
}

export interface Row {
  comparison: string;
  contender: string;
  /** 'ops/s', 'req/s', 'ns/op', 'B/key', 'MB', 'µs' ... */
  unit: string;
  higherIsBetter: boolean;
  value: Summary;
  /** CPU time (user + system) of the process doing the work, per operation. */
  cpuNsPerOp?: Summary;
  /** Latency figures, when the comparison measures them. */
  p50Us?: Summary;
  p99Us?: Summary;
  ratios?: Ratio[];
  /** Further per-operation figures, each its own column (e.g. the Redis server's CPU time per decision). */
  extras?: Record<string, { unit: 'ns' | ''; value: Summary }>;
  note?: string;
}

export interface Goal {
  id: string;
  /** The goal as the issue states it. */
  text: string;
  /** The figure the verdict is based on, formatted. */
  measured: string;
  /** null: not measured in this run (its subject has not landed, or a contender is missing). */
  pass: boolean | null;
}

export interface GroupResult {
  group: string;
  title: string;
  profile: 'full' | 'quick';
  /** What sluice ran as: its compiled JavaScript (a full run) or its TypeScript source through tsx. */
  sluiceFrom?: string;
  rounds: number;
  machine: MachineFacts;
  durationSec: number;
  rows: Row[];
  goals: Goal[];
  notes: string[];
}

export function formatNumber(value: number, unit = ''): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  let text: string;
  if (unit.endsWith('/s')) {
    if (abs >= 1e6) text = `${(value / 1e6).toFixed(2)} M`;
    else if (abs >= 1e4) text = `${(value / 1e3).toFixed(1)} k`;
    else text = value.toFixed(0);
    return `${text} ${unit}`;
  }
  if (abs >= 100) text = value.toFixed(0);
  else if (abs >= 10) text = value.toFixed(1);
  else if (abs >= 1) text = value.toFixed(2);
  else text = value.toPrecision(2);
  return unit ? `${text} ${unit}` : text;
}

/** A time in nanoseconds, in the unit that keeps it short (ns, µs, ms). */
export function formatNs(ns: number): string {
  if (ns >= 1e7) return formatNumber(ns / 1e6, 'ms');
  if (ns >= 1e4) return formatNumber(ns / 1e3, 'µs');
  return formatNumber(ns, 'ns');
}

const formatRatio = (ratio: Summary): string =>
  `${ratio.median.toFixed(2)}× (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`;

/** The number without its unit (scaled like the median: "1.21 M"). */
export const formatBare = (value: number, unit: string) => formatNumber(value, unit).replace(` ${unit}`, '');

const formatSummary = (summary: Summary, unit: string) =>
  `${formatNumber(summary.median, unit)} (${formatBare(summary.min, unit)}–${formatBare(summary.max, unit)})`;

/** Rows grouped by comparison, in first-seen order. */
function byComparison(rows: readonly Row[]): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const list = groups.get(row.comparison) ?? [];
    list.push(row);
    groups.set(row.comparison, list);
  }
  return groups;
}

interface Table {
  header: string[];
  body: string[][];
  /** Columns of text (left-aligned in markdown); the others hold figures (right-aligned). Default: the first. */
  textColumns?: number;
}

function comparisonTable(rows: readonly Row[]): Table {
  const vsSet = new Set(rows.flatMap((row) => (row.ratios ?? []).map((ratio) => ratio.vs)));
  // Ratio columns in the order the contenders appear (baseline first).
  const vsNames = [...rows.map((row) => row.contender).filter((name) => vsSet.has(name)), ...vsSet].filter(
    (name, i, all) => all.indexOf(name) === i,
  );
  const hasCpu = rows.some((row) => row.cpuNsPerOp);
  const hasLatency = rows.some((row) => row.p99Us);
  const hasP50 = rows.some((row) => row.p50Us);
  const header = ['contender', 'median (min–max)'];
  if (hasCpu) header.push('CPU/op');
  if (hasLatency) header.push(...(hasP50 ? ['p50'] : []), 'p99');
  const extraNames = [...new Set(rows.flatMap((row) => Object.keys(row.extras ?? {})))];
  header.push(...extraNames);
  header.push(...vsNames.map((vs) => `÷ ${vs}`));
  const body = rows.map((row) => {
    const cells = [row.note ? `${row.contender} [${row.note}]` : row.contender, formatSummary(row.value, row.unit)];
    if (hasCpu) cells.push(row.cpuNsPerOp ? formatNs(row.cpuNsPerOp.median) : '');
    if (hasLatency) {
      if (hasP50) cells.push(row.p50Us ? formatNs(row.p50Us.median * 1000) : '');
      cells.push(row.p99Us ? formatNs(row.p99Us.median * 1000) : '');
    }
    for (const name of extraNames) {
      const extra = row.extras?.[name];
      cells.push(extra === undefined ? '' : extra.unit === 'ns' ? formatNs(extra.value.median) : extra.value.median.toFixed(3));
    }
    for (const vs of vsNames) {
      const ratio = row.ratios?.find((r) => r.vs === vs);
      cells.push(ratio ? formatRatio(ratio.value) : '');
    }
    return cells;
  });
  return { header, body };
}

const verdict = (pass: boolean | null) => (pass === null ? 'not measured' : pass ? 'PASS' : 'FAIL');

function goalsTable(goals: readonly Goal[]): Table {
  return { header: ['goal', 'measured', 'result'], body: goals.map((g) => [g.text, g.measured, verdict(g.pass)]), textColumns: 3 };
}

function textTable({ header, body }: Table): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function markdownTable({ header, body, textColumns = 1 }: Table): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${header.map(escape).join(' | ')} |`,
    `| ${header.map((_, i) => (i < textColumns ? '---' : '---:')).join(' | ')} |`,
    ...body.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

/** The console form of a group's results. */
export function printGroup(result: GroupResult, write: (text: string) => void = console.log): void {
  write(`\n== ${result.group}: ${result.title} (${result.profile}, ${result.rounds} rounds, ${result.durationSec.toFixed(0)} s)`);
  write(describeMachine(result.machine));
  for (const [comparison, rows] of byComparison(result.rows)) {
    write(`\n-- ${comparison}`);
    write(textTable(comparisonTable(rows)));
  }
  if (result.goals.length > 0) write(`\n${textTable(goalsTable(result.goals))}`);
  for (const note of result.notes) write(`note: ${note}`);
}

/** The markdown section of one group in docs/benchmarks.md. */
export function groupMarkdown(result: GroupResult): string {
  const parts = [
    `### ${result.group}: ${result.title}`,
    '',
    `Measured on ${describeMachine(result.machine)}; sluice as ${result.sluiceFrom ?? 'TypeScript source'}; ${result.rounds} rounds in rotation` +
      `${result.profile === 'quick' ? ' (quick smoke run: not representative)' : ''}; the group took ` +
      `${result.durationSec.toFixed(0)} s.`,
  ];
  for (const [comparison, rows] of byComparison(result.rows)) {
    parts.push('', `**${comparison}**`, '', markdownTable(comparisonTable(rows)));
  }
  if (result.goals.length > 0) parts.push('', markdownTable(goalsTable(result.goals)));
  if (result.notes.length > 0) parts.push('', ...result.notes.map((note) => `- ${note}`));
  return parts.join('\n');
}

/** The generated part of docs/benchmarks.md: every goal at a glance, then each group's figures. */
export function generatedMarkdown(results: readonly GroupResult[]): string {
  const goals = results.flatMap((result) => result.goals.map((goal) => [result.group, goal.text, goal.measured, verdict(goal.pass)]));
  return [
    '## Goals',
    '',
    markdownTable({ header: ['group', 'goal', 'measured', 'result'], body: goals, textColumns: 4 }),
    '',
    '## Figures',
    '',
    results.map(groupMarkdown).join('\n\n'),
  ].join('\n');
}

export const GENERATED_BEGIN = '<!-- generated by `npm run bench`: do not edit below -->';
export const GENERATED_END = '<!-- end of generated part -->';

/** Replaces what lies between the markers (appending them when the page has none). */
export function replaceGenerated(page: string, generated: string): string {
  const begin = page.indexOf(GENERATED_BEGIN);
  const end = page.indexOf(GENERATED_END);
  const block = `${GENERATED_BEGIN}\n\n${generated}\n\n${GENERATED_END}`;
  if (begin === -1 || end === -1 || end < begin) return `${page.trimEnd()}\n\n${block}\n`;
  return page.slice(0, begin) + block + page.slice(end + GENERATED_END.length);
}
