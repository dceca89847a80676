/**
 * Starting and stopping the gateway as a background process, portably: no shell, the
 * same Node that runs this CLI, an IPC channel for "ready" (or the error) from the child.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { ConduitPaths } from './paths';
import { findRunningGateway, processAlive, readLocation } from './gatewayClient';

export type StartResult =
  | { kind: 'started'; pid: number; port: number }
  | { kind: 'already-running'; pid: number; port: number }
  | { kind: 'failed'; message: string };

/**
 * How long a background start may take before it is given up: long enough for plugins
 * that load slowly (each loading attempt has its own limit, 5 s), short enough that
 * conduit-claude and VS Code do not wait forever on a gateway that is stuck.
 * CONDUIT_START_TIMEOUT_MS overrides it.
 */
const DEFAULT_START_LIMIT_MS = 30_000;
const LOG_LINES_ON_FAILURE = 10;

export function startLimitMs(env: NodeJS.ProcessEnv): number {
  const n = Number(env.CONDUIT_START_TIMEOUT_MS);
  return env.CONDUIT_START_TIMEOUT_MS && Number.isFinite(n) && n > 0 ? n : DEFAULT_START_LIMIT_MS;
}

export async function startInBackground(paths: ConduitPaths, entry: string, port: number | undefined, env: NodeJS.ProcessEnv = process.env): Promise<StartResult> {
  const running = await findRunningGateway(paths);
  if (running) return { kind: 'already-running', pid: running.pid, port: running.port };
  clearStaleState(paths);

  mkdirSync(paths.logDir, { recursive: true, mode: 0o700 });
  const logFd = openSync(paths.logFile, 'a', 0o600);
  // The log is appended to across runs: what this start wrote begins here.
  const logOffset = statSync(paths.logFile).size;
  const args = [entry, 'start', '--foreground', '--notify-parent'];
  if (port !== undefined) args.push('--port', String(port));
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', logFd, logFd, 'ipc'],
    env,
    windowsHide: true,
  });
  closeSync(logFd);
  const limitMs = startLimitMs(env);
  const logged = () => lastLogLines(paths.logFile, logOffset, LOG_LINES_ON_FAILURE);

  return new Promise((resolve) => {
    const done = (r: StartResult) => {
      clearTimeout(limit);
      child.removeAllListeners();
      if (child.connected) child.disconnect();
      child.unref();
      resolve(r);
    };
    const limit = setTimeout(() => {
      // Stuck before listening (a hook that never returns, a plugin load that never ends):
      // stop it rather than leave a process that holds nothing but the port it may take later.
      child.removeAllListeners();
      child.once('exit', () => done({
        kind: 'failed',
        message: `the gateway was not listening within ${formatSeconds(limitMs)}, so it was stopped (pid ${child.pid}). ${logged()}`,
      }));
      child.kill('SIGKILL');
    }, limitMs);
    child.once('message', (m: { ready?: boolean; port?: number; error?: string }) => {
      if (m.ready && m.port) done({ kind: 'started', pid: child.pid!, port: m.port });
      else done({ kind: 'failed', message: m.error ?? 'the gateway did not start' });
    });
    child.once('error', (err) => done({ kind: 'failed', message: err.message }));
    child.once('exit', (code, signal) => done({ kind: 'failed', message: `the gateway exited with ${signal ?? `code ${code}`} before it was ready. ${logged()}` }));
  });
}

/** The last lines the log got from offset on, as a sentence and an indented block. */
function lastLogLines(file: string, offset: number, count: number): string {
  let text = '';
  try {
    text = readFileSync(file).subarray(offset).toString('utf8');
  } catch { /* no log: said below */ }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '').slice(-count);
  if (!lines.length) return `It wrote nothing to its log (${file}).`;
  return `The last lines of its log (${file}):\n${lines.map((l) => `  ${l}`).join('\n')}`;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** Removes pid and port files that belong to no live gateway. */
export function clearStaleState(paths: ConduitPaths): void {
  const loc = readLocation(paths);
  if (loc && processAlive(loc.pid)) return;
  rmSync(paths.pidFile, { force: true });
  rmSync(paths.portFile, { force: true });
}

export function writeState(paths: ConduitPaths, port: number): void {
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  writeFileSync(paths.portFile, `${port}\n`);
  writeFileSync(paths.pidFile, `${process.pid}\n`);
}

export function removeState(paths: ConduitPaths): void {
  const loc = readLocation(paths);
  if (loc && loc.pid !== process.pid) return; // another gateway took over these files
  rmSync(paths.pidFile, { force: true });
  rmSync(paths.portFile, { force: true });
}

export type StopResult = { kind: 'stopped'; pid: number } | { kind: 'not-running' } | { kind: 'failed'; message: string };

export async function stopGateway(paths: ConduitPaths, timeoutMs = 10_000): Promise<StopResult> {
  const running = await findRunningGateway(paths);
  if (!running) {
    clearStaleState(paths);
    return { kind: 'not-running' };
  }
  const { pid } = running;
  try {
    process.kill(pid, 'SIGTERM');
  } catch (err) {
    return { kind: 'failed', message: `could not signal pid ${pid}: ${(err as Error).message}` };
  }
  // Another process's exit has no event to wait on: check at a short interval.
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid)) {
    if (Date.now() > deadline) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  clearStaleState(paths);
  return { kind: 'stopped', pid };
}
