// Event-stream subscribers and gateway throughput: requests/s of the built gateway at 16
// clients (4 KB streamed requests) without any subscriber of GET /v1/conduit/events and
// with SUBSCRIBERS of them (every one receives every request's decision and usage), in
// alternating rounds; prints medians and the ratio, and the gateway's own CPU time per
// request (from /proc), which the readers' share of the machine does not blur. The
// subscribers read in a process of their own (bench/eventSubscriberPool.mjs).
//   node bench/eventSubscribers.mjs             (ROUNDS=5 ROUND_MS=3000 SUBSCRIBERS=200 CLIENTS=16)
//   node bench/eventSubscribers.mjs a.js b.js   compares gateway bundles, in the same rounds
// Gateways run without their store (CONDUIT_LEDGER=off) and may hold SUBSCRIBERS streams.
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { cpuMicros, startChild, startGateway, startSubscriberPool, stopChildren } from './processes.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const ROUND_MS = Number(process.env.ROUND_MS ?? 3000);
const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 200);
const CLIENTS = Number(process.env.CLIENTS ?? 16);

const bundles = process.argv.length > 2 ? process.argv.slice(2).map((b) => path.resolve(b)) : [path.join(root, 'dist/conduit.js')];
for (const b of bundles) {
  if (!existsSync(b)) {
    console.error(`bench: no ${b} (build first: node esbuild.mjs)`);
    process.exit(1);
  }
}
process.on('SIGINT', () => process.exit(130));

const upstream = await startChild([path.join(root, 'bench/upstream.mjs')]);
const gatewayEnv = { CONDUIT_LEDGER: 'off', CONDUIT_MAX_EVENT_STREAMS: String(SUBSCRIBERS + 10) };

// Per bundle, a gateway left alone and one with SUBSCRIBERS subscribers.
const targets = [];
for (const [i, bundle] of bundles.entries()) {
  const label = bundles.length === 1 ? '' : ` ${i + 1}`;
  const quiet = await startGateway(bundle, upstream.port, gatewayEnv);
  const watched = await startGateway(bundle, upstream.port, gatewayEnv);
  await startSubscriberPool(watched.port, watched.token, SUBSCRIBERS);
  targets.push({ name: `gateway${label}, 0 subscribers`, bundle: i, subscribers: 0, ...quiet });
  targets.push({ name: `gateway${label}, ${SUBSCRIBERS} subscribers`, bundle: i, subscribers: SUBSCRIBERS, ...watched });
}

// The 4 KB streamed request of bench/gateway.mjs (a short Claude Code turn without the tool schemas).
const small = { model: 'claude-sonnet-4-5', max_tokens: 1024, stream: true, thinking: { type: 'enabled', budget_tokens: 31999 },
  system: [{ type: 'text', text: 'x'.repeat(2000) }], messages: [{ role: 'user', content: [{ type: 'text', text: 'y'.repeat(1800) }] }] };
const body = Buffer.from(JSON.stringify(small));

function send(target, agent) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: target.port, method: 'POST', path: '/v1/messages?beta=true', agent,
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-conduit-token': target.token, 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Requests/s at CLIENTS clients over `ms`, and the gateway's CPU µs per request. */
async function measure(target, ms) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const end = Date.now() + ms;
  let done = 0;
  const cpuBefore = cpuMicros(target.pid);
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (Date.now() < end) {
      await send(target, agent);
      done++;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = (cpuMicros(target.pid) - cpuBefore) / done;
  agent.destroy();
  return { rate: done / seconds, cpu };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const t of targets) await measure(t, 1000); // warm-up
const rates = targets.map(() => []);
const cpus = targets.map(() => []);
const ratios = bundles.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  // Rotate which goes first, so that drifting machine noise falls on all alike.
  const order = targets.map((_, k) => (k + r) % targets.length);
  const round = [];
  for (const k of order) round[k] = await measure(targets[k], ROUND_MS);
  round.forEach((m, k) => { rates[k].push(m.rate); cpus[k].push(m.cpu); });
  for (let b = 0; b < bundles.length; b++) ratios[b].push(round[2 * b + 1].rate / round[2 * b].rate);
  console.log(`round ${r + 1}: ${targets.map((t, k) => `${t.name} ${round[k].rate.toFixed(0)}/s`).join('  ')}`);
}

console.log(`\n${ROUNDS} rounds of ${ROUND_MS} ms, ${body.length} B streamed requests at ${CLIENTS} clients, medians:`);
for (const [k, t] of targets.entries()) {
  console.log(`${t.name.padEnd(34)} ${median(rates[k]).toFixed(0).padStart(6)} requests/s  ${median(cpus[k]).toFixed(0).padStart(6)} µs of gateway CPU per request`);
}
for (const [b, bundle] of bundles.entries()) {
  const label = bundles.length === 1 ? '' : `  (${path.relative(process.cwd(), bundle) || bundle})`;
  console.log(`with ${SUBSCRIBERS} subscribers: ${(100 * median(ratios[b])).toFixed(0)} % of the requests/s without (median of per-round ratios)${label}`);
}
await stopChildren();
process.exit(0);
