/**
 * PUT /v1/conduit/sessions/<conduitSessionId>/info   { claudeSessionId?, firstPrompt? }
 *
 * What conduit-claude tells of its run beside the requests (src/protocol/analytics.ts
 * SessionInfoBody): claude's session id and the first prompt it passed to claude, kept as
 * an excerpt (promptExcerpt: whitespace collapsed, at most 160 characters, text the store
 * can hold) for the sessions view. The body is small (BODY_LIMIT). Where the run did not
 * know claude's id, the gateway takes it from the run's requests it has seen. Answers the
 * stored excerpt; 503 while the store cannot be used. The token check happens before (server.ts).
 */
import { promptExcerpt } from '../../protocol/analytics';
import { ROUTES } from '../../protocol/routes';
import { LedgerUnavailableError, type LedgerService } from '../ledger/service';
import type { Logger } from '../core/log';
import type { EventHub } from '../usage/eventHub';
import { storableText } from '../usage/storableText';
import { GatewayError } from './errors';
import { serve, storeOf, type ServedRoute } from './routeTable';

/** Enough for a prompt's first couple of thousand characters (the wrapper sends at most 1,920). */
const BODY_LIMIT = 16 * 1024;

export interface SessionInfoDeps {
  ledger?: LedgerService | null;
  hub: EventHub;
  log: Logger;
}

export function sessionInfoRoutes(deps: SessionInfoDeps): ServedRoute[] {
  return [serve(ROUTES.sessionInfo, async ({ params, body }) => {
    const sessionId = params.id;
    const prompt = body.firstPrompt ?? null;
    const excerpt = prompt === null ? null : promptExcerpt(storableText(prompt));
    // A run that could not tell claude's id: its requests carried it (x-claude-code-session-id).
    const claudeSessionId = body.claudeSessionId
      ?? deps.hub.session(sessionId)?.records.find((r) => r.context.sessionId === sessionId && r.context.claudeSessionId)?.context.claudeSessionId
      ?? null;
    const info = { claudeSessionId, firstPrompt: excerpt || null };
    const ledger = storeOf(deps.ledger);
    try {
      await ledger.sessionInfo({ sessionId, ...info });
    } catch (err) {
      if (err instanceof LedgerUnavailableError) throw err;
      deps.log.error(`session info ${sessionId}: ${(err as Error)?.stack ?? String(err)}`);
      throw new GatewayError('api_error', `the session's information could not be stored: ${(err as Error)?.message ?? String(err)}`);
    }
    return { sessionId, ...info };
  }, { maxBodyBytes: BODY_LIMIT })];
}
