// Errors thrown in handlers become responses: RateLimitExceededError -> 429, CircuitOpenError -> 503, both with
// Retry-After. Here a handler calls a flaky dependency through a limiter and a circuit breaker.
// Run: npx tsx examples/error-mapping.ts
import Fastify from 'fastify';
import { CircuitOpenError, tokenBucket } from '../src/index.js';
import sluice from '../adapters/fastify/index.js';

const partnerQuota = tokenBucket({ rate: 2, per: '30s', name: 'partner-api' });
let partnerDownUntil = 0;

const app = Fastify();
// The plugin installs the error mapping even without a global limit.
await app.register(sluice, {});

app.get('/quote', async () => {
  // acquire() throws RateLimitExceededError when the wait would exceed the timeout.
  await partnerQuota.acquire('partner', { timeout: 0 });
  return { quote: 42 };
});
app.get('/orders', async () => {
  if (Date.now() < partnerDownUntil) throw new CircuitOpenError(partnerDownUntil - Date.now());
  partnerDownUntil = Date.now() + 20_000; // pretend the dependency just failed and the breaker opened
  return { orders: [] };
});

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`Error mapping on ${address}`);
console.log(`  for i in 1 2 3; do curl -si ${address}/quote | grep -iE '^(HTTP|retry-after|ratelimit)'; done`);
console.log(`  for i in 1 2; do curl -si ${address}/orders | grep -iE '^(HTTP|retry-after)'; done`);
