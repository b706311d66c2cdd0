import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LIMITER_CASES } from '../support/limiter-cases.js';
import { startRedis, type RedisServer } from '../support/redis.js';

const CHILDREN = 16;
const CONSUMES_PER_CHILD = 2_000;
const LIMIT = 1_000;
/** Long enough that nothing refills or rolls over while the test runs. */
const WINDOW_MS = 30 * 86_400_000;
const childScript = fileURLToPath(new URL('../support/redis-exactness-child.ts', import.meta.url));

let server: RedisServer;
const children: ChildProcess[] = [];

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await server?.stop();
});

interface Counts {
  admitted: number;
  refused: number;
  degraded: number;
}

function startChild(params: object): { child: ChildProcess; ready: Promise<void>; result: Promise<Record<string, Counts>> } {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, JSON.stringify(params)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('ready\n')) onReady();
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<Record<string, Counts>>((resolve, reject) => {
    child.once('exit', (code) => {
      const line = stdout.split('\n').find((text) => text.startsWith('{'));
      if (code !== 0 || line === undefined) reject(new Error(`child exited ${code}: ${stderr}${stdout}`));
      else resolve(JSON.parse(line) as Record<string, Counts>);
    });
  });
  return { child, ready: Promise.race([ready, result.then(() => undefined)]), result };
}

describe('redisStore exactness across processes', () => {
  it(`${CHILDREN} processes x ${CONSUMES_PER_CHILD} consumes on one key with limit ${LIMIT} admit exactly ${LIMIT}, every algorithm`, async () => {
    const params = { port: server.port, runId: String(Date.now()), children: CHILDREN, consumes: CONSUMES_PER_CHILD, limit: LIMIT, windowMs: WINDOW_MS, inFlight: 32 };
    const started = Array.from({ length: CHILDREN }, () => startChild(params));
    await Promise.all(started.map((s) => s.ready));
    // Every process is connected and waiting: start them together so they really contend.
    for (const { child } of started) child.stdin!.write('go\n');
    const results = await Promise.all(started.map((s) => s.result));
    for (const testCase of LIMITER_CASES) {
      const total = { admitted: 0, refused: 0, degraded: 0 };
      const admittingChildren = results.filter((r) => r[testCase.algorithm]!.admitted > 0).length;
      for (const result of results) {
        const counts = result[testCase.algorithm]!;
        total.admitted += counts.admitted;
        total.refused += counts.refused;
        total.degraded += counts.degraded;
      }
      expect(total, testCase.algorithm).toEqual({ admitted: LIMIT, refused: CHILDREN * CONSUMES_PER_CHILD - LIMIT, degraded: 0 });
      // Contention was real: admissions went to several processes.
      expect(admittingChildren, testCase.algorithm).toBeGreaterThan(1);
    }
  }, 120_000);
});
