// Measures what a circuit breaker adds to an async call (closed state): sluice vs cockatiel vs opossum vs direct.
// Run: npx tsx bench/breaker-overhead.ts   (figures are ns per call, best of several rounds)
import { circuitBreaker } from '../src/index.js';

const CALLS = Number(process.env.CALLS ?? 1_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);

const work = async (x: number): Promise<number> => x + 1;

async function measure(name: string, call: (i: number) => Promise<number>): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    let sum = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) sum += await call(i);
    const ns = Number(process.hrtime.bigint() - start) / CALLS;
    if (sum < 0) console.log(sum);
    if (round > 0) best = Math.min(best, ns); // round 0 warms up
  }
  console.log(`${name.padEnd(10)} ${best.toFixed(1)} ns/call`);
  return best;
}

const breaker = circuitBreaker({ failureThreshold: 5, resetTimeout: '10s', metrics: false });
const measured = circuitBreaker({ failureThreshold: 5, resetTimeout: '10s', name: 'bench' }); // metrics on (the default)
const direct = await measure('direct', (i) => work(i));
const sluice = await measure('sluice', (i) => breaker.execute(() => work(i)));
const sluiceMetrics = await measure('+metrics', (i) => measured.execute(() => work(i)));

let cockatiel: number | undefined;
let opossum: number | undefined;
try {
  const { circuitBreaker: cb, handleAll, ConsecutiveBreaker } = await import('cockatiel');
  const policy = cb(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
  cockatiel = await measure('cockatiel', (i) => policy.execute(() => work(i)));
} catch (error) {
  console.log('cockatiel not installed:', (error as Error).message);
}
try {
  const opossumModule = 'opossum'; // untyped package: imported by name so tsc does not look for declarations
  const { default: CircuitBreakerClass } = await import(opossumModule);
  const opossumBreaker = new CircuitBreakerClass(work, { resetTimeout: 10_000, timeout: false as never });
  opossum = await measure('opossum', (i) => opossumBreaker.fire(i) as Promise<number>);
} catch (error) {
  console.log('opossum not installed:', (error as Error).message);
}
console.log(`overhead over direct: sluice ${(sluice - direct).toFixed(1)} ns (with metrics ${(sluiceMetrics - direct).toFixed(1)} ns)` +
  (cockatiel === undefined ? '' : `, cockatiel ${(cockatiel - direct).toFixed(1)} ns`) +
  (opossum === undefined ? '' : `, opossum ${(opossum - direct).toFixed(1)} ns`));
