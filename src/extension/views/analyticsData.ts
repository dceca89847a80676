/**
 * Assembles the analytics view's data from the gateway's analytics API: the whole view in
 * one round trip (ROUTES.analyticsView, src/protocol/analyticsView.ts), more pages
 * of sessions from the sessions query, and its Team view from the members query (answered
 * from Supabase, src/protocol/team.ts). Every call goes through the route table
 * (src/protocol/routes.ts), so the answers arrive typed.
 */
import type { TeamUsageResponse } from '../../protocol/team';
import type { AnalyticsScope as GatewayScope, DailyAnswer, DailyMeasures, RetiredModel as GatewayRetiredModel, SessionRow } from '../../protocol/analytics';
import { VIEW_RECENT_LIMIT, VIEW_SESSIONS_PAGE_SIZE } from '../../protocol/analyticsView';
import { ROUTES } from '../../protocol/routes';
import type { QueryOf } from '../../protocol/route';
import {
  ANALYTICS_RANGES, type AnalyticsData, type AnalyticsPeriod, type AnalyticsRange, type AnalyticsScope, type DailyBreakdown, type DailyCell,
  type DailyGroupBy, type RetiredModel, type SessionSort, type SessionUsage, type SessionsPage, type TeamAnalyticsData, type TeamAnalyticsProblem,
  type TokenSplit,
} from '../../protocol/webviewMessages';
import { GatewayHttpError, call, type CallVia } from '../../conduit/client/call';
import { gatewayFacts } from './gatewayFacts';
import { REFUSED_COST_SOURCE, totalTokens } from '../../protocol/measures';

/** The zone of "today" on every surface (gatewayFacts.ts). */
async function dayTimeZone(api: CallVia): Promise<string> {
  return (await gatewayFacts(api)).timeZone;
}

/** Where the analytics are read: the extension's GatewayApi; a test's gateway over plain HTTP. */
export type AnalyticsApi = CallVia;

/**
 * The gateway is not up (yet): GatewayApi's "not running" (GatewayUnavailableError), or its
 * port refusing connections (a panel restored before the gateway started). The panel then
 * says so plainly and waits for the host's refresh, instead of showing the socket error.
 */
export function isNotRunning(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown; cause?: { code?: unknown }; constructor?: { name?: unknown }; message?: unknown } | null;
  if (!e) return false;
  if (e.constructor?.name === 'GatewayUnavailableError') return true;
  return [e.code, e.cause?.code].some((c) => c === 'ECONNREFUSED' || c === 'ECONNRESET')
    || (typeof e.message === 'string' && /\bECONNREFUSED\b/.test(e.message));
}

const splitOf = (r: TokenSplit): TokenSplit => ({
  inputTokens: r.inputTokens, outputTokens: r.outputTokens, cacheCreationTokens: r.cacheCreationTokens, cacheReadTokens: r.cacheReadTokens,
});

/** The period part of a query (custom: its two days). */
export function periodParams(period: AnalyticsPeriod): { range: string; from?: string; to?: string } {
  return period.range === 'custom' && period.from && period.to ? { range: 'custom', from: period.from, to: period.to } : { range: period.range };
}

function scopeOf(scope: GatewayScope, period: AnalyticsPeriod): AnalyticsScope {
  return {
    range: (ANALYTICS_RANGES as readonly string[]).includes(scope.range) ? scope.range as AnalyticsRange : period.range,
    calendar: scope.calendar,
    label: scope.label,
    from: scope.from,
    to: scope.to,
    previous: { from: scope.previous.from, to: scope.previous.to },
  };
}

function sessionOf(s: SessionRow): SessionUsage {
  return {
    sessionId: s.sessionId, agentNames: s.agents.map((a) => a.name).filter(Boolean),
    models: s.models.map((m) => ({ requestedModel: m.requestedModel ?? '', model: m.model, requests: m.requests })),
    requests: s.requests, tokens: s.totalTokens, cost: s.cost, firstAt: s.firstAt, lastAt: s.lastAt,
    claudeSessionId: s.claudeSessionId, durationMs: s.durationMs, firstPrompt: s.firstPrompt,
  };
}

