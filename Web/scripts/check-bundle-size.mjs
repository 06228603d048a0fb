// The bundle-size budget, checked after every build: the first paint needs only the entry chunk and what it
// imports statically; the charts load later. Sizes are gzip, as they travel.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const BUDGET_INITIAL_KB = 450; // the entry chunk and its static imports (React, Ant Design, SignalR)
const BUDGET_TOTAL_KB = 900;   // everything, charts included

const dir = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(join(dir, 'index.html'), 'utf8');
const initial = new Set([...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]));
const files = readdirSync(join(dir, 'assets')).filter((f) => /\.(js|css)$/.test(f)).map((f) => `assets/${f}`);
const gz = (f) => gzipSync(readFileSync(join(dir, f))).length / 1024;
let initialKb = 0;
let totalKb = 0;
for (const f of files) {
  const kb = gz(f);
  totalKb += kb;
  if (initial.has(f)) initialKb += kb;
}
console.log(`bundle: initial ${initialKb.toFixed(1)} kB gzip (budget ${BUDGET_INITIAL_KB}), total ${totalKb.toFixed(1)} kB gzip (budget ${BUDGET_TOTAL_KB}), ${files.length} files`);
if (initialKb > BUDGET_INITIAL_KB || totalKb > BUDGET_TOTAL_KB) {
  console.error('bundle size budget exceeded');
  process.exit(1);
}
