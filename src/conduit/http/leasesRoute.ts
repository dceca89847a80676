/**
 * The gateway's clients, as src/protocol/leases.ts documents them: leases taken, renewed
 * and released, and a closing window's "stop once no client is left". The token check
 * happens before (server.ts).
 */
import { parseLeaseId, type LeasesStatus, type StopWhenIdleAnswer } from '../../protocol/leases';
import { ROUTES } from '../../protocol/routes';
import type { IdleStop } from '../core/idleStop';
import { TooManyLeasesError, type LeaseRegistry } from '../core/leases';
import type { Logger } from '../core/log';
import { GatewayError } from './errors';
import { serve, type ServedRoute } from './routeTable';

/** Who holds the gateway, and when it stops for want of them. */
export interface GatewayClients {
  leases: LeaseRegistry;
  idleStop: IdleStop;
}

export interface LeasesRouteDeps {
  /** Absent in a server without lifetime management (tests of other routes): the routes are then unknown. */
  clients?: GatewayClients;
  log: Logger;
}

/** Lease and stop requests are a few dozen bytes. */
const MAX_BODY_BYTES = 4096;

export function leasesStatus({ leases, idleStop }: GatewayClients): LeasesStatus {
  const stopsIn = idleStop.stopsIn();
  return {
    startedBy: idleStop.applies ? 'vscode' : 'person',
    leases: leases.live(),
    stopsInSeconds: stopsIn === null ? null : Math.ceil(stopsIn / 1000),
  };
}

export function leasesRoutes(deps: LeasesRouteDeps): ServedRoute[] {
  const { clients } = deps;
  if (!clients) return [];
  const { leases, idleStop } = clients;
  return [
    serve(ROUTES.leases, () => leasesStatus(clients)),
    serve(ROUTES.stopWhenIdle, ({ body }) => {
      const { graceSeconds } = body;
      const answer: StopWhenIdleAnswer = { willStop: idleStop.request(graceSeconds * 1000), leases: leases.live().length };
      deps.log.info(answer.willStop
        ? `asked to stop once no client holds a lease (for ${graceSeconds} s); ${answer.leases} held now`
        : 'asked to stop once idle: not done, the person started this gateway');
      return answer;
    }, { maxBodyBytes: MAX_BODY_BYTES }),
    serve(ROUTES.releaseLease, ({ params }) => {
      const id = parseLeaseId(params.id);
      const released = leases.release(id);
      if (released) deps.log.debug(`lease ${id} released`);
      return { released };
    }),
    serve(ROUTES.renewLease, ({ params, body }) => {
      const id = parseLeaseId(params.id);
      const { client, ttlSeconds } = body;
      try {
        return leases.renew(id, client, ttlSeconds * 1000);
      } catch (err) {
        if (err instanceof TooManyLeasesError) throw new GatewayError('rate_limit_error', err.message);
        throw err;
      }
    }, { maxBodyBytes: MAX_BODY_BYTES }),
  ];
}
