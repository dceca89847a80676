/**
 * Whether a claude is logged in of its own (a Claude subscription, or a key in its
 * environment): `claude auth status --json`, which answers from its local state without
 * the network. A gateway with no key of its own serves such a claude with its login; a
 * claude that is not logged in fails with "Not logged in · Please run /login" before it
 * sends anything to the gateway. Plain Node, no 'vscode'.
 */
import { execFile } from 'node:child_process';
import { claudeLaunch } from '../../conduit/client/claudeLaunch';

const STATUS_TIMEOUT_MS = 15_000;

/** true or false as claude says; null when it cannot tell (an older claude, or it did not run). */
export function isClaudeLoggedIn(claudePath: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean | null> {
  let launch;
  try {
    launch = claudeLaunch(claudePath, ['auth', 'status', '--json']);
  } catch {
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    execFile(launch.file, launch.args, { env, timeout: STATUS_TIMEOUT_MS, windowsHide: true, windowsVerbatimArguments: launch.windowsVerbatimArguments },
      (_err, stdout) => {
        try {
          const loggedIn = (JSON.parse(String(stdout)) as { loggedIn?: unknown }).loggedIn;
          resolve(typeof loggedIn === 'boolean' ? loggedIn : null);
        } catch {
          resolve(null);
        }
      });
  });
}
