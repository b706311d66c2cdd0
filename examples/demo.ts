// `npm start`: an Express app on the embedded memory store, no setup. A global limit, a stricter per-route limit
// and an account-keyed route; it tours itself once (200s turning into 429s, with Retry-After), then keeps serving.
import express from 'express';
import { slidingWindow, tokenBucket } from '../src/index.js';
import { rateLimit, rateLimitErrorHandler } from '../adapters/express/index.js';

const app = express();

// Global: 30 requests per minute per client IP, on every route.
app.use(rateLimit({ limiter: slidingWindow({ limit: 30, window: '1m', name: 'global' }) }));

// Per route, stricter and counted on its own: 3 searches per 10 seconds per client.
app.get('/search', rateLimit({ limiter: tokenBucket({ rate: 3, per: '10s', name: 'search' }) }), (req, res) => {
  res.json({ results: [], remaining: req.rateLimit?.remaining });
});

// Per account: the key is the X-Account header (your session's account id in a real app), 2 per 10 seconds.
app.get(
  '/reports',
  rateLimit({ key: (req) => req.get('x-account'), limiter: tokenBucket({ rate: 2, per: '10s', name: 'reports' }) }),
  (req, res) => res.json({ account: req.rateLimit?.key, remaining: req.rateLimit?.remaining }),
);

app.get('/', (_req, res) => res.json({ routes: ['/search', '/reports (X-Account header)'] }));
app.use(rateLimitErrorHandler());

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', async () => {
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  console.log(`sluice demo (Express, memory store) on ${url}\n`);
  console.log('Try it:');
  console.log(`  for i in 1 2 3 4 5; do curl -si ${url}/search | grep -iE '^(HTTP|RateLimit|Retry-After)'; echo; done`);
  console.log(`  for i in 1 2 3; do curl -s -H 'x-account: ann' ${url}/reports; echo; done`);
  console.log(`  curl -s -H 'x-account: bob' ${url}/reports   # another account: its own limit\n`);

  if (process.env.DEMO_TOUR === '0') return;
  console.log('A quick tour (the same requests, made by the demo itself):');
  const show = async (label: string, path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url + path, { headers });
    const retryAfter = response.headers.get('retry-after');
    const rateLimit = response.headers.get('ratelimit');
    console.log(`  ${label.padEnd(28)} ${response.status}  RateLimit: ${rateLimit}${retryAfter ? `  Retry-After: ${retryAfter}` : ''}`);
  };
  for (let i = 1; i <= 4; i++) await show(`GET /search #${i}`, '/search');
  for (let i = 1; i <= 3; i++) await show(`GET /reports as ann #${i}`, '/reports', { 'x-account': 'ann' });
  await show('GET /reports as bob #1', '/reports', { 'x-account': 'bob' });
  console.log('\nThe tour used this client\'s quota; it is back within 10 seconds. Ctrl+C to stop.');
});
