// `npm start`: a small node:http server on the embedded memory store showing 200s turning into 429s.
import { createServer } from 'node:http';
import { tokenBucket } from '../src/index.js';

const limiter = tokenBucket({ rate: 5, per: '10s', burst: 5, name: 'demo' });

const server = createServer(async (req, res) => {
  const client = req.socket.remoteAddress ?? 'unknown';
  const decision = await limiter.consume(client);
  res.setHeader('RateLimit-Policy', `"demo";q=${decision.limit};w=${Math.ceil(decision.policy.windowMs / 1000)}`);
  res.setHeader('RateLimit', `"demo";r=${decision.remaining};t=${Math.ceil(decision.resetMs / 1000)}`);
  if (!decision.allowed) {
    res.writeHead(429, { 'Retry-After': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))) });
    res.end(`Too many requests: retry in ${decision.retryAfterMs} ms\n`);
    return;
  }
  res.end(`Hello! ${decision.remaining} of ${decision.limit} requests left\n`);
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`sluice demo on http://127.0.0.1:${port} (5 requests per 10 s per client)`);
  console.log(`Try: for i in $(seq 7); do curl -si http://127.0.0.1:${port}/ | head -1; done`);
});
