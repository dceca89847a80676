// CPU the usage tap spends on one very large SSE event (a 20 MB content_block_delta and a
// 20 MB message_delta), fed in 16 KB chunks (CHUNK_KB=64 for 64 KB) as the provider's socket delivers them, plus
// the same bytes as ordinary small events for comparison.
//   node --import tsx bench/tapLargeEvent.mjs
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { SseUsageTap } = require('../src/conduit/usage/usageTap.ts');

const SIZE = 20 * 1024 * 1024;
const CHUNK = Number(process.env.CHUNK_KB ?? 16) * 1024;

function largeEvent(name, type) {
  const head = `event: ${name}\ndata: {"type":"${type}","index":0,"delta":{"type":"text_delta","text":"`;
  const tail = '"}}\n\n';
  return Buffer.concat([Buffer.from(head), Buffer.alloc(SIZE - head.length - tail.length, 'x'), Buffer.from(tail)]);
}

function smallEvents() {
  const one = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello, world"}}\n\n';
  return Buffer.from(one.repeat(Math.floor(SIZE / one.length)));
}

/** CPU milliseconds (user + system) to tap `bytes` in CHUNK-sized chunks. */
function tapCpuMs(bytes) {
  const chunks = [];
  for (let at = 0; at < bytes.length; at += CHUNK) chunks.push(bytes.subarray(at, at + CHUNK));
  const before = process.cpuUsage();
  const tap = new SseUsageTap();
  for (const c of chunks) tap.push(c);
  tap.outcome();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

const cases = [
  ['one 20 MB content_block_delta', largeEvent('content_block_delta', 'content_block_delta')],
  ['one 20 MB message_delta', largeEvent('message_delta', 'message_delta')],
  ['20 MB of small deltas', smallEvents()],
];
console.log(`case                             MB   CPU ms (best of 5, ${CHUNK / 1024} KB chunks)`);
for (const [name, bytes] of cases) {
  let best = Infinity;
  for (let run = 0; run < 5; run++) best = Math.min(best, tapCpuMs(bytes));
  console.log(`${name.padEnd(32)} ${(bytes.length / 1048576).toFixed(0).padStart(3)} ${best.toFixed(1).padStart(8)}`);
}
