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
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promptExcerpt, type SessionInfoBody } from '../../protocol/analytics';
import { LedgerUnavailableError, type LedgerService } from '../ledger/service';
import type { Logger } from '../core/log';
import type { EventHub } from '../usage/eventHub';
import { storableText } from '../usage/storableText';
import { readBody } from './body';
import { sendJson, sendUnavailable } from './analyticsRoute';
import { GatewayError, sendError } from './errors';

export const SESSION_INFO_PATH = /^\/v1\/conduit\/sessions\/([A-Za-z0-9._-]{1,200})\/info$/;
/** Enough for a prompt's first couple of thousand characters (the wrapper sends at most 1,920). */
const BODY_LIMIT = 16 * 1024;
const SESSION_ID = /^[A-Za-z0-9._-]{1,200}$/;

export interface SessionInfoDeps {
  ledger?: LedgerService | null;
  hub: EventHub;
  log: Logger;
}

/** The body's fields, checked; throws GatewayError naming the bad one. */
export function parseSessionInfo(body: Buffer): { claudeSessionId: string | null; firstPrompt: string | null } {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new GatewayError('invalid_request_error', `body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new GatewayError('invalid_request_error', 'body: expected an object { claudeSessionId?, firstPrompt? }');
  const o = value as Record<string, unknown> & SessionInfoBody;
  for (const key of Object.keys(o)) {
    if (key !== 'claudeSessionId' && key !== 'firstPrompt' && key !== 'conduitSessionId') throw new GatewayError('invalid_request_error', `body: unknown field "${key.slice(0, 40)}" (allowed: claudeSessionId, firstPrompt)`);
  }
  const claude = o.claudeSessionId ?? null;
  if (claude !== null && (typeof claude !== 'string' || !SESSION_ID.test(claude))) {
    throw new GatewayError('invalid_request_error', 'claudeSessionId: expected 1 to 200 letters, digits, dots, dashes or underscores');
  }
  const prompt = o.firstPrompt ?? null;
  if (prompt !== null && typeof prompt !== 'string') throw new GatewayError('invalid_request_error', 'firstPrompt: expected a string');
  const excerpt = prompt === null ? null : promptExcerpt(storableText(prompt));
  return { claudeSessionId: claude, firstPrompt: excerpt || null };
}

export async function handleSessionInfo(req: IncomingMessage, res: ServerResponse, sessionId: string, deps: SessionInfoDeps): Promise<void> {
  if (req.method !== 'PUT') return sendError(res, 'invalid_request_error', `${req.method} is not allowed here; use PUT`, 405);
  const info = parseSessionInfo(await readBody(req, BODY_LIMIT));
  // A run that could not tell claude's id: its requests carried it (x-claude-code-session-id).
  if (!info.claudeSessionId) {
    const records = deps.hub.session(sessionId)?.records ?? [];
    info.claudeSessionId = records.find((r) => r.context.sessionId === sessionId && r.context.claudeSessionId)?.context.claudeSessionId ?? null;
  }
  const ledger = deps.ledger;
  if (!ledger) return sendUnavailable(res, new LedgerUnavailableError('failed', 'the usage store is turned off in this gateway'));
  try {
    await ledger.sessionInfo({ sessionId, ...info });
  } catch (err) {
    if (err instanceof LedgerUnavailableError) return sendUnavailable(res, err);
    deps.log.error(`session info ${sessionId}: ${(err as Error)?.stack ?? String(err)}`);
    return sendError(res, 'api_error', `the session's information could not be stored: ${(err as Error)?.message ?? String(err)}`);
  }
  sendJson(res, 200, { sessionId, ...info });
}
