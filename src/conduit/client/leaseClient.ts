/**
 * A client's side of the gateway's leases (src/protocol/leases.ts): VS Code windows and
 * conduit-claude sessions say that they use the gateway, so that a gateway VS Code started
 * outlives the window that started it while anyone still needs it. Every call is
 * best-effort and short: a gateway that does not answer must not hold up its client.
 */
import type { LeaseClient, StopWhenIdleAnswer } from '../../protocol/leases';
import { GatewayHttpError, call, type GatewayAccess } from './call';
import { ROUTES } from '../../protocol/routes';

const TIMEOUT_MS = 2_000;

/** Takes or renews lease `id` for `ttlSeconds`. False when not held (refused, or a gateway that predates leases). */
export async function renewLease(gw: GatewayAccess, id: string, client: LeaseClient, ttlSeconds: number): Promise<boolean> {
  return call(gw, ROUTES.renewLease, { params: { id }, body: { client, ttlSeconds } }, { timeoutMs: TIMEOUT_MS })
    .then(() => true, (err: unknown) => { if (err instanceof GatewayHttpError) return false; throw err; });
}

export async function releaseLease(gw: GatewayAccess, id: string): Promise<void> {
  await call(gw, ROUTES.releaseLease, { params: { id } }, { timeoutMs: TIMEOUT_MS }).catch((err: unknown) => { if (!(err instanceof GatewayHttpError)) throw err; });
}

/**
 * Asks the gateway to stop once no client holds a lease for `graceSeconds` (it does only if
 * VS Code started it). Null from a gateway that predates leases.
 */
export async function stopWhenIdle(gw: GatewayAccess, graceSeconds: number): Promise<StopWhenIdleAnswer | null> {
  try {
    return await call(gw, ROUTES.stopWhenIdle, { body: { graceSeconds } }, { timeoutMs: TIMEOUT_MS });
  } catch (err) {
    if (!(err instanceof GatewayHttpError)) throw err;
    if (err.status === 404) return null;
    throw new Error(`the gateway answered ${err.status} to stop-when-idle`);
  }
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
