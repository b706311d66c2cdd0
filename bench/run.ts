/**
 * `npm run bench [-- <group>...] [--quick] [--rounds N] [--no-write] [--json FILE] [--from-source]`
 *
 * Runs the benchmark groups (all by default), prints each group's table, saves a full run's results in
 * bench/results/<group>.json and rewrites the generated part of docs/benchmarks.md from every saved result.
 * A full run first compiles sluice (tsc, into .bench-tmp/build) and measures that JavaScript, as users run it.
 * A --quick run is a short smoke run from the TypeScript source: it prints but writes nothing unless --write.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { benchDir } from './lib/child.js';
import type { BenchGroup, GroupContext } from './lib/group.js';
import { machineFacts } from './lib/machine.js';
import { generatedMarkdown, printGroup, replaceGenerated, type GroupResult } from './lib/report.js';

/** In the order they appear in docs/benchmarks.md. */
const GROUPS: Record<string, () => Promise<{ group: BenchGroup }>> = {
  memory: () => import('./memory.js'),
  http: () => import('./http.js'),
  redis: () => import('./redis.js'),
  resilience: () => import('./resilience.js'),
  latency: () => import('./latency.js'),
};

interface Arguments {
  groups: string[];
  quick: boolean;
  rounds: number | undefined;
  write: boolean;
  json: string | undefined;
  fromSource: boolean;
}

function parseArguments(argv: readonly string[]): Arguments {
  const args: Arguments = { groups: [], quick: false, rounds: undefined, write: true, json: undefined, fromSource: false };
  let explicitWrite = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') args.quick = true;
    else if (arg === '--no-write') args.write = false;
    else if (arg === '--write') explicitWrite = true;
    else if (arg === '--rounds') args.rounds = Number(argv[++i]);
    else if (arg === '--json') args.json = argv[++i];
    else if (arg === '--from-source') args.fromSource = true;
    else if (arg in GROUPS) args.groups.push(arg);
    else throw new Error(`Unknown argument "${arg}". Groups: ${Object.keys(GROUPS).join(', ')}; flags: --quick --rounds N --no-write --write --json FILE --from-source`);
  }
  if (args.rounds !== undefined && !(Number.isInteger(args.rounds) && args.rounds >= 1)) throw new Error('--rounds takes a whole number >= 1');
  if (args.quick && !explicitWrite) args.write = false;
  if (args.quick) args.fromSource = true;
  if (explicitWrite) args.write = true;
  if (args.groups.length === 0) args.groups = Object.keys(GROUPS);
  return args;
}

const resultsDir = `${benchDir}results/`;
const buildDir = `${benchDir}../.bench-tmp/build`;

/** Compiles src/ and adapters/ as the package build does (ES modules), without declarations or maps. */
function buildSluice(): void {
  rmSync(buildDir, { recursive: true, force: true });
  const tsc = `${benchDir}../node_modules/typescript/bin/tsc`;
  execFileSync(
    process.execPath,
    [tsc, '-p', `${benchDir}../tsconfig.build.json`, '--outDir', buildDir, '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--declaration', 'false', '--sourceMap', 'false'],
    { stdio: 'inherit' },
  );
  // Every child process (hosts, servers) reads this to load the build instead of the source.
  process.env.SLUICE_BENCH_BUILD = buildDir;
}
const docsPage = `${benchDir}../docs/benchmarks.md`;

function savedResults(): GroupResult[] {
  return Object.keys(GROUPS)
    .map((name) => `${resultsDir}${name}.json`)
    .filter((file) => existsSync(file))
    .map((file) => JSON.parse(readFileSync(file, 'utf8')) as GroupResult);
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  if (args.fromSource) delete process.env.SLUICE_BENCH_BUILD;
  else buildSluice();
  const results: GroupResult[] = [];
  let failed = false;
  for (const name of args.groups) {
    const { group } = await GROUPS[name]!();
    const machine = machineFacts();
    const startMs = Date.now();
    const context: GroupContext = {
      quick: args.quick,
      rounds: args.rounds ?? (args.quick ? 3 : 5),
      log: (line) => process.stderr.write(`[${name} ${((Date.now() - startMs) / 1000).toFixed(1)}s] ${line}\n`),
    };
    context.log(`starting (${args.quick ? 'quick' : 'full'}, ${context.rounds} rounds)`);
    try {
      const output = await group.run(context);
      const result: GroupResult = {
        group: name,
        profile: args.quick ? 'quick' : 'full',
        sluiceFrom: args.fromSource ? 'TypeScript source (tsx)' : 'compiled JavaScript (tsc)',
        rounds: context.rounds,
        machine,
        durationSec: (Date.now() - startMs) / 1000,
        ...output,
      };
      results.push(result);
      printGroup(result);
      if (args.write) {
        mkdirSync(resultsDir, { recursive: true });
        writeFileSync(`${resultsDir}${name}.json`, `${JSON.stringify(result, null, 1)}\n`);
      }
    } catch (error) {
      failed = true;
      console.error(`[${name}] failed:`, error);
    }
  }
  if (args.json) writeFileSync(args.json, JSON.stringify(results));
  if (args.write) {
    const page = existsSync(docsPage) ? readFileSync(docsPage, 'utf8') : '# Benchmarks\n';
    writeFileSync(docsPage, replaceGenerated(page, generatedMarkdown(savedResults())));
    console.log(`\nwrote bench/results/ and docs/benchmarks.md`);
  }
  if (failed) process.exitCode = 1;
}

await main();
