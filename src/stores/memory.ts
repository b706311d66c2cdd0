/**
 * The embedded store: decisions computed synchronously in this process.
 *
 * Each policy gets a table: a Map from user key to a slot, and the slots' state in one Float64Array (or an array
 * of objects for the algorithms whose state has no fixed size). Memory is bounded by `maxKeys` per table. When a
 * table is full, the CLOCK algorithm (second-chance LRU) picks the victim: a key touched since the hand last passed
 * survives one more round, so keys seen once (a scan of random keys, an attack) go first and busy keys stay.
 * States that have expired (a full bucket, an empty window) are the same as no state, so they are dropped as
 * the hand passes, on a periodic sweep, and whenever found.
 */
import { ConfigError } from '../errors.js';
import type { Decision, NumericAlgorithm, ObjectAlgorithm, Policy, StepInput, StepOutcome } from '../limiters/limiter.js';
import { decisionFrom, newStepOutcome } from '../limiters/limiter.js';
import { checkKnownOptions, checkNumber } from '../options.js';
import { systemClock, type Clock, parseDuration } from '../time.js';
import type { DecideCall, StateView, Store } from './store.js';

export interface MemoryStoreOptions {
  /** Most keys held per policy (and in the key-value facet). Default 1,000,000. */
  maxKeys?: number;
  /** How often expired states are swept without traffic (the timer never keeps the process alive). 0: never. */
  sweepInterval?: number | string;
  clock?: Clock;
}

const INITIAL_SLOTS = 1024;
const SCRATCH = 0;

class Table {
  readonly index = new Map<string, number>();
  private cursor: MapIterator<[string, number]> | undefined;
  private readonly stride: number;
  /** The algorithm when its state is numeric (a fixed number of slots), else undefined. */
  private readonly numeric: NumericAlgorithm<unknown> | undefined;
  private numbers: Float64Array;
  private objects: unknown[] | undefined;
  private referenced: Uint8Array;
  private readonly freeSlots: number[] = [];
  private nextSlot = 1;
  private capacity: number;

  constructor(
    readonly policy: Policy,
    private readonly maxKeys: number,
  ) {
    const algorithm = policy.algorithm;
    this.stride = algorithm.kind === 'numeric' ? algorithm.stateSize : 0;
    this.numeric = algorithm.kind === 'numeric' ? algorithm : undefined;
    this.capacity = Math.min(INITIAL_SLOTS, maxKeys + 1);
    this.numbers = new Float64Array(this.capacity * this.stride);
    this.objects = algorithm.kind === 'object' ? [] : undefined;
    this.referenced = new Uint8Array(this.capacity);
  }

  get size(): number {
    return this.index.size;
  }

  /**
   * Runs the step for `key`. A key without state is stepped on a scratch slot and stored only if it changed.
   * The path of a numeric state that exists is kept short so the JIT inlines it into the caller.
   */
  step(policy: Policy, key: string, input: StepInput, out: StepOutcome): void {
    const algorithm = this.numeric;
    if (algorithm === undefined) return this.stepObject(policy, key, input, out);
    const slot = this.index.get(key);
    if (slot === undefined) return this.stepFresh(algorithm, policy.config, key, input, out);
    this.referenced[slot] = 1;
    algorithm.step(this.numbers, slot * this.stride, input, policy.config, out);
  }

  private stepFresh(algorithm: NumericAlgorithm<unknown>, config: unknown, key: string, input: StepInput, out: StepOutcome): void {
    const at = SCRATCH * this.stride;
    this.numbers.fill(0, at, at + this.stride);
    algorithm.step(this.numbers, at, input, config, out);
    if (!input.commit || !this.holdsState(at)) return;
    const slot = this.allocate(key, input.nowMs);
    this.numbers.copyWithin(slot * this.stride, at, at + this.stride);
  }

  private stepObject(policy: Policy, key: string, input: StepInput, out: StepOutcome): void {
    const algorithm = policy.algorithm as ObjectAlgorithm<unknown>;
    const slot = this.index.get(key);
    const objects = this.objects!;
    const before = slot === undefined ? undefined : objects[slot];
    if (slot !== undefined) this.referenced[slot] = 1;
    const after = algorithm.step(before, input, policy.config, out);
    if (!input.commit) return;
    if (after === undefined) {
      if (slot !== undefined) this.remove(key, slot);
    } else if (slot === undefined) {
      objects[this.allocate(key, input.nowMs)] = after;
    } else {
      objects[slot] = after;
    }
  }

