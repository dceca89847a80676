/**
 * What the analytics panel does with its data between two answers of the store: a finished
 * request from the gateway's event stream joins the recent activity list at once; every
 * figure stays as the store answered it (one source of totals), until the host says the
 * store ingested more ('refresh'). No DOM here.
 */
import type { UsageRecord } from '../../../src/protocol/usage.js';
import { isRefused, totalTokens } from '../../../src/protocol/measures.js';
import type { AnalyticsData, RecentRequest } from '../../../src/protocol/webviewMessages.js';
import { sessionIdOf } from '../../../src/protocol/session.js';

/** How many recent requests the panel keeps (the gateway's limit); it shows the first 10. */
export const RECENT_KEEP = 50;
export const RECENT_SHOW = 10;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

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

export function bucketSizeMs(data: AnalyticsData): number {
  if (data.bucket) return data.bucket === 'hour' ? HOUR : DAY;
  const points = data.timeseries;
  if (points.length >= 2) {
    const step = Date.parse(points[1].bucketStart) - Date.parse(points[0].bucketStart);
    if (step > 0) return step;
  }
  return data.range === 'day' ? HOUR : DAY;
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
