/** A clock driven by the test: `advance(ms)` moves time and fires the sleeps that are due, in order. */
import type { Clock } from '../../src/time.js';

interface Sleeper {
  dueMs: number;
  seq: number;
  resolve: () => void;
}

export class FakeClock implements Clock {
  private sleepers: Sleeper[] = [];
  private seq = 0;

  constructor(private nowMs = 0) {}

  now = (): number => this.nowMs;

  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const sleeper: Sleeper = {
        dueMs: this.nowMs + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
    });

  /** Sets the time directly (may go backwards, to test clock steps); fires nothing. */
  set(nowMs: number): void {
    this.nowMs = nowMs;
  }

  /** Number of pending sleeps. */
  get pending(): number {
    return this.sleepers.length;
  }

  /** Moves time forward by `ms`, resolving due sleeps in time order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const targetMs = this.nowMs + ms;
    for (;;) {
      await flushMicrotasks();
      const due = this.sleepers
        .filter((s) => s.dueMs <= targetMs)
        .sort((a, b) => a.dueMs - b.dueMs || a.seq - b.seq)[0];
      if (!due) break;
      this.sleepers = this.sleepers.filter((s) => s !== due);
      if (due.dueMs > this.nowMs) this.nowMs = due.dueMs;
      due.resolve();
    }
    this.nowMs = Math.max(this.nowMs, targetMs);
    await flushMicrotasks();
  }
}

/** Lets pending promise continuations run (a few macrotask turns, enough for chains of awaits). */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
