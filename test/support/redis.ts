/**
 * Real redis-server processes for tests: a single server on a free port, and a local 3-master Redis Cluster.
 * Every server listens on 127.0.0.1 only, keeps nothing on disk, and is killed by PID when the test file ends,
 * when `stop()` is called, or when the process exits (even after a failed test). The machine's own Redis on
 * 6379 is never used.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const REDIS_CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';
const MACHINE_REDIS_PORT = 6379;
/** Cluster nodes also listen on port + 10000 (the cluster bus), so ports stay below 55535. */
const PORT_RANGE = { min: 20_000, max: 45_000 } as const;

const liveProcesses = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous: 'exit' handlers cannot wait. SIGKILL by PID, never by name.
  const cleanUp = () => {
    for (const child of liveProcesses) killQuietly(child);
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanUp);
  // A signal ends the process without 'exit' handlers: clean up, then let the signal do what it would have done.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanUp();
      process.kill(process.pid, signal);
    });
  }
}

function killQuietly(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port that is free now, and whose cluster-bus twin (port + 10000) is free too. */
export async function findFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.min + Math.floor(Math.random() * (PORT_RANGE.max - PORT_RANGE.min));
    if (port === MACHINE_REDIS_PORT) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) return port;
  }
  throw new Error('No free port found for redis-server');
}

function spawnServer(port: number, dir: string, extraArgs: readonly string[]): Promise<ChildProcess> {
  if (port === MACHINE_REDIS_PORT) throw new Error('Refusing to start a test server on 6379');
  installExitHook();
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--loglevel', 'warning',
    '--logfile', '',
    ...extraArgs,
  ];
  const child = spawn(REDIS_SERVER, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  liveProcesses.add(child);
  child.once('exit', () => liveProcesses.delete(child));
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const onExit = (code: number | null) => reject(new Error(`redis-server on ${port} exited (${code}): ${output}`));
    child.once('exit', onExit);
    child.once('error', reject);
    const probe = async (): Promise<void> => {
      if (await ping(port)) {
        child.off('exit', onExit);
        resolve(child);
      } else if (Date.now() > deadline) {
        killQuietly(child);
        reject(new Error(`redis-server on ${port} did not answer PING: ${output}`));
      } else {
        setTimeout(probe, 20);
      }
    };
    setTimeout(probe, 20);
  });
}

/** One PING over a fresh connection that never retries: true when the server answers. */
async function ping(port: number): Promise<boolean> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 500,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function redisCli(args: readonly string[]): string {
  const result = spawnSync(REDIS_CLI, args, { encoding: 'utf8', timeout: 20_000 });
  if (result.status !== 0) throw new Error(`redis-cli ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
  return result.stdout;
}

export interface RedisServer {
  readonly port: number;
  readonly host: '127.0.0.1';
  readonly pid: number | undefined;
  /** A new ioredis client to this server; closed by `stop()` unless closed before. */
  client(options?: RedisOptions): Redis;
  /** SIGKILL: the server dies at once with all its data (nothing is persisted). */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server stops answering while its connections stay open. */
  pause(): void;
  resume(): void;
  /** Starts a fresh (empty) server on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

/** Starts a standalone redis-server on a free port. */
export async function startRedis(extraArgs: readonly string[] = []): Promise<RedisServer> {
  const port = await findFreePort();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-'));
  liveDirs.add(dir);
  let child = await spawnServer(port, dir, extraArgs);
  const clients = new Set<Redis>();
  return {
    port,
    host: '127.0.0.1',
    get pid() {
      return child.pid;
    },
    client(options = {}) {
      const client = new Redis({ port, host: '127.0.0.1', ...options });
      client.on('error', () => {});
      clients.add(client);
      return client;
    },
    async kill() {
      // SIGKILL also ends a paused (SIGSTOPped) server, without letting it run first.
      killQuietly(child);
      await waitForExit(child);
    },
    pause() {
      killQuietly(child, 'SIGSTOP');
    },
    resume() {
      killQuietly(child, 'SIGCONT');
    },
    async restart() {
      killQuietly(child);
      await waitForExit(child);
      child = await spawnServer(port, dir, extraArgs);
    },
    async stop() {
      for (const client of clients) client.disconnect();
      clients.clear();
      killQuietly(child);
      await waitForExit(child);
      rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    },
  };
}

export interface RedisCluster {
  readonly ports: readonly number[];
  readonly nodes: readonly { host: '127.0.0.1'; port: number }[];
  /** A new ioredis Cluster client; closed by `stop()` unless closed before. */
  client(options?: ClusterOptions): Cluster;
  /** A plain client to one node (for INFO, DBSIZE, ...). */
  nodeClient(index: number): Redis;
  stop(): Promise<void>;
}

/** Builds a local Redis Cluster of `masters` masters (no replicas) and waits for cluster_state:ok. */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const ports: number[] = [];
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const clients = new Set<Redis | Cluster>();
  const stop = async (): Promise<void> => {
    for (const client of clients) client.disconnect();
    clients.clear();
    for (const child of children) killQuietly(child);
    await Promise.all(children.map(waitForExit));
    for (const dir of dirs) {
      rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    }
  };
  try {
    for (let i = 0; i < masters; i++) {
      let port = await findFreePort();
      while (ports.includes(port)) port = await findFreePort();
      const dir = mkdtempSync(join(tmpdir(), `sluice-cluster-${i}-`));
      liveDirs.add(dir);
      dirs.push(dir);
      ports.push(port);
      children.push(
        await spawnServer(port, dir, [
          '--cluster-enabled', 'yes',
          '--cluster-config-file', join(dir, 'nodes.conf'),
          '--cluster-node-timeout', '2000',
        ]),
      );
    }
    redisCli(['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes']);
    await waitForClusterOk(ports);
  } catch (error) {
    await stop();
    throw error;
  }
  const nodes = ports.map((port) => ({ host: '127.0.0.1' as const, port }));
  return {
    ports,
    nodes,
    client(options = {}) {
      const client = new Cluster(nodes, options);
      client.on('error', () => {});
      clients.add(client);
      return client;
    },
    nodeClient(index) {
      const client = new Redis({ host: '127.0.0.1', port: ports[index]! });
      client.on('error', () => {});
      clients.add(client);
      return client;
    },
    stop,
  };
}

async function waitForClusterOk(ports: readonly number[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const states = ports.map((port) => redisCli(['-h', '127.0.0.1', '-p', String(port), 'cluster', 'info']));
    if (states.every((info) => info.includes('cluster_state:ok'))) return;
    if (Date.now() > deadline) throw new Error(`Cluster not ok after 20 s: ${states.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The slots of a numeric algorithm's state as the Redis store keeps it (little-endian float64s), or undefined. */
export async function numericState(client: Redis | Cluster, key: string): Promise<number[] | undefined> {
  const raw = await client.getBuffer(key);
  if (raw === null) return undefined;
  return Array.from({ length: raw.length / 8 }, (_, i) => raw.readDoubleLE(i * 8));
}
