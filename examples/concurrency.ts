// At most 2 jobs at once per key and 5 starts per second, as one composite: run with `npx tsx examples/concurrency.ts`.
import { composite, concurrency, tokenBucket } from '../src/index.js';

const slots = concurrency({ max: 2, lease: '30s', name: 'jobs-in-flight' });
const starts = tokenBucket({ rate: 5, per: '1s', name: 'job-starts' });
const jobs = composite(starts, slots);

const startedAt = Date.now();
const log = (message: string) => console.log(`${String(Date.now() - startedAt).padStart(5)} ms  ${message}`);

async function runJob(id: number): Promise<void> {
  // Waits for a free slot (woken as soon as another job releases) for up to 5 seconds.
  await using _permit = await jobs.acquire('tenant-1', { timeout: '5s' });
  log(`job ${id} started (${(await slots.stats('tenant-1')).available} slot(s) free)`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  log(`job ${id} done`);
}

await Promise.all([1, 2, 3, 4, 5, 6].map(runJob));
console.log(jobs.metrics());
