/** Express specifics beyond the conformance suite: the middleware handle, mounted routers, error middleware. */
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ConfigError, memoryStore, tokenBucket } from '../../src/index.js';
import { rateLimit, rateLimitErrorHandler } from '../../adapters/express/index.js';

const bucket = (burst: number) => tokenBucket({ rate: burst, per: '1h', burst, store: memoryStore({ sweepInterval: 0 }) });

describe('express adapter', () => {
  it('resetKey on the middleware handle forgets a client', async () => {
    const limit = rateLimit({ limiter: bucket(1) });
    const app = express().use(limit).get('/', (_req, res) => res.send('ok'));
    await request(app).get('/').expect(200);
    await request(app).get('/').expect(429);
    await limit.resetKey('127.0.0.1');
    await request(app).get('/').expect(200);
  });

  it('a guard inside a mounted router is namespaced by the full route and matches full paths', async () => {
    const shared = bucket(1);
    const router = express.Router();
    const guard = rateLimit({ limiter: shared, include: ['/api/*'] });
    router.get('/a', guard, (req, res) => res.json(req.rateLimit));
    router.get('/b', guard, (req, res) => res.json(req.rateLimit));
    const app = express().use('/api', router);
    const a = await request(app).get('/api/a').expect(200);
    expect(a.body).toMatchObject({ key: '127.0.0.1', remaining: 0 });
    // /api/b has its own counter: same guard, other route.
    await request(app).get('/api/b').expect(200);
    await request(app).get('/api/a').expect(429);
    await request(app).get('/api/b').expect(429);
  });

  it('rateLimitErrorHandler passes other errors on, and leaves responses already started alone', async () => {
    const app = express()
      .get('/boom', () => {
        throw new Error('boom');
      })
      .use(rateLimitErrorHandler({ headers: 'legacy' }))
      .use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
        res.status(418).send(error.message);
      });
    const reply = await request(app).get('/boom').expect(418);
    expect(reply.text).toBe('boom');
  });

  it('errors of a key function reach Express error handling', async () => {
    const app = express()
      .use(
        rateLimit({
          limiter: bucket(5),
          key: () => {
            throw new Error('no session');
          },
        }),
      )
      .get('/', (_req, res) => res.send('ok'))
      .use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
        res.status(401).send(error.message);
      });
    expect((await request(app).get('/').expect(401)).text).toBe('no session');
  });

  it("trustProxy: 'framework' keys by Express's own req.ip", async () => {
    const app = express().set('trust proxy', 'loopback');
    app.use(rateLimit({ limiter: bucket(5), trustProxy: 'framework' })).get('/', (req, res) => res.json(req.rateLimit));
    const reply = await request(app).get('/').set('X-Forwarded-For', '198.51.100.1, 203.0.113.7').expect(200);
    expect(reply.body.key).toBe('203.0.113.7');
  });

  it('bad options throw ConfigError when the middleware is built', () => {
    expect(() => rateLimit({} as never)).toThrow(ConfigError);
    expect(() => rateLimit({ limiter: bucket(1), trustProxy: 'everyone' })).toThrow(ConfigError);
    expect(() => rateLimitErrorHandler({ headers: 'x' } as never)).toThrow(ConfigError);
  });
});
