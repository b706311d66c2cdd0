/** The HTTP examples start with no setup, print their URL and curl lines, and limit as they say. */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';

let children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  children = [];
});

/** Starts an example on a free port and resolves with its URL and everything it printed by then. */
function start(file: string): Promise<{ url: string; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, PORT: '0', DEMO_TOUR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start: ${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match && output.includes('curl')) {
        clearTimeout(timer);
        setTimeout(() => resolve({ url: `http://127.0.0.1:${match[1]}`, output: () => output }), 50);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${file} exited with ${code}: ${output}`)));
  });
}

const statuses = async (count: number, url: string, init?: RequestInit) => {
  const result: number[] = [];
  for (let i = 0; i < count; i++) result.push((await fetch(url, init)).status);
  return result;
};

describe('HTTP examples', { timeout: 60_000 }, () => {
  it('demo.ts (npm start): a stricter per-route limit and an account-keyed route', async () => {
    const { url } = await start('examples/demo.ts');
    expect(await statuses(4, `${url}/search`)).toEqual([200, 200, 200, 429]);
    expect(await statuses(3, `${url}/reports`, { headers: { 'x-account': 'ann' } })).toEqual([200, 200, 429]);
    const other = await fetch(`${url}/reports`, { headers: { 'x-account': 'bob' } });
    expect(await other.json()).toMatchObject({ account: 'bob' });
  });

  it('express.ts: login failures are limited, successes are not counted', async () => {
    const { url } = await start('examples/express.ts');
    const login = (password: string) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'ann', password }),
    });
    expect(await statuses(3, `${url}/login`, login('correct horse'))).toEqual([200, 200, 200]);
    expect(await statuses(4, `${url}/login`, login('guess'))).toEqual([401, 401, 401, 429]);
  });

  it('fastify.ts: /search has its own limit, /health none', async () => {
    const { url } = await start('examples/fastify.ts');
    expect(await statuses(3, `${url}/search`)).toEqual([200, 200, 429]);
    expect(await statuses(3, `${url}/health`)).toEqual([200, 200, 200]);
  });

  it('koa.ts: /export is limited with draft-7 headers', async () => {
    const { url } = await start('examples/koa.ts');
    const first = await fetch(`${url}/export`);
    expect(first.headers.get('ratelimit')).toMatch(/^limit=2, remaining=1, reset=\d+$/);
    expect(await statuses(2, `${url}/export`)).toEqual([200, 429]);
  });

  it('hono.ts: five in ten seconds', async () => {
    const { url } = await start('examples/hono.ts');
    expect(await statuses(6, `${url}/`)).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('account-keying.ts: limits by plan tier per account', async () => {
    const { url } = await start('examples/account-keying.ts');
    expect(await statuses(4, `${url}/api/reports`, { headers: { 'x-api-key': 'key-ann' } })).toEqual([200, 200, 200, 429]);
    expect(await statuses(4, `${url}/api/reports`, { headers: { 'x-api-key': 'key-bob' } })).toEqual([200, 200, 200, 200]);
  });

  it('error-mapping.ts: 429 and 503 from errors thrown in handlers', async () => {
    const { url } = await start('examples/error-mapping.ts');
    expect(await statuses(3, `${url}/quote`)).toEqual([200, 200, 429]);
    expect(await statuses(1, `${url}/orders`)).toEqual([200]);
    const open = await fetch(`${url}/orders`);
    expect([open.status, Number(open.headers.get('retry-after')) > 0]).toEqual([503, true]);
  });
});
