/**
 * What the analytics panel does with its data between two answers of the store: a finished
 * request from the gateway's event stream joins the recent activity list at once; every
 * figure stays as the store answered it (one source of totals), until the host says the
 * store ingested more ('refresh'). No DOM here.
 */
import type { UsageRecord } from '../../../src/protocol/usage.js';
import { isRefused, totalTokens } from '../../../src/protocol/measures.js';
import type { AnalyticsData, AnalyticsPeriod, AnalyticsRange, RecentRequest } from '../../../src/protocol/webviewMessages.js';
import { sessionIdOf } from '../../../src/protocol/session.js';

/** How many recent requests the panel keeps (the API's most); it shows them a page at a time. */
export const RECENT_KEEP = 200;
export const RECENT_PAGE = 25;

/** What the picker calls each kind: the label when an answer carries none (an older gateway). */
const RANGE_NAMES: Record<AnalyticsRange, string> = {
  today: 'Today', 'this-week': 'This week', 'this-month': 'This month', '24h': 'Last 24 hours', '7d': 'Last 7 days', '30d': 'Last 30 days',
  custom: 'Custom range', day: 'Last 24 hours', week: 'Last 7 days', month: 'Last 30 days',
};

/** The period the figures cover, as the answer names it ("This month", "Dec 1 – Dec 3, 2026"). */
export function periodLabel(data: AnalyticsData | null, period: AnalyticsPeriod): string {
  if (data?.scope?.label) return data.scope.label;
  if (period.range === 'custom' && period.from && period.to) return `${period.from} – ${period.to}`;
  return RANGE_NAMES[period.range];
}

/** Whether data answers this period (a saved answer of another period is not shown). */
export function samePeriod(data: AnalyticsData, period: AnalyticsPeriod): boolean {
  if (data.range !== period.range) return false;
  return period.range !== 'custom' || (data.from === period.from && data.to === period.to);
}

export function recentFromRecord(record: UsageRecord, agentName: string | null | undefined): RecentRequest {
  return {
    requestId: record.id,
    sessionId: sessionIdOf(record.context),
    agentName: agentName ?? record.context.agentType ?? null,
    model: record.decision.model,
    tokens: record.usage ? totalTokens(record.usage) : 0,
    cost: record.cost.cost,
    // The ledger's created_at is the reply's end.
    createdAt: record.endedAt,
    source: record.decision.source,
    ...(isRefused(record.cost) ? { refused: true } : {}),
  };
}

/**
 * Adds one finished request to the recent activity list (in place), newest first. Returns
 * false for a request already listed (the event stream replays after a reconnect). The
 * figures (summary, charts, agents, sessions) are not counted here: they come from the
 * store only, read again when the host says it ingested requests ('refresh').
 */
export function addRecentRequest(data: AnalyticsData, record: UsageRecord, agentName?: string | null): boolean {
  if (data.recent.some((r) => r.requestId === record.id)) return false;
  data.recent.unshift(recentFromRecord(record, agentName));
  if (data.recent.length > RECENT_KEEP) data.recent.length = RECENT_KEEP;
  return true;
}

export function isEmpty(data: AnalyticsData): boolean {
  return data.summary.requests === 0 && data.recent.length === 0;
}
