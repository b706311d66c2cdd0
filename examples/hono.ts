// Hono on Node (@hono/node-server); on Bun, Deno or Workers pass that runtime's getConnInfo. Run: npx tsx examples/hono.ts
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { tokenBucket } from '../src/index.js';
import { rateLimit, rateLimitErrorHandler, type RateLimitEnv } from '../adapters/hono/index.js';

const app = new Hono<RateLimitEnv>();
app.onError(rateLimitErrorHandler());
app.use('*', rateLimit({ limiter: tokenBucket({ rate: 5, per: '10s', name: 'global' }), getConnInfo }));
app.get('/', (c) => c.json({ hello: 'world', remaining: c.get('rateLimit')?.remaining }));

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: '127.0.0.1' }, ({ port }) => {
  const url = `http://127.0.0.1:${port}`;
  console.log(`Hono with sluice on ${url}`);
  console.log(`  for i in $(seq 7); do curl -s -o /dev/null -w "%{http_code}\\n" ${url}/; done`);
});
