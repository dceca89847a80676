/**
 * Budgets, as src/protocol/budgets.ts documents them:
 *
 *   GET  /v1/conduit/budgets[?project=<key>]         → BudgetsResponse (from memory)
 *   GET  /v1/conduit/budgets/alerts[?project=<key>]  → BudgetAlertsResponse (unacknowledged, oldest first)
 *   POST /v1/conduit/budgets/alerts/:id/ack          → BudgetAlert (404 unknown id, 503 while the store opens)
 *
 * Budgets are set through the projects API (projectsRoute.ts). The token check happens
 * before (server.ts). Also the refusal a hard limit answers a request with.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BUDGET_REFUSAL, type BudgetAlertsResponse } from '../../protocol/budgets';
import type { Logger } from '../core/log';
import type { BudgetTracker } from '../budgets/budgetTracker';
import { LedgerUnavailableError } from '../ledger/service';
import { sendJson, sendUnavailable } from './analyticsRoute';
import { sendError } from './errors';

export const BUDGETS_PATH = '/v1/conduit/budgets';

export interface BudgetsRouteDeps {
  budgets?: BudgetTracker | null;
  log: Logger;
}

const ACK = /^\/v1\/conduit\/budgets\/alerts\/([^/]{1,1000})\/ack$/;

export async function handleBudgets(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, deps: BudgetsRouteDeps): Promise<void> {
  const method = req.method ?? 'GET';
  const ack = ACK.exec(path);
  const allowed = path === BUDGETS_PATH || path === `${BUDGETS_PATH}/alerts` ? 'GET' : ack ? 'POST' : null;
  if (!allowed) return sendError(res, 'not_found_error', `no route ${method} ${path.slice(0, 300)}`);
  if (method !== allowed) {
    res.setHeader('allow', allowed);
    return sendError(res, 'invalid_request_error', `${method} is not allowed on ${path.slice(0, 300)}; use ${allowed}`, 405);
  }
  const project = query.get('project');
  const tracker = deps.budgets;
  if (!tracker) return sendUnavailable(res, new LedgerUnavailableError('failed', 'budgets are off in this gateway'));

  if (path === BUDGETS_PATH) return sendJson(res, 200, tracker.statuses(project));
  if (!ack) {
    const body: BudgetAlertsResponse = { alerts: tracker.alerts(project) };
    return sendJson(res, 200, body);
  }
  req.resume(); // no body is read
  let id: string;
  try {
    id = decodeURIComponent(ack[1]);
  } catch {
    return sendError(res, 'invalid_request_error', 'alert id: not valid percent-encoding in the path');
  }
  try {
    const alert = await tracker.ack(id);
    if (!alert) return sendError(res, 'not_found_error', `no budget alert ${JSON.stringify(id.slice(0, 300))}`);
    sendJson(res, 200, alert);
  } catch (err) {
    if (err instanceof LedgerUnavailableError) return sendUnavailable(res, err);
    deps.log.error(`budgets: acknowledging ${id}: ${(err as Error)?.stack ?? String(err)}`);
    sendError(res, 'api_error', `the usage store could not save it: ${(err as Error)?.message ?? String(err)}`);
  }
}

/**
 * A request refused by a hard limit: Anthropic's error shape with the message as it is
 * (no "[conduit]" prefix: it starts with "Conduit:"), which claude prints to the person.
 */
export function sendBudgetRefusal(res: ServerResponse, message: string): void {
  const body = JSON.stringify({ type: 'error', error: { type: BUDGET_REFUSAL.type, message } });
  res.writeHead(BUDGET_REFUSAL.status, {
    'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-conduit-error': '1', 'x-conduit-route': 'budget',
  });
  res.end(body);
}
