// CPU spent on one very large SSE event (20 MB), against the same bytes as ordinary small
// events:
//   1. the usage tap alone, fed in 16 KB chunks (CHUNK_KB=64 for 64 KB) as a socket delivers them;
//   2. a whole gateway (its own process, no store) passing a streamed reply through, the
//      process's CPU read from /proc before and after the request; beside it the bare
//      pass-through proxy (bench/bareProxy.mjs), the floor of moving 20 MB in and out.
//   node --import tsx bench/tapLargeEvent.mjs
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const SIZE = 20 * 1024 * 1024;
const CHUNK = Number(process.env.CHUNK_KB ?? 16) * 1024;
const RUNS = 5;

/** The child: a gateway from the sources, printing its URL and token. */
async function runGateway() {
  const { startGateway } = require('../src/conduit/gateway.ts');
  const home = mkdtempSync(path.join(os.tmpdir(), 'conduit-bench-'));
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const gw = await startGateway({ home, port: 0, env: { ...process.env }, ledger: false, log: silent });
  process.stdout.write(`${JSON.stringify({ url: gw.url, token: gw.token })}\n`);
  process.on('SIGTERM', async () => {
    await gw.close();
    rmSync(home, { recursive: true, force: true });
    process.exit(0);
  });
}

function frame(name, data) {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

const START = frame('message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], usage: { input_tokens: 10, output_tokens: 1 } } });
const END = frame('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5_000_000 } }) + frame('message_stop', { type: 'message_stop' });

/** A reply whose middle is one `size`-byte event named `name`. */
function oneLargeEvent(name) {
  const head = `event: ${name}\ndata: {"type":"${name}","index":0,"delta":{"type":"text_delta","text":"`;
  const tail = '"}}\n\n';
  return Buffer.concat([Buffer.from(START + head), Buffer.alloc(SIZE - head.length - tail.length, 'x'), Buffer.from(tail + END)]);
}

function smallEvents() {
  const one = frame('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello, world' } });
  return Buffer.from(START + one.repeat(Math.floor(SIZE / one.length)) + END);
}

const cases = [
  ['one 20 MB content_block_delta', oneLargeEvent('content_block_delta')],
  ['one 20 MB message_delta', oneLargeEvent('message_delta')],
  ['20 MB of small deltas', smallEvents()],
];

function tapCpuMs(bytes) {
  const { SseUsageTap } = require('../src/conduit/usage/usageTap.ts');
  const chunks = [];
  for (let at = 0; at < bytes.length; at += CHUNK) chunks.push(bytes.subarray(at, at + CHUNK));
  const before = process.cpuUsage();
  const tap = new SseUsageTap();
  for (const c of chunks) tap.push(c);
  tap.outcome();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** utime + stime of a process, in ms (clock ticks of 10 ms). */
function processCpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main() {
  console.log(`usage tap alone, ${CHUNK / 1024} KB chunks      MB   CPU ms (best of ${RUNS})`);
  for (const [name, bytes] of cases) {
    let best = Infinity;
    for (let run = 0; run < RUNS; run++) best = Math.min(best, tapCpuMs(bytes));
    console.log(`  ${name.padEnd(36)} ${(bytes.length / 1048576).toFixed(0).padStart(3)} ${best.toFixed(1).padStart(8)}`);
  }

  let reply = cases[0][1];
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_bench' });
      res.end(reply);
    });
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const upstreamPort = upstream.address().port;
  const gateway = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--gateway'], {
    env: { ...process.env, CONDUIT_ANTHROPIC_URL: `http://127.0.0.1:${upstreamPort}`, ANTHROPIC_API_KEY: 'bench-key', CONDUIT_LEDGER: 'off' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { url, token } = JSON.parse(String((await once(gateway.stdout, 'data'))[0]));
  const bare = spawn(process.execPath, [fileURLToPath(new URL('./bareProxy.mjs', import.meta.url)), String(upstreamPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const barePort = Number(String((await once(bare.stdout, 'data'))[0]).trim());
  const targets = [
    ['gateway', gateway.pid, `${url}/v1/messages`, { 'x-conduit-token': token }],
    ['bare proxy', bare.pid, `http://127.0.0.1:${barePort}/v1/messages`, { 'x-api-key': 'bench-key' }],
  ];
  const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  const request = (target, extraHeaders) => new Promise((resolve, reject) => {
    const req = http.request(target, {
      method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'anthropic-version': '2023-06-01', ...extraHeaders },
    }, (res) => {
      let n = 0;
      res.on('data', (c) => { n += c.length; });
      res.on('end', () => resolve(n));
    });
    req.on('error', reject);
    req.end(body);
  });
  for (const [, , target, headers] of targets) await request(target, headers); // warm-up: code loaded and compiled
  console.log(`\none streamed reply through a process      MB  gateway CPU ms  bare proxy CPU ms (mean of ${RUNS}, 10 ms ticks)`);
  for (const [name, bytes] of cases) {
    reply = bytes;
    const totals = [];
    for (const [, pid, target, headers] of targets) {
      let total = 0;
      for (let run = 0; run < RUNS; run++) {
        const before = processCpuMs(pid);
        const got = await request(target, headers);
        if (got < bytes.length) throw new Error(`${name}: the client got ${got} of ${bytes.length} bytes`);
        total += processCpuMs(pid) - before;
      }
      totals.push(total / RUNS);
    }
    console.log(`  ${name.padEnd(36)} ${(bytes.length / 1048576).toFixed(0).padStart(3)} ${totals[0].toFixed(0).padStart(14)} ${totals[1].toFixed(0).padStart(18)}`);
  }
  for (const child of [gateway, bare]) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  upstream.close();
}

if (process.argv[2] === '--gateway') await runGateway();
else await main();
