// Footprint benchmark: the memory and the waits a person sees of the usage store, with the
// built dist/conduit.js (run `node esbuild.mjs` first) as `conduit start` runs it.
//   1. from an empty CONDUIT_HOME: `conduit start`, then `conduit usage --json` until it
//      answers: the time to the first answer and the peak RSS meanwhile;
//   2. a short load (--requests through the gateway to a stand-in upstream), then the
//      gateway left alone for the idle time: its RSS once the store has closed;
//   3. the time a query takes when it has to reopen the idle store (--reopens times);
//   4. with --rows N (e.g. 1000000): a store of N usage rows made by bench/ledger.mjs
//      (--keep), a gateway started on it, and the analytics queries of bench/ledger.mjs
//      through the HTTP API: the peak RSS meanwhile and the reopen time at that size.
// RSS is the whole gateway's: /proc/<pid>/status VmRSS of the gateway and of every process
// under it (the store's), summed, sampled every 10 ms (Linux only).
//
//   node bench/footprint.mjs [--idle-seconds 5] [--requests 200] [--reopens 5] [--rows 0]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startChild, stopChildren } from './processes.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const CONDUIT = path.join(root, 'dist/conduit.js');
function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}
const IDLE_SECONDS = arg('idle-seconds', 5);
const REQUESTS = arg('requests', 200);
const REOPENS = arg('reopens', 5);
const ROWS = arg('rows', 0);
if (process.platform !== 'linux') throw new Error('bench/footprint.mjs reads /proc: Linux only');
if (!existsSync(CONDUIT) || !existsSync(path.join(root, 'dist/store-snapshot.tar.gz'))) throw new Error('run node esbuild.mjs first');

const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** kB of a /proc status field of a process; 0 once it is gone. */
function statusKb(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The process and every process under it. */
function tree(pid) {
  const parents = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!parents.has(ppid)) parents.set(ppid, []);
      parents.get(ppid).push(Number(name));
    } catch { /* gone meanwhile */ }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(parents.get(out[i]) ?? []));
  return out;
}

/** RSS of the gateway with its store process, in kB. */
const treeRss = (pid) => tree(pid).reduce((sum, p) => sum + statusKb(p, 'VmRSS'), 0);

/** Samples the tree's RSS every 10 ms until stop(): the peak. */
function sampler(pid) {
  let peak = 0;
  let children = [];
  const tick = () => {
    peak = Math.max(peak, treeRss(pid));
    children = tree(pid).slice(1);
  };
  tick();
  const timer = setInterval(tick, 10);
  return { stop() { clearInterval(timer); tick(); return peak; }, get children() { return children; } };
}

function cli(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CONDUIT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function api(gw, route) {
  const res = await fetch(`http://127.0.0.1:${gw.port}${route}`, { headers: { 'x-conduit-token': gw.token } });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${route}: HTTP ${res.status} ${body.slice(0, 200)}`);
  return JSON.parse(body);
}

const storeState = async (gw) => (await api(gw, '/v1/conduit/status')).ledger.state;
async function until(what, check) {
  const deadline = Date.now() + 10 * 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(100);
  }
}

/** `conduit start` in `home`; returns once `conduit usage --json` answered. */
async function startAndAsk(home, upstreamPort) {
  const env = {
    ...process.env, CONDUIT_HOME: home, CONDUIT_STORE_IDLE_SECONDS: String(IDLE_SECONDS), CONDUIT_PLUGINS_DISABLED: '1',
    CONDUIT_ANTHROPIC_URL: `http://127.0.0.1:${upstreamPort}`, ANTHROPIC_API_KEY: 'bench-key',
  };
  const t0 = performance.now();
  const started = await cli(['start', '--port', '0'], env);
  const m = /127\.0\.0\.1:(\d+) \(pid (\d+)\)/.exec(started.stdout);
  if (started.code !== 0 || !m) throw new Error(`conduit start: ${started.stdout}${started.stderr}`);
  const gw = { port: Number(m[1]), pid: Number(m[2]), home, env, token: readFileSync(path.join(home, 'token'), 'utf8').trim() };
  const sampling = sampler(gw.pid);
  const usage = await cli(['usage', '--json'], env);
  const firstAnswerMs = performance.now() - t0;
  if (usage.code !== 0) throw new Error(`conduit usage: ${usage.stderr}`);
  JSON.parse(usage.stdout);
  return { gw, firstAnswerMs, waited: usage.stderr.trim(), sampling };
}

async function stop(gw) {
  await cli(['stop'], gw.env);
}

/** A query on the idle store: the time until it answers (it reopens the store). */
async function reopenOnce(gw, route) {
  await until('the store to close', async () => (await storeState(gw)) === 'idle');
  const t = performance.now();
  await api(gw, route);
  return performance.now() - t;
}

/**
 * The gateway's RSS once the store has closed for idleness and its process has ended: 1 s
 * later, and 30 s later (V8 gives back some of the gateway's own heap only when it sees
 * the process idle for a while).
 */
async function idleRss(gw) {
  await until('the store to close', async () => (await storeState(gw)) === 'idle');
  await until('the store process to end', async () => tree(gw.pid).length === 1);
  await sleep(1_000);
  const soon = treeRss(gw.pid);
  await sleep(29_000);
  return { soon, later: treeRss(gw.pid) };
}
const idleText = ({ soon, later }) => [mb(later), `30 s after the store closed (1 s after: ${mb(soon)})`];

const lastLogMatch = (home, re) => {
  const lines = readFileSync(path.join(home, 'logs', 'gateway.log'), 'utf8').split('\n').filter((l) => re.test(l));
  return lines.at(-1) ?? '';
};

