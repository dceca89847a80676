/** Where Conduit keeps its state: CONDUIT_HOME, by default ~/.conduit. */
import os from 'node:os';
import path from 'node:path';

export interface ConduitPaths {
  home: string;
  config: string;
  token: string;
  pidFile: string;
  portFile: string;
  logDir: string;
  logFile: string;
  journalDir: string;
  pluginDir: string;
  binDir: string;
  dataDir: string;
}

export function conduitHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.CONDUIT_HOME || path.join(os.homedir(), '.conduit'));
}

export function conduitPaths(home = conduitHome()): ConduitPaths {
  return {
    home,
    config: path.join(home, 'config.json'),
    token: path.join(home, 'token'),
    pidFile: path.join(home, 'gateway.pid'),
    portFile: path.join(home, 'gateway.port'),
    logDir: path.join(home, 'logs'),
    logFile: path.join(home, 'logs', 'gateway.log'),
    journalDir: path.join(home, 'journal'),
    pluginDir: path.join(home, 'plugins'),
    binDir: path.join(home, 'bin'),
    dataDir: path.join(home, 'data'),
  };
}
