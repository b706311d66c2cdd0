/** Conformance driver: a real Fastify 5 app with the sluice plugin and per-route `config.rateLimit`. */
import Fastify, { type FastifyRequest } from 'fastify';
import sluice from '../../../adapters/fastify/index.js';
import { delayOf, errorFor, handlerBody, statusOf, type AppSpec, type Driver } from './driver.js';

export const fastifyDriver: Driver = {
  name: 'fastify',
  header: (name) => (request: FastifyRequest) => {
    const value = request.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  },
  async start(spec: AppSpec) {
    const app = Fastify();
    await app.register(sluice, (spec.global ?? { global: false }) as never);
    for (const route of spec.routes) {
      app.route({
        method: route.method ?? 'GET',
        url: route.path,
        config: route.limit ? { rateLimit: route.limit } : {},
        handler: async (request, reply) => {
          if (route.respond && 'throws' in route.respond) throw errorFor(route.respond.throws);
          await delayOf(route.respond);
          reply.code(statusOf(route.respond)).type('application/json');
          return handlerBody(request.rateLimit);
        },
      });
    }
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: address.replace('localhost', '127.0.0.1'), close: () => app.close() };
  },
};