function dailyOf(d: DailyAnswer): DailyBreakdown {
  const cell = (c: DailyMeasures): DailyCell => ({
    cost: c.cost, requests: c.requests, tokens: c.totalTokens, split: splitOf(c),
    ...(c.cacheSavings !== undefined ? { cacheSavings: c.cacheSavings } : {}),
  });
  return {
    groupBy: d.groupBy,
    days: d.days.map((day) => ({
      date: day.date, start: day.start, cost: day.cost, requests: day.requests, tokens: day.totalTokens,
      byKey: Object.fromEntries(Object.entries(day.byKey).map(([k, c]) => [k, cell(c)])),
    })),
    keys: d.keys.map((k) => ({ key: k.key, label: k.label, cost: k.cost, requests: k.requests })),
    unknownCostRequests: d.unknownCostRequests,
  };
}

function retiredOf(r: GatewayRetiredModel | null): RetiredModel | null {
  return r && { since: r.since, replacement: r.replacement, askedBy: { agents: r.askedBy.agents.map((a) => ({ id: a.id, name: a.name })), sessions: r.askedBy.sessions } };
}

/** Sessions per page of the Sessions table. */
export const SESSIONS_PAGE_SIZE = VIEW_SESSIONS_PAGE_SIZE;
/** Recent requests the panel holds (the API's most); the table pages through them. */
export const RECENT_LIMIT = VIEW_RECENT_LIMIT;

interface Target { projectKey: string | null; sessionId: string | null }
type TargetQuery = Pick<QueryOf<typeof ROUTES.analyticsView>, 'project' | 'session' | 'range' | 'from' | 'to'>;

/**
 * A session's figures cover its whole life (range=session: its first to its last request),
 * whatever its age and whatever period the panel holds; a project's, the period asked.
 */
function targetQuery(target: Target, period: AnalyticsPeriod): TargetQuery {
  const project = target.projectKey ? { project: target.projectKey } : {};
  return target.sessionId ? { range: 'session', ...project, session: target.sessionId } : { ...periodParams(period), ...project };
}

/** One page of the range's sessions, ranked over the whole range. */
export async function loadSessionsPage(api: AnalyticsApi, projectKey: string | null, period: AnalyticsPeriod, sort: SessionSort, offset: number, sessionId: string | null = null, limit = SESSIONS_PAGE_SIZE, maxWaitMs = 60_000): Promise<SessionsPage> {
  const tz = await dayTimeZone(api);
  const query = { ...targetQuery({ projectKey, sessionId }, period), tz, sort, offset: String(offset), limit: String(limit) };
  const r = await call(api, ROUTES.analyticsSessions, { query }, { waitForStoreMs: maxWaitMs });
  return { sort: r.sort === sort ? sort : 'recent', offset: r.offset, total: r.total, sessions: r.sessions.map(sessionOf) };
}

/**
 * The analytics of a project (null: every project) or one session, in one call. It waits
 * while the gateway's store is still opening (503, waitForStoreMs): the first
 * start of a store takes seconds, and the panel should fill in by itself, not fail.
 */
