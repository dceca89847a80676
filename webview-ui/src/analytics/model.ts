/**
 * Live updates of the analytics data: one finished request (a UsageRecord from the
 * gateway's event stream) folded into the figures the panel shows, so the panel stays
 * current without asking the host for the whole range again. No DOM here.
 *
 * What a record cannot update stays as fetched: savings and cache economics need prices,
 * and the range's start does not move until the next fetch.
 */
import type { UsageRecord } from '../../../src/protocol/usage.js';
import { isRefused, totalTokens } from '../../../src/protocol/measures.js';
import type { AnalyticsData, RecentRequest, SessionUsage } from '../../../src/protocol/webviewMessages.js';
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

const addCost = (a: number | null, b: number | null): number | null => (b === null ? a : (a ?? 0) + b);

export function bucketSizeMs(data: AnalyticsData): number {
  if (data.bucket) return data.bucket === 'hour' ? HOUR : DAY;
  const points = data.timeseries;
  if (points.length >= 2) {
    const step = Date.parse(points[1].bucketStart) - Date.parse(points[0].bucketStart);
    if (step > 0) return step;
  }
  return data.range === 'day' ? HOUR : DAY;
}

export interface AppliedEvent {
  /** Which parts changed, so the view redraws only those. */
  models: boolean;
  timeseries: boolean;
  sources: boolean;
  agents: boolean;
  sessions: boolean;
}

/**
 * Folds one record into data (in place). Returns null for a record already counted (the
 * same request id in the recent list).
 */
export function applyUsageEvent(data: AnalyticsData, record: UsageRecord, agentName?: string | null): AppliedEvent | null {
  if (data.recent.some((r) => r.requestId === record.id)) return null;
  const item = recentFromRecord(record, agentName);
  const { tokens, cost } = item;

  const s = data.summary;
  s.requests += 1;
  s.tokens += tokens;
  if (cost === null) s.costUnknownRequests += 1;
  if (item.refused) s.refusedRequests += 1;
  s.cost = addCost(s.cost, cost);
  const costed = s.requests - s.costUnknownRequests;
  s.avgCostPerRequest = s.cost !== null && costed > 0 ? s.cost / costed : null;

  data.recent.unshift(item);
  if (data.recent.length > RECENT_KEEP) data.recent.length = RECENT_KEEP;

  const model = data.models.find((m) => m.model === item.model);
  if (model) {
    model.requests += 1;
    model.tokens += tokens;
    model.cost = addCost(model.cost, cost);
  } else {
    data.models.push({ model: item.model, requests: 1, tokens, cost });
  }
  data.models.sort((a, b) => b.requests - a.requests || a.model.localeCompare(b.model));

  const source = data.sources.find((x) => x.source === record.decision.source);
  if (source) source.requests += 1;
  else data.sources.push({ source: record.decision.source, requests: 1 });
  data.sources.sort((a, b) => b.requests - a.requests);

  let timeseries = false;
  const at = Date.parse(item.createdAt);
  const size = bucketSizeMs(data);
  const points = data.timeseries;
  if (!Number.isNaN(at) && points.length) {
    const last = points[points.length - 1];
    const lastStart = Date.parse(last.bucketStart);
    let point = null;
    for (let i = points.length - 1; i >= 0; i--) {
      const start = Date.parse(points[i].bucketStart);
      if (start <= at) {
        if (at < start + size) point = points[i];
        break;
      }
    }
    if (!point && at >= lastStart + size) {
      // The range moved into a new bucket: open it (keeps the day's hours in order).
      const start = lastStart + Math.floor((at - lastStart) / size) * size;
      point = { bucketStart: new Date(start).toISOString(), cost: 0, requests: 0 };
      points.push(point);
    }
    if (point) {
      point.requests += 1;
      point.cost += cost ?? 0;
      timeseries = true;
    }
  }

  const agentId = record.context.agentId ?? null;
  const agent = data.agents.find((a) => a.agentId === agentId);
  if (agent) {
    agent.requests += 1;
    agent.tokens += tokens;
    agent.cost = addCost(agent.cost, cost);
    if (!agent.name && item.agentName) agent.name = item.agentName;
  } else {
    data.agents.push({ agentId, name: agentName ?? null, requests: 1, tokens, cost });
  }
  data.agents.sort((a, b) => b.requests - a.requests);

  let sessions = false;
  if (item.sessionId) {
    const session = data.sessions.find((x) => x.sessionId === item.sessionId);
    if (session) {
      session.requests += 1;
      session.tokens += tokens;
      session.cost = addCost(session.cost, cost);
      session.lastAt = item.createdAt;
      if (item.agentName && !session.agentNames.includes(item.agentName)) session.agentNames.push(item.agentName);
      addSessionModel(session, record);
    } else {
      const added: SessionUsage = {
        sessionId: item.sessionId, agentNames: item.agentName ? [item.agentName] : [], requests: 1, tokens, cost,
        firstAt: record.startedAt, lastAt: item.createdAt,
      };
      addSessionModel(added, record);
      data.sessions.unshift(added);
      if (data.sessions.length > RECENT_KEEP) data.sessions.length = RECENT_KEEP;
    }
    data.sessions.sort((a, b) => Date.parse(b.lastAt) - Date.parse(a.lastAt));
    sessions = true;
  }
  return { models: true, timeseries, sources: true, agents: true, sessions };
}

/** Counts a request under its (asked for, routed to) pair of models; most requests first, as the gateway lists them. */
function addSessionModel(session: SessionUsage, record: UsageRecord): void {
  const models = (session.models ??= []);
  const requestedModel = record.decision.requestedModel ?? '';
  const pair = models.find((m) => m.requestedModel === requestedModel && m.model === record.decision.model);
  if (pair) pair.requests += 1;
  else models.push({ requestedModel, model: record.decision.model, requests: 1 });
  models.sort((a, b) => b.requests - a.requests);
}

export function isEmpty(data: AnalyticsData): boolean {
  return data.summary.requests === 0 && data.recent.length === 0;
}