  view(policy: Policy, key: string, input: StepInput, out: StepOutcome): number | undefined {
    const slot = this.index.get(key);
    const algorithm = policy.algorithm;
    if (algorithm.kind === 'numeric') {
      const at = (slot ?? SCRATCH) * this.stride;
      if (slot === undefined) this.numbers.fill(0, at, at + this.stride);
      algorithm.step(this.numbers, at, input, policy.config, out);
      return slot === undefined ? undefined : algorithm.lastUpdateMs?.(this.numbers, at);
    }
    const state = slot === undefined ? undefined : this.objects![slot];
    algorithm.step(state, input, policy.config, out);
    return state === undefined ? undefined : algorithm.lastUpdateMs?.(state);
  }

  refund(policy: Policy, key: string, cost: number, nowMs: number, token: string): void {
    const slot = this.index.get(key);
    if (slot === undefined) return;
    const algorithm = policy.algorithm;
    if (algorithm.kind === 'numeric') {
      algorithm.refund(this.numbers, slot * this.stride, nowMs, cost, policy.config);
      return;
    }
    const after = algorithm.refund(this.objects![slot], nowMs, cost, policy.config, token);
    if (after === undefined) this.remove(key, slot);
    else this.objects![slot] = after;
  }

  delete(key: string): boolean {
    const slot = this.index.get(key);
    if (slot === undefined) return false;
    this.remove(key, slot);
    return true;
  }

  /** Drops every expired state. */
  sweep(nowMs: number): void {
    for (const [key, slot] of this.index) {
      if (this.expired(slot, nowMs)) this.remove(key, slot);
    }
  }

  private holdsState(at: number): boolean {
    for (let i = at; i < at + this.stride; i++) if (this.numbers[i] !== 0) return true;
    return false;
  }

  private expired(slot: number, nowMs: number): boolean {
    const algorithm = this.policy.algorithm;
    return algorithm.kind === 'numeric'
      ? algorithm.expiresAt(this.numbers, slot * this.stride, this.policy.config) <= nowMs
      : algorithm.expiresAt(this.objects![slot], this.policy.config) <= nowMs;
  }

  private allocate(key: string, nowMs: number): number {
    if (this.index.size >= this.maxKeys) this.evictOne(nowMs);
    else this.sweepNext(nowMs);
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      if (this.nextSlot >= this.capacity) this.grow();
      slot = this.nextSlot++;
    }
    this.referenced[slot] = 0;
    this.index.set(key, slot);
    return slot;
  }

  private grow(): void {
    this.capacity = Math.min(this.capacity * 2, this.maxKeys + 1);
    const numbers = new Float64Array(this.capacity * this.stride);
    numbers.set(this.numbers);
    this.numbers = numbers;
    const referenced = new Uint8Array(this.capacity);
    referenced.set(this.referenced);
    this.referenced = referenced;
  }

  private remove(key: string, slot: number): void {
    this.index.delete(key);
    if (this.objects) this.objects[slot] = undefined;
    else this.numbers.fill(0, slot * this.stride, (slot + 1) * this.stride);
    this.freeSlots.push(slot);
  }

  /** Moves the clock hand one entry, dropping it when expired: idle keys go away as new keys arrive. */
  private sweepNext(nowMs: number): void {
    const entry = this.advance();
    if (entry && this.expired(entry[1], nowMs)) this.remove(entry[0], entry[1]);
  }

  private evictOne(nowMs: number): void {
    for (;;) {
      const entry = this.advance();
      if (!entry) return;
      const [key, slot] = entry;
      if (this.referenced[slot] === 1 && !this.expired(slot, nowMs)) {
        // Second chance: clear the bit and move the key behind the hand.
        this.referenced[slot] = 0;
        this.index.delete(key);
        this.index.set(key, slot);
        continue;
      }
      this.remove(key, slot);
      return;
    }
  }

  private advance(): [string, number] | undefined {
    let next = this.cursor?.next();
    if (!next || next.done) {
      this.cursor = this.index.entries();
      next = this.cursor.next();
    }
    return next.done ? undefined : next.value;
  }
}

interface Entry {
  value: string;
  expiresAtMs: number;
}

