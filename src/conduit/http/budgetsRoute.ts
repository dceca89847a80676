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
import type { ServerResponse } from 'node:http';
import { BUDGET_REFUSAL } from '../../protocol/budgets';
import { ROUTES } from '../../protocol/routes';
import type { Logger } from '../core/log';
import type { BudgetTracker } from '../budgets/budgetTracker';
import { LedgerUnavailableError } from '../ledger/service';
import { GatewayError } from './errors';
import { serve, storeOf, type ServedRoute } from './routeTable';

export interface BudgetsRouteDeps {
  budgets?: BudgetTracker | null;
  log: Logger;
}

export function budgetsRoutes(deps: BudgetsRouteDeps): ServedRoute[] {
  const tracker = () => storeOf(deps.budgets, 'budgets are off in this gateway');
  return [
    serve(ROUTES.budgets, ({ query }) => tracker().statuses(query.project ?? null)),
    serve(ROUTES.budgetAlerts, ({ query }) => ({ alerts: tracker().alerts(query.project ?? null) })),
    serve(ROUTES.ackBudgetAlert, async ({ params }) => {
      const { id } = params;
      let alert;
      try {
        alert = await tracker().ack(id);
      } catch (err) {
        if (err instanceof LedgerUnavailableError) throw err;
        deps.log.error(`budgets: acknowledging ${id}: ${(err as Error)?.stack ?? String(err)}`);
        throw new GatewayError('api_error', `the usage store could not save it: ${(err as Error)?.message ?? String(err)}`);
      }
      if (!alert) throw new GatewayError('not_found_error', `no budget alert ${JSON.stringify(id.slice(0, 300))}`);
      return alert;
    }),
  ];
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
