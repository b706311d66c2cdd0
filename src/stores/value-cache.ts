/**
 * The L1 of a hybrid store's key-value facet: values read or written through the remote (L2) kept locally for a
 * short TTL. Reads of a missing key share one remote read; a write drops the local value first and stores the
 * written value once the remote has it, so this process never reads its own writes stale. A read that overlapped
 * a write of the same key is passed on but not cached (it may predate the write). Bounded by `maxKeys`: the
 * least recently written value goes first. No timers: expired values are dropped when read or pushed out.
 */
import type { Clock } from '../time.js';

interface CachedValue {
  readonly value: string;
  readonly expiresAtMs: number;
}

interface Read {
  readonly promise: Promise<string | undefined>;
  /** Set when a write of the key started after this read: its answer must not be cached. */
  stale: boolean;
}

export class ValueCache {
  private readonly values = new Map<string, CachedValue>();
  private readonly reads = new Map<string, Read>();
  /** Per key, the sequence number of the newest write in flight: only that write may cache its value. */
  private readonly writes = new Map<string, number>();
  private writeSeq = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxKeys: number,
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.values.size;
  }

  /** The local value, if any and fresh. Counts a hit or a miss. */
  peek(key: string): string | undefined {
    const cached = this.values.get(key);
    if (cached !== undefined && cached.expiresAtMs > this.clock.now()) {
      this.hits++;
      return cached.value;
    }
    if (cached !== undefined) this.values.delete(key);
    this.misses++;
    return undefined;
  }

  /** Reads through: the local value, or one shared remote read (`load`) whose answer is cached. */
  read(key: string, load: () => Promise<string | undefined>): Promise<string | undefined> {
    const local = this.peek(key);
    if (local !== undefined) return Promise.resolve(local);
    const pending = this.reads.get(key);
    if (pending !== undefined) return pending.promise;
    const read: Read = {
      stale: this.writes.has(key),
      promise: load().then(
        (value) => {
          this.endRead(key, read);
          if (!read.stale && value !== undefined) this.put(key, value, undefined);
          return value;
        },
        (error: unknown) => {
          this.endRead(key, read);
          throw error;
        },
      ),
    };
    this.reads.set(key, read);
    return read.promise;
  }

  /**
   * Writes through: drops the local value, runs `write` on the remote, then caches `valueAfter(result)` (undefined:
   * cache nothing) for at most `ttlMs`, unless a newer write of the key started meanwhile.
   */
  async write<T>(key: string, write: () => Promise<T>, valueAfter: (result: T) => string | undefined, ttlMs?: number): Promise<T> {
    const seq = ++this.writeSeq;
    this.writes.set(key, seq);
    this.values.delete(key);
    const read = this.reads.get(key);
    if (read !== undefined) {
      read.stale = true;
      this.reads.delete(key);
    }
    try {
      const result = await write();
      if (this.writes.get(key) === seq) {
        const value = valueAfter(result);
        if (value !== undefined) this.put(key, value, ttlMs);
      }
      return result;
    } finally {
      if (this.writes.get(key) === seq) this.writes.delete(key);
    }
  }

  clear(): void {
    this.values.clear();
  }

  private endRead(key: string, read: Read): void {
    if (this.reads.get(key) === read) this.reads.delete(key);
  }

  private put(key: string, value: string, ttlMs: number | undefined): void {
    const lifeMs = ttlMs === undefined ? this.ttlMs : Math.min(this.ttlMs, ttlMs);
    this.values.delete(key);
    if (this.values.size >= this.maxKeys) {
      const oldest = this.values.keys().next();
      if (!oldest.done) this.values.delete(oldest.value);
    }
    this.values.set(key, { value, expiresAtMs: this.clock.now() + lifeMs });
  }
}
