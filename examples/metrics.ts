// `npx tsx examples/metrics.ts`: a node:http app with a limiter, its metrics on /metrics and its refusals logged
// as structured lines; it sends itself a few requests, prints what a Prometheus scrape sees, and stops.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsRegistry, prometheusHandler, tokenBucket, type LogFields } from '../src/index.js';

// A pino logger plugs in as it is (`logger: pino()`); this one prints JSON lines the same way.
const line = (level: string) => (fields: LogFields, message: string) => console.log(JSON.stringify({ level, ...fields, msg: message }));
const logger = { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };

// Metrics go to the process-wide `defaultRegistry` unless told otherwise; this app keeps its own.
const registry = metricsRegistry();
const limiter = tokenBucket({ name: 'api', rate: 3, per: '10s', burst: 3, metrics: registry, logger });
const scrape = prometheusHandler(registry);

const server = createServer(async (request, response) => {
  if (request.url === '/metrics') return scrape(request, response);
  const decision = await limiter.consume(request.socket.remoteAddress ?? 'unknown');
  response.writeHead(decision.allowed ? 200 : 429).end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const statuses: number[] = [];
for (let i = 0; i < 5; i++) statuses.push((await fetch(`${base}/hello`)).status);
console.log(`statuses: ${statuses.join(' ')}`);

const exposition = await (await fetch(`${base}/metrics`)).text();
console.log(exposition.split('\n').filter((text) => text.startsWith('sluice_limiter_decisions_total')).join('\n'));
// The same figures in code: the registry's values, and the limiter's own plain counters.
console.log('refused:', registry.value('sluice_limiter_decisions_total', { limiter: 'api', policy: 'api', outcome: 'rejected' }));
console.log('limiter.metrics():', JSON.stringify(limiter.metrics()));
server.close();
