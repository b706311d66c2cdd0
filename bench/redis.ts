/**
 * redis group: decisions per second on sluice's Redis store (token bucket, sliding window, a composite of both)
 * against rate-limiter-flexible's RateLimiterRedis and redis-benchmark replaying the very EVALSHA sluice sends
 * (the ceiling), with 1 and 256 decisions in flight; and the hybrid store's deny cache under an attack of refused
 * requests. The bench starts its own redis-server on a free port (never the machine's 6379) and stops it by PID.
 */
import { spawn } from 'node:child_process';
import type { Redis } from 'ioredis';
import * as sluice from '../src/index.js';
import { startRedis, type RedisServer } from '../test/support/redis.js';
import type { Sample } from './lib/contender.js';
import type { BenchGroup, GroupContext } from './lib/group.js';
import { pick } from './lib/group.js';
import { ratioGoal, valueGoal } from './lib/goals.js';
import { commandsRun, processCpuNs } from './lib/redis-probe.js';
import type { Goal, Row } from './lib/report.js';
import { hostSampler, rotate, startHost, throughputRows, type Sampler } from './lib/rotation.js';
import { summarize } from './lib/stats.js';
import type { RedisParams } from './redis-contenders.js';

const MODULE = 'redis-contenders.ts';
const RLR = 'RateLimiterRedis';
const TOKEN_BUCKET = 'sluice tokenBucket';

/** Adds the server's CPU time and command count during each sample to the sample's extra figures. */
function probed(sampler: Sampler, server: RedisServer, admin: Redis): Sampler {
  return {
    name: sampler.name,
    warm: () => sampler.warm(),
    close: () => sampler.close(),
    async sample() {
      const cpuBefore = processCpuNs(server.pid!);
      const commandsBefore = await commandsRun(admin);
      const sample = await sampler.sample();
      const commandsAfter = await commandsRun(admin);
      const redisCpuNs = processCpuNs(server.pid!) - cpuBefore;
      const commands = commandsAfter.commands - commandsBefore.commands;
      const scripts = commandsAfter.scripts - commandsBefore.scripts;
      return { ...sample, extra: { ...sample.extra, redisCpuNs, commands, scripts } };
    },
  };
}

/** The exact EVALSHA calls sluice sends for `decisions` concurrent decisions, read with MONITOR. */
async function captureCalls(server: RedisServer, decisions: number): Promise<string[][]> {
  const client = server.client();
  const monitor = await server.client().monitor();
  const calls: string[][] = [];
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (args[0]?.toLowerCase() === 'evalsha') calls.push(args);
  });
  const limiter = sluice.tokenBucket({ rate: 1, per: '1s', burst: 1e9, store: sluice.redisStore({ client }), name: 'capture' });
  await limiter.consume('warm-up');
  // MONITOR output trails the commands a little: wait until the warm-up call has been seen, then start clean.
  for (let i = 0; i < 100 && calls.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  calls.length = 0;
  await Promise.all(Array.from({ length: decisions }, (_, i) => limiter.consume(`10.0.${i >> 8}.${i & 255}`)));
  for (let i = 0; i < 100 && calls.reduce((n, call) => n + batchSize(call), 0) < decisions; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  monitor.disconnect();
  client.disconnect();
  if (calls.length === 0) throw new Error('MONITOR saw no EVALSHA from the Redis store');
  return calls;
}

/** How many decisions one captured call carries: its keys (the 3rd argument is numkeys). */
const batchSize = (call: string[]) => Number(call[2]);

/** redis-benchmark replaying one command; ops = decisions (requests × decisions per request). */
function benchmarkSampler(name: string, server: RedisServer, command: string[], decisionsPerCall: number, connections: number, pipeline: number, sampleMs: number): Sampler {
  let requests = 2_000;
  const run = (count: number) =>
    new Promise<{ rps: number; wallNs: number }>((resolve, reject) => {
      const args = ['-h', '127.0.0.1', '-p', String(server.port), '-n', String(count), '-c', String(connections), '-P', String(pipeline), '--csv', ...command];
      const started = process.hrtime.bigint();
      const child = spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code) => {
        const wallNs = Number(process.hrtime.bigint() - started);
        // CSV: "test","rps",...; the one data row holds the command's requests per second.
        const row = output.trim().split('\n').find((line) => /^"EVALSHA/i.test(line));
        const rps = row ? Number(row.split('","')[1]) : Number.NaN;
        if (code !== 0 || !Number.isFinite(rps)) return reject(new Error(`redis-benchmark failed (${code}): ${output.slice(-500)}`));
        resolve({ rps, wallNs });
      });
    });
  // redis-benchmark now and then gives up ("All clients disconnected") on a busy host: try a sample again.
  const runWithRetry = async (count: number) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run(count);
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
  };
  return {
    name,
    async warm() {
      const { rps } = await runWithRetry(requests);
      requests = Math.max(1_000, Math.round((rps * sampleMs) / 1000));
    },
    async sample(): Promise<Sample> {
      const { rps } = await runWithRetry(requests);
      const ops = requests * decisionsPerCall;
      // redis-benchmark's own figure excludes its start-up; its CPU is not the application's, so none is given.
      return { ops, wallNs: (requests / rps) * 1e9, cpuNs: Number.NaN };
    },
    close: async () => undefined,
  };
}

