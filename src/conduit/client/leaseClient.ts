/**
 * A client's side of the gateway's leases (src/protocol/leases.ts): VS Code windows and
 * conduit-claude sessions say that they use the gateway, so that a gateway VS Code started
 * outlives the window that started it while anyone still needs it. Every call is
 * best-effort and short: a gateway that does not answer must not hold up its client.
 */
import {
  LEASES_PATH, STOP_WHEN_IDLE_PATH, type LeaseClient, type StopWhenIdleAnswer,
} from '../../protocol/leases';
import { request } from './gatewayClient';

const TIMEOUT_MS = 2_000;

export interface GatewayAccess {
  port: number;
  token: string;
}

/** Takes or renews lease `id` for `ttlSeconds`. False when not held (refused, or a gateway that predates leases). */
export async function renewLease(gw: GatewayAccess, id: string, client: LeaseClient, ttlSeconds: number): Promise<boolean> {
  const r = await request(gw.port, 'PUT', `${LEASES_PATH}/${encodeURIComponent(id)}`, { token: gw.token, body: JSON.stringify({ client, ttlSeconds }), timeoutMs: TIMEOUT_MS });
  return r.status === 200;
}

export async function releaseLease(gw: GatewayAccess, id: string): Promise<void> {
  await request(gw.port, 'DELETE', `${LEASES_PATH}/${encodeURIComponent(id)}`, { token: gw.token, timeoutMs: TIMEOUT_MS });
}

/**
 * Asks the gateway to stop once no client holds a lease for `graceSeconds` (it does only if
 * VS Code started it). Null from a gateway that predates leases.
 */
export async function stopWhenIdle(gw: GatewayAccess, graceSeconds: number): Promise<StopWhenIdleAnswer | null> {
  const r = await request(gw.port, 'POST', STOP_WHEN_IDLE_PATH, { token: gw.token, body: JSON.stringify({ graceSeconds }), timeoutMs: TIMEOUT_MS });
  if (r.status === 404) return null;
  if (r.status !== 200) throw new Error(`the gateway answered ${r.status} to stop-when-idle`);
  return JSON.parse(r.body) as StopWhenIdleAnswer;
}

/**
 * Holds lease `id` until release(): renewed at a third of its time, so that two missed
 * renewals in a row (a busy moment) do not lose it.
 */
export function holdLease(gw: GatewayAccess, id: string, client: LeaseClient, ttlSeconds: number): { taken: Promise<boolean>; release(): Promise<void> } {
  const renew = () => renewLease(gw, id, client, ttlSeconds).catch(() => false);
  const timer = setInterval(renew, (ttlSeconds * 1000) / 3);
  timer.unref(); // the client's own work keeps its process alive, not this
  return {
    taken: renew(),
    async release() {
      clearInterval(timer);
      await releaseLease(gw, id).catch(() => undefined);
    },
  };
}
