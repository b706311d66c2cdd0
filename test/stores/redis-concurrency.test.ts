import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { concurrency, redisStore } from '../../src/index.js';
import { startRedis, type RedisServer } from '../support/redis.js';

const childScript = fileURLToPath(new URL('../support/redis-concurrency-child.ts', import.meta.url));

let server: RedisServer;
const children: ChildProcess[] = [];

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await server?.stop();
});

interface ChildResult {
  acquired: number;
  maxSeen: number;
  failures: string[];
  storeErrors: number;
}

function startChild(params: object) {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, JSON.stringify(params)], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('ready\n')) onReady();
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<ChildResult>((resolve, reject) => {
    child.once('exit', (code) => {
      const line = stdout.split('\n').find((text) => text.startsWith('{'));
      if (code !== 0 || line === undefined) reject(new Error(`child exited ${code}: ${stderr}${stdout}`));
      else resolve(JSON.parse(line) as ChildResult);
    });
  });
  return { child, ready: Promise.race([ready, result.then(() => undefined)]), result };
}

describe('concurrency limiter on Redis across processes', () => {
  it('4 processes never hold more than max slots together, and every acquire gets its turn', async () => {
    const params = { port: server.port, name: `slots-${Date.now()}`, max: 3, leaseMs: 1_000, workers: 3, holds: 4, holdMs: 15 };
    const started = Array.from({ length: 4 }, () => startChild(params));
    await Promise.all(started.map((s) => s.ready));
    for (const { child } of started) child.stdin!.write('go\n');
    const results = await Promise.all(started.map((s) => s.result));
    expect(results.flatMap((r) => r.failures)).toEqual([]);
    expect(results.reduce((sum, r) => sum + r.acquired, 0)).toBe(4 * 3 * 4);
    expect(Math.max(...results.map((r) => r.maxSeen))).toBeLessThanOrEqual(params.max);
    // The limit was really contended: several holders at once.
    expect(Math.max(...results.map((r) => r.maxSeen))).toBeGreaterThanOrEqual(2);
    expect(results.every((r) => r.storeErrors === 0)).toBe(true);
    // Everything was released: no holder is left in Redis.
    const admin = server.client();
    expect(await admin.keys(`sluice:concurrency:${params.name}:*`)).toEqual([]);
  }, 60_000);

  it('a slot released in one process is taken by another; a crashed holder frees its slot when the lease ends', async () => {
    const clientA = server.client();
    const clientB = server.client();
    const name = `handover-${Date.now()}`;
    const a = concurrency({ max: 1, lease: 300, store: redisStore({ client: clientA }), name });
    const b = concurrency({ max: 1, lease: 300, store: redisStore({ client: clientB }), name });
    const permit = await a.acquire('k');
    const refused = await b.consume('k');
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(200);
    await permit.release();
    const taken = await b.acquire('k', { timeout: 0 });
    // b "crashes" without releasing: after the lease, a gets the slot.
    expect(taken.key).toBe('k');
    expect((await a.consume('k')).allowed).toBe(false);
    const startedAt = Date.now();
    await a.acquire('k', { timeout: 2_000 });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(200);
  });
});
