/**
 * conduit-claude stands in for claude: signals it gets go on to claude, and it ends the way
 * claude ended (the same exit code, or the same signal), once its own output is written.
 */
import type { ChildProcess } from 'node:child_process';

/** SIGINT, SIGTERM and SIGHUP of conduit-claude go on to claude. */
export function forwardSignals(child: ChildProcess): void {
  const forward = (signal: NodeJS.Signals) => () => {
    // In a terminal, Ctrl-C already reached claude (same process group): don't send it twice.
    if (signal === 'SIGINT' && process.stdin.isTTY) return;
    child.kill(signal);
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, forward(s));
}

/** How claude ended; `onError` when it could not be run at all. */
export function childEnd(child: ChildProcess, onError: (err: Error) => void): Promise<[number | null, NodeJS.Signals | null]> {
  return new Promise((resolve) => {
    child.once('error', onError);
    child.once('close', (c, s) => resolve([c, s]));
  });
}

/** Ends this process as claude ended, after stdout is drained. */
export async function exitAs(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
  await new Promise<void>((resolve) => (process.stdout.writableNeedDrain ? process.stdout.once('drain', resolve) : resolve()));
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
}
