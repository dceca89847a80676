/**
 * The Supabase sync, as the extension drives it (the token check happens before, in server.ts):
 *
 *   POST   /v1/conduit/sync/session   {url, anonKey, accessToken, refreshToken}: local plus Supabase.
 *                                     Kept in memory only; never logged, never returned.
 *   DELETE /v1/conduit/sync/session   local only (rows keep being recorded; they wait for the next session)
 *   GET    /v1/conduit/sync/status    {mode, lastSuccessAt, waiting, lastError, nextRetryAt, brokenLinks, ...}
 *                                     (brokenLinks: workspace links the shared project refused, each with a
 *                                     one-sentence message; see src/protocol/team.ts)
 *
 * The extension owns the session's refresh: it posts the refreshed session again (the
 * gateway never uses the refresh token, see src/conduit/ledger/sync/supabaseSyncTarget.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/log';
import { LedgerUnavailableError, type LedgerService, type SyncSessionInput } from '../ledger/service';
import { accessTokenClaims } from '../../protocol/accessToken';
import { readBody } from './body';
import { sendJson, sendUnavailable } from './analyticsRoute';
import { GatewayError, sendError } from './errors';
import type { TeamAccess } from '../team/teamService';

export interface SyncRouteDeps {
  ledger?: LedgerService | null;
  log: Logger;
  /** Team sharing (teamRoute.ts) uses the same session: it gets each one posted, and the sign-out. */
  team?: TeamAccess | null;
}

export const SYNC_PREFIX = '/v1/conduit/sync/';
const MAX_SESSION_BODY = 64 * 1024;

/** Checks a posted session; the message names the field and never echoes a token. */
export function parseSyncSession(body: Buffer, now = Date.now()): SyncSessionInput {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new GatewayError('invalid_request_error', 'the body must be JSON: {"url", "anonKey", "accessToken", "refreshToken"}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GatewayError('invalid_request_error', 'the body must be a JSON object: {"url", "anonKey", "accessToken", "refreshToken"}');
  }
  const o = value as Record<string, unknown>;
  const allowed = ['url', 'anonKey', 'accessToken', 'refreshToken'];
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new GatewayError('invalid_request_error', `unknown field "${k.slice(0, 40)}" (allowed: ${allowed.join(', ')})`);
  }
  for (const k of allowed) {
    if (typeof o[k] !== 'string' || !(o[k] as string).trim() || (o[k] as string).length > 16_384) {
      throw new GatewayError('invalid_request_error', `${k}: required, a non-empty string`);
    }
  }
  let url: URL;
  try {
    url = new URL(o.url as string);
  } catch {
    throw new GatewayError('invalid_request_error', 'url: not a URL (expected https://<project>.supabase.co)');
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new GatewayError('invalid_request_error', 'url: must be https:// (http:// only for a local Supabase on 127.0.0.1)');
  }
  let claims;
  try {
    claims = accessTokenClaims(o.accessToken as string);
  } catch (err) {
    throw new GatewayError('invalid_request_error', `accessToken: ${(err as Error).message}`);
  }
  if (claims.exp !== null && claims.exp * 1000 <= now) {
    throw new GatewayError('invalid_request_error', `accessToken: expired at ${new Date(claims.exp * 1000).toISOString()}; refresh the session and send it again`);
  }
  return { url: url.origin, anonKey: o.anonKey as string, accessToken: o.accessToken as string, refreshToken: o.refreshToken as string };
}

export async function handleSync(req: IncomingMessage, res: ServerResponse, path: string, deps: SyncRouteDeps): Promise<void> {
  const method = req.method ?? 'GET';
  const ledger = deps.ledger;
  const what = path.slice(SYNC_PREFIX.length);
  if (what === 'status') {
    if (method !== 'GET') return sendError(res, 'invalid_request_error', `${method} is not allowed on ${path}; use GET`, 405);
    if (!ledger) return sendUnavailable(res, new LedgerUnavailableError('failed', 'the usage store is turned off in this gateway'));
    return sendJson(res, 200, await ledger.syncStatus());
  }
  if (what !== 'session') return sendError(res, 'not_found_error', `no route ${method} ${path}`);
  if (method !== 'POST' && method !== 'DELETE') return sendError(res, 'invalid_request_error', `${method} is not allowed on ${path}; use POST or DELETE`, 405);
  if (!ledger) return sendUnavailable(res, new LedgerUnavailableError('failed', 'the usage store is turned off in this gateway'));
  try {
    if (method === 'DELETE') {
      deps.team?.setSession(null);
      sendJson(res, 200, await ledger.clearSyncSession());
      deps.log.info('sync: local only (Supabase session removed)');
      return;
    }
    const session = parseSyncSession(await readBody(req, MAX_SESSION_BODY));
    deps.team?.setSession(session);
    const status = await ledger.setSyncSession(session);
    deps.log.info(`sync: local plus Supabase (${new URL(session.url).host}, user ${status.userId})`);
    sendJson(res, 200, status);
  } catch (err) {
    if (err instanceof LedgerUnavailableError) return sendUnavailable(res, err);
    throw err;
  }
}
