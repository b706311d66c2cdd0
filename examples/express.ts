// Express: a global limit for every route and a stricter one on POST /login. Run: npx tsx examples/express.ts
import express from 'express';
import { slidingWindow, tokenBucket } from '../src/index.js';
import { rateLimit, rateLimitErrorHandler } from '../adapters/express/index.js';

const app = express();
app.use(express.json());

// 20 requests per minute per client IP, on every route.
app.use(rateLimit({ limiter: slidingWindow({ limit: 20, window: '1m', name: 'global' }) }));

// 3 login attempts per minute per client, counted apart from the global limit; only failures count.
app.post(
  '/login',
  rateLimit({ limiter: tokenBucket({ rate: 3, per: '1m', name: 'login' }), skipSuccessfulRequests: true }),
  (req, res) => {
    if (req.body?.password === 'correct horse') return res.json({ welcome: req.body.user });
    res.status(401).json({ error: 'wrong password' });
  },
);

app.get('/', (req, res) => res.json({ hello: 'world', rateLimit: req.rateLimit }));
app.use(rateLimitErrorHandler());

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  console.log(`Express with sluice on ${url}`);
  console.log(`  curl -i ${url}/`);
  console.log(`  for i in 1 2 3 4; do curl -s -o /dev/null -w "%{http_code}\\n" -X POST ${url}/login -H 'content-type: application/json' -d '{"user":"ann","password":"guess"}'; done`);
});
