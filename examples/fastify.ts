// Fastify: the plugin limits every route; one route has its own stricter limit, one none. Run: npx tsx examples/fastify.ts
import Fastify from 'fastify';
import { fixedWindow, tokenBucket } from '../src/index.js';
import sluice from '../adapters/fastify/index.js';

const app = Fastify();
// Register before declaring routes: per-route options are compiled when each route is added.
await app.register(sluice, { limiter: tokenBucket({ rate: 10, per: '1m', name: 'global' }) });

app.get('/', async (request) => ({ hello: 'world', remaining: request.rateLimit?.remaining }));
app.get('/search', { config: { rateLimit: { limiter: fixedWindow({ limit: 2, window: '30s', name: 'search' }) } } }, async () => ({
  results: [],
}));
app.get('/health', { config: { rateLimit: false } }, async () => ({ status: 'up' }));

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`Fastify with sluice on ${address}`);
console.log(`  for i in 1 2 3; do curl -s -o /dev/null -w "%{http_code}\\n" ${address}/search; done`);
console.log(`  curl -i ${address}/health`);
