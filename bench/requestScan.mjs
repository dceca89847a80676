// Token estimate and field scan on real Claude Code request shapes, against JSON.parse +
// JSON.stringify of the same bytes (what a gateway that re-serializes pays), in one run;
// then the adversarial bodies (test/support/adversarialBodies.ts), read as the socket
// delivers them (64 KB chunks, through the reused contiguous copy: routing/bodyChunks.ts),
// beside a loop of one table lookup per byte over the same bytes (the floor of any scan in
// JavaScript), and with the latest prompt read as well (the default rules read it).
// Times are CPU time of this process (the best of several runs), which other work on the
// machine stretches less than wall time.
//   node --import tsx bench/requestScan.mjs
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { scanRequestBody } = require('../src/conduit/routing/requestScan.ts');
const { readRequestFacts } = require('../src/conduit/routing/requestFacts.ts');
const { claudeCodeRequest, grownRequest } = require('../test/support/claudeRequest.ts');
const { ADVERSARIAL_SHAPES } = require('../test/support/adversarialBodies.ts');

const cases = [
  ['bare Claude Code request', Buffer.from(JSON.stringify(claudeCodeRequest().body))],
  ['long session, 400 KB', Buffer.from(JSON.stringify(grownRequest(400_000)))],
  ['long session, 1 MB', Buffer.from(JSON.stringify(grownRequest(1_000_000)))],
];
/** CPU ms per call of `f`: the best of 7 batches of `n`. */
const time = (f, n) => {
  for (let i = 0; i < 5; i++) f();
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const t = process.cpuUsage();
    for (let i = 0; i < n; i++) f();
    const d = process.cpuUsage(t);
    best = Math.min(best, (d.user + d.system) / n / 1000);
  }
  return best;
};
console.log('request                    bytes     tokens  scan ms  parse+stringify ms  ratio');
for (const [name, buf] of cases) {
  const n = Math.max(10, Math.round(1e7 / buf.length));
  const scan = time(() => scanRequestBody(buf), n);
  const parse = time(() => JSON.stringify(JSON.parse(buf.toString('utf8'))), n);
  const tokens = scanRequestBody(buf).tokenEstimate;
  console.log(`${name.padEnd(26)} ${String(buf.length).padStart(8)} ${String(tokens).padStart(9)} ${scan.toFixed(2).padStart(8)} ${parse.toFixed(2).padStart(19)} ${(scan / parse).toFixed(2).padStart(6)}`);
}

// The floor of any scan written in JavaScript: one table lookup per byte, nothing else.
const BYTE_KIND = new Uint8Array(256);
for (const c of '"{}[]\\') BYTE_KIND[c.charCodeAt(0)] = 1;
function byteLoop(buf) {
  let n = 0;
  for (let i = 0; i < buf.length; i++) n += BYTE_KIND[buf[i]];
  return n;
}

const chunked = (buf) => Array.from({ length: Math.ceil(buf.length / 65536) }, (_, k) => Buffer.from(buf.subarray(k * 65536, (k + 1) * 65536)));
console.log('\nadversarial body                              MB  facts over 64 KB chunks ms  ms per MB  + last user text ms  byte loop ms  facts / byte loop');
for (const shape of ADVERSARIAL_SHAPES) {
  const body = shape.build(shape.benchBytes);
  const chunks = chunked(body);
  const n = Math.max(3, Math.round(1e7 / body.length));
  const facts = time(() => readRequestFacts(chunks), n);
  const withText = time(() => readRequestFacts(chunks).lastUserText(), n);
  const floor = time(() => byteLoop(body), n);
  const mb = body.length / 1e6;
  console.log(`${shape.name.padEnd(44)} ${mb.toFixed(2).padStart(5)} ${facts.toFixed(2).padStart(27)} ${(facts / mb).toFixed(2).padStart(10)} ${withText.toFixed(2).padStart(20)} ${floor.toFixed(2).padStart(13)} ${(facts / floor).toFixed(2).padStart(17)}`);
}