function redisRows(samples: Map<string, Sample[]>, comparison: string, ratiosVs: readonly string[]): Row[] {
  const rows = throughputRows(samples, { comparison, unit: 'decisions/s', ratiosVs });
  for (const row of rows) {
    const list = samples.get(row.contender)!;
    if (list.some((s) => !Number.isFinite(s.cpuNs))) delete row.cpuNsPerOp;
    if (list.every((s) => s.extra?.redisCpuNs !== undefined)) {
      row.extras = {
        'Redis CPU/op': { unit: 'ns', value: summarize(list.map((s) => s.extra!.redisCpuNs! / s.ops)) },
        'scripts/op': { unit: '', value: summarize(list.map((s) => s.extra!.scripts! / s.ops)) },
        'commands/op': { unit: '', value: summarize(list.map((s) => s.extra!.commands! / s.ops)) },
      };
    }
    const wrong = list.reduce((n, s) => n + (s.extra?.wrong ?? 0) + (s.extra?.failed ?? 0), 0);
    if (wrong > 0) throw new Error(`${row.contender}: ${wrong} decisions were wrong or failed`);
  }
  return rows;
}

async function compare(
  context: GroupContext,
  comparison: string,
  server: RedisServer,
  admin: Redis,
  contenders: ReadonlyArray<{ name: string; export: string; params: RedisParams }>,
  extra: Sampler[],
  ratiosVs: readonly string[],
): Promise<Row[]> {
  context.log(comparison);
  const options = (spec: { export: string; params: RedisParams }) => ({
    module: MODULE,
    ...spec,
    sampleMs: pick(context, 1000, 60),
    warmupMs: pick(context, 500, 30),
    warmupOps: KEYS,
  });
  // A quick (smoke) run puts every contender in one process.
  const shared = context.quick ? await startHost('shared host') : undefined;
  const hosts: Sampler[] = [];
  try {
    if (shared) for (const { name, ...spec } of contenders) hosts.push(await hostSampler(name, options(spec), shared));
    else hosts.push(...(await Promise.all(contenders.map(({ name, ...spec }) => hostSampler(name, options(spec))))));
    const samplers = [...hosts, ...extra].map((sampler) => probed(sampler, server, admin));
    return redisRows(await rotate(samplers, { rounds: context.rounds, log: context.log }), comparison, ratiosVs);
  } finally {
    await Promise.all(hosts.map((sampler) => sampler.close()));
    await shared?.stop();
  }
}

/** Distinct keys the clients cycle through (each warm-up decides every key once). */
let KEYS = 10_000;

