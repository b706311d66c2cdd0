import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startRedis, type RedisServer } from '../support/redis.js';

const childScript = fileURLToPath(new URL('../support/redis-harness-child.ts', import.meta.url));

/** True while the process runs; a killed one that nobody has reaped yet (a zombie) counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

let server: RedisServer;

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  await server?.stop();
});

describe('the Redis test harness', () => {
  it('runs its own server on a free port (never 6379), kills it and restarts it empty on the same port', async () => {
    expect(server.port).not.toBe(6379);
    const client = server.client({ retryStrategy: () => 20 });
    await client.set('k', 'v');
    const firstPid = server.pid!;
    await server.kill();
    expect(alive(firstPid)).toBe(false);
    await server.restart();
    expect(server.pid).not.toBe(firstPid);
    expect(await client.get('k')).toBeNull();
    expect(await client.config('GET', 'save')).toEqual(['save', '']);
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    expect(await client.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
  });

  for (const death of ['throw', 'exit', 'signal'] as const) {
    it(`leaves no redis-server behind when the test process dies (${death})`, () => {
      const result = spawnSync(process.execPath, ['--import', 'tsx', childScript, death], { encoding: 'utf8', timeout: 30_000 });
      expect(result.status).not.toBe(0);
      const pid = Number(result.stdout.trim().split('\n')[0]);
      expect(pid).toBeGreaterThan(0);
      expect(alive(pid)).toBe(false);
    });
  }
});
