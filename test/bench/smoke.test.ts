/**
 * Runs each bench group in its --quick form (tiny counts, two rounds) and checks that it produces well-formed rows
 * and goals. No timing is asserted: CI machines are too noisy for that; the figures belong in docs/benchmarks.md.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { GroupResult, Row } from '../../bench/lib/report.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROUNDS = 2;

function runQuick(group: string): Promise<GroupResult> {
  const out = join(dir, `${group}.json`);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', group, '--quick', '--no-write', '--rounds', String(ROUNDS), '--json', out],
      { cwd: root, timeout: 120_000, maxBuffer: 1 << 24 },
      (error, _stdout, stderr) => {
        if (error) return reject(new Error(`bench ${group} failed: ${error.message}\n${stderr.slice(-3000)}`));
        const results = JSON.parse(readFileSync(out, 'utf8')) as GroupResult[];
        expect(results).toHaveLength(1);
        resolve(results[0]!);
      },
    );
  });
}

function expectSummary(summary: { median: number; min: number; max: number; samples: number[] }, samples?: number): void {
  expect(Number.isFinite(summary.median)).toBe(true);
  expect(summary.min).toBeLessThanOrEqual(summary.median);
  expect(summary.median).toBeLessThanOrEqual(summary.max);
  if (samples !== undefined) expect(summary.samples).toHaveLength(samples);
}

/** Every row names its comparison, contender and unit, and carries finite, ordered figures. */
function expectWellFormed(result: GroupResult, group: string): void {
  expect(result.group).toBe(group);
  expect(result.profile).toBe('quick');
  expect(result.rounds).toBe(ROUNDS);
  expect(result.machine.cores).toBeGreaterThan(0);
  expect(result.machine.node).toMatch(/^v\d+/);
  expect(result.rows.length).toBeGreaterThan(0);
  for (const row of result.rows) {
    expect(row.comparison.length).toBeGreaterThan(0);
    expect(row.contender.length).toBeGreaterThan(0);
    expect(row.unit.length).toBeGreaterThan(0);
    expectSummary(row.value);
    if (row.cpuNsPerOp) {
      expectSummary(row.cpuNsPerOp, ROUNDS);
      expect(row.cpuNsPerOp.median).toBeGreaterThanOrEqual(0);
    }
    for (const ratio of row.ratios ?? []) {
      expect(ratio.vs).not.toBe(row.contender);
      expectSummary(ratio.value, ROUNDS);
      expect(ratio.value.min).toBeGreaterThan(0);
    }
  }
  for (const goal of result.goals) {
    expect(goal.text.length).toBeGreaterThan(0);
    expect(goal.measured.length).toBeGreaterThan(0);
    expect([true, false, null]).toContain(goal.pass);
  }
}

const contenders = (rows: readonly Row[], comparison: RegExp) =>
  rows.filter((row) => comparison.test(row.comparison)).map((row) => row.contender);

// Each group takes a few seconds on a quiet machine; a host shared with other work may need many times that.
describe.concurrent('bench programs, quick form', { timeout: 180_000 }, () => {
  it('memory: every contender of the hot-key and many-keys comparisons, heap per key, bounded store', async () => {
    const result = await runQuick('memory');
    expectWellFormed(result, 'memory');
    for (const comparison of [/^one hot key/, /distinct keys, each decision awaited/]) {
      expect(contenders(result.rows, comparison)).toEqual(
        expect.arrayContaining([
          'bare Map token bucket',
          'sluice tokenBucket',
          'sluice gcra',
          'sluice leakyBucket',
          'sluice fixedWindow',
          'sluice slidingWindow',
          'sluice slidingWindowExact',
          'RateLimiterMemory',
          'express-rate-limit MemoryStore',
        ]),
      );
    }
    const heap = result.rows.filter((row) => row.unit === 'B/key');
    expect(heap.length).toBeGreaterThanOrEqual(9);
    for (const row of heap) expect(row.value.median).toBeGreaterThan(0);
    const held = result.rows.find((row) => row.contender === 'keys held at the end')!;
    expect(held.value.median).toBeLessThanOrEqual(10_000);
    expect(result.goals.find((goal) => goal.id === 'memory.hot.bare')?.pass).not.toBeNull();
  });

  it('http: every framework bare, behind sluice and behind its usual limiter, allowed and refused', async () => {
    const result = await runQuick('http');
    expectWellFormed(result, 'http');
    for (const framework of ['express', 'fastify', 'koa', 'hono']) {
      expect(contenders(result.rows, new RegExp(`^${framework}: hello world`))).toEqual(
        expect.arrayContaining([`${framework} bare`, `${framework} + sluice`]),
      );
      expect(contenders(result.rows, new RegExp(`^${framework}: every request refused`))).toContain(`${framework} + sluice`);
    }
    for (const row of result.rows) expect(row.p99Us?.median).toBeGreaterThanOrEqual(0);
    for (const goal of result.goals) expect(goal.pass).not.toBeNull();
  });

  it('resilience: direct call, sluice, opossum and cockatiel, with overheads and goals', async () => {
    const result = await runQuick('resilience');
    expectWellFormed(result, 'resilience');
    expect(contenders(result.rows, /^circuit breaker.*succeeds \(closed circuit\)$/)).toEqual(
      expect.arrayContaining(['direct call', 'sluice circuitBreaker', 'opossum', 'cockatiel']),
    );
    expect(contenders(result.rows, /overhead over the direct call/).length).toBeGreaterThan(0);
    expect(contenders(result.rows, /^retry wrapper.*at once$/)).toEqual(expect.arrayContaining(['sluice withRetry', 'cockatiel retry']));
    for (const goal of result.goals) expect(goal.pass).not.toBeNull();
  });

  it('redis: sluice limiters, RateLimiterRedis and the redis-benchmark ceiling at 1 and 256 in flight; the attack', async () => {
    const result = await runQuick('redis');
    expectWellFormed(result, 'redis');
    for (const comparison of [/^1 decision in flight/, /^256 decisions in flight/]) {
      const names = contenders(result.rows, comparison);
      expect(names).toEqual(
        expect.arrayContaining(['sluice tokenBucket', 'sluice slidingWindow', 'sluice composite(tokenBucket, slidingWindow)', 'RateLimiterRedis']),
      );
      expect(names.some((name) => name.startsWith('redis-benchmark EVALSHA'))).toBe(true);
    }
    const attack = result.rows.filter((row) => /^an attack/.test(row.comparison));
    expect(attack.map((row) => row.contender)).toEqual(['sluice redisStore', 'sluice hybridStore (deny cache)']);
    for (const row of attack) expect(row.extras?.['commands/op']?.value.median).toBeGreaterThanOrEqual(0);
    // The deny cache answers an attack on exhausted keys without Redis.
    expect(attack[1]!.extras!['scripts/op']!.value.median).toBe(0);
    for (const goal of result.goals) expect(goal.pass).not.toBeNull();
  });

  it('latency: p50 and p99 per store', async () => {
    const result = await runQuick('latency');
    expectWellFormed(result, 'latency');
    expect(result.rows.map((row) => row.contender)).toEqual(
      expect.arrayContaining(['sluice memory store, await consume()', 'sluice redisStore, await consume()', 'RateLimiterRedis, await consume()']),
    );
    for (const row of result.rows) {
      expect(row.p99Us).toBeDefined();
      expect(row.p99Us!.median).toBeGreaterThanOrEqual(row.value.median);
    }
  });
});
