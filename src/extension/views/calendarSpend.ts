/**
 * Reads CalendarSpend (src/protocol/webviewMessages.ts) from the gateway: today's and this month's
 * totals from the usage store (the analytics summary over the calendar days in the gateway's
 * zone, GatewayFacts.timeZone) and the amounts of the budgets that count the same periods. No vscode import: the
 * tests run it against a real gateway.
 */
import type { BudgetsResponse } from '../../protocol/budgets';
import { calendarDates, type CalendarSpend, type PeriodSpend } from '../../protocol/webviewMessages';
import type { GatewayApi } from '../gateway/gatewayApi';

export type SpendApi = Pick<GatewayApi, 'call' | 'callWhenReady'>;

/** Whose spend: every project (no project), a project (its agents included), or one agent of it. */
export interface SpendScope {
  projectKey?: string | null;
  agentId?: string | null;
}

/** The summary fields read here, defensively (the gateway's answer is read, not trusted). */
function periodOf(summary: unknown, budgetUsd: number | null): PeriodSpend {
  const o = (typeof summary === 'object' && summary !== null ? summary : {}) as Record<string, unknown>;
  const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  return {
    cost: typeof o.cost === 'number' && Number.isFinite(o.cost) ? o.cost : null,
    requests: count(o.requests),
    unknownCostRequests: count(o.unknownCostRequests),
    budgetUsd,
  };
}

/** The daily and monthly budget amounts of the scope; none for every project (budgets are per project). */
async function budgetAmounts(api: SpendApi, scope: SpendScope): Promise<{ daily: number | null; monthly: number | null }> {
  const none = { daily: null, monthly: null };
  if (!scope.projectKey) return none;
  try {
    const { statuses } = await api.call<BudgetsResponse>('GET', `/v1/conduit/budgets?project=${encodeURIComponent(scope.projectKey)}`);
    const mine = (Array.isArray(statuses) ? statuses : []).filter((s) => s.projectKey === scope.projectKey
      && (scope.agentId ? s.scope === 'agent' && s.agentId === scope.agentId : s.scope === 'project'));
    const limit = (period: 'daily' | 'monthly') => {
      const v = mine.find((s) => s.period === period)?.limitUsd;
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    };
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
  const summary = (from: string) => api.callWhenReady<unknown>('GET',
    `/v1/conduit/analytics/summary?${new URLSearchParams({ range: 'custom', from, to: today, tz: timeZone, ...filter })}`, undefined, maxWaitMs);
  const [day, month, budgets] = await Promise.all([summary(today), summary(monthStart), budgetAmounts(api, scope)]);
  return { today: periodOf(day, budgets.daily), month: periodOf(month, budgets.monthly), timeZone };
}
