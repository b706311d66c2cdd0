/**
 * Getting sluice's metrics to Prometheus: a response plan and a node:http handler serving the text exposition,
 * and a bridge that publishes the same metrics into an application's existing prom-client Registry. prom-client
 * is never imported: the bridge hands the registry objects of the shape its `registerMetric` accepts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError } from '../errors.js';
import type { ResponsePlan } from '../http/facts.js';
import { checkKnownOptions } from '../options.js';
import { PROMETHEUS_CONTENT_TYPE, formatValue } from './exposition.js';
import { defaultRegistry, isMetricsRegistry, type AnyMetric, type MetricsRegistry } from './registry.js';
import { HistogramSeries } from './series.js';

export { PROMETHEUS_CONTENT_TYPE } from './exposition.js';

function checkRegistry(registry: unknown): MetricsRegistry {
  if (registry === undefined) return defaultRegistry;
  if (!isMetricsRegistry(registry)) throw new ConfigError('registry', 'a MetricsRegistry (metricsRegistry())', registry);
  return registry;
}

/**
 * The response to a scrape, framework-neutral: adapters apply it as they apply a rate-limit response. GET and
 * HEAD get the exposition (HEAD without the body); other methods get 405.
 */
export function metricsResponse(registry: MetricsRegistry = defaultRegistry, method = 'GET'): ResponsePlan {
  if (method !== 'GET' && method !== 'HEAD') {
    return { status: 405, headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, body: 'Method Not Allowed\n' };
  }
  const text = registry.toPrometheus();
  return {
    status: 200,
    headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
    body: method === 'HEAD' ? undefined : text,
  };
}

/**
 * The framework-neutral scrape handler the adapters' `metricsRoute()` wrap: checks the registry once, then maps
 * a request method to the response plan.
 */
export function metricsEndpoint(registry?: MetricsRegistry): (method: string) => ResponsePlan {
  const source = checkRegistry(registry);
  return (method) => {
    try {
      return metricsResponse(source, method);
    } catch (error) {
      return { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `Metrics export failed: ${String(error)}\n` };
    }
  };
}

/**
 * A plain node:http request handler serving the exposition, for `http.createServer(prometheusHandler())` on a
 * separate metrics port, or mounted on any path of a server that takes (req, res) handlers.
 */
export function prometheusHandler(registry?: MetricsRegistry): (request: IncomingMessage, response: ServerResponse) => void {
  const respond = metricsEndpoint(registry);
  return (request, response) => {
    const plan = respond(request.method ?? 'GET');
    response.writeHead(plan.status, plan.headers);
    response.end(plan.body);
  };
}

/** The parts of a prom-client Registry the bridge uses (prom-client 13 to 15). */
export interface PromClientRegistryLike {
  registerMetric(metric: any): void;
  removeSingleMetric(name: string): void;
  getSingleMetric(name: string): unknown;
}

export interface PromClientBridgeOptions {
  /** The sluice registry to publish. Default: defaultRegistry. */
  registry?: MetricsRegistry;
}

export interface PromClientBridge {
  /** Names published into the prom-client registry so far. */
  readonly names: readonly string[];
  /** Removes the published metrics from the prom-client registry and stops publishing new ones. */
  close(): void;
}

interface PromValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** What prom-client's `get()` returns for one metric: values read from the sluice registry at scrape time. */
function promValues(metric: AnyMetric): PromValue[] {
  const values: PromValue[] = [];
  for (const series of metric.series() as ReturnType<AnyMetric['series']>) {
    if (series instanceof HistogramSeries) {
      const cumulative = series.cumulativeCounts();
      series.bounds.forEach((bound, index) => {
        values.push({ metricName: `${metric.name}_bucket`, labels: { ...series.labels, le: formatValue(bound) }, value: cumulative[index]! });
      });
      values.push({ metricName: `${metric.name}_bucket`, labels: { ...series.labels, le: '+Inf' }, value: series.count });
      values.push({ metricName: `${metric.name}_sum`, labels: { ...series.labels }, value: series.sum });
      values.push({ metricName: `${metric.name}_count`, labels: { ...series.labels }, value: series.count });
    } else {
      values.push({ labels: { ...series.labels }, value: series.value });
    }
  }
  return values;
}

/**
 * Publishes sluice's metrics into an existing prom-client Registry, so the app's one `/metrics` endpoint (or
 * prom-client's cluster aggregation) serves them with its own. Values are read at scrape time, never copied on
 * the hot path; metrics that sluice components register later are published as they appear.
 */
export function bridgeToPromClient(promRegistry: PromClientRegistryLike, options: PromClientBridgeOptions = {}): PromClientBridge {
  if (
    typeof promRegistry !== 'object' ||
    promRegistry === null ||
    typeof promRegistry.registerMetric !== 'function' ||
    typeof promRegistry.removeSingleMetric !== 'function' ||
    typeof promRegistry.getSingleMetric !== 'function'
  ) {
    throw new ConfigError('promRegistry', "a prom-client Registry (new Registry() or prom-client's register)", promRegistry);
  }
  checkKnownOptions(options, 'bridgeToPromClient', ['registry']);
  const registry = checkRegistry(options.registry);
  const published = new Map<string, object>();

  const publish = (metric: AnyMetric): void => {
    if (published.has(metric.name)) return;
    if (promRegistry.getSingleMetric(metric.name) !== undefined) {
      registry.warnOnce(
        { event: 'metrics.bridge_conflict', component: 'metrics', metric: metric.name },
        `sluice metrics: the prom-client registry already has "${metric.name}"; sluice's is not published there`,
      );
      return;
    }
    const collector = {
      name: metric.name,
      help: metric.help,
      type: metric.type,
      aggregator: 'sum',
      get: async () => {
        registry.collect([metric]);
        return { name: metric.name, help: metric.help, type: metric.type, aggregator: 'sum', values: promValues(metric) };
      },
      reset: () => metric.reset(),
    };
    promRegistry.registerMetric(collector);
    published.set(metric.name, collector);
  };

  for (const metric of registry.list()) {
    if (promRegistry.getSingleMetric(metric.name) !== undefined) {
      throw new ConfigError('promRegistry', `a registry without a metric named "${metric.name}" (sluice publishes it)`, metric.name);
    }
  }
  for (const metric of registry.list()) publish(metric);
  const unsubscribe = registry.onRegister(publish);
  return {
    get names() {
      return [...published.keys()];
    },
    close() {
      unsubscribe();
      for (const [name, collector] of published) {
        if (promRegistry.getSingleMetric(name) === collector) promRegistry.removeSingleMetric(name);
      }
      published.clear();
    },
  };
}
