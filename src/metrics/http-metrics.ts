/**
 * What the HTTP guard records: requests by route and outcome. The route label is the framework's matched route
 * pattern ("/users/:id"), never the raw path (unbounded), and "none" when the guard runs before the framework has
 * matched a route (global middleware on Express or Koa) or no route matched.
 */
import type { Counter, MetricsRegistry } from './registry.js';
import { CounterSeries } from './series.js';

export const HTTP_METRICS = {
  requests: 'sluice_http_requests_total',
} as const;

/**
 * allowed: every limiter admitted. limited: refused (429, or the status `onLimited` chose). shadow_limited: would
 * have been refused, let through by `shadow` mode. skipped: not checked (skip, allowlist, include/exclude).
 * failed_open: no limiter could decide and the request went on; failed_closed: no limiter could decide and it got
 * a 503. error: a callback of the app (key, skip, cost, limiter choice) threw.
 */
export type HttpOutcome = 'allowed' | 'limited' | 'shadow_limited' | 'skipped' | 'failed_open' | 'failed_closed' | 'error';

export const NO_ROUTE = 'none';

type RouteSeries = Partial<Record<HttpOutcome, CounterSeries>>;

export class HttpInstruments {
  private readonly requests: Counter | undefined;
  private readonly byRoute = new Map<string, RouteSeries>();
  private readonly noRoute: RouteSeries = {};
  private readonly maxRoutes: number;

  constructor(registry: MetricsRegistry | undefined) {
    this.requests = registry?.counter({
      name: HTTP_METRICS.requests,
      help: 'HTTP requests seen by the rate-limit guard, by route pattern and outcome (allowed, limited, shadow_limited, skipped, failed_open, failed_closed, error).',
      labelNames: ['route', 'outcome'],
    });
    // Past the registry's label cap every new route lands in the overflow series: stop caching routes there.
    this.maxRoutes = registry ? registry.maxLabelSets : 0;
  }

  /** One request: a Map lookup by route id when there is one; series are resolved once per route and outcome. */
  request(routeId: string | undefined, outcome: HttpOutcome): void {
    if (this.requests === undefined) return;
    const route = routeId === undefined ? this.noRoute : this.route(routeId);
    (route[outcome] ?? this.resolve(route, routeId ?? NO_ROUTE, outcome)).value++;
  }

  private route(routeId: string): RouteSeries {
    let series = this.byRoute.get(routeId);
    if (series === undefined) {
      series = {};
      if (this.byRoute.size < this.maxRoutes) this.byRoute.set(routeId, series);
    }
    return series;
  }

  private resolve(route: RouteSeries, routeId: string, outcome: HttpOutcome): CounterSeries {
    const series = this.requests!.labels({ route: routeId, outcome });
    route[outcome] = series;
    return series;
  }
}
