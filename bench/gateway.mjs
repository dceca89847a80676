// Gateway benchmark: in one run, a stand-in upstream, a bare pass-through proxy (the
// floor of any Node gateway here), the Conduit gateway (the built dist/conduit.js, as
// users run it) and a load generator. Rounds alternate between the three targets so that
// the machine's noise falls on all of them alike; figures are medians over rounds.
//   npm run bench:gateway            (ROUNDS=5 by default; BENCH_QUICK=1 for a short run)
//   npm run bench:gateway -- [a/conduit.js b/conduit.js]   (gateways of other builds, side by side)
// STORE_OFF=1 adds a row for the first build with its store off (CONDUIT_LEDGER=off).
// Beside latencies it prints each process's CPU per request (utime+stime from /proc), which
// other work on a shared machine stretches far less.
// ADVERSARIAL_ONLY=1 runs only the adversarial request bodies (test/support/adversarialBodies.ts:
// the request scan's worst shapes), ADVERSARIAL=0 leaves them out.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { cpuMicros, startChild, startGateway, stopChildren } from './processes.mjs';
// Loaded as CommonJS through tsx (npm run bench:gateway), like the tests load it.
const require = createRequire(import.meta.url);
const { grownRequest, claudeCodeRequest } = require('../test/support/claudeRequest.ts');
const { ADVERSARIAL_SHAPES } = require('../test/support/adversarialBodies.ts');

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const quick = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.ROUNDS ?? (quick ? 2 : 5));
const N_LATENCY = quick ? 150 : 400;   // requests per round at 1 client
const THROUGHPUT_MS = quick ? 800 : 2000; // per round at 16 clients
const N_LARGE = quick ? 20 : 60;       // requests per round at 4 clients, 400 KB
const N_ADVERSARIAL = Number(process.env.N_ADVERSARIAL ?? (quick ? 5 : 15)); // per round and shape, 1 client
const adversarialOnly = process.env.ADVERSARIAL_ONLY === '1';
const withAdversarial = adversarialOnly || process.env.ADVERSARIAL !== '0';

const bundles = process.argv.length > 2 ? process.argv.slice(2).map((b) => path.resolve(b)) : [path.join(root, 'dist/conduit.js')];
for (const bundle of bundles) {
  if (!existsSync(bundle)) {
    console.error(`bench: ${bundle} is missing; build first (node esbuild.mjs)`);
    process.exit(1);
  }
}

const upstream = await startChild([path.join(root, 'bench/upstream.mjs')]);
const bare = await startChild([path.join(root, 'bench/bareProxy.mjs'), String(upstream.port)]);
const gateways = [];
for (const bundle of bundles) gateways.push(await startGateway(bundle, upstream.port));
// STORE_OFF=1: also the first bundle with CONDUIT_LEDGER=off, the request path without the store.
const storeOff = process.env.STORE_OFF === '1' ? await startGateway(bundles[0], upstream.port, { CONDUIT_LEDGER: 'off' }) : null;

// One gateway is "gateway"; several are named by their build's folder (a/dist/conduit.js: "a").
const gatewayName = (bundle, k) => (bundles.length === 1 ? 'gateway' : path.basename(path.dirname(path.dirname(bundle))) || `gateway${k}`);
// pid: the process whose CPU a request costs (the upstream's own is left out of every row).
const targets = {
  direct: { port: upstream.port, headers: { 'x-api-key': 'bench-key' }, pid: null },
  bare: { port: bare.port, headers: { 'x-api-key': 'bench-key' }, pid: bare.pid },
  ...Object.fromEntries(gateways.map((g, k) => [gatewayName(bundles[k], k), { port: g.port, headers: { 'x-conduit-token': g.token }, pid: g.pid }])),
  ...(storeOff ? { 'store off': { port: storeOff.port, headers: { 'x-conduit-token': storeOff.token }, pid: storeOff.pid } } : {}),
};
if (storeOff) gateways.push(storeOff);
const gatewayNames = Object.keys(targets).slice(2);

const { headers: claudeHeaders } = claudeCodeRequest();
const baseHeaders = { ...claudeHeaders, 'content-type': 'application/json' };
delete baseHeaders.authorization;

