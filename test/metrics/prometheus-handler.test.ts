import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, PROMETHEUS_CONTENT_TYPE, defaultRegistry, memoryStore, metricsRegistry, prometheusHandler, tokenBucket } from '../../src/index.js';
import { parsers, sampleValue } from '../support/prometheus-text.js';

let server: Server | undefined;

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  const running = server;
  server = undefined;
  if (running) await new Promise((resolve) => running.close(resolve));
});

describe('prometheusHandler', () => {
  it('serves the exposition over node:http, scraped end to end', async () => {
    const registry = metricsRegistry();
    const limiter = tokenBucket({ name: 'scraped', rate: 1, burst: 1, store: memoryStore({ sweepInterval: 0 }), metrics: registry });
    await limiter.consume('a');
    await limiter.consume('a');
    const url = await serve(prometheusHandler(registry));

    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    const text = await response.text();
    for (const parser of parsers) {
      const parsed = parser.parse(text);
      expect(sampleValue(parsed, 'sluice_limiter_decisions_total', { limiter: 'scraped', policy: 'scraped', outcome: 'accepted' })).toBe(1);
      expect(sampleValue(parsed, 'sluice_limiter_decisions_total', { limiter: 'scraped', policy: 'scraped', outcome: 'rejected' })).toBe(1);
    }

    const head = await fetch(`${url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(`${url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('serves the default registry when given none', async () => {
    const limiter = tokenBucket({ name: 'default-registry-handler', rate: 1, store: memoryStore({ sweepInterval: 0 }) });
    await limiter.consume('a');
    const url = await serve(prometheusHandler());
    const text = await (await fetch(url)).text();
    expect(text).toContain('sluice_limiter_decisions_total{limiter="default-registry-handler",policy="default-registry-handler",outcome="accepted"} 1');
    expect(text).toBe(defaultRegistry.toPrometheus());
  });

  it('answers 500 when the export throws, instead of dropping the connection', async () => {
    const registry = metricsRegistry();
    registry.gauge({ name: 'ok', help: 'x' });
    const url = await serve(prometheusHandler(registry));
    (registry as unknown as { toPrometheus: () => string }).toPrometheus = () => {
      throw new Error('disk on fire');
    };
    const response = await fetch(url);
    expect(response.status).toBe(500);
    expect(await response.text()).toMatch(/disk on fire/);
  });

  it('rejects a registry that is not one', () => {
    expect(() => prometheusHandler({} as never)).toThrow(ConfigError);
  });
});
