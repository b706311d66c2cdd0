/** Conformance driver: a real Express 5 app. */
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit, rateLimitErrorHandler } from '../../../adapters/express/index.js';
import { delayOf, errorFor, handlerBody, listening, statusOf, type AppSpec, type Driver } from './driver.js';

export const expressDriver: Driver = {
  name: 'express',
  header: (name) => (req: Request) => req.get(name),
  async start(spec: AppSpec) {
    const app = express();
    if (spec.global) app.use(rateLimit(spec.global as never));
    for (const route of spec.routes) {
      const handler = async (req: Request, res: Response) => {
        if (route.respond && 'throws' in route.respond) throw errorFor(route.respond.throws);
        await delayOf(route.respond);
        res.status(statusOf(route.respond)).type('application/json').send(handlerBody(req.rateLimit));
      };
      const method = route.method === 'POST' ? 'post' : 'get';
      if (route.limit) app[method](route.path, rateLimit(route.limit as never), handler);
      else app[method](route.path, handler);
    }
    if (spec.errorMapping !== false) app.use(rateLimitErrorHandler());
    app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
      res.status(500).json({ error: error.message });
    });
    return listening(app.listen(0, '127.0.0.1'));
  },
};
