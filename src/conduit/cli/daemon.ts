/**
 * Starting and stopping the gateway as a background process, portably: no shell, the
 * same Node that runs this CLI, an IPC channel for "ready" (or the error) from the child.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import type { ConduitPaths } from '../core/paths';
import { findRunningGateway, processAlive, readLocation } from '../client/gatewayClient';

export type StartResult =
  | { kind: 'started'; pid: number; port: number }
  | { kind: 'already-running'; pid: number; port: number }
  | { kind: 'failed'; message: string };

export async function startInBackground(paths: ConduitPaths, entry: string, port: number | undefined, env: NodeJS.ProcessEnv = process.env): Promise<StartResult> {
  const running = await findRunningGateway(paths);
  if (running) return { kind: 'already-running', pid: running.pid, port: running.port };
  clearStaleState(paths);

  mkdirSync(paths.logDir, { recursive: true, mode: 0o700 });
  const logFd = openSync(paths.logFile, 'a', 0o600);
  const args = [entry, 'start', '--foreground', '--notify-parent'];
  if (port !== undefined) args.push('--port', String(port));
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', logFd, logFd, 'ipc'],
    env,
    windowsHide: true,
  });
  closeSync(logFd);

  return new Promise((resolve) => {
    const done = (r: StartResult) => {
      child.removeAllListeners();
      if (child.connected) child.disconnect();
      child.unref();
      resolve(r);
    };
    child.once('message', (m: { ready?: boolean; port?: number; error?: string }) => {
      if (m.ready && m.port) done({ kind: 'started', pid: child.pid!, port: m.port });
      else done({ kind: 'failed', message: m.error ?? 'the gateway did not start' });
    });
    child.once('error', (err) => done({ kind: 'failed', message: err.message }));
    child.once('exit', (code) => done({ kind: 'failed', message: `the gateway exited with code ${code} before it was ready (see ${paths.logFile})` }));
  });
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
