/**
 * Finds the local gateway (CONDUIT_HOME's pid and port files and its health). Used by the
 * CLI, the wrapper, the status line and the extension's supervisor.
 */
import { readFileSync } from 'node:fs';
import type { ConduitPaths } from './paths';
import { readAccessToken } from './accessTokenFile';
import { call } from './call';
import { ROUTES } from '../../protocol/routes';
import type { CredentialsHealth } from '../../protocol/credentials';
import type { ConfigHealth } from '../../protocol/configState';
import type { JournalHealth } from '../../protocol/usage';

export interface GatewayLocation {
  pid: number;
  port: number;
}

export function readLocation(paths: ConduitPaths): GatewayLocation | null {
  try {
    const pid = Number(readFileSync(paths.pidFile, 'utf8').trim());
    const port = Number(readFileSync(paths.portFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
    return { pid, port };
  } catch {
    return null;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A process that has exited but was not yet reaped by its parent (a detached gateway's
 * parent is init, which in containers may reap late or never) still answers signal 0:
 * on Linux, /proc tells. Elsewhere signal 0 is all there is.
 */
function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** status: "ok", or "degraded" while the journal keeps records the disk refused (journal says why). */
export interface HealthInfo {
  status: string; service: string; version: string; pid: number; uptimeSeconds: number; journal?: JournalHealth;
  /** Absent from gateways older than the credentials state. */
  credentials?: CredentialsHealth;
  /** Whether a change of config.json was refused (src/protocol/configState.ts). */
  config?: ConfigHealth;
}

/** The gateway's /health on a port, or null when nothing (or something else) answers there. */
export async function probeHealth(port: number, timeoutMs = 1_000): Promise<HealthInfo | null> {
  try {
    const h = await call({ port, token: null }, ROUTES.health, {}, { timeoutMs }) as Partial<HealthInfo> | null;
    return h?.service === 'conduit' ? h as HealthInfo : null;
  } catch {
    return null;
  }
}

/** The running gateway of a CONDUIT_HOME, checked by its pid and its health endpoint. */
export async function findRunningGateway(paths: ConduitPaths): Promise<(GatewayLocation & { health: HealthInfo; token: string | null }) | null> {
  const loc = readLocation(paths);
  if (!loc || !processAlive(loc.pid)) return null;
  const health = await probeHealth(loc.port);
  // A pid file can outlive its process and the pid be reused: trust only a matching answer.
  if (!health || health.pid !== loc.pid) return null;
  return { ...loc, health, token: readAccessToken(paths.token) };
}
