// Koa with @koa/router: a global limit plus a per-route one. Run: npx tsx examples/koa.ts
import Koa from 'koa';
import Router from '@koa/router';
import { gcra, slidingWindow } from '../src/index.js';
import { rateLimit, rateLimitErrorHandler } from '../adapters/koa/index.js';

const app = new Koa();
const router = new Router();

router.get('/', (ctx) => {
  ctx.body = { hello: 'world', rateLimit: ctx.state.rateLimit };
});
// Exports are expensive: 2 per minute per client, smooth (GCRA), on top of the global limit.
router.get('/export', rateLimit({ limiter: gcra({ rate: 2, per: '1m', name: 'export' }), headers: 'draft-7' }), (ctx) => {
  ctx.body = { export: 'started' };
});

app.use(rateLimitErrorHandler());
app.use(rateLimit({ limiter: slidingWindow({ limit: 30, window: '1m', name: 'global' }) }));
app.use(router.routes());

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  console.log(`Koa with sluice on ${url}`);
  console.log(`  for i in 1 2 3; do curl -si ${url}/export | grep -iE '^(HTTP|ratelimit|retry-after)'; done`);
});
