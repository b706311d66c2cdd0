/**
 * The client IP golden table through all four frameworks.
 *
 * How rows are covered (see docs/proxies.md and docs/http.md):
 * 1. Real sockets, every framework: a test server listens on 127.0.0.1, so its peer is always 127.0.0.1.
 *    - rows whose socket address is 127.0.0.1 run as they are;
 *    - rows with another socket address S run "behind one more loopback proxy": S is appended to the header the
 *      walk reads (X-Forwarded-For, else Forwarded) and trustProxy gains the loopback hop in front (a hop count
 *      + 1, "127.0.0.1" added to the trusted ranges, a function shifted by one hop). This is exactly the request
 *      a proxy at 127.0.0.1 would forward, so the expected key is unchanged. Rows that cannot be shifted: those
 *      whose point is the socket peer itself (trustProxy off, clientIpHeader, socket-address normalisation, a
 *      zone id) or whose point is the header caps (the hop cap and the 8 KiB window count from the right, and
 *      Node refuses headers over 16 KiB before any framework runs).
 * 2. Exact socket addresses, every row: Hono on a web runtime (app.fetch with an injected getConnInfo) and
 *    Fastify's own injection (inject with remoteAddress), each through the real framework pipeline.
 * 3. The resolver itself runs every row on RequestFacts in test/http/client-ip.test.ts.
 */
import { request as httpRequest } from 'node:http';
import { Hono } from 'hono';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStore, tokenBucket, type ClientIpOptions } from '../../src/index.js';
import { rateLimit as honoRateLimit, type RateLimitEnv } from '../../adapters/hono/index.js';
import sluice from '../../adapters/fastify/index.js';
import { clientIpGoldenRows, type ClientIpGoldenRow } from '../http/client-ip-golden.js';
import { drivers, type RunningApp } from './drivers/index.js';

const quiet = { warn: () => undefined };
/** A limit no test reaches: these tests look only at the key. */
const roomy = () => tokenBucket({ rate: 1e9, per: '1s', store: memoryStore({ sweepInterval: 0 }) });

const headerChars = (row: ClientIpGoldenRow) => Object.values(row.headers).reduce((sum, value) => sum + value.length, 0);
const hops = (row: ClientIpGoldenRow) => (row.headers['x-forwarded-for'] ?? row.headers.forwarded ?? '').split(',').length;

interface SocketCase {
  name: string;
  headers: Record<string, string>;
  options: ClientIpOptions;
  expectedKey: string;
}

/** The row as a proxy on 127.0.0.1 would forward it; undefined when the row is about the socket peer itself. */
function behindLoopback(row: ClientIpGoldenRow): SocketCase | undefined {
  if (headerChars(row) > 8000) return undefined;
  if (row.socketAddress === '127.0.0.1') return { ...row };
  const trust = row.options.trustProxy;
  if (trust === undefined || trust === false || trust === 0 || trust === 'framework') return undefined;
  if (row.options.clientIpHeader !== undefined || row.socketAddress.includes('%')) return undefined;
  if (hops(row) >= 90) return undefined;
  let shifted: ClientIpOptions['trustProxy'];
  if (trust === true) shifted = true;
  else if (typeof trust === 'number') shifted = trust + 1;
  else if (typeof trust === 'function') shifted = (address, hop) => (hop === 0 ? address === '127.0.0.1' : trust(address, hop - 1));
  else if (typeof trust === 'string') shifted = `127.0.0.1, ${trust}`;
  else shifted = ['127.0.0.1', ...trust];
  const headers = { ...row.headers };
  const peer = row.socketAddress;
  if (headers['x-forwarded-for'] !== undefined || headers.forwarded === undefined) {
    headers['x-forwarded-for'] = headers['x-forwarded-for'] === undefined ? peer : `${headers['x-forwarded-for']}, ${peer}`;
  } else {
    headers.forwarded = `${headers.forwarded}, for=${peer.includes(':') ? `"[${peer}]"` : peer}`;
  }
  return { name: `${row.name} (behind a loopback proxy)`, headers, options: { ...row.options, trustProxy: shifted }, expectedKey: row.expectedKey };
}