const homes = [];
process.on('exit', () => { for (const h of homes) rmSync(h, { recursive: true, force: true }); });
const rows = [];
const row = (figure, value, note = '') => {
  rows.push([figure, value, note]);
  console.log(`${figure.padEnd(58)} ${String(value).padStart(9)}  ${note}`);
};

console.log(`footprint benchmark: idle time ${IDLE_SECONDS} s (CONDUIT_STORE_IDLE_SECONDS), ${REQUESTS} requests, ${REOPENS} reopens${ROWS ? `, ${ROWS.toLocaleString('en-US')} rows` : ''}`);
console.log(`node ${process.version}, ${os.cpus().length} cpus, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
const upstream = await startChild([path.join(root, 'bench/upstream.mjs')]);

// 1. First start from an empty home.
const home = mkdtempSync(path.join(os.tmpdir(), 'conduit-footprint-'));
homes.push(home);
const first = await startAndAsk(home, upstream.port);
const { gw } = first;
const firstPeak = first.sampling.stop();
row('time from an empty home to the first answer', `${(first.firstAnswerMs / 1000).toFixed(2)} s`, `conduit start; conduit usage --json${first.waited ? ` (printed "${first.waited}")` : ''}`);
row('peak RSS during the first start', mb(firstPeak), 'gateway + store process');
console.log(`  ${lastLogMatch(home, /created the store from the build's snapshot/).replace(/^\S+ /, '')}`);
console.log(`  ${lastLogMatch(home, /usage store ready in/).replace(/^\S+ /, '')}`);

// 2. A short load, then nothing for the idle time.
const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hello' }] });
for (let i = 0; i < REQUESTS; i++) {
  const res = await fetch(`http://127.0.0.1:${gw.port}/v1/messages`, {
    method: 'POST', body, headers: { 'content-type': 'application/json', 'x-conduit-token': gw.token, 'anthropic-version': '2023-06-01' },
  });
  await res.arrayBuffer();
}
const withStore = treeRss(gw.pid);
row('RSS with the store open, after the load', mb(withStore), `${REQUESTS} requests`);
row(`idle RSS after the idle time (${IDLE_SECONDS} s)`, ...idleText(await idleRss(gw)));
const summary = await api(gw, '/v1/conduit/analytics/summary?range=day&tz=UTC');
if (summary.requests !== REQUESTS) throw new Error(`the store holds ${summary.requests} of the ${REQUESTS} requests`);

// 3. Reopen on demand.
const times = [];
for (let i = 0; i < REOPENS; i++) times.push(await reopenOnce(gw, '/v1/conduit/analytics/summary?range=day&tz=UTC'));
times.sort((a, b) => a - b);
row('reopen: a query on the idle store, until it answers', `${(times[Math.floor(times.length / 2)] / 1000).toFixed(2)} s`, `median of ${REOPENS}; max ${(times.at(-1) / 1000).toFixed(2)} s`);
console.log(`  ${lastLogMatch(home, /usage store reopened in/).replace(/^\S+ /, '')}`);
await stop(gw);

// 4. The 1M-row store's queries through the gateway.
if (ROWS > 0) {
  console.log(`\nmaking a store of ${ROWS.toLocaleString('en-US')} rows with bench/ledger.mjs --keep ...`);
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench/ledger.mjs'), '--rows', String(ROWS), '--ingest', '1000', '--runs', '1', '--keep'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const kept = /kept (\S+)/.exec(out)?.[1];
  if (!kept) throw new Error(`bench/ledger.mjs kept no store:\n${out}`);
  homes.push(kept);
  const big = await startAndAsk(kept, upstream.port);
  const openPeak = big.sampling.stop();
  row(`first answer on a ${ROWS.toLocaleString('en-US')}-row store after conduit start`, `${(big.firstAnswerMs / 1000).toFixed(2)} s`, `peak RSS meanwhile ${mb(openPeak)}`);
  const project = 'bench-project-0';
  const routes = [];
  for (const range of ['day', 'week', 'month']) {
    for (const q of ['summary', 'models', 'timeseries', 'sources', 'recent', 'agents', 'sessions', 'savings', 'cache']) {
      routes.push(`/v1/conduit/analytics/${q}?project=${project}&range=${range}&tz=Europe/Berlin&limit=50`);
    }
  }
  routes.push('/v1/conduit/analytics/summary?range=month&tz=UTC', '/v1/conduit/analytics/models?range=month&tz=UTC', '/v1/conduit/analytics/recent?range=month&tz=UTC');
  const sampling = sampler(big.gw.pid);
  for (let run = 0; run < 3; run++) for (const r of routes) await api(big.gw, r);
  row(`peak RSS during the ${ROWS.toLocaleString('en-US')}-row queries`, mb(sampling.stop()), `${routes.length} queries x 3, gateway + store process`);
  const bigTimes = [];
  for (let i = 0; i < Math.min(REOPENS, 3); i++) bigTimes.push(await reopenOnce(big.gw, `/v1/conduit/analytics/summary?project=${project}&range=month&tz=UTC`));
  bigTimes.sort((a, b) => a - b);
  row(`reopen at ${ROWS.toLocaleString('en-US')} rows`, `${(bigTimes[Math.floor(bigTimes.length / 2)] / 1000).toFixed(2)} s`, `median of ${bigTimes.length}; max ${(bigTimes.at(-1) / 1000).toFixed(2)} s`);
  row(`idle RSS at ${ROWS.toLocaleString('en-US')} rows`, ...idleText(await idleRss(big.gw)));
  await stop(big.gw);
}

await stopChildren();
console.log(`\nload average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
