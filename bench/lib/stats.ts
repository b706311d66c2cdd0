/** Summaries of repeated measurements: median with min and max, percentiles, paired ratios. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Every sample, in the order measured (one per round). */
  samples: number[];
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, samples: [...samples] };
}

/** The value below which `fraction` of the sorted values fall (nearest rank). `sorted` must be ascending. */
export function percentile(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank]!;
}

/** Round-by-round ratios a[i] / b[i]: each pair was measured back to back, so host noise mostly cancels. */
export function pairedRatios(a: readonly number[], b: readonly number[]): Summary {
  const n = Math.min(a.length, b.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) ratios.push(a[i]! / b[i]!);
  return summarize(ratios);
}

/** Round-by-round differences a[i] - b[i] (e.g. ns/call of a wrapper minus ns/call of a direct call). */
export function pairedDifferences(a: readonly number[], b: readonly number[]): Summary {
  const n = Math.min(a.length, b.length);
  const differences: number[] = [];
  for (let i = 0; i < n; i++) differences.push(a[i]! - b[i]!);
  return summarize(differences);
}
