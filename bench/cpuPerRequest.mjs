// CPU per request: how much processor time the gateway spends on one request, against a
// bare pass-through proxy (bench/bareProxy.mjs: node:http piping both ways, the floor of
// any Node gateway here). Starts bench/upstream.mjs, the bare proxy and the built gateway
// (dist/conduit.js, as users run it), sends N streamed 4 KB requests at 16 clients to each
// in alternating rounds, and reads each process's utime+stime (all its threads) from
// /proc/<pid>/stat before and after. Prints medians over the rounds, after a warm-up.
//   node bench/cpuPerRequest.mjs        (N=3000 ROUNDS=5 CLIENTS=16 by default; Linux only)
//   node bench/cpuPerRequest.mjs a.js b.js   compares gateway bundles, in the same rounds
// The gateway runs with the environment given (CONDUIT_LEDGER=off leaves its store out).
// Two more rows per gateway, in the same rounds:
//   - the usage tap per SSE event: CPU per request of a reply with DELTAS (1000) text deltas
//     less that of the 9-event reply, per extra event, beside the bare proxy's; and the same
//     with DELTAS/4 deltas: equal figures mean the cost per event does not grow with the
//     reply (no re-scan or re-concatenation of what came before);
//   - the event stream per subscriber: a second gateway of the same build holds SUBSCRIBERS
//     (50) event streams (bench/eventSubscriberPool.mjs); its extra CPU per request over the
//     first's, per subscriber; and a third holds SUBSCRIBERS/5: equal figures mean each
//     subscriber costs a write, not another serialization of every event.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { cpuMicros, startChild, startGateway, startSubscriberPool, stopChildren, ticksPerSecond } from './processes.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const N = Number(process.env.N ?? 3000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const CLIENTS = Number(process.env.CLIENTS ?? 16);
const WARMUP = Number(process.env.WARMUP ?? 2000);
const DELTAS = Number(process.env.DELTAS ?? 1000);
const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 50);
const SUBSCRIBER_COUNTS = [SUBSCRIBERS, Math.max(1, Math.round(SUBSCRIBERS / 5))];
const DELTA_COUNTS = [DELTAS, Math.max(1, Math.round(DELTAS / 4))];

const bundles = process.argv.length > 2 ? process.argv.slice(2).map((b) => path.resolve(b)) : [path.join(root, 'dist/conduit.js')];
for (const b of bundles) {
  if (!existsSync(b)) {
    console.error(`bench: no ${b} (build first: node esbuild.mjs)`);
    process.exit(1);
  }
}
if (!existsSync('/proc/self/stat')) {
  console.error('bench: needs /proc (Linux)');
  process.exit(1);
}

const upstream = await startChild([path.join(root, 'bench/upstream.mjs')]);
const bare = await startChild([path.join(root, 'bench/bareProxy.mjs'), String(upstream.port)]);
process.on('SIGINT', () => process.exit(130));

// Claude Code's own request headers (from the captured request), as the gateway sees them.
const fixture = JSON.parse(readFileSync(path.join(root, 'test/fixtures/claude-code-request.json'), 'utf8'));
const baseHeaders = {};
for (const [k, v] of Object.entries(fixture.headers)) {
  if (!['authorization', 'connection', 'host', 'content-length', 'accept-encoding'].includes(k)) baseHeaders[k] = v;
}

const targets = { bare: { pid: bare.pid, port: bare.port, headers: { 'x-api-key': 'bench-key' } } };
const gatewayNames = [];
for (const [i, bundle] of bundles.entries()) {
  const name = bundles.length === 1 ? 'gateway' : `gateway ${i + 1}`;
  const gw = await startGateway(bundle, upstream.port);
  targets[name] = { pid: gw.pid, port: gw.port, headers: { 'x-conduit-token': gw.token } };
  gatewayNames.push(name);
  for (const count of SUBSCRIBER_COUNTS) {
    const watched = await startGateway(bundle, upstream.port, { CONDUIT_MAX_EVENT_STREAMS: String(count + 10) });
    await startSubscriberPool(watched.port, watched.token, count);
    targets[`${name}, ${count} subscribers`] = { pid: watched.pid, port: watched.port, headers: { 'x-conduit-token': watched.token } };
  }
}
for (const t of Object.values(targets)) {
  t.requestHeaders = { ...baseHeaders, ...t.headers, host: `127.0.0.1:${t.port}` };
}

// The 4 KB streamed request of bench/gateway.mjs (a short Claude Code turn without the tool schemas).
const small = { model: 'claude-sonnet-4-5', max_tokens: 1024, stream: true, thinking: { type: 'enabled', budget_tokens: 31999 },
  system: [{ type: 'text', text: 'x'.repeat(2000) }], messages: [{ role: 'user', content: [{ type: 'text', text: 'y'.repeat(1800) }] }] };
