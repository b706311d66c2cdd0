/**
 * http group: for Express, Fastify, Koa and Hono, a bare hello world vs the same behind sluice vs behind that
 * framework's usual limiter. Each server runs in its own process; autocannon (in this process) loads one server
 * at a time, in rotation. Allowing every request, then the 429 path.
 */
import autocannon from 'autocannon';
import { Child, benchDir } from './lib/child.js';
import type { Sample } from './lib/contender.js';
import type { BenchGroup, GroupContext } from './lib/group.js';
import { pick } from './lib/group.js';
import { pendingGoal, ratioGoal } from './lib/goals.js';
import type { Goal, Row } from './lib/report.js';
import { rotate, throughputRows, type Sampler } from './lib/rotation.js';
import { summarize } from './lib/stats.js';

export const FRAMEWORKS = ['express', 'fastify', 'koa', 'hono'] as const;
export type Framework = (typeof FRAMEWORKS)[number];
export type LimiterKind = 'bare' | 'sluice' | 'peer';

const CONNECTIONS = 32;

const PEERS: Record<Framework, string> = {
  express: 'express-rate-limit',
  fastify: '@fastify/rate-limit',
  koa: 'koa-ratelimit',
  hono: 'hono-rate-limiter',
};

interface Load {
  connections: number;
  /** Set in a quick run: each sample is this many requests instead of a duration. */
  quickRequests?: number;
  warmupSec: number;
  sampleSec: number;
  /** The status every response must have (200 when allowing, 429 on the refusal path). */
  expectStatus: 200 | 429;
}

/** A server already listening (in `child`, on `port`), loaded by autocannon from this process. */
function serverSampler(name: string, child: Child, port: number, load: Load): Sampler {
  const url = `http://127.0.0.1:${port}/`;
  // autocannon checks whether a run is over at each sample tick: 100 ms ticks keep runs close to their length.
  // A quick run sends a fixed number of requests.
  const fire = (duration: number) =>
    autocannon({
      url,
      connections: load.connections,
      pipelining: 1,
      sampleInt: 100,
      ...(load.quickRequests ? { amount: load.quickRequests } : { duration }),
    });
  return {
    name,
    async warm() {
      // One request first: on the 429 path it spends the single allowed request of the hour.
      await (await fetch(url)).text();
      if (load.warmupSec > 0) await fire(load.warmupSec);
    },
    async sample(): Promise<Sample> {
      const cpuBefore = await child.request<number>({ type: 'cpu' });
      const result = await fire(load.sampleSec);
      const cpuAfter = await child.request<number>({ type: 'cpu' });
      const total = result.requests.total;
      const expected = load.expectStatus === 200 ? result['2xx'] : (result.statusCodeStats?.['429']?.count ?? 0);
      if (result.errors > 0 || expected !== total) {
        throw new Error(`${name}: ${total} requests, ${expected} answered ${load.expectStatus}, ${result.errors} errors`);
      }
      return {
        ops: total,
        wallNs: result.duration * 1e9,
        cpuNs: cpuAfter - cpuBefore,
        extra: { p50Us: result.latency.p50 * 1000, p99Us: result.latency.p99 * 1000 },
      };
    },
    close: async () => undefined,
  };
}

type Spec = `${LimiterKind}:${'allow' | 'deny'}`;

/** Starts the servers of `specs`: each in its own process (full run), or all in one (quick run). */
async function startServers(context: GroupContext, framework: Framework, specs: readonly Spec[]): Promise<{ children: Child[]; at: Map<Spec, { child: Child; port: number }> }> {
  const groups = context.quick ? [specs] : specs.map((spec) => [spec]);
  const children = await Promise.all(
    groups.map((group) => Child.start(`${framework} ${group.join(' ')}`, `${benchDir}http-server.ts`, { args: [framework, ...group] })),
  );
  const at = new Map<Spec, { child: Child; port: number }>();
  children.forEach((child, i) => {
    const ports = child.hello as Record<string, number>;
    for (const spec of groups[i]!) at.set(spec, { child, port: ports[spec]! });
  });
  return { children, at };
}

/** Whether sluice's adapter for a framework is on main (adapters/<framework>/index.ts). */
async function sluiceAdapterLanded(framework: Framework): Promise<boolean> {
  const { existsSync } = await import('node:fs');
  return existsSync(`${benchDir}../adapters/${framework}/index.ts`);
}

