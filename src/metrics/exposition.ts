/** The Prometheus text exposition format, version 0.0.4: what a scrape of a metrics endpoint reads. */
import type { AnyMetric } from './registry.js';
import type { AnySeries, HistogramSeries, Labels } from './series.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** HELP text escapes backslash and newline. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Label values escape backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value: Go's float syntax, with NaN, +Inf and -Inf spelled as Prometheus expects. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels, extra?: [string, string]): string {
  const parts: string[] = [];
  for (const name of Object.keys(labels)) parts.push(`${name}="${escapeLabelValue(labels[name]!)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function histogramLines(name: string, series: HistogramSeries, lines: string[]): void {
  const cumulative = series.cumulativeCounts();
  series.bounds.forEach((bound, index) => {
    lines.push(`${name}_bucket${formatLabels(series.labels, ['le', formatValue(bound)])} ${formatValue(cumulative[index]!)}`);
  });
  lines.push(`${name}_bucket${formatLabels(series.labels, ['le', '+Inf'])} ${formatValue(series.count)}`);
  lines.push(`${name}_sum${formatLabels(series.labels)} ${formatValue(series.sum)}`);
  lines.push(`${name}_count${formatLabels(series.labels)} ${formatValue(series.count)}`);
}

/** Formats metrics as the text exposition: one HELP and TYPE block per metric, then its samples. */
export function formatPrometheus(metrics: readonly AnyMetric[]): string {
  const lines: string[] = [];
  for (const metric of metrics) {
    lines.push(`# HELP ${metric.name} ${escapeHelp(metric.help)}`);
    lines.push(`# TYPE ${metric.name} ${metric.type}`);
    for (const series of metric.series() as AnySeries[]) {
      if ('bounds' in series) histogramLines(metric.name, series, lines);
      else lines.push(`${metric.name}${formatLabels(series.labels)} ${formatValue(series.value)}`);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
