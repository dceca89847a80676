/**
 * The gateway's clients, as src/protocol/leases.ts documents them: leases taken, renewed
 * and released, and a closing window's "stop once no client is left". The token check
 * happens before (server.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  LEASES_PATH, STOP_WHEN_IDLE_PATH, parseLeaseId, parseLeaseRenewal, parseStopWhenIdle,
  type LeasesStatus, type StopWhenIdleAnswer,
} from '../../protocol/leases';
import { ValidationError } from '../../protocol/validate';
import type { IdleStop } from '../core/idleStop';
import { TooManyLeasesError, type LeaseRegistry } from '../core/leases';
import type { Logger } from '../core/log';
import { sendJson } from './analyticsRoute';
import { readBody } from './body';
import { sendError } from './errors';

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

export function isLeasesPath(path: string): boolean {
  return path === LEASES_PATH || path.startsWith(`${LEASES_PATH}/`) || path === STOP_WHEN_IDLE_PATH;
}

export function leasesStatus({ leases, idleStop }: GatewayClients): LeasesStatus {
  const stopsIn = idleStop.stopsIn();
  return {
    startedBy: idleStop.applies ? 'vscode' : 'person',
    leases: leases.live(),
    stopsInSeconds: stopsIn === null ? null : Math.ceil(stopsIn / 1000),
  };
}

export async function handleLeases(req: IncomingMessage, res: ServerResponse, path: string, deps: LeasesRouteDeps): Promise<void> {
  const method = req.method ?? 'GET';
  const { clients } = deps;
  if (!clients) return sendError(res, 'not_found_error', `no route ${method} ${path.slice(0, 300)}`);
  const { leases, idleStop } = clients;
  const allowed = path === LEASES_PATH ? 'GET' : path === STOP_WHEN_IDLE_PATH ? 'POST' : 'PUT, DELETE';
  if (!allowed.split(', ').includes(method)) {
    res.setHeader('allow', allowed);
    return sendError(res, 'invalid_request_error', `${method} is not allowed on ${path.slice(0, 300)}; use ${allowed.replace(', ', ' or ')}`, 405);
  }
  try {
    if (path === LEASES_PATH) return sendJson(res, 200, leasesStatus(clients));
    if (path === STOP_WHEN_IDLE_PATH) {
      const { graceSeconds } = parseStopWhenIdle(await readJson(req));
      const answer: StopWhenIdleAnswer = { willStop: idleStop.request(graceSeconds * 1000), leases: leases.live().length };
      deps.log.info(answer.willStop
        ? `asked to stop once no client holds a lease (for ${graceSeconds} s); ${answer.leases} held now`
        : 'asked to stop once idle: not done, the person started this gateway');
      return sendJson(res, 200, answer);
    }
    const id = parseLeaseId(decodeURIComponent(path.slice(LEASES_PATH.length + 1)));
    if (method === 'DELETE') {
      req.resume(); // no body is read
      const released = leases.release(id);
      if (released) deps.log.debug(`lease ${id} released`);
      return sendJson(res, 200, { released });
    }
    const { client, ttlSeconds } = parseLeaseRenewal(await readJson(req));
    sendJson(res, 200, leases.renew(id, client, ttlSeconds * 1000));
  } catch (err) {
    if (err instanceof ValidationError) return sendError(res, 'invalid_request_error', err.message);
    if (err instanceof URIError) return sendError(res, 'invalid_request_error', 'lease id: not valid percent-encoding in the path');
    if (err instanceof TooManyLeasesError) return sendError(res, 'rate_limit_error', err.message);
    throw err;
  }
}

/** A JSON body (invalid JSON is a SyntaxError, which server.ts answers with a 400). */
async function readJson(req: IncomingMessage): Promise<unknown> {
  return JSON.parse((await readBody(req, MAX_BODY_BYTES)).toString('utf8'));
}
