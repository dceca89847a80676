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
import type { Logger } from '../core/log';
import type { LedgerService, SyncSessionInput } from '../ledger/service';
import { accessTokenClaims } from '../../protocol/accessToken';
import type { BodyOf } from '../../protocol/route';
import { ROUTES } from '../../protocol/routes';
import { GatewayError } from './errors';
import { serve, storeOf, type ServedRoute } from './routeTable';
import type { TeamAccess } from '../team/teamService';

export interface SyncRouteDeps {
  ledger?: LedgerService | null;
  log: Logger;
  /** Team sharing (teamRoute.ts) uses the same session: it gets each one posted, and the sign-out. */
  team?: TeamAccess | null;
}

const MAX_SESSION_BODY = 64 * 1024;

/**
 * Checks a posted session past its shape (ROUTES.syncSession's body): a Supabase URL and an
 * access token not expired; the message names the field and never echoes a token.
 */
export function parseSyncSession(o: BodyOf<typeof ROUTES.syncSession>, now = Date.now()): SyncSessionInput {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new GatewayError('invalid_request_error', 'url: not a URL (expected https://<project>.supabase.co)');
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new GatewayError('invalid_request_error', 'url: must be https:// (http:// only for a local Supabase on 127.0.0.1)');
  }
  let claims;
  try {
    claims = accessTokenClaims(o.accessToken);
  } catch (err) {
    throw new GatewayError('invalid_request_error', `accessToken: ${(err as Error).message}`);
  }
  if (claims.exp !== null && claims.exp * 1000 <= now) {
    throw new GatewayError('invalid_request_error', `accessToken: expired at ${new Date(claims.exp * 1000).toISOString()}; refresh the session and send it again`);
  }
  return { url: url.origin, anonKey: o.anonKey, accessToken: o.accessToken, refreshToken: o.refreshToken };
}

export function syncRoutes(deps: SyncRouteDeps): ServedRoute[] {
  const ledger = () => storeOf(deps.ledger);
  return [
    serve(ROUTES.syncStatus, () => ledger().syncStatus()),
    serve(ROUTES.endSyncSession, async () => {
      const store = ledger();
      deps.team?.setSession(null);
      const status = await store.clearSyncSession();
      deps.log.info('sync: local only (Supabase session removed)');
      return status;
    }),
    serve(ROUTES.syncSession, async ({ body }) => {
      const store = ledger();
      const session = parseSyncSession(body);
      deps.team?.setSession(session);
      const status = await store.setSyncSession(session);
      deps.log.info(`sync: local plus Supabase (${new URL(session.url).host}, user ${status.userId})`);
      return status;
    }, { maxBodyBytes: MAX_SESSION_BODY }),
  ];
}
