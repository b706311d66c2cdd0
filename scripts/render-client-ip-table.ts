/**
 * Rewrites the golden table at the end of docs/proxies.md from test/http/client-ip-golden.ts.
 * Run: npx tsx scripts/render-client-ip-table.ts (test/http/client-ip.test.ts fails when the two disagree).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { clientIpGoldenRows } from '../test/http/client-ip-golden.js';

const docsUrl = new URL('../docs/proxies.md', import.meta.url);
const escapeCell = (text: string) => text.replace(/\|/g, '\\|');
const abbreviate = (text: string) => (text.length > 100 ? `${text.slice(0, 28)}…${text.slice(-24)} (${text.length} chars)` : text);
const describeOption = (value: unknown) => (typeof value === 'function' ? value.toString() : JSON.stringify(value));
const code = (text: string) => (text === '' ? '—' : `\`${escapeCell(text)}\``);

const lines = [
  '| # | Case | Socket address | Headers | Options | Key |',
  '|---|------|----------------|---------|---------|-----|',
  ...clientIpGoldenRows.map((row, index) => {
    const headers = Object.entries(row.headers).map(([name, value]) => `${name}: ${abbreviate(value)}`).join('; ');
    const options = Object.entries(row.options).map(([name, value]) => `${name}: ${describeOption(value)}`).join(', ');
    return `| ${index + 1} | ${escapeCell(row.name)} | \`${row.socketAddress}\` | ${code(headers)} | ${code(options)} | \`${row.expectedKey}\` |`;
  }),
];

const docs = readFileSync(docsUrl, 'utf8');
const tableStart = docs.indexOf('| # | Case |');
if (tableStart === -1) throw new Error('docs/proxies.md has no golden table to replace');
writeFileSync(docsUrl, `${docs.slice(0, tableStart)}${lines.join('\n')}\n`);
console.log(`docs/proxies.md: ${clientIpGoldenRows.length} rows`);