export async function loadAnalytics(api: AnalyticsApi, projectKey: string | null, rangeOrPeriod: AnalyticsRange | AnalyticsPeriod, maxWaitMs = 60_000, sessionId: string | null = null): Promise<AnalyticsData> {
  const period: AnalyticsPeriod = typeof rangeOrPeriod === 'string' ? { range: rangeOrPeriod } : rangeOrPeriod;
  const { range } = period;
  const tz = await dayTimeZone(api);
  const hourly = range === 'day' || range === '24h' || range === 'today';
  // A session's buckets: hours or days as its span needs (the gateway chooses).
  const bucket = sessionId ? {} : { bucket: hourly ? 'hour' as const : 'day' as const };
  const view = await call(api, ROUTES.analyticsView, { query: { ...targetQuery({ projectKey, sessionId }, period), tz, ...bucket } }, { waitForStoreMs: maxWaitMs });
  const { summary, models, timeseries, sources, recent, agents, sessions, savings, cache } = view;
  const sessionRows = sessions.sessions.map(sessionOf);
  const daily: Partial<Record<DailyGroupBy, DailyBreakdown>> = {};
  for (const d of Object.values(view.daily)) if (d) daily[d.groupBy] = dailyOf(d);
  return {
    range,
    ...(range === 'custom' && period.from && period.to ? { from: period.from, to: period.to } : {}),
    scope: scopeOf(summary.scope, period),
    bucket: timeseries.bucket === 'hour' ? 'hour' : 'day',
    summary: {
      cost: summary.cost,
      costUnknownRequests: summary.unknownCostRequests,
      refusedRequests: summary.refusedRequests,
      tokens: summary.totalTokens,
      requests: summary.requests,
      averageCostPerRequest: summary.averageCostPerRequest,
      split: splitOf(summary),
      failedRequests: summary.failedRequests,
      errorRate: summary.errorRate,
      failedByStatus: summary.failedByStatus.map((f) => ({ status: f.status, error: f.error, requests: f.requests })),
      unpricedRequests: summary.unpricedRequests,
      unpricedModels: summary.unpricedModels.map((m) => ({ model: m.model, requests: m.requests, tokens: m.totalTokens })),
      // A session has no previous period to compare with (the span before it means nothing).
      ...(!sessionId ? { previous: { cost: summary.previous.cost, requests: summary.previous.requests, tokens: summary.previous.totalTokens } } : {}),
    },
    models: models.models.map((m) => ({
      model: m.model, requests: m.requests, tokens: m.totalTokens, cost: m.cost, split: splitOf(m),
      priceKnown: m.priceKnown, retired: retiredOf(m.retired), cacheSavings: m.cacheSavings,
    })),
    timeseries: timeseries.points.map((p) => ({ bucketStart: p.start, cost: p.cost ?? 0, requests: p.requests })),
    sources: sources.sources.map((s) => ({ source: s.source ?? 'unknown', requests: s.requests, cost: s.cost, share: s.share })),
    recent: recent.requests.slice(0, RECENT_LIMIT).map((r) => ({
      requestId: r.requestId, sessionId: r.sessionId ?? null, agentName: r.agent?.name ?? null, model: r.model,
      tokens: totalTokens(r), cost: r.cost, createdAt: r.at, source: r.source ?? undefined, ...(r.costSource === REFUSED_COST_SOURCE ? { refused: true } : {}),
    })),
    agents: agents.agents.map((a) => ({ agentId: a.agentId, name: a.name, requests: a.requests, tokens: a.totalTokens, cost: a.cost, share: a.share, trend: a.trend })),
    sessions: sessionRows,
    sessionsPage: { sort: sessions.sort === 'cost' ? 'cost' : 'recent', offset: sessions.offset, total: sessions.total },
    daily,
    savings: savings.comparedRequests > 0
      ? { actual: savings.actualCost, onDefaultModel: savings.baselineCost, saved: savings.savings, defaultModel: savings.baselineModels[0] ?? null }
      : null,
    cache: { hitRate: cache.hitRate, netSavings: cache.netSavings },
  };
}

/** Why the Team view has no data, with what to tell the person. */
export class TeamAnalyticsError extends Error {
  constructor(readonly problem: TeamAnalyticsProblem, message: string) {
    super(message);
    this.name = 'TeamAnalyticsError';
  }
}

/**
 * The workspace's team usage for a range: of the shared project the workspace is linked to
 * (ROUTES.workspaceLinks), else of the workspace's own project on Supabase.
 */
export async function loadTeamAnalytics(api: CallVia, projectKey: string | null, period: AnalyticsPeriod): Promise<TeamAnalyticsData> {
  const { range } = period;
  if (!projectKey) throw new TeamAnalyticsError('noProject', 'Open a single workspace folder to see its team\'s usage.');
  const links = await call(api, ROUTES.workspaceLinks, {}).catch(() => []);
  const project = (Array.isArray(links) ? links : []).find((l) => l.workspaceKey === projectKey)?.projectId ?? projectKey;
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  let r: TeamUsageResponse;
  try {
    r = await call(api, ROUTES.analyticsMembers, { query: { project, ...periodParams(period), tz, scope: 'team' } });
  } catch (err) {
    const status = err instanceof GatewayHttpError ? err.status : 0;
    if (status === 409) throw new TeamAnalyticsError('signedOut', (err as Error).message);
    if (status === 404) throw new TeamAnalyticsError('noProject', (err as Error).message);
    throw new TeamAnalyticsError('failed', (err as Error).message);
  }
  // A member's cost leaves out the requests without a price: costedRequests tells how many are unknown.
  const members = r.members.map((m) => ({
    userId: m.userId,
    name: m.displayName,
    email: m.email,
    role: m.role,
    isYou: m.isYou,
    requests: m.requests,
    tokens: totalTokens(m),
    cost: m.cost,
    costUnknownRequests: Math.max(0, m.requests - m.costedRequests),
  }));
  const t = r.totals;
  return {
    range,
    projectName: r.project.name,
    role: r.project.role === 'owner' ? 'owner' : 'member',
    ownerEmail: r.project.ownerEmail ?? null,
    members,
    totals: {
      requests: t.requests,
      tokens: totalTokens(t),
      cost: t.cost,
      costUnknownRequests: Math.max(0, t.requests - t.costedRequests),
    },
  };
}