// A 4 KB streamed request (a short Claude Code turn without the tool schemas), and a
// 400 KB one (a long session).
const small = { model: 'claude-sonnet-4-5', max_tokens: 1024, stream: true, thinking: { type: 'enabled', budget_tokens: 31999 },
  system: [{ type: 'text', text: 'x'.repeat(2000) }], messages: [{ role: 'user', content: [{ type: 'text', text: 'y'.repeat(1800) }] }] };
const smallBody = Buffer.from(JSON.stringify(small));
const largeBody = Buffer.from(JSON.stringify(grownRequest(400_000)));

function send(target, agent, body) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request({ host: '127.0.0.1', port: target.port, method: 'POST', path: '/v1/messages?beta=true', agent,
      headers: { ...baseHeaders, ...target.headers, host: `127.0.0.1:${target.port}`, 'content-length': body.length } }, (res) => {
      let n = 0;
      res.on('data', (c) => { n += c.length; });
      res.on('end', () => {
        if (res.statusCode !== 200 || n === 0) reject(new Error(`status ${res.statusCode}`));
        else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function latency(target, clients, count, body) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const times = [];
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next++ < count) times.push(await send(target, agent, body));
  }));
  agent.destroy();
  return times.sort((a, b) => a - b);
}

async function throughput(target, clients, ms, body) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const end = Date.now() + ms;
  let done = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < end) { await send(target, agent, body); done++; }
  }));
  agent.destroy();
  return (done * 1000) / ms;
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Warm-up: JIT, keep-alive sockets, the gateway's caches.
for (const t of Object.values(targets)) { await latency(t, 1, 100, smallBody); await latency(t, 4, 8, largeBody); }

const adversarial = withAdversarial ? ADVERSARIAL_SHAPES.map((shape) => ({ name: shape.name, body: shape.build(shape.benchBytes) })) : [];
const results = Object.fromEntries(Object.keys(targets).map((k) => [k, {
  p50: [], p99: [], rps: [], cpu: [], large: [], adversarial: adversarial.map(() => []), adversarialCpu: adversarial.map(() => []),
}]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [a, { body }] of adversarial.entries()) {
    for (const [name, t] of Object.entries(targets)) {
      // The process's CPU over the shape's requests: what other work on the machine
      // stretches far less than the latency (clock ticks of 10 ms over N_ADVERSARIAL requests).
      const cpu0 = t.pid ? cpuMicros(t.pid) : 0;
      results[name].adversarial[a].push(pct(await latency(t, 1, N_ADVERSARIAL, body), 50));
      if (t.pid) results[name].adversarialCpu[a].push((cpuMicros(t.pid) - cpu0) / N_ADVERSARIAL / 1000);
    }
  }
  if (adversarialOnly) continue;
  for (const [name, t] of Object.entries(targets)) {
    const lat = await latency(t, 1, N_LATENCY, smallBody);
    results[name].p50.push(pct(lat, 50));
    results[name].p99.push(pct(lat, 99));
  }
  for (const [name, t] of Object.entries(targets)) {
    const cpu0 = t.pid ? cpuMicros(t.pid) : 0;
    const rps = await throughput(t, 16, THROUGHPUT_MS, smallBody);
    results[name].rps.push(rps);
    if (t.pid) results[name].cpu.push((cpuMicros(t.pid) - cpu0) / (rps * THROUGHPUT_MS / 1000));
  }
  for (const [name, t] of Object.entries(targets)) results[name].large.push(pct(await latency(t, 4, N_LARGE, largeBody), 50));
}

function rssKb(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  } catch { return null; }
}

const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, {
  p50: median(v.p50), p99: median(v.p99), rps: median(v.rps), cpu: v.cpu.length ? median(v.cpu) : null, large: median(v.large), adversarial: v.adversarial.map(median),
  adversarialCpu: v.adversarialCpu.map((xs) => (xs.length ? median(xs) : null)),
}]));
const f = (x) => x.toFixed(2);

