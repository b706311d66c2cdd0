/** Fastify specifics: the plugin's `global`, `hook`, per-route `config.rateLimit` (or false), the named hook. */
import Fastify, { type FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, RateLimitExceededError, memoryStore, tokenBucket } from '../../src/index.js';
import sluice, { rateLimit, rateLimitErrorHandler } from '../../adapters/fastify/index.js';

const bucket = (burst: number, name?: string) =>
  tokenBucket({ rate: burst, per: '1h', burst, name, store: memoryStore({ sweepInterval: 0 }) });

let apps: ReturnType<typeof Fastify>[] = [];
const app = () => {
  const instance = Fastify();
  apps.push(instance);
  return instance;
};
afterEach(async () => {
  await Promise.all(apps.map((instance) => instance.close()));
  apps = [];
});

describe('fastify adapter', () => {
  it('config.rateLimit false leaves a route out of the global limit', async () => {
    const fastify = app();
    await fastify.register(sluice, { limiter: bucket(1) });
    fastify.get('/health', { config: { rateLimit: false } }, async () => 'up');
    fastify.get('/', async () => 'ok');
    await fastify.ready();
    for (let i = 0; i < 3; i++) expect((await fastify.inject('/health')).statusCode).toBe(200);
    expect((await fastify.inject('/')).statusCode).toBe(200);
    expect((await fastify.inject('/')).statusCode).toBe(429);
  });

  it('global: false limits only routes with their own config; route options merge over the plugin options', async () => {
    const fastify = app();
    await fastify.register(sluice, { global: false, limiter: bucket(5), headers: 'legacy' });
    fastify.get('/free', async () => 'ok');
    fastify.get('/login', { config: { rateLimit: { limiter: bucket(1, 'login') } } }, async (request) => request.rateLimit);
    for (let i = 0; i < 3; i++) expect((await fastify.inject('/free')).statusCode).toBe(200);
    const first = await fastify.inject('/login');
    expect(first.headers['x-ratelimit-limit']).toBe('1');
    expect(first.json()).toMatchObject({ key: '127.0.0.1', remaining: 0 });
    expect((await fastify.inject('/login')).statusCode).toBe(429);
  });

  it("hook: 'preHandler' runs after body parsing, so a key can come from the body", async () => {
    const fastify = app();
    await fastify.register(sluice, {
      hook: 'preHandler',
      limiter: bucket(1),
      key: (request: FastifyRequest) => (request.body as { email?: string } | undefined)?.email,
    });
    fastify.post('/login', async () => 'ok');
    const login = (email: string) => fastify.inject({ method: 'POST', url: '/login', payload: { email } });
    expect((await login('a@example.com')).statusCode).toBe(200);
    expect((await login('a@example.com')).statusCode).toBe(429);
    expect((await login('b@example.com')).statusCode).toBe(200);
  });

  it('the named rateLimit() is a route-level hook with a resetKey handle', async () => {
    const fastify = app();
    const limit = rateLimit({ limiter: bucket(1) });
    fastify.get('/a', { preHandler: limit }, async () => 'a');
    fastify.get('/b', { onRequest: limit }, async () => 'b');
    expect((await fastify.inject('/a')).statusCode).toBe(200);
    expect((await fastify.inject('/a')).statusCode).toBe(429);
    expect((await fastify.inject('/b')).statusCode).toBe(200);
    await limit.resetKey('127.0.0.1');
    expect((await fastify.inject('/a')).statusCode).toBe(200);
  });

  it('the plugin maps handler errors; a scoped error handler that rethrows lets it map', async () => {
    const fastify = app();
    await fastify.register(sluice, {});
    await fastify.register(async (child) => {
      child.setErrorHandler((error, _request, reply) => {
        if ((error as Error).message !== 'boom') throw error;
        return reply.code(418).send({ mine: 'boom' });
      });
      child.get('/limited', async () => {
        throw new RateLimitExceededError({ key: 'k', limit: 1, remaining: 0, retryAfterMs: 900 });
      });
      child.get('/other', async () => {
        throw new Error('boom');
      });
    });
    const limited = await fastify.inject('/limited');
    expect([limited.statusCode, limited.headers['retry-after']]).toEqual([429, '1']);
    expect((await fastify.inject('/other')).json()).toEqual({ mine: 'boom' });
  });

  it('rateLimitErrorHandler() works as a standalone error handler', async () => {
    const fastify = app();
    fastify.setErrorHandler(rateLimitErrorHandler());
    fastify.get('/limited', async () => {
      throw new RateLimitExceededError({ key: 'k', limit: 1, remaining: 0, retryAfterMs: 2100 });
    });
    fastify.get('/other', async () => {
      throw new Error('boom');
    });
    const limited = await fastify.inject('/limited');
    expect([limited.statusCode, limited.headers['retry-after']]).toEqual([429, '3']);
    expect((await fastify.inject('/other')).statusCode).toBe(500);
  });

  it("trustProxy: 'framework' keys by Fastify's own request.ip", async () => {
    const fastify = Fastify({ trustProxy: '127.0.0.1' });
    apps.push(fastify);
    await fastify.register(sluice, { limiter: bucket(5), trustProxy: 'framework' });
    fastify.get('/', async (request) => request.rateLimit);
    const reply = await fastify.inject({ url: '/', headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(reply.json().key).toBe('203.0.113.7');
  });

  it('bad plugin and route options throw ConfigError', async () => {
    const configError = async (options: object) => {
      const caught = await app().register(sluice, options as never).ready().then(() => undefined, (error: unknown) => error);
      expect(caught).toBeInstanceOf(ConfigError);
      return caught as ConfigError;
    };
    expect((await configError({ hook: 'onSend' })).field).toBe('hook');
    expect((await configError({ global: 'yes' })).field).toBe('global');
    expect((await configError({ global: true })).field).toBe('limiter');
    expect((await configError({ limiter: bucket(1), skip: 'x' })).field).toBe('skip');
    const fastify = app();
    await fastify.register(sluice, {});
    expect(() => fastify.get('/x', { config: { rateLimit: { limiter: bucket(1), shadow: 'no' as never } } }, async () => 'x')).toThrow(ConfigError);
    expect(() => rateLimit({} as never)).toThrow(ConfigError);
  });
});