export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly synchronous = true;
  readonly maxKeys: number;
  private readonly clock: Clock;
  private readonly tables = new Map<string, Table>();
  private readonly entries = new Map<string, Entry>();
  private readonly input: StepInput = { nowMs: 0, cost: 1, commit: true, maxWaitMs: 0, token: '' };
  private readonly out: StepOutcome = newStepOutcome();
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastPolicy: Policy | undefined;
  private lastTable: Table | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    checkKnownOptions(options, 'memoryStore', ['maxKeys', 'sweepInterval', 'clock']);
    this.maxKeys = checkNumber(options.maxKeys ?? 1_000_000, 'maxKeys', { integer: true, min: 1, exclusiveMin: false });
    this.clock = options.clock ?? systemClock;
    if (typeof this.clock?.now !== 'function') throw new ConfigError('clock', 'a Clock with now() and sleep()', options.clock);
    const sweepMs = parseDuration(options.sweepInterval ?? 60_000, 'sweepInterval', { allowZero: true });
    if (sweepMs > 0) {
      this.timer = setInterval(() => this.sweep(), sweepMs);
      this.timer.unref();
    }
  }

  decide(policy: Policy, key: string, call: DecideCall): Decision {
    const table = policy === this.lastPolicy ? this.lastTable! : this.table(policy);
    const input = this.input;
    input.nowMs = call.nowMs;
    input.cost = call.cost;
    input.commit = true;
    input.maxWaitMs = call.maxWaitMs ?? 0;
    input.token = call.token ?? '';
    table.step(policy, key, input, this.out);
    return decisionFrom(policy.info, this.out);
  }

  decideAll(policies: readonly Policy[], key: string, call: DecideCall): Decision[] {
    // Check every policy without charging; charge only if all admit. Synchronous, so nothing interleaves.
    const checks = policies.map((policy) => {
      this.table(policy).step(policy, key, this.prepare(call, false), this.out);
      return decisionFrom(policy.info, this.out);
    });
    if (checks.some((decision) => !decision.allowed)) return checks;
    return policies.map((policy) => this.decide(policy, key, call));
  }

  inspect(policy: Policy, key: string, nowMs: number): StateView {
    const out = this.out;
    const lastUpdateMs = this.table(policy).view(policy, key, this.prepare({ nowMs, cost: 0 }, false), out);
    return { available: out.remaining, resetMs: out.resetMs, lastUpdateMs };
  }

  refund(policy: Policy, key: string, cost: number, nowMs: number, token = ''): void {
    this.table(policy).refund(policy, key, cost, nowMs, token);
  }

  reset(policy: Policy, key: string): void {
    this.table(policy).delete(key);
  }

  /** Keys currently holding state for a policy (for tests and monitoring). */
  size(policy?: Policy): number {
    if (policy) return this.tables.get(policy.id)?.size ?? 0;
    let total = this.entries.size;
    for (const table of this.tables.values()) total += table.size;
    return total;
  }

  /** Drops every expired state and value now. Runs by itself every `sweepInterval`. */
  sweep(nowMs = this.clock.now()): void {
    for (const table of this.tables.values()) table.sweep(nowMs);
    for (const [key, entry] of this.entries) if (entry.expiresAtMs <= nowMs) this.entries.delete(key);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  // The key-value facet.

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.put(key, String(value), this.expiry(ttlMs));
  }

  async incr(key: string, by = 1, ttlMs?: number): Promise<number> {
    const entry = this.live(key);
    const current = entry === undefined ? 0 : Number(entry.value);
    if (!Number.isInteger(current)) throw new TypeError(`Value at "${key}" is not an integer`);
    const next = current + by;
    this.put(key, String(next), entry?.expiresAtMs ?? this.expiry(ttlMs));
    return next;
  }

  decr(key: string, by = 1, ttlMs?: number): Promise<number> {
    return this.incr(key, -by, ttlMs);
  }

  async delete(key: string): Promise<boolean> {
    return this.live(key) !== undefined && this.entries.delete(key);
  }

  async exists(key: string): Promise<boolean> {
    return this.live(key) !== undefined;
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAtMs <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private put(key: string, value: string, expiresAtMs: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxKeys) {
      // Map order is insertion order and every write re-inserts: the first key is the least recently written.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAtMs });
  }

  private expiry(ttlMs: number | undefined): number {
    if (ttlMs === undefined) return Infinity;
    return this.clock.now() + parseDuration(ttlMs, 'ttlMs');
  }

  private table(policy: Policy): Table {
    // The same policy decides again and again on a hot path: skip the lookup by id.
    if (policy === this.lastPolicy) return this.lastTable!;
    let table = this.tables.get(policy.id);
    if (table === undefined) {
      table = new Table(policy, this.maxKeys);
      this.tables.set(policy.id, table);
    } else if (table.policy.algorithm !== policy.algorithm) {
      throw new ConfigError('name', `a name not used by another kind of limiter on this store (${policy.id})`, policy.info.name);
    }
    this.lastPolicy = policy;
    this.lastTable = table;
    return table;
  }

  private prepare(call: DecideCall, commit: boolean): StepInput {
    const input = this.input;
    input.nowMs = call.nowMs;
    input.cost = call.cost;
    input.commit = commit;
    input.maxWaitMs = call.maxWaitMs ?? 0;
    input.token = call.token ?? '';
    return input;
  }
}

export function memoryStore(options?: MemoryStoreOptions): MemoryStore {
  return new MemoryStore(options);
}

let processStore: MemoryStore | undefined;

/** The process-wide memory store that limiters use when given no store. */
export function defaultStore(): MemoryStore {
  processStore ??= new MemoryStore();
  return processStore;
}

