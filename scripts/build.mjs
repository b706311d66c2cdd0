// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with its own .d.ts, from one tsc config.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const tsc = (outDir, module, moduleResolution) =>
  execFileSync(
    process.execPath,
    ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', outDir,
      '--module', module, '--moduleResolution', moduleResolution],
    { stdio: 'inherit' },
  );
tsc('dist/esm', 'NodeNext', 'NodeNext');
tsc('dist/cjs', 'CommonJS', 'Node10');
// Without this marker Node would read dist/cjs/*.js as ESM because the root package.json says "type": "module".
mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