async function compareServers(
  context: GroupContext,
  comparison: string,
  framework: Framework,
  servers: Map<Spec, { child: Child; port: number }>,
  kinds: readonly LimiterKind[],
  mode: 'allow' | 'deny',
): Promise<Row[]> {
  context.log(comparison);
  const load: Load = {
    connections: pick(context, CONNECTIONS, 4),
    ...(context.quick ? { quickRequests: 200 } : {}),
    warmupSec: pick(context, 1, 0),
    sampleSec: pick(context, mode === 'allow' ? 2 : 1.5, 0.1),
    expectStatus: mode === 'allow' ? 200 : 429,
  };
  const names: Record<LimiterKind, string> = { bare: `${framework} bare`, sluice: `${framework} + sluice`, peer: `${framework} + ${PEERS[framework]}` };
  const samplers = kinds.map((kind) => {
    const server = servers.get(`${kind}:${mode}`)!;
    return serverSampler(names[kind], server.child, server.port, load);
  });
  const samples = await rotate(samplers, { rounds: context.rounds, log: context.log });
  const rows = throughputRows(samples, { comparison, unit: 'req/s', ratiosVs: kinds.map((kind) => names[kind]) });
  for (const row of rows) row.p99Us = summarize(samples.get(row.contender)!.map((s) => s.extra!.p99Us!));
  return rows;
}

export const group: BenchGroup = {
  name: 'http',
  async run(context) {
    const rows: Row[] = [];
    const goals: Goal[] = [];
    const missing: Framework[] = [];
    for (const framework of FRAMEWORKS) {
      const landed = await sluiceAdapterLanded(framework);
      if (!landed) missing.push(framework);
      const allowKinds: LimiterKind[] = landed ? ['bare', 'sluice', 'peer'] : ['bare', 'peer'];
      const denyKinds: LimiterKind[] = landed ? ['sluice', 'peer'] : ['peer'];
      const specs: Spec[] = [...allowKinds.map((kind) => `${kind}:allow` as const), ...denyKinds.map((kind) => `${kind}:deny` as const)];
      const { children, at } = await startServers(context, framework, specs);
      try {
        rows.push(...(await compareServers(context, `${framework}: hello world, every request allowed`, framework, at, allowKinds, 'allow')));
        rows.push(...(await compareServers(context, `${framework}: every request refused (429)`, framework, at, denyKinds, 'deny')));
      } finally {
        await Promise.all(children.map((child) => child.stop()));
      }
    }
    for (const framework of FRAMEWORKS.filter((name) => !missing.includes(name))) {
      const comparison = `${framework}: hello world, every request allowed`;
      const contender = `${framework} + sluice`;
      goals.push(
        ratioGoal(rows, { id: `http.${framework}.overhead`, text: `${contender} within 5% of bare req/s`, comparison, contender, vs: `${framework} bare`, atLeast: 0.95 }),
        ratioGoal(rows, { id: `http.${framework}.peer`, text: `${contender} faster than ${PEERS[framework]}`, comparison, contender, vs: `${framework} + ${PEERS[framework]}`, atLeast: 1.0000001 }),
      );
    }
    for (const framework of missing) {
      goals.push(
        pendingGoal(`http.${framework}.overhead`, `${framework} + sluice within 5% of bare req/s`, `the ${framework} adapter has not landed on main`),
        pendingGoal(`http.${framework}.peer`, `${framework} + sluice faster than ${PEERS[framework]}`, `the ${framework} adapter has not landed on main`),
      );
    }
    const notes = [
      `autocannon with ${CONNECTIONS} connections, no pipelining, GET / answered "hello world"; every server in its own process, loaded one at a time in rotation. ` +
        'CPU/op is the server process\'s CPU time per request. autocannon shares the machine with the server, so absolute req/s is a floor.',
      'Limiters are keyed by client IP (one client here) with the library defaults otherwise (headers included); "allowed" uses a limit of 1e9 per hour, the 429 path a limit of 1 per hour. ' +
        "sluice runs fixedWindow({ limit, window: '1h' }) on a memory store through its adapter's rateLimit() (Fastify: the plugin), like the peers' fixed windows.",
    ];
    return { title: 'HTTP servers: bare vs sluice vs the usual limiter', rows, goals, notes };
  },
};
