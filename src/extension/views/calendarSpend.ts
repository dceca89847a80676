/**
 * Reads CalendarSpend (src/protocol/webviewMessages.ts) from the gateway: today's and this month's
 * totals from the usage store (the analytics summary over the calendar days in the gateway's
 * zone, GatewayFacts.timeZone) and the amounts of the budgets that count the same periods. No vscode import: the
 * tests run it against a real gateway.
 */
import type { SummaryAnswer } from '../../protocol/analytics';
import { ROUTES } from '../../protocol/routes';
import { calendarDates, type CalendarSpend, type PeriodSpend } from '../../protocol/webviewMessages';
import { call, type CallVia } from '../../conduit/client/call';

/** Where the spend is read: the extension's GatewayApi; a test's gateway over plain HTTP. */
export type SpendApi = CallVia;

/** Whose spend: every project (no project), a project (its agents included), or one agent of it. */
export interface SpendScope {
  projectKey?: string | null;
  agentId?: string | null;
}

function periodOf(summary: SummaryAnswer, budgetUsd: number | null): PeriodSpend {
  return { cost: summary.cost, requests: summary.requests, unknownCostRequests: summary.unknownCostRequests, budgetUsd };
}

/** The daily and monthly budget amounts of the scope; none for every project (budgets are per project). */
async function budgetAmounts(api: SpendApi, scope: SpendScope): Promise<{ daily: number | null; monthly: number | null }> {
  const none = { daily: null, monthly: null };
  if (!scope.projectKey) return none;
  try {
    const { statuses } = await call(api, ROUTES.budgets, { query: { project: scope.projectKey } });
    const mine = statuses.filter((s) => s.projectKey === scope.projectKey
      && (scope.agentId ? s.scope === 'agent' && s.agentId === scope.agentId : s.scope === 'project'));
    const limit = (period: 'daily' | 'monthly') => mine.find((s) => s.period === period)?.limitUsd ?? null;
    return { daily: limit('daily'), monthly: limit('monthly') };
  } catch {
    return none; // a gateway without budgets: plain totals
  }
}

/**
 * Today and this month of the scope. Calendar dates as a custom range: from local midnight of
 * the first day to the end of today in `tz`, which is now as far as requests go.
 */
export async function loadCalendarSpend(api: SpendApi, scope: SpendScope, timeZone: string, maxWaitMs = 60_000, now = new Date()): Promise<CalendarSpend> {
  const { today, monthStart } = calendarDates(timeZone, now);
  const filter = { ...(scope.projectKey ? { project: scope.projectKey } : {}), ...(scope.agentId ? { agent: scope.agentId } : {}) };
  const summary = (from: string) =>
    call(api, ROUTES.analyticsSummary, { query: { range: 'custom', from, to: today, tz: timeZone, ...filter } }, { waitForStoreMs: maxWaitMs });
  const [day, month, budgets] = await Promise.all([summary(today), summary(monthStart), budgetAmounts(api, scope)]);
  return { today: periodOf(day, budgets.daily), month: periodOf(month, budgets.monthly), timeZone };
}
