// The published shape: `npm run build` emits ESM and CJS with types, and the exports map resolves both.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';

const node = (args: string[]) => execFileSync(process.execPath, args, { encoding: 'utf8' }).trim();

describe('package', () => {
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'pipe' });
  }, 120_000);

  it('loads from ESM through the exports map', () => {
    const out = node(['--input-type=module', '-e', "import('sluice').then(m => console.log(typeof m.tokenBucket, typeof m.memoryStore))"]);
    expect(out).toBe('function function');
  });

  it('loads from CommonJS through the exports map', () => {
    const out = node(['-e', "const m = require('sluice'); console.log(typeof m.tokenBucket, typeof m.isConfigError)"]);
    expect(out).toBe('function function');
  });

  it('ships declarations for both module systems', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    for (const [entry, conditions] of Object.entries<Record<string, { types: string; default: string }>>(pkg.exports)) {
      if (entry === './package.json') continue;
      for (const condition of ['import', 'require']) {
        expect(existsSync(conditions[condition]!.types), `${entry} ${condition} types`).toBe(true);
        expect(existsSync(conditions[condition]!.default), `${entry} ${condition} code`).toBe(true);
      }
    }
    expect(readFileSync('dist/cjs/src/index.d.ts', 'utf8')).toContain('tokenBucket');
  });
});
