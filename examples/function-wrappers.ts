// Rate-limit any async function by a dynamic id, and compose it with a circuit breaker and retries.
// Run: npx tsx examples/function-wrappers.ts
import { circuitBreaker, isRateLimitExceededError, rateLimited, tokenBucket, withCircuitBreaker, withRetry } from '../src/index.js';

// Each user may send 2 messages per second.
const limiter = tokenBucket({ rate: 2, per: '1s', name: 'messages' });
const sendMessage = async (userId: string, text: string): Promise<string> => `delivered to ${userId}: ${text}`;

const limitedSend = rateLimited(sendMessage, { limiter, key: (userId) => `user:${userId}` });
for (const [userId, text] of [['ann', 'hi'], ['ann', 'there'], ['ann', 'again'], ['bob', 'hello']] as const) {
  try {
    console.log(await limitedSend(userId, text));
  } catch (error) {
    if (isRateLimitExceededError(error)) console.log(`refused for ${error.key}: retry in ${error.retryAfterMs} ms`);
    else throw error;
  }
}

// Composed in the recommended order: retry( breaker( rateLimited( fn ) ) ). Retry waits out the limiter's
// retryAfterMs; the breaker ignores the limiter's refusals (they never reached the dependency).
const breaker = circuitBreaker({ name: 'sms-gateway', failureThreshold: 3 });
const reliableSend = withRetry(withCircuitBreaker(limitedSend, breaker), { maxRetries: 3, baseDelay: '50ms' });
const startMs = Date.now();
console.log(await reliableSend('ann', 'waited for a token'), `(after ${Date.now() - startMs} ms)`);
console.log('breaker:', breaker.stats().state, 'failures:', breaker.stats().failures);
