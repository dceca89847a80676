/**
 * A test gateway in a child process (gatewayChild.ts). For faults an in-process gateway
 * hides: a client and a server on one event loop take turns, so a connection reset that
 * races the client's reading of an answer never shows there; across processes it does,
 * as it does for a real client.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

export interface GatewayProcess {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export async function startGatewayProcess(config: Record<string, unknown> = {}): Promise<GatewayProcess> {
  const child = fork(path.join(__dirname, 'gatewayChild.ts'), [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const started = await Promise.race([
    once(child, 'message').then(([m]) => m as Omit<GatewayProcess, 'close'>),
    exited.then(([code]) => { throw new Error(`the gateway process exited with code ${code} before listening`); }),
  ]);
  return {
    ...started,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.disconnect();
      await exited;
    },
  };
}
