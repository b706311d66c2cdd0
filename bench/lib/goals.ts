/** Goal verdicts computed from rows: every verdict states the figure it is based on. */
import { formatBare, formatNumber, type Goal, type Row } from './report.js';

export function findRow(rows: readonly Row[], comparison: string, contender: string): Row | undefined {
  return rows.find((row) => row.comparison === comparison && row.contender === contender);
}

/** A goal on the paired ratio of `contender` to `vs` (median over rounds). */
export function ratioGoal(
  rows: readonly Row[],
  goal: { id: string; text: string; comparison: string; contender: string; vs: string; atLeast?: number; atMost?: number },
): Goal {
  const ratio = findRow(rows, goal.comparison, goal.contender)?.ratios?.find((r) => r.vs === goal.vs)?.value;
  if (!ratio) return { id: goal.id, text: goal.text, measured: `no figures for ${goal.contender} vs ${goal.vs}`, pass: null };
  const pass =
    (goal.atLeast === undefined || ratio.median >= goal.atLeast) && (goal.atMost === undefined || ratio.median <= goal.atMost);
  return {
    id: goal.id,
    text: goal.text,
    measured: `${ratio.median.toFixed(2)}× (rounds: ${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`,
    pass,
  };
}

/** A goal on the median of a row's figure. */
export function valueGoal(
  rows: readonly Row[],
  goal: { id: string; text: string; comparison: string; contender: string; atLeast?: number; atMost?: number },
): Goal {
  const row = findRow(rows, goal.comparison, goal.contender);
  if (!row) return { id: goal.id, text: goal.text, measured: `no figures for ${goal.contender}`, pass: null };
  const value = row.value.median;
  const pass = (goal.atLeast === undefined || value >= goal.atLeast) && (goal.atMost === undefined || value <= goal.atMost);
  return {
    id: goal.id,
    text: goal.text,
    measured: `${formatNumber(value, row.unit)} (rounds: ${formatBare(row.value.min, row.unit)}–${formatBare(row.value.max, row.unit)})`,
    pass,
  };
}

/** A goal whose subject has not landed yet: listed so the table shows what is still to be measured. */
export function pendingGoal(id: string, text: string, why: string): Goal {
  return { id, text, measured: why, pass: null };
}