const body = Buffer.from(JSON.stringify(small));
// The same request, answered with DELTAS (and DELTAS/4) text deltas (see bench/upstream.mjs).
const longBodies = DELTA_COUNTS.map((n) => Buffer.from(JSON.stringify({ ...small, metadata: { user_id: `bench-deltas-${n}` } })));

function send(target, agent, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: target.port, method: 'POST', path: '/v1/messages?beta=true', agent,
      headers: { ...target.requestHeaders, 'content-length': body.length } }, (res) => {
      let n = 0;
      res.on('data', (c) => { n += c.length; });
      res.on('end', () => (res.statusCode !== 200 || n === 0 ? reject(new Error(`status ${res.statusCode}`)) : resolve()));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends `count` requests at CLIENTS clients; returns the target's CPU µs per request. */
async function run(target, count, body) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  let next = 0;
  const before = cpuMicros(target.pid);
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (next++ < count) await send(target, agent, body);
  }));
  const after = cpuMicros(target.pid);
  agent.destroy();
  return (after - before) / count;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Warm-up: JIT, keep-alive sockets to the upstream, the gateway's caches.
for (const t of Object.values(targets)) await run(t, WARMUP, body);

const N_LONG = Math.max(50, Math.round(N / 10)); // long replies per round and target
const names = Object.keys(targets);
const tapNames = ['bare', ...gatewayNames];
const results = Object.fromEntries(names.map((n) => [n, []]));
const perEvent = DELTA_COUNTS.map(() => Object.fromEntries(tapNames.map((n) => [n, []])));
const perSubscriber = SUBSCRIBER_COUNTS.map(() => Object.fromEntries(gatewayNames.map((n) => [n, []])));
const ratios = Object.fromEntries(gatewayNames.map((n) => [n, []]));
for (let r = 0; r < ROUNDS; r++) {
  // Rotate which goes first, so that drifting machine noise falls on all alike.
  const order = names.map((_, k) => names[(k + r) % names.length]);
  const round = {};
  for (const name of order) round[name] = await run(targets[name], N, body);
  for (const name of names) results[name].push(round[name]);
  for (const name of gatewayNames) ratios[name].push(round[name] / round.bare);
  for (const [c, count] of SUBSCRIBER_COUNTS.entries()) {
    for (const name of gatewayNames) perSubscriber[c][name].push((round[`${name}, ${count} subscribers`] - round[name]) / count);
  }
  for (const [d, deltas] of DELTA_COUNTS.entries()) {
    // As many events per round at either length: the shorter replies are sent more often.
    const count = Math.round((N_LONG * DELTAS) / deltas);
    for (const name of tapNames) perEvent[d][name].push((await run(targets[name], count, longBodies[d]) - round[name]) / deltas);
  }
  console.log(`round ${r + 1}: ${names.map((n) => `${n} ${round[n].toFixed(1)} µs`).join('  ')}`);
}

const mb = median(results.bare);
console.log(`\nCPU per request (${ROUNDS} rounds of ${N} streamed ${body.length} B requests at ${CLIENTS} clients, medians; clock tick ${1e6 / ticksPerSecond} µs)`);
console.log(`bare proxy  ${mb.toFixed(1).padStart(7)} µs`);
for (const [i, name] of gatewayNames.entries()) {
  const mg = median(results[name]);
  const label = bundles.length === 1 ? '' : `  (${path.relative(process.cwd(), bundles[i]) || bundles[i]})`;
  console.log(`${name.padEnd(11)} ${mg.toFixed(1).padStart(7)} µs  = ${median(ratios[name]).toFixed(2)}x bare (median of per-round ratios; adds ${(mg - mb).toFixed(1)} µs)${label}`);
}
console.log(`\nSSE events (replies of ${DELTA_COUNTS.join(' and ')} more text deltas, ${N_LONG * DELTAS} events per round at either length), medians of per-round figures:`);
for (const [d, deltas] of DELTA_COUNTS.entries()) {
  const bareTap = median(perEvent[d].bare);
  console.log(`bare proxy  ${bareTap.toFixed(2).padStart(7)} µs per event (${deltas} deltas)`);
  for (const name of gatewayNames) {
    const tap = median(perEvent[d][name]);
    console.log(`${name.padEnd(11)} ${tap.toFixed(2).padStart(7)} µs per event (${deltas} deltas; ${(tap - bareTap).toFixed(2)} over bare)`);
  }
}
console.log(`\nEvent-stream subscribers (${SUBSCRIBER_COUNTS.join(' and ')} per gateway), medians of per-round figures:`);
for (const name of gatewayNames) {
  console.log(`${name.padEnd(11)} ${SUBSCRIBER_COUNTS.map((count, c) => `${median(perSubscriber[c][name]).toFixed(2).padStart(7)} µs per subscriber per request (${count} subscribers)`).join('  ')}`);
}
await stopChildren();
process.exit(0);
