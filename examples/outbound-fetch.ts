// The outbound client against a partner API it starts itself on 127.0.0.1: per-account limits, 429 + Retry-After
// honoured, per-account status. Run: npx tsx examples/outbound-fetch.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rateLimitedFetch, tokenBucket } from '../src/index.js';

// The partner: 3 requests per account per 1 s window, then 429 with Retry-After (seconds to the window's end).
const used = new Map<string, number>();
const partner = createServer((req, res) => {
  const account = String(req.headers['x-account'] ?? 'anonymous');
  const windowId = Math.floor(Date.now() / 1000);
  const count = used.get(`${account}:${windowId}`) ?? 0;
  if (count >= 3) {
    res.writeHead(429, { 'Retry-After': '1' }).end();
    return;
  }
  used.set(`${account}:${windowId}`, count + 1);
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ account, n: count + 1 }));
});
await new Promise<void>((resolve) => partner.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(partner.address() as AddressInfo).port}`;

// The client believes in 5 per second: the partner's 429s correct it.
const partnerFetch = rateLimitedFetch({
  limiter: tokenBucket({ rate: 5, per: '1s', burst: 5, name: 'partner' }),
  key: (request) => request.headers.get('x-account') ?? 'anonymous',
  retry: { maxRetries: 4 },
  timeout: '10s',
});

const startMs = Date.now();
const requests = ['acme', 'globex'].flatMap((account) =>
  Array.from({ length: 6 }, async (_, i) => {
    const response = await partnerFetch(`${base}/orders?page=${i}`, { headers: { 'x-account': account } });
    console.log(`${String(Date.now() - startMs).padStart(5)} ms  ${account} page ${i}: ${response.status}`);
  }),
);
await Promise.all(requests);
console.log('status of acme:', await partnerFetch.status('acme'));
partner.closeAllConnections();
partner.close();
