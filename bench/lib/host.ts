/**
 * A child process that holds a contender and runs samples on request. In a full run each contender lives alone in
 * its own process, so no contender's JIT feedback, heap, garbage or timers slow down another's figures; a quick
 * (smoke) run puts all of a comparison's contenders in one process to save start-up time.
 */
import { hrtime } from 'node:process';
import type { Contender, ContenderFactory, Sample } from './contender.js';

interface InitMessage {
  type: 'init';
  name: string;
  module: string;
  export: string;
  params: unknown;
}
interface SampleMessage {
  type: 'sample';
  name: string;
  durationMs: number;
  /** Run at least this many operations (e.g. a first pass over every key). */
  minOps?: number;
}
interface MeasureMessage {
  type: 'measure';
  name: string;
  measurement: string;
  args: unknown;
}
type Message = InitMessage | SampleMessage | MeasureMessage | { type: 'close' };

interface Hosted {
  contender: Contender;
  /** Operations per batch between clock reads; grows until a batch takes about 2 ms. */
  batch: number;
}

const hosted = new Map<string, Hosted>();

function find(name: string): Hosted {
  const entry = hosted.get(name);
  if (!entry) throw new Error(`no contender "${name}" in this host`);
  return entry;
}

async function sample({ name, durationMs, minOps = 0 }: SampleMessage): Promise<Sample> {
  const entry = find(name);
  const c = entry.contender;
  c.collect?.();
  const durationNs = durationMs * 1e6;
  const cpuStart = process.cpuUsage();
  const start = hrtime.bigint();
  let ops = 0;
  let elapsedNs = 0;
  do {
    const batch = entry.batch;
    const batchStart = hrtime.bigint();
    const pending = c.run(batch);
    if (pending) await pending;
    ops += batch;
    const now = hrtime.bigint();
    if (Number(now - batchStart) < 2e6 && batch < 1 << 20) entry.batch = batch * 2;
    elapsedNs = Number(now - start);
  } while (elapsedNs < durationNs || ops < minOps);
  const cpu = process.cpuUsage(cpuStart);
  const extra = c.collect?.();
  return { ops, wallNs: elapsedNs, cpuNs: (cpu.user + cpu.system) * 1000, ...(extra ? { extra } : {}) };
}

async function handle(message: Message): Promise<unknown> {
  switch (message.type) {
    case 'init': {
      const module = (await import(message.module)) as Record<string, ContenderFactory>;
      const factory = module[message.export];
      if (typeof factory !== 'function') throw new Error(`${message.module} has no contender "${message.export}"`);
      hosted.set(message.name, { contender: await factory(message.params), batch: 16 });
      return null;
    }
    case 'sample':
      return sample(message);
    case 'measure': {
      const { contender } = find(message.name);
      if (!contender.measure) throw new Error(`contender "${message.name}" has no measure()`);
      return await contender.measure(message.measurement, message.args);
    }
    case 'close':
      for (const { contender } of hosted.values()) await contender.close?.();
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (message: Message & { id: number }) => {
  handle(message).then(
    (result) => process.send!({ id: message.id, result }),
    (error: unknown) =>
      process.send!({ id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
// The parent is gone (finished, killed or timed out): nothing will ask for samples any more.
process.on('disconnect', () => process.exit(0));
process.send!({ id: 0, result: 'up' });
