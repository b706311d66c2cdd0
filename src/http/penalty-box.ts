/**
 * The penalty box behind `blockFor`: a key that exceeds its limit is refused for a while; repeated offences
 * (within `forgetAfter`) may lengthen the block by `growth` up to `max`. Blocks live in the limiter's store
 * key-value facet, so they hold across processes on Redis; a local copy answers without a round trip while a
 * block is known, and is the whole answer for a synchronous (in-process) store.
 */
import { ConfigError } from '../errors.js';
import { checkKnownOptions, checkNumber } from '../options.js';
import type { Store } from '../stores/store.js';
import { parseDuration, type Duration } from '../time.js';

export interface BlockForOptions {
  /** How long the first offence blocks the key. */
  duration: Duration;
  /** Each further offence multiplies the block by this (default 1: every block is `duration`). */
  growth?: number;
  /** The longest block (default: `duration` × 64, or `duration` when growth is 1). */
  max?: Duration;
  /** Offences older than this are forgotten (default "1d"). */
  forgetAfter?: Duration;
}

interface LocalBlock {
  untilMs: number;
  offences: number;
  forgetAtMs: number;
}

/** Most blocks remembered locally per store (oldest dropped first). */
const LOCAL_LIMIT = 100_000;
const localByStore = new WeakMap<Store, Map<string, LocalBlock>>();
const storeless = new Map<string, LocalBlock>();

function localBlocks(store: Store | undefined): Map<string, LocalBlock> {
  if (!store) return storeless;
  let blocks = localByStore.get(store);
  if (!blocks) {
    blocks = new Map();
    localByStore.set(store, blocks);
  }
  return blocks;
}

const isPromise = (value: unknown): value is Promise<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as Promise<unknown>).then === 'function';

export class PenaltyBox {
  readonly durationMs: number;
  readonly growth: number;
  readonly maxMs: number;
  readonly forgetAfterMs: number;

  constructor(
    option: Duration | BlockForOptions,
    private readonly report: (error: unknown) => void,
  ) {
    if (typeof option === 'object' && option !== null) {
      checkKnownOptions(option, 'blockFor', ['duration', 'growth', 'max', 'forgetAfter']);
      this.durationMs = parseDuration(option.duration, 'blockFor.duration');
      this.growth = checkNumber(option.growth ?? 1, 'blockFor.growth', { min: 1, exclusiveMin: false });
      const defaultMax = this.growth === 1 ? this.durationMs : this.durationMs * 64;
      this.maxMs = option.max === undefined ? defaultMax : parseDuration(option.max, 'blockFor.max');
      if (this.maxMs < this.durationMs) throw new ConfigError('blockFor.max', 'a duration >= blockFor.duration', option.max);
      this.forgetAfterMs = parseDuration(option.forgetAfter ?? '1d', 'blockFor.forgetAfter');
    } else {
      this.durationMs = parseDuration(option, 'blockFor');
      this.growth = 1;
      this.maxMs = this.durationMs;
      this.forgetAfterMs = parseDuration('1d', 'blockFor.forgetAfter');
    }
  }

  /** Milliseconds left of a block on `key` (0: not blocked); a promise only when a shared store is asked. */
  check(store: Store | undefined, key: string, nowMs: number): number | Promise<number> {
    const blocks = localBlocks(store);
    const local = blocks.get(key);
    if (local !== undefined && local.untilMs > nowMs) return local.untilMs - nowMs;
    if (!store || store.synchronous) return 0;
    let pending: Promise<string | undefined>;
    try {
      pending = store.get(blockKey(key));
    } catch (error) {
      this.report(error);
      return 0;
    }
    return pending.then(
      (value) => {
        const untilMs = Number(value);
        if (!(untilMs > nowMs)) return 0;
        remember(blocks, key, { untilMs, offences: local?.offences ?? 1, forgetAtMs: nowMs + this.forgetAfterMs });
        return untilMs - nowMs;
      },
      (error: unknown) => {
        this.report(error);
        return 0;
      },
    );
  }

  /** Records an offence by `key`: starts (or lengthens) its block and returns the block's length. */
  offend(store: Store | undefined, key: string, nowMs: number): number {
    const blocks = localBlocks(store);
    const local = blocks.get(key);
    const offences = (local !== undefined && local.forgetAtMs > nowMs ? local.offences : 0) + 1;
    const blockMs = this.blockMs(offences);
    remember(blocks, key, { untilMs: nowMs + blockMs, offences, forgetAtMs: nowMs + this.forgetAfterMs });
    if (store) this.persist(store, blocks, key, nowMs, offences);
    return blockMs;
  }

  /** Forgets the block and offences of `key`. */
  async clear(store: Store | undefined, key: string): Promise<void> {
    localBlocks(store).delete(key);
    if (store) await Promise.all([store.delete(blockKey(key)), store.delete(offencesKey(key))]);
  }

  private blockMs(offences: number): number {
    return Math.min(this.maxMs, this.durationMs * this.growth ** (offences - 1));
  }

  /** Writes the block to the store; with growth, counts offences there so every process lengthens alike. */
  private persist(store: Store, blocks: Map<string, LocalBlock>, key: string, nowMs: number, localOffences: number): void {
    const write = (offences: number) => {
      const blockMs = this.blockMs(offences);
      remember(blocks, key, { untilMs: nowMs + blockMs, offences, forgetAtMs: nowMs + this.forgetAfterMs });
      return store.set(blockKey(key), String(nowMs + blockMs), blockMs);
    };
    try {
      const done =
        this.growth === 1
          ? write(localOffences)
          : store.incr(offencesKey(key), 1, this.forgetAfterMs).then((shared) => write(Math.max(shared, localOffences)));
      if (isPromise(done)) done.catch(this.report);
    } catch (error) {
      this.report(error);
    }
  }
}

function remember(blocks: Map<string, LocalBlock>, key: string, block: LocalBlock): void {
  blocks.delete(key);
  if (blocks.size >= LOCAL_LIMIT) {
    const oldest = blocks.keys().next();
    if (!oldest.done) blocks.delete(oldest.value);
  }
  blocks.set(key, block);
}

const blockKey = (key: string) => `sluice:block:{${key}}`;
const offencesKey = (key: string) => `sluice:offences:{${key}}`;
