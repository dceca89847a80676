// Token estimate and field scan on real Claude Code request shapes, against JSON.parse +
// JSON.stringify of the same bytes (what a gateway that re-serializes pays), in one run.
//   node --import tsx bench/requestScan.mjs
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { scanRequestBody } = require('../src/conduit/routing/requestScan.ts');
const { claudeCodeRequest, grownRequest } = require('../test/support/claudeRequest.ts');

const cases = [
  ['bare Claude Code request', Buffer.from(JSON.stringify(claudeCodeRequest().body))],
  ['long session, 400 KB', Buffer.from(JSON.stringify(grownRequest(400_000)))],
  ['long session, 1 MB', Buffer.from(JSON.stringify(grownRequest(1_000_000)))],
];
const time = (f, n) => {
  for (let i = 0; i < 20; i++) f();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return Number(process.hrtime.bigint() - t) / n / 1e6;
};
console.log('request                    bytes     tokens  scan ms  parse+stringify ms  ratio');
for (const [name, buf] of cases) {
  const n = Math.max(20, Math.round(2e7 / buf.length));
  const scan = time(() => scanRequestBody(buf), n);
  const parse = time(() => JSON.stringify(JSON.parse(buf.toString('utf8'))), n);
  const tokens = scanRequestBody(buf).tokenEstimate;
  console.log(`${name.padEnd(26)} ${String(buf.length).padStart(8)} ${String(tokens).padStart(9)} ${scan.toFixed(2).padStart(8)} ${parse.toFixed(2).padStart(19)} ${(scan / parse).toFixed(2).padStart(6)}`);
}
