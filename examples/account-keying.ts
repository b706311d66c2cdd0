// Keys by account, not IP: a per-route guard on the API keyed by the account the request authenticates as, with a
// limit chosen by plan tier, and a global per-IP limit in front. Run: npx tsx examples/account-keying.ts
import express, { type Request } from 'express';
import { slidingWindow, tokenBucket } from '../src/index.js';
import { rateLimit } from '../adapters/express/index.js';

// A stand-in for your session or API-key lookup.
const accounts: Record<string, { id: string; plan: 'free' | 'pro' }> = {
  'key-ann': { id: 'acct-1', plan: 'free' },
  'key-bob': { id: 'acct-2', plan: 'pro' },
};
const accountOf = (req: Request) => accounts[req.get('x-api-key') ?? ''];

const free = tokenBucket({ rate: 3, per: '1m', name: 'free' });
const pro = tokenBucket({ rate: 30, per: '1m', name: 'pro' });

const app = express();
app.use(rateLimit({ limiter: slidingWindow({ limit: 100, window: '1m', name: 'per-ip' }) }));
app.get(
  '/api/reports',
  rateLimit({
    // Anonymous requests (no known account) fall back to the client IP.
    key: (req) => accountOf(req)?.id,
    limiter: (req) => (accountOf(req)?.plan === 'pro' ? pro : free),
  }),
  (req, res) => res.json({ account: req.rateLimit?.key, remaining: req.rateLimit?.remaining }),
);

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  console.log(`Account-keyed limits on ${url}`);
  console.log(`  for i in 1 2 3 4; do curl -s -H 'x-api-key: key-ann' ${url}/api/reports; echo; done   # free: 3 per minute`);
  console.log(`  for i in 1 2 3 4; do curl -s -H 'x-api-key: key-bob' ${url}/api/reports; echo; done   # pro: 30 per minute`);
});
