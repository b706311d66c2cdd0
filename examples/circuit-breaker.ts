// A circuit breaker around a dependency that goes down and comes back: watch closed -> open -> half-open -> closed.
// Run: npx tsx examples/circuit-breaker.ts
import { circuitBreaker, countWindow, isCircuitOpenError } from '../src/index.js';

let healthy = true;
const dependency = async (signal: AbortSignal, n: number): Promise<string> => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  signal.throwIfAborted();
  if (!healthy) throw new Error('503 from the dependency');
  return `answer ${n}`;
};

const breaker = circuitBreaker({
  name: 'inventory',
  strategy: countWindow({ size: 6, failureRatio: 0.5, minimumCalls: 4 }),
  resetTimeout: '300ms',
  timeout: '1s',
  backoff: { factor: 2, max: '2s' },
});
breaker.onStateChange(({ from, to, reason, openMs }) =>
  console.log(`  [${from} -> ${to}] ${reason}${openMs === undefined ? '' : ` (open for ${openMs} ms)`}`),
);

async function call(n: number): Promise<void> {
  try {
    console.log(`call ${n}: ${await breaker.execute((signal) => dependency(signal, n))}`);
  } catch (error) {
    if (isCircuitOpenError(error)) console.log(`call ${n}: refused, circuit open (retry in ${error.retryAfterMs} ms)`);
    else console.log(`call ${n}: failed: ${(error as Error).message}`);
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (let n = 1; n <= 3; n++) await call(n);
console.log('-- the dependency goes down');
healthy = false;
for (let n = 4; n <= 9; n++) await call(n);
await pause(320);
await call(10); // the trial fails: open again, for longer (backoff)
console.log('-- the dependency recovers');
healthy = true;
await pause(650);
await call(11); // the trial succeeds: closed
await call(12);
console.log('stats:', breaker.stats());