if (adversarial.length > 0) {
  // Added p50 = the target's p50 minus the upstream's own (direct); the goal compares a
  // gateway's added p50 with the floor's (bare): ≤ +5 ms up to 2 MB, ≤ +2 ms per MB beyond.
  console.log(`\nAdversarial request bodies (${ROUNDS} rounds × ${N_ADVERSARIAL} requests at 1 client, medians of p50; added = over direct)`);
  console.log(`${'body'.padEnd(42)} ${'MB'.padStart(5)} ${'bare added'.padStart(10)}  ${gatewayNames.map((g) => `${g} added  over bare  goal`.padStart(34)).join('  ')}`);
  for (const [a, { name, body }] of adversarial.entries()) {
    const mb = body.length / 1e6;
    const goal = Math.max(5, 2 * mb);
    const bareAdded = m.bare.adversarial[a] - m.direct.adversarial[a];
    const cells = gatewayNames.map((g) => {
      const over = m[g].adversarial[a] - m.direct.adversarial[a] - bareAdded;
      return `${f(m[g].adversarial[a] - m.direct.adversarial[a]).padStart(g.length + 6)}  ${f(over).padStart(9)}  ${over <= goal ? 'PASS' : 'MISS'} ≤${goal.toFixed(1)}`;
    });
    console.log(`${name.padEnd(42)} ${mb.toFixed(2).padStart(5)} ${f(bareAdded).padStart(10)}  ${cells.join('  ')}`);
  }
  console.log(`\nCPU per request of each process on the same requests (ms, medians over rounds; the same goal applied to the CPU over bare)`);
  console.log(`${'body'.padEnd(42)} ${'MB'.padStart(5)} ${'bare CPU'.padStart(10)}  ${gatewayNames.map((g) => `${g} CPU  over bare  goal`.padStart(32)).join('  ')}`);
  for (const [a, { name, body }] of adversarial.entries()) {
    const mb = body.length / 1e6;
    const goal = Math.max(5, 2 * mb);
    const bareCpu = m.bare.adversarialCpu[a];
    const cells = gatewayNames.map((g) => {
      const over = m[g].adversarialCpu[a] - bareCpu;
      return `${f(m[g].adversarialCpu[a]).padStart(g.length + 4)}  ${f(over).padStart(9)}  ${over <= goal ? 'PASS' : 'MISS'} ≤${goal.toFixed(1)}`;
    });
    console.log(`${name.padEnd(42)} ${mb.toFixed(2).padStart(5)} ${f(bareCpu).padStart(10)}  ${cells.join('  ')}`);
  }
}
if (adversarialOnly) {
  await stopChildren();
  process.exit(0);
}
console.log(`\nConduit gateway benchmark (${ROUNDS} rounds, medians; 4 KB body ${smallBody.length} B, large body ${largeBody.length} B)`);
console.log('target    p50 ms (1 client)  p99 ms (1 client)  req/s (16 clients)  p50 ms 400 KB (4 clients)');
for (const [k, v] of Object.entries(m)) console.log(`${k.padEnd(9)} ${f(v.p50).padStart(17)}  ${f(v.p99).padStart(17)}  ${v.rps.toFixed(0).padStart(18)}  ${f(v.large).padStart(25)}`);
const addedBare = m.bare.p50 - m.direct.p50;
for (const [k, g] of gatewayNames.entries()) {
  const addedGw = m[g].p50 - m.direct.p50;
  const ratio = addedGw / addedBare;
  const rpsShare = m[g].rps / m.bare.rps;
  const largeExtra = m[g].large - m.bare.large;
  const rss = rssKb(gateways[k].pid);
  console.log(`\nadded latency at 1 client: ${g} ${f(addedGw)} ms vs bare ${f(addedBare)} ms = ${f(ratio)}x (goal ≤ 1.25x) ${ratio <= 1.25 ? 'PASS' : 'MISS'}`);
  console.log(`requests/s at 16 clients: ${g} ${(rpsShare * 100).toFixed(1)} % of bare (goal ≥ 90 %) ${rpsShare >= 0.9 ? 'PASS' : 'MISS'}`);
  console.log(`CPU per request at 16 clients: ${g} ${m[g].cpu.toFixed(0)} µs vs bare ${m.bare.cpu.toFixed(0)} µs = ${f(m[g].cpu / m.bare.cpu)}x`);
  console.log(`400 KB p50 at 4 clients: ${g} ${f(largeExtra)} ms over bare (goal ≤ 5 ms) ${largeExtra <= 5 ? 'PASS' : 'MISS'}`);
  console.log(`${g} RSS: ${rss === null ? 'n/a' : `${(rss / 1024).toFixed(1)} MB`}`);
}
await stopChildren();
process.exit(0);
