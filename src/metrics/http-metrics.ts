/**
 * What the HTTP guard records: requests by route and outcome. The route label is the framework's matched route
 * pattern ("/users/:id"), never the raw path (unbounded), and "unmatched" when the framework knows none.
 */
import type { Counter, MetricsRegistry } from './registry.js';
import { CounterSeries } from './series.js';

export const HTTP_METRICS = {
  requests: 'sluice_http_requests_total',
} as const;

/** allowed: passed every limiter; limited: refused (429); skipped: not checked (skip, allowlist, excluded path); error: the guard failed. */
export type HttpOutcome = 'allowed' | 'limited' | 'skipped' | 'error';

export const UNMATCHED_ROUTE = 'unmatched';

const OUTCOMES: readonly HttpOutcome[] = ['allowed', 'limited', 'skipped', 'error'];

type RouteSeries = Record<HttpOutcome, CounterSeries>;

export class HttpInstruments {
  private readonly requests: Counter | undefined;
  private readonly byRoute = new Map<string, RouteSeries>();
  private readonly maxRoutes: number;
  /** With metrics off: one detached set for every route. */
  private readonly detached: RouteSeries | undefined;

  constructor(registry: MetricsRegistry | undefined) {
    this.requests = registry?.counter({
      name: HTTP_METRICS.requests,
      help: 'HTTP requests seen by the rate-limit guard, by route pattern and outcome (allowed, limited, skipped, error).',
      labelNames: ['route', 'outcome'],
    });
    // Past the registry's label cap every new route lands in the overflow series: stop caching routes there.
    this.maxRoutes = registry ? Math.ceil(registry.maxLabelSets / OUTCOMES.length) + 1 : 0;
    this.detached = registry ? undefined : detachedRoute(UNMATCHED_ROUTE);
  }

  /** One request: a Map lookup by route id (resolved series are cached per route). */
  request(routeId: string | undefined, outcome: HttpOutcome): void {
    this.route(routeId ?? UNMATCHED_ROUTE)[outcome].value++;
  }

  /** The series of one route, for a caller that knows its route at setup (a per-route guard) and skips the lookup. */
  route(route: string): RouteSeries {
    if (this.requests === undefined) return this.detached!;
    let series = this.byRoute.get(route);
    if (series !== undefined) return series;
    const requests = this.requests;
    const resolve = (outcome: HttpOutcome) => requests.labels({ route, outcome });
    series = { allowed: resolve('allowed'), limited: resolve('limited'), skipped: resolve('skipped'), error: resolve('error') };
    if (this.byRoute.size < this.maxRoutes) this.byRoute.set(route, series);
    return series;
  }
}

function detachedRoute(route: string): RouteSeries {
  const series = {} as RouteSeries;
  for (const outcome of OUTCOMES) series[outcome] = new CounterSeries({ route, outcome });
  return series;
}
