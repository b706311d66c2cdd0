/**
 * Where the contenders take sluice from. A full run measures the compiled JavaScript (tsc output, as published),
 * built by bench/run.ts into .bench-tmp/build: running the TypeScript source through tsx would add esbuild's
 * keepNames helper (`__name`) to every function made at run time, a cost users never pay and the peers (shipped as
 * JavaScript) do not carry. A quick run uses the source.
 */
import type * as SluiceModule from '../../src/index.js';
import type * as ExpressAdapter from '../../adapters/express/index.js';
import type * as FastifyAdapter from '../../adapters/fastify/index.js';
import type * as KoaAdapter from '../../adapters/koa/index.js';
import type * as HonoAdapter from '../../adapters/hono/index.js';

/** The compiled build's directory, set by bench/run.ts for its children; unset: the TypeScript source. */
export const buildDir = process.env.SLUICE_BENCH_BUILD;

export const sluice = (await import(buildDir ? `${buildDir}/src/index.js` : '../../src/index.js')) as typeof SluiceModule;

interface Adapters {
  express: typeof ExpressAdapter;
  fastify: typeof FastifyAdapter;
  koa: typeof KoaAdapter;
  hono: typeof HonoAdapter;
}

export async function adapter<F extends keyof Adapters>(framework: F): Promise<Adapters[F]> {
  return (await import(buildDir ? `${buildDir}/adapters/${framework}/index.js` : `../../adapters/${framework}/index.js`)) as Adapters[F];
}
