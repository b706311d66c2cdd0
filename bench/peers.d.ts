// The little of the untyped peer libraries' APIs the benchmarks use (none ships types; no @types package is installed).

declare module 'opossum' {
  export default class CircuitBreaker<R = unknown> {
    constructor(action: (...args: any[]) => Promise<R>, options?: { timeout?: number | false; [option: string]: unknown });
    fire(...args: unknown[]): Promise<R>;
    shutdown(): void;
  }
}

declare module 'koa-ratelimit' {
  import type { Middleware, Context } from 'koa';
  export default function ratelimit(options: {
    driver: 'memory' | 'redis';
    db: unknown;
    duration?: number;
    max?: number;
    id?: (ctx: Context) => string | false;
  }): Middleware;
}

declare module 'autocannon' {
  interface Histogram {
    average: number;
    mean: number;
    p50: number;
    p99: number;
    total: number;
    [percentile: string]: number;
  }
  export interface Result {
    requests: Histogram;
    latency: Histogram;
    throughput: Histogram;
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '1xx': number;
    '2xx': number;
    '3xx': number;
    '4xx': number;
    '5xx': number;
    statusCodeStats?: Record<string, { count: number }>;
  }
  export interface Options {
    url: string;
    connections?: number;
    pipelining?: number;
    duration?: number;
    amount?: number;
    /** How often autocannon samples, and checks whether the run is over (ms). Default 1000. */
    sampleInt?: number;
    headers?: Record<string, string>;
  }
  export default function autocannon(options: Options): Promise<Result>;
}
