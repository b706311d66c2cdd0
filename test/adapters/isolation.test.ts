/**
 * Importing one adapter never loads another framework: follow each entry point's runtime imports (type-only
 * imports are erased by the compiler, exactly as in the build) and list the packages they reach.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const IMPORT = /(?:^|[\s;])(?:import|export)\s*(?:[^'"]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function packagesReached(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const output = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    for (const match of output.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2]!;
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) packages.add(specifier);
    }
  };
  visit(resolve(entry));
  return packages;
}

const FRAMEWORKS = /^(express|fastify|koa|hono)(\/|$)|^@koa\/|^@hono\//;

describe('adapter isolation', () => {
  it('the core reaches no framework', () => {
    expect([...packagesReached('src/index.ts')].filter((name) => FRAMEWORKS.test(name))).toEqual([]);
  });

  it.each([
    ['express', []],
    ['fastify', []],
    ['koa', []],
    ['hono', ['hono/route']],
  ])('adapters/%s reaches only its own framework', (name, frameworkImports) => {
    const reached = [...packagesReached(`adapters/${name}/index.ts`)].filter((pkg) => FRAMEWORKS.test(pkg)).sort();
    expect(reached).toEqual(frameworkImports);
  });

  it('the Fastify adapter loads fastify-plugin, not fastify itself', () => {
    expect(packagesReached('adapters/fastify/index.ts').has('fastify-plugin')).toBe(true);
  });
});
