// TC39 standard decorators (tsx/esbuild implement them; TypeScript with experimentalDecorators off).
// Run: npx tsx examples/decorators.ts
import { decorators, isRateLimitExceededError, tokenBucket } from '../src/index.js';

const { rateLimited, circuitBreaker, retry } = decorators;
const perAccount = tokenBucket({ rate: 2, per: '1s', name: 'partner-orders' });

class PartnerClient {
  private calls = 0;

  // Applied from the method outwards: retry( breaker( rateLimited( orders ) ) ).
  @retry({ maxRetries: 2, baseDelay: '50ms', retryOn: (error) => !isRateLimitExceededError(error) })
  @circuitBreaker({ failureThreshold: 3, resetTimeout: '5s' })
  @rateLimited({ limiter: perAccount, key: (accountId: string) => accountId })
  async orders(accountId: string, page: number): Promise<string> {
    this.calls++;
    if (this.calls === 1) throw new Error('transient network error'); // retried
    return `orders of ${accountId}, page ${page}`;
  }
}

const client = new PartnerClient();
console.log(await client.orders('acme', 1));
console.log(await client.orders('globex', 1));
try {
  await client.orders('acme', 2);
  await client.orders('acme', 3);
} catch (error) {
  if (isRateLimitExceededError(error)) console.log(`acme is over its limit: retry in ${error.retryAfterMs} ms`);
  else throw error;
}
