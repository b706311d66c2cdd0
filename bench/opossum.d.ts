// The little of opossum's API the resilience bench uses (opossum ships no types; @types/opossum is not installed).
declare module 'opossum' {
  export default class CircuitBreaker<R = unknown> {
    constructor(action: (...args: any[]) => Promise<R>, options?: { timeout?: number | false; [option: string]: unknown });
    fire(...args: unknown[]): Promise<R>;
    shutdown(): void;
  }
}