export const group: BenchGroup = {
  name: 'redis',
  async run(context) {
    KEYS = pick(context, 10_000, 500);
    const server = await startRedis();
    const admin = server.client();
    try {
      const sampleMs = pick(context, 1000, 60);
      const rows: Row[] = [];
      const single = (await captureCalls(server, 1))[0]!;
      const batches = await captureCalls(server, 256);
      const sizes = batches.map(batchSize).sort((a, b) => a - b);
      const typical = batches.find((call) => batchSize(call) === sizes[sizes.length >> 1])!;

      for (const inFlight of [1, 256]) {
        const params = (limiter?: RedisParams['limiter']): RedisParams => ({ port: server.port, inFlight, keyCount: KEYS, ...(limiter ? { limiter } : {}) });
        const ceilings =
          inFlight === 1
            ? [benchmarkSampler('redis-benchmark EVALSHA, 1 decision per call, not pipelined', server, single, 1, 1, 1, sampleMs)]
            : [
                benchmarkSampler('redis-benchmark EVALSHA, 1 decision per call, pipelined 256', server, single, 1, 1, 256, sampleMs),
                benchmarkSampler(`redis-benchmark EVALSHA, ${batchSize(typical)} decisions per call (as sluice batches), 2 in flight`, server, typical, batchSize(typical), 1, 2, sampleMs),
              ];
        rows.push(
          ...(await compare(
            context,
            `${inFlight} decision${inFlight === 1 ? '' : 's'} in flight, ${KEYS} keys`,
            server,
            admin,
            [
              { name: TOKEN_BUCKET, export: 'sluiceRedis', params: params('tokenBucket') },
              { name: 'sluice slidingWindow', export: 'sluiceRedis', params: params('slidingWindow') },
              { name: 'sluice composite(tokenBucket, slidingWindow)', export: 'sluiceRedis', params: params('composite') },
              { name: RLR, export: 'rateLimiterRedis', params: params() },
            ],
            ceilings,
            [RLR, ceilings[0]!.name],
          )),
        );
      }

      const ATTACK = `an attack: 256 refused decisions in flight over ${KEYS} exhausted keys`;
      rows.push(
        ...(await compare(
          context,
          ATTACK,
          server,
          admin,
          [
            { name: 'sluice redisStore', export: 'attack', params: { port: server.port, inFlight: 256, keyCount: KEYS, store: 'redis' } },
            { name: 'sluice hybridStore (deny cache)', export: 'attack', params: { port: server.port, inFlight: 256, keyCount: KEYS, store: 'hybrid' } },
          ],
          [],
          ['sluice redisStore'],
        )),
      );

      const IN_FLIGHT = `256 decisions in flight, ${KEYS} keys`;
      const goals: Goal[] = [
        valueGoal(rows, { id: 'redis.throughput', text: `${TOKEN_BUCKET} on Redis ≥ 150,000 decisions/s (256 in flight)`, comparison: IN_FLIGHT, contender: TOKEN_BUCKET, atLeast: 150_000 }),
        ratioGoal(rows, { id: 'redis.rlr', text: `${TOKEN_BUCKET} on Redis ≥ 1.5× RateLimiterRedis (256 in flight)`, comparison: IN_FLIGHT, contender: TOKEN_BUCKET, vs: RLR, atLeast: 1.5 }),
      ];
      const notes = [
        `redis-server ${server.port === 6379 ? '' : 'started by the bench on a free port'}, no persistence; each contender is its own process with its own ioredis connection. ` +
          'Every decision admits (limits of 1e9 per hour) except in the attack, where every decision refuses.',
        `The redis-benchmark rows replay the EVALSHA calls sluice sent, captured with MONITOR: one decision (${single.length} arguments), and a batch of ${batchSize(typical)} decisions ` +
          `(the median batch when 256 decisions are in flight; batches seen: ${sizes.join(', ')}).`,
        "Redis CPU/op is the redis-server process's CPU time per decision (from /proc, 10 ms resolution). From INFO commandstats per decision: scripts/op counts " +
          'EVAL/EVALSHA calls (the round trips of a script-based limiter; sluice batches decisions issued in the same tick into one call), commands/op every command Redis ran, those inside scripts included.',
        'The attack: every key has spent its one request of the hour (tokenBucket rate 1 per hour, burst 1) before the run; the warm-up decides every key once, so the hybrid store\'s deny cache holds them all.',
      ];
      return { title: 'Redis and hybrid stores', rows, goals, notes };
    } finally {
      admin.disconnect();
      await server.stop();
    }
  },
};
