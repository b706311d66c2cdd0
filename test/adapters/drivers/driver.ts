/** The shape every framework driver of the conformance suite implements: build a real app, listen, close. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CircuitOpenError, RateLimitExceededError } from '../../../src/index.js';

export type Handler =
  | { status?: number; delayMs?: number }
  /** Throw from the handler: a RateLimitExceededError, a CircuitOpenError, or a plain Error. */
  | { throws: 'rate-limit' | 'circuit' | 'other' };

export interface RouteSpec {
  method?: 'GET' | 'POST';
  path: string;
  /** Route-level rateLimit() options (functions in them receive this framework's request). */
  limit?: object;
  respond?: Handler;
}

export interface AppSpec {
  /** Options of the global middleware (the Fastify plugin's options); none: no global limit. */
  global?: object;
  routes: RouteSpec[];
  /** Install the framework's error mapping (Fastify's plugin always installs it). Default true. */
  errorMapping?: boolean;
}

export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

export interface Driver {
  name: 'express' | 'fastify' | 'koa' | 'hono';
  start(spec: AppSpec): Promise<RunningApp>;
  /** A function of this framework's request that reads a request header (for key / skip / cost functions). */
  header(name: string): (request: any) => string | undefined;
}

/** The JSON every test handler answers with: the rate-limit info the framework exposed. */
export function handlerBody(info: unknown): string {
  const rateLimit = info as { key: string; limit: number; remaining: number; allowed: boolean } | undefined;
  return JSON.stringify({
    ok: true,
    rateLimit: rateLimit ? { key: rateLimit.key, limit: rateLimit.limit, remaining: rateLimit.remaining, allowed: rateLimit.allowed } : null,
  });
}

export function errorFor(kind: 'rate-limit' | 'circuit' | 'other'): Error {
  if (kind === 'rate-limit') return new RateLimitExceededError({ key: 'upstream-key', limit: 10, remaining: 0, retryAfterMs: 2500, policy: 'upstream' });
  if (kind === 'circuit') return new CircuitOpenError(4200);
  return new Error('boom');
}

/** Waits the handler's delay, if any (to keep a request in flight). */
export function delayOf(respond: Handler | undefined): Promise<void> | undefined {
  const delayMs = respond && 'delayMs' in respond ? respond.delayMs : undefined;
  return delayMs ? new Promise((resolve) => setTimeout(resolve, delayMs)) : undefined;
}

export function statusOf(respond: Handler | undefined): number {
  return respond && 'status' in respond && respond.status !== undefined ? respond.status : 200;
}

export function listening(server: Server): Promise<RunningApp> {
  return new Promise((resolve, reject) => {
    const ready = () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    };
    if (server.listening) ready();
    else {
      server.once('listening', ready);
      server.once('error', reject);
    }
  });
}
