/**
 * What metrics cost on the hot path: memory-store token-bucket decisions per CPU second with metrics on (the
 * default registry), off, and, given a path to an older src/index.ts without metrics, that baseline.
 * Each variant runs in its own process (so no call site sees another variant's classes), the variants alternate
 * run after run so that load on a shared machine hits them alike, and time is the process's CPU time.
 * Run: npx tsx bench/metrics-overhead.ts [/path/to/older/src/index.ts]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const KEYS = 1000;
const DECISIONS = 1_000_000;
const ROUNDS_PER_PROCESS = 5;

type Sluice = typeof import('../src/index.js');

async function child(variant: string, baselinePath: string | undefined): Promise<void> {
  const sluice = (variant === 'baseline' ? await import(baselinePath!) : await import('../src/index.js')) as Sluice;
  const keys = Array.from({ length: KEYS }, (_, i) => `client-${i}`);
  const options: Record<string, unknown> = { rate: 1e9, burst: 1e9 };
  if (variant === 'off') options.metrics = false;
  let best = 0;
  for (let round = 0; round < ROUNDS_PER_PROCESS + 1; round++) {
    const limiter = sluice.tokenBucket({ ...options, store: sluice.memoryStore({ sweepInterval: 0 }) } as never);
    const start = process.cpuUsage();
    for (let i = 0; i < DECISIONS; i++) limiter.decide(keys[i % KEYS]!);
    const used = process.cpuUsage(start);
    const perSecond = DECISIONS / ((used.user + used.system) / 1e6);
    if (round > 0 && perSecond > best) best = perSecond; // round 0 warms the JIT up
  }
  console.log(best);
}

async function parent(baselinePath: string | undefined): Promise<void> {
  const variants = baselinePath ? ['on', 'off', 'baseline'] : ['on', 'off'];
  const processes = Number(process.env.PROCESSES ?? 8);
  const results: Record<string, number[]> = {};
  const self = fileURLToPath(import.meta.url);
  for (let run = 0; run < processes; run++) {
    const order = run % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) {
      const args = ['--import', 'tsx', self, '--child', variant, ...(baselinePath ? [baselinePath] : [])];
      const output = spawnSync(process.execPath, args, { encoding: 'utf8' });
      if (output.status !== 0) throw new Error(output.stderr);
      (results[variant] ??= []).push(Number(output.stdout.trim()));
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const base = median(results[baselinePath ? 'baseline' : 'off']!);
  for (const [variant, values] of Object.entries(results)) {
    const m = median(values);
    console.log(
      `metrics ${variant}: ${(m / 1e6).toFixed(2)} M decisions/CPU-s (median of ${values.length} processes, best of ` +
        `${ROUNDS_PER_PROCESS} rounds of ${DECISIONS} each)  ${(((m - base) / base) * 100).toFixed(1)}% vs ${baselinePath ? 'baseline' : 'off'}`,
    );
  }
}

const [flag, variant, baselinePath] = process.argv.slice(2);
if (flag === '--child') await child(variant!, baselinePath);
else await parent(flag);
