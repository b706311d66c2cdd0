/** What a contender of a comparison is: a loop the host process can run for a given number of operations. */

export interface Contender {
  /** Runs `ops` operations, one after the other (each awaited when the contender is asynchronous). */
  run(ops: number): void | Promise<void>;
  /** Figures gathered since the last call (e.g. latency percentiles), reset by the call. */
  collect?(): Record<string, number>;
  /** Named one-off measurements a group may ask for (heap per key, peak heap...). */
  measure?(name: string, args: unknown): unknown;
  close?(): void | Promise<void>;
}

export type ContenderFactory<P = any> = (params: P) => Contender | Promise<Contender>;

/** One sample: how many operations ran in how much wall and CPU time, plus any collected figures. */
export interface Sample {
  ops: number;
  wallNs: number;
  /** User + system CPU time of the process that did the work. */
  cpuNs: number;
  extra?: Record<string, number>;
}
