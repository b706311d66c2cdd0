/**
 * A child process that holds one contender and runs samples on request. Each contender lives alone in its own
 * process, so no contender's JIT feedback, heap, garbage or timers slow down another's figures.
 */
import { hrtime } from 'node:process';
import type { Contender, ContenderFactory, Sample } from './contender.js';

interface InitMessage {
  type: 'init';
  module: string;
  export: string;
  params: unknown;
}
interface SampleMessage {
  type: 'sample';
  durationMs: number;
  /** Run at least this many operations (e.g. a first pass over every key). */
  minOps?: number;
}
interface MeasureMessage {
  type: 'measure';
  name: string;
  args: unknown;
}
type Message = InitMessage | SampleMessage | MeasureMessage | { type: 'close' };

let contender: Contender | undefined;
/** Operations per batch between clock reads; grows until a batch takes about 2 ms. */
let batch = 16;

async function sample({ durationMs, minOps = 0 }: SampleMessage): Promise<Sample> {
  const c = contender!;
  c.collect?.();
  const durationNs = durationMs * 1e6;
  const cpuStart = process.cpuUsage();
  const start = hrtime.bigint();
  let ops = 0;
  let elapsedNs = 0;
  do {
    const batchStart = hrtime.bigint();
    const pending = c.run(batch);
    if (pending) await pending;
    ops += batch;
    const now = hrtime.bigint();
    if (Number(now - batchStart) < 2e6 && batch < 1 << 20) batch *= 2;
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
      contender = await factory(message.params);
      return null;
    }
    case 'sample':
      return sample(message);
    case 'measure':
      if (!contender?.measure) throw new Error(`this contender has no measure()`);
      return await contender.measure(message.name, message.args);
    case 'close':
      await contender?.close?.();
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
