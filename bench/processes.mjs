// The processes a gateway benchmark runs beside itself: the stand-in upstream, the bare
// pass-through proxy and Conduit gateways (a built dist/conduit.js in a fresh CONDUIT_HOME).
// Every one is ended when the benchmark exits; homes are removed.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const children = [];
const homes = [];
const running = (c) => c.exitCode === null && c.signalCode === null;
process.on('exit', () => {
  for (const c of children) if (running(c)) c.kill('SIGTERM');
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

/** Starts a helper script that prints its port on its first line of output. */
export async function startChild(args, env = {}) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const [line] = await once(child.stdout, 'data');
  return { child, pid: child.pid, port: Number(String(line).trim().split('\n')[0]) };
}

/** Starts `conduit start --foreground` of `bundle` against the upstream; resolves once it listens. */
export async function startGateway(bundle, upstreamPort, env = {}) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'conduit-bench-'));
  homes.push(home);
  const gw = spawn(process.execPath, [bundle, 'start', '--foreground', '--port', '0'], {
    env: { ...process.env, CONDUIT_HOME: home, CONDUIT_ANTHROPIC_URL: `http://127.0.0.1:${upstreamPort}`, ANTHROPIC_API_KEY: 'bench-key', LOG: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(gw);
  // The gateway logs "listening on http://127.0.0.1:PORT" when ready.
  const port = await new Promise((resolve, reject) => {
    let text = '';
    gw.stderr.on('data', (c) => {
      text += c;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    gw.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${text}`)));
  });
  return { child: gw, pid: gw.pid, port, home, token: readFileSync(path.join(home, 'token'), 'utf8').trim() };
}

/**
 * Stops every child and waits for them to exit while still reading their output: a
 * gateway that logs its shutdown into a pipe nobody reads any more gets EPIPE.
 */
export async function stopChildren() {
  await Promise.all(children.map((c) => {
    if (!running(c)) return null;
    const exited = once(c, 'exit');
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    return exited.finally(() => clearTimeout(timer));
  }));
}

/**
 * Opens `count` event streams (GET /v1/conduit/events) to a gateway from a process of their
 * own (bench/eventSubscriberPool.mjs, which reads and drops what arrives); resolves once
 * every one has its "ready" event. The pool ends with the benchmark.
 */
export async function startSubscriberPool(port, token, count) {
  const pool = spawn(process.execPath, [new URL('./eventSubscriberPool.mjs', import.meta.url).pathname, String(port), token, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(pool);
  const [line] = await once(pool.stdout, 'data');
  if (String(line).trim() !== 'ready') throw new Error(`subscriber pool: ${line}`);
  return pool;
}

export let ticksPerSecond = 100;
try { ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { /* the usual 100 */ }

/** utime + stime of a process (every thread), in microseconds (Linux: /proc). */
export function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / ticksPerSecond; // fields 14 and 15 of stat(5)
}
