/**
 * Measures what metrics cost on the hot path: memory-store token-bucket decisions per second with metrics on
 * (the default registry) and off, interleaved round by round so machine load hits every variant alike, timed
 * by CPU time.
 * Run: npx tsx bench/metrics-overhead.ts [a src/index.ts without metrics, e.g. an older checkout, as a baseline]
 */
type Sluice = typeof import('../src/index.js');
const current = (await import('../src/index.js')) as Sluice;
const baseline = process.argv[2] ? ((await import(process.argv[2])) as Sluice) : undefined;

const KEYS = 1000;
const keys = Array.from({ length: KEYS }, (_, i) => `client-${i}`);

/** Decisions per second of this process's CPU time (not wall time: the machine is shared, and waiting for a core is not our cost). */
function run(limiter: { decide(key: string): unknown }, decisions: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < decisions; i++) limiter.decide(keys[i % KEYS]!);
  const used = process.cpuUsage(start);
  return decisions / ((used.user + used.system) / 1e6);
}

function make(sluice: Sluice, extra: Record<string, unknown>) {
  const options = { rate: 1e9, burst: 1e9, store: sluice.memoryStore({ sweepInterval: 0 }), ...extra };
  return sluice.tokenBucket(options as never);
}

const variants: Record<string, () => { decide(key: string): unknown }> = {
  'metrics on': () => make(current, {}),
  'metrics off': () => make(current, { metrics: false }),
  ...(baseline ? { baseline: () => make(baseline, {}) } : {}),
};
const rounds = Number(process.env.ROUNDS ?? 15);
const perRound = 1_000_000;
const results: Record<string, number[]> = {};
for (const create of Object.values(variants)) run(create(), perRound); // warm up
for (let round = 0; round < rounds; round++) {
  for (const [name, create] of Object.entries(variants)) (results[name] ??= []).push(run(create(), perRound));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const [name, values] of Object.entries(results)) {
  console.log(`${name}: ${(median(values) / 1e6).toFixed(2)} M decisions/s (median of ${rounds} rounds of ${perRound})`);
}
