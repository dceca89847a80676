/** `conduit start --foreground`: runs the gateway in this process until a signal stops it. */
import { appendFileSync, mkdirSync } from 'node:fs';
import { STARTED_BY_ENV } from '../../protocol/leases';
import { CONFIG_ERROR_LINE } from '../../protocol/configState';
import { ConfigError } from '../core/config';
import { createLogger, writeStderr } from '../core/log';
import type { ConduitPaths } from '../client/paths';
import { PortInUseError, startGateway } from '../gateway';
import { findRunningGateway } from '../client/gatewayClient';
import { clearStaleState, removeState, writeState } from '../client/daemon';

export async function runForeground(paths: ConduitPaths, port: number | undefined, notifyParent: boolean): Promise<number> {
  const notify = (m: object) => { if (notifyParent && process.send) process.send(m); };
  const existing = await findRunningGateway(paths);
  if (existing) {
    const message = `Conduit is already running on http://127.0.0.1:${existing.port} (pid ${existing.pid})`;
    console.log(message);
    notify({ error: message });
    return 0;
  }
  clearStaleState(paths);
  const log = createLogger(process.env[STARTED_BY_ENV] === 'vscode' ? teeToLogFile(paths) : undefined);
  let gateway;
  // A gateway VS Code started stops when no client is left (core/idleStop.ts), as on a signal.
  let stopWhenIdle = (_reason: string) => {};
  try {
    gateway = await startGateway({ home: paths.home, port, log, onIdle: (reason) => stopWhenIdle(reason) });
  } catch (err) {
    const message = err instanceof PortInUseError ? err.message : `could not start: ${(err as Error).message}`;
    // A bad config.json gets a line of its own that a supervisor recognizes: it cannot fix itself by a retry.
    console.error(err instanceof ConfigError ? `${CONFIG_ERROR_LINE}${err.message}` : `conduit: ${message}`);
    notify({ error: message });
    return 1;
  }
  writeState(paths, gateway.port);
  notify({ ready: true, port: gateway.port });
  if (notifyParent && process.channel) process.channel.unref();

  return new Promise((resolve) => {
    let stopping = false;
    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${why}: stopping`);
      gateway.close().finally(() => {
        removeState(paths);
        resolve(0);
      });
    };
    stopWhenIdle = stop;
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    if (process.platform !== 'win32') process.on('SIGHUP', () => gateway.reloadConfig());
    // The gateway must outlive a bad request: log what escaped, keep serving.
    process.on('uncaughtException', (err) => log.error(`uncaught: ${err.stack ?? err.message}`));
    process.on('unhandledRejection', (err) => log.error(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));
  });
}

/**
 * A gateway VS Code started writes its log to the window that started it (a pipe), and
 * outlives that window while other clients hold leases: its lines also go to
 * CONDUIT_HOME/logs/gateway.log, where `conduit logs` and every other window find them.
 */
function teeToLogFile(paths: ConduitPaths): (line: string) => void {
  try { mkdirSync(paths.logDir, { recursive: true, mode: 0o700 }); } catch { /* the append below says why */ }
  let fileWorks = true;
  return (line) => {
    writeStderr(line);
    if (!fileWorks) return;
    try {
      appendFileSync(paths.logFile, line, { mode: 0o600 });
    } catch {
      fileWorks = false; // a log file that cannot be written must not stop the gateway
    }
  };
}
