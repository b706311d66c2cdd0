/** The metric reference and the Grafana dashboard stay in step with the metrics the code registers. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { BREAKER_METRICS, HTTP_METRICS, LIMITER_METRICS, STORE_METRICS } from '../../src/index.js';

const names = [LIMITER_METRICS, STORE_METRICS, BREAKER_METRICS, HTTP_METRICS].flatMap((group) => Object.values(group) as string[]);
const docs = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
const dashboard = JSON.parse(readFileSync(new URL('../../examples/grafana-dashboard.json', import.meta.url), 'utf8')) as {
  panels: { title: string; type: string; targets?: { expr: string }[] }[];
};

describe('metrics documentation', () => {
  it.each(names)('docs/metrics.md documents %s', (name) => {
    expect(docs).toContain(`| \`${name}\` |`);
  });

  it('documents no metric the code does not register', () => {
    const documented = [...docs.matchAll(/^\| `(sluice_[a-z_]+)` \|/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual([...names].sort());
  });
});

describe('grafana dashboard', () => {
  const exprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));

  it('queries only metrics sluice exports', () => {
    const used = new Set(exprs.flatMap((expr) => [...expr.matchAll(/sluice_[a-z_]+/g)].map((match) => match[0])));
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(names, name).toContain(name.replace(/_(bucket|sum|count)$/, ''));
  });

  it('has panels for admitted vs limited, wait time, breaker state and Redis fallbacks', () => {
    const byTitle = (title: RegExp) => dashboard.panels.find((panel) => title.test(panel.title));
    expect(byTitle(/admitted vs limited/i)?.targets?.map((t) => t.expr).join()).toMatch(/outcome="accepted".*outcome="rejected"/);
    expect(byTitle(/wait time/i)?.targets?.[0]?.expr).toContain('histogram_quantile');
    expect(byTitle(/breaker state/i)?.type).toBe('state-timeline');
    expect(byTitle(/redis fallbacks/i)?.targets?.map((t) => t.expr).join()).toContain('sluice_hybrid_fallback_decisions_total');
  });
});