const socketCases = clientIpGoldenRows.map(behindLoopback).filter((row): row is SocketCase => row !== undefined);

/** node:http, not fetch: header values go out exactly as the row gives them. */
function getKey(app: RunningApp, path: string, headers: Record<string, string>): Promise<{ status: number; key: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${app.url}${path}`, { headers, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, key: JSON.parse(body).rateLimit?.key });
        } catch {
          resolve({ status: response.statusCode ?? 0, key: body });
        }
      });
    });
    request.on('error', reject);
    request.end();
  });
}

describe('client IP golden table: coverage', () => {
  it('runs at least 40 rows on real sockets, and every row on exact addresses', () => {
    expect(clientIpGoldenRows.length).toBeGreaterThanOrEqual(40);
    expect(socketCases.length).toBeGreaterThanOrEqual(40);
  });
});

describe.each(drivers)('client IP golden table on real sockets: $name', (driver) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await driver.start({
      routes: socketCases.map((row, i) => ({ path: `/golden/${i}`, limit: { limiter: roomy(), ...row.options, ...quiet } })),
    });
  });
  afterAll(() => app.close());

  it.each(socketCases.map((row, i) => [row.name, i, row] as const))('%s', async (_name, i, row) => {
    const reply = await getKey(app, `/golden/${i}`, row.headers);
    expect(reply.status).toBe(200);
    expect(reply.key).toBe(row.expectedKey);
  });

  it('1000 random spoofed X-Forwarded-For values from one client share one key and one limit', async () => {
    const spoofed = await driver.start({ global: { limiter: tokenBucket({ rate: 10, per: '1h', store: memoryStore({ sweepInterval: 0 }) }), ...quiet }, routes: [{ path: '/' }] });
    try {
      const statuses: number[] = [];
      const keys = new Set<string>();
      for (let batch = 0; batch < 20; batch++) {
        const replies = await Promise.all(
          Array.from({ length: 50 }, () => {
            const random = Array.from({ length: 4 }, () => Math.floor(Math.random() * 256)).join('.');
            return fetch(`${spoofed.url}/`, { headers: { 'x-forwarded-for': random } });
          }),
        );
        for (const reply of replies) {
          statuses.push(reply.status);
          const body = (await reply.json()) as { rateLimit?: { key: string } };
          if (body.rateLimit) keys.add(body.rateLimit.key);
        }
      }
      expect([...keys]).toEqual(['127.0.0.1']);
      expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    } finally {
      await spoofed.close();
    }
  });
});

describe('client IP golden table at the exact socket address: Hono on a web runtime', () => {
  const app = new Hono<RateLimitEnv>();
  clientIpGoldenRows.forEach((row, i) => {
    const getConnInfo = () => ({ remote: { address: row.socketAddress } });
    app.get(`/golden/${i}`, honoRateLimit({ limiter: roomy(), ...row.options, ...quiet, getConnInfo }), (c) => c.text(c.get('rateLimit')!.key));
  });

  it.each(clientIpGoldenRows.map((row, i) => [row.name, i, row] as const))('%s', async (_name, i, row) => {
    const response = await app.fetch(new Request(`http://edge.test/golden/${i}`, { headers: row.headers }));
    expect(await response.text()).toBe(row.expectedKey);
  });
});

describe('client IP golden table at the exact socket address: Fastify injection', () => {
  const fastify = Fastify();
  beforeAll(async () => {
    await fastify.register(sluice, {});
    clientIpGoldenRows.forEach((row, i) => {
      fastify.get(`/golden/${i}`, { config: { rateLimit: { limiter: roomy(), ...row.options, ...quiet } } }, async (request) => request.rateLimit!.key);
    });
    await fastify.ready();
  });
  afterAll(() => fastify.close());

  it.each(clientIpGoldenRows.map((row, i) => [row.name, i, row] as const))('%s', async (_name, i, row) => {
    const response = await fastify.inject({ url: `/golden/${i}`, headers: row.headers, remoteAddress: row.socketAddress });
    expect(response.body).toBe(row.expectedKey);
  });
});
