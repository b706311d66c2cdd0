/** Starts TypeScript child processes (through tsx) and talks to them with request/response messages. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const benchDir = fileURLToPath(new URL('..', import.meta.url));

export interface ChildOptions {
  /** Extra node flags, e.g. --expose-gc or --max-old-space-size. */
  nodeFlags?: string[];
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/** When this process ends, its children end too (by PID; they also exit by themselves on 'disconnect'). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => process.exit(130));
  }
}

/** A child process speaking the { id, ... } -> { id, result | error } protocol of bench/lib/host.ts. */
export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  private exited = false;
  private stderr = '';
  /** What the child said when it came up (its first message). */
  hello: unknown;

  private constructor(
    readonly label: string,
    readonly process: ChildProcess,
  ) {
    process.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    process.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.error !== undefined) waiter.reject(new Error(`${label}: ${message.error}`));
      else waiter.resolve(message.result);
    });
    process.on('exit', (code, signal) => {
      this.exited = true;
      const error = new Error(`${label} exited (code ${code}, signal ${signal})${this.stderr ? `:\n${this.stderr}` : ''}`);
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    });
  }

  /** Forks `file` (a .ts path) and waits for its first message (id 0). */
  static async start(label: string, file: string, options: ChildOptions = {}): Promise<Child> {
    const child = fork(file, options.args ?? [], {
      execArgv: ['--import', 'tsx', ...(options.nodeFlags ?? [])],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      env: options.env ?? process.env,
    });
    installExitHook();
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
    const handle = new Child(label, child);
    handle.hello = await handle.waitFor(0);
    return handle;
  }

  private waitFor<T>(id: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.exited) return reject(new Error(`${this.label} is not running:\n${this.stderr}`));
      this.pending.set(id, { resolve, reject });
    });
  }

  request<T = unknown>(message: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    const reply = this.waitFor<T>(id);
    this.process.send({ ...message, id });
    return reply;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Asks the child to close, and kills it (by its PID) if it has not gone within `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.request({ type: 'close' }).catch(() => undefined);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }
}
