/** Every framework driver of the conformance suite. */
import { expressDriver } from './express.js';
import { fastifyDriver } from './fastify.js';
import { honoDriver } from './hono.js';
import { koaDriver } from './koa.js';

export const drivers = [expressDriver, fastifyDriver, koaDriver, honoDriver];
export type { Driver, AppSpec, RouteSpec, RunningApp } from './driver.js';
