/**
 * Assembles the analytics view's data from the gateway's analytics API
 * (GET /v1/conduit/analytics/<query>, each answering {query, scope, result}), and its Team
 * view from the members query (answered from Supabase, src/protocol/team.ts).
 */
import type { TeamUsageResponse, WorkspaceLink } from '../../protocol/team';
import {
  ANALYTICS_RANGES, type AnalyticsData, type AnalyticsPeriod, type AnalyticsRange, type AnalyticsScope, type DailyBreakdown, type DailyCell,
  type DailyGroupBy, type RetiredModel, type SessionSort, type SessionUsage, type SessionsPage, type TeamAnalyticsData, type TeamAnalyticsProblem,
  type TokenSplit,
} from '../../protocol/webviewMessages';
// Types only: this file is loaded outside VS Code too (tests against a real gateway).
import type { GatewayApi } from '../gateway/gatewayApi';
import { REFUSED_COST_SOURCE, totalTokens } from '../../protocol/measures';

type Json = any; // the gateway's answers, read defensively field by field

const num = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/** Total tokens of an answer's row (src/protocol/measures.ts), its fields read defensively. */
const tokensOf = (r: Json): number => totalTokens({ inputTokens: num(r?.inputTokens), outputTokens: num(r?.outputTokens), cacheCreationTokens: num(r?.cacheCreationTokens), cacheReadTokens: num(r?.cacheReadTokens) });

/**
 * The zone of "today" on every surface: the gateway's (config.json's budgetTimeZone, else
 * the system's, as GET /v1/conduit/status says), so the status bar, the sidebar, the
 * analytics and the budgets end the day at the same moment. The extension host's own zone
 * when the gateway does not say (not running, or older).
 */
export async function dayTimeZone(api: Pick<GatewayApi, 'call'>): Promise<string> {
  try {
    const status = await api.call<Json>('GET', '/v1/conduit/status');
    if (typeof status?.timeZone === 'string' && status.timeZone) return status.timeZone;
  } catch { /* not running: the host's zone, the gateway's default too */ }
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The gateway's calls the analytics need (GatewayApi; a test passes plain HTTP). */
export type AnalyticsApi = Pick<GatewayApi, 'call' | 'callWhenReady'>;

/** The HTTP status of a gateway's refusal (GatewayHttpError), else 0. Read by shape: this file stays free of 'vscode'. */
export function httpStatus(err: unknown): number {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : 0;
}

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

const splitOf = (r: Json): TokenSplit => ({
  inputTokens: num(r?.inputTokens), outputTokens: num(r?.outputTokens), cacheCreationTokens: num(r?.cacheCreationTokens), cacheReadTokens: num(r?.cacheReadTokens),
});
const hasSplit = (r: Json): boolean => typeof r?.inputTokens === 'number';

/** The query string of a period (custom: its two days). */
export function periodParams(period: AnalyticsPeriod): Record<string, string> {
  return period.range === 'custom' && period.from && period.to ? { range: 'custom', from: period.from, to: period.to } : { range: period.range };
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function scopeOf(raw: Json, period: AnalyticsPeriod): AnalyticsScope | null {
  if (!raw || typeof raw !== 'object' || typeof raw.from !== 'string' || typeof raw.to !== 'string') return null;
  const previous = raw.previous && typeof raw.previous.from === 'string' && typeof raw.previous.to === 'string' ? { from: raw.previous.from, to: raw.previous.to } : null;
  return {
    range: typeof raw.range === 'string' && (ANALYTICS_RANGES as readonly string[]).includes(raw.range) ? raw.range : period.range,
    calendar: raw.calendar === true,
    label: str(raw.label) ?? RANGE_LABELS[period.range],
    from: raw.from,
    to: raw.to,
    previous,
  };
}

/** What the panel's range picker calls each kind, when an older gateway gives no label. */
export const RANGE_LABELS: Record<AnalyticsRange, string> = {
  today: 'Today', 'this-week': 'This week', 'this-month': 'This month', '24h': 'Last 24 hours', '7d': 'Last 7 days', '30d': 'Last 30 days',
  custom: 'Custom range', day: 'Last 24 hours', week: 'Last 7 days', month: 'Last 30 days',
};

function sessionOf(s: Json): SessionUsage {
  return {
    sessionId: String(s.sessionId), agentNames: (s.agents ?? []).map((a: Json) => String(a.name ?? '')).filter(Boolean),
    models: (Array.isArray(s.models) ? s.models : []).map((m: Json) => ({
      requestedModel: typeof m?.requestedModel === 'string' ? m.requestedModel : '', model: String(m?.model ?? 'unknown'), requests: num(m?.requests),
    })),
    requests: num(s.requests), tokens: num(s.totalTokens), cost: numOrNull(s.cost), firstAt: String(s.firstAt), lastAt: String(s.lastAt),
    claudeSessionId: str(s.claudeSessionId),
    durationMs: typeof s.durationMs === 'number' ? s.durationMs : Math.max(0, Date.parse(s.lastAt) - Date.parse(s.firstAt)) || 0,
    firstPrompt: str(s.firstPrompt),
  };
}

function dailyOf(raw: Json, groupBy: DailyGroupBy): DailyBreakdown {
  const cell = (c: Json): DailyCell => ({
    cost: numOrNull(c?.cost), requests: num(c?.requests), tokens: num(c?.totalTokens), ...(hasSplit(c) ? { split: splitOf(c) } : {}),
    ...(c?.cacheSavings !== undefined ? { cacheSavings: numOrNull(c.cacheSavings) } : {}),
  });
  return {
    groupBy,
    days: (Array.isArray(raw?.days) ? raw.days : []).map((d: Json) => ({
      date: String(d.date), start: String(d.start), cost: numOrNull(d.cost), requests: num(d.requests), tokens: num(d.totalTokens),
      byKey: Object.fromEntries(Object.entries(d.byKey && typeof d.byKey === 'object' ? d.byKey : {}).map(([k, c]) => [k, cell(c)])),
    })),
    keys: (Array.isArray(raw?.keys) ? raw.keys : []).map((k: Json) => ({ key: String(k.key ?? ''), label: String(k.label ?? k.key ?? ''), cost: numOrNull(k.cost), requests: num(k.requests) })),
    unknownCostRequests: num(raw?.unknownCostRequests),
  };
}

/** Sessions per page of the Sessions table. */
export const SESSIONS_PAGE_SIZE = 25;
/** Recent requests the panel holds (the API's most); the table pages through them. */
export const RECENT_LIMIT = 200;

interface Target { projectKey: string | null; sessionId: string | null }

/**
 * A session's figures cover its whole life (range=session: its first to its last request),
 * whatever its age and whatever period the panel holds; a project's, the period asked.
 */
function targetParams(target: Target, period: AnalyticsPeriod): Record<string, string> {
  const project: Record<string, string> = target.projectKey ? { project: target.projectKey } : {};
  return target.sessionId ? { range: 'session', ...project, session: target.sessionId } : { ...periodParams(period), ...project };
}

function queryOf(api: AnalyticsApi, target: Target, period: AnalyticsPeriod, tz: string, maxWaitMs: number) {
  return (q: string, extra: Record<string, string> = {}, optionalExtra = false): Promise<Json> => {
    const base = { ...targetParams(target, period), tz };
    const ask = (params: Record<string, string>) => api.callWhenReady<Json>('GET', `/v1/conduit/analytics/${q}?${new URLSearchParams(params)}`, undefined, maxWaitMs).then((r) => r ?? {});
    // A gateway from before these parameters refuses them (400): ask it without.
    return ask({ ...base, ...extra }).catch((err) => {
      if (optionalExtra && httpStatus(err) === 400) return ask(base);
      throw err;
    });
  };
}

/** One page of the range's sessions, ranked over the whole range. */
export async function loadSessionsPage(api: AnalyticsApi, projectKey: string | null, period: AnalyticsPeriod, sort: SessionSort, offset: number, sessionId: string | null = null, limit = SESSIONS_PAGE_SIZE, maxWaitMs = 60_000): Promise<SessionsPage> {
  const tz = await dayTimeZone(api);
  const r = await queryOf(api, { projectKey, sessionId }, period, tz, maxWaitMs)('sessions', { sort, offset: String(offset), limit: String(limit) }, true);
  const sessions = (r.sessions ?? []).map(sessionOf);
  return { sort: r.sort === sort ? sort : 'recent', offset: num(r.offset, 0), total: num(r.total, sessions.length), sessions };
}

/**
 * The analytics of a project (null: every project) or one session. Each query waits while
 * the gateway's store is still opening (503, GatewayApi.callWhenReady): the first start of a
 * store takes seconds, and the panel should fill in by itself, not fail.
 */
export async function loadAnalytics(api: AnalyticsApi, projectKey: string | null, rangeOrPeriod: AnalyticsRange | AnalyticsPeriod, maxWaitMs = 60_000, sessionId: string | null = null): Promise<AnalyticsData> {
  const period: AnalyticsPeriod = typeof rangeOrPeriod === 'string' ? { range: rangeOrPeriod } : rangeOrPeriod;
  const { range } = period;
  const tz = await dayTimeZone(api);
  const query = queryOf(api, { projectKey, sessionId }, period, tz, maxWaitMs);
  const hourly = range === 'day' || range === '24h' || range === 'today';
  // A session's buckets: hours or days as its span needs (the gateway chooses).
  const bucket: Record<string, string> = sessionId ? {} : { bucket: hourly ? 'hour' : 'day' };
  // The daily breakdowns are new: an older gateway has no such query, and the rest still shows.
  const daily = (groupBy: DailyGroupBy) => query('daily', { groupBy }).then((r) => dailyOf(r, groupBy)).catch((err) => {
    if (httpStatus(err) === 400 || httpStatus(err) === 404) return null;
    throw err;
  });
  const [summary, models, timeseries, sources, recent, agents, sessions, savings, cache, byModel, byAgent, byProject] = await Promise.all([
    query('summary'), query('models'), query('timeseries', bucket), query('sources'),
    query('recent', { limit: String(RECENT_LIMIT) }, true), query('agents'),
    query('sessions', { sort: 'cost', offset: '0', limit: String(SESSIONS_PAGE_SIZE) }, true), query('savings'), query('cache'),
    daily('model'), daily('agent'), projectKey || sessionId ? Promise.resolve(null) : daily('project'),
  ]);
  const sessionRows = (sessions.sessions ?? []).map(sessionOf);
  const dailyParts: Partial<Record<DailyGroupBy, DailyBreakdown>> = {};
  if (byModel) dailyParts.model = byModel;
  if (byAgent) dailyParts.agent = byAgent;
  if (byProject) dailyParts.project = byProject;
  return {
    range,
    ...(range === 'custom' && period.from && period.to ? { from: period.from, to: period.to } : {}),
    scope: scopeOf(summary.scope, period),
    bucket: timeseries.bucket === 'hour' ? 'hour' : 'day',
    summary: {
      cost: numOrNull(summary.cost),
      costUnknownRequests: num(summary.unknownCostRequests),
      refusedRequests: num(summary.refusedRequests),
      tokens: num(summary.totalTokens),
      requests: num(summary.requests),
      avgCostPerRequest: numOrNull(summary.averageCostPerRequest),
      ...(hasSplit(summary) ? { split: splitOf(summary) } : {}),
      ...(typeof summary.failedRequests === 'number' ? {
        failedRequests: num(summary.failedRequests),
        errorRate: numOrNull(summary.errorRate),
        failedByStatus: (Array.isArray(summary.failedByStatus) ? summary.failedByStatus : []).map((f: Json) => ({ status: num(f.status), error: str(f.error), requests: num(f.requests) })),
      } : {}),
      ...(typeof summary.unpricedRequests === 'number' ? {
        unpricedRequests: num(summary.unpricedRequests),
        unpricedModels: (Array.isArray(summary.unpricedModels) ? summary.unpricedModels : []).map((m: Json) => ({ model: String(m.model ?? ''), requests: num(m.requests), tokens: num(m.totalTokens) })),
      } : {}),
      // A session has no previous period to compare with (the span before it means nothing).
      ...(!sessionId && summary.previous && typeof summary.previous === 'object'
        ? { previous: { cost: numOrNull(summary.previous.cost), requests: num(summary.previous.requests), tokens: num(summary.previous.totalTokens) } } : {}),
    },
    models: (models.models ?? []).map((m: Json) => ({
      model: String(m.model ?? 'unknown'), requests: num(m.requests), tokens: num(m.totalTokens), cost: numOrNull(m.cost),
      ...(hasSplit(m) ? { split: splitOf(m) } : {}),
      ...(typeof m.priceKnown === 'boolean' ? { priceKnown: m.priceKnown } : {}),
      ...(m.retired !== undefined ? { retired: retiredOf(m.retired) } : {}),
      ...(m.cacheSavings !== undefined ? { cacheSavings: numOrNull(m.cacheSavings) } : {}),
    })),
    timeseries: (timeseries.points ?? []).map((p: Json) => ({ bucketStart: String(p.start), cost: num(p.cost), requests: num(p.requests) })),
    sources: (sources.sources ?? []).map((s: Json) => ({ source: String(s.source ?? 'unknown'), requests: num(s.requests), cost: numOrNull(s.cost), share: num(s.share) })),
    recent: (recent.requests ?? []).slice(0, RECENT_LIMIT).map((r: Json) => ({
      requestId: String(r.requestId), sessionId: r.sessionId ?? null, agentName: r.agent?.name ?? null, model: String(r.model),
      tokens: tokensOf(r), cost: numOrNull(r.cost), createdAt: String(r.at), source: r.source ?? undefined, ...(r.costSource === REFUSED_COST_SOURCE ? { refused: true } : {}),
    })),
    agents: (agents.agents ?? []).map((a: Json) => ({
      agentId: a.agentId ?? a.id ?? null, name: a.name ?? null, requests: num(a.requests), tokens: num(a.totalTokens), cost: numOrNull(a.cost),
      ...(typeof a.share === 'number' ? { share: a.share } : {}),
      ...(Array.isArray(a.trend) ? { trend: a.trend.map((x: unknown) => num(x)) } : {}),
    })),
    sessions: sessionRows,
    sessionsPage: { sort: sessions.sort === 'cost' ? 'cost' : 'recent', offset: num(sessions.offset, 0), total: num(sessions.total, sessionRows.length) },
    daily: dailyParts,
    savings: num(savings.comparedRequests) > 0
      ? { actual: num(savings.actualCost), onDefaultModel: num(savings.baselineCost), saved: num(savings.savings), defaultModel: savings.baselineModels?.[0] ?? null }
      : null,
    cache: cache && (cache.hitRate !== undefined) ? { hitRate: numOrNull(cache.hitRate), savedUsd: numOrNull(cache.netSavings) } : null,
  };
}

function retiredOf(r: Json): RetiredModel | null {
  if (!r || typeof r !== 'object' || typeof r.since !== 'string') return null;
  return {
    since: r.since,
    replacement: str(r.replacement),
    askedBy: {
      agents: (Array.isArray(r.askedBy?.agents) ? r.askedBy.agents : []).map((a: Json) => ({ id: String(a.id ?? ''), name: String(a.name ?? a.id ?? '') })),
      sessions: num(r.askedBy?.sessions),
    },
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
 * (GET /v1/conduit/team/links), else of the workspace's own project on Supabase.
 */
export async function loadTeamAnalytics(api: Pick<GatewayApi, 'call'>, projectKey: string | null, period: AnalyticsPeriod): Promise<TeamAnalyticsData> {
  const { range } = period;
  if (!projectKey) throw new TeamAnalyticsError('noProject', 'Open a single workspace folder to see its team\'s usage.');
  const links = await api.call<WorkspaceLink[]>('GET', '/v1/conduit/team/links').catch(() => [] as WorkspaceLink[]);
  const project = (Array.isArray(links) ? links : []).find((l) => l.workspaceKey === projectKey)?.projectId ?? projectKey;
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  let r: TeamUsageResponse;
  try {
    r = await api.call<TeamUsageResponse>('GET', `/v1/conduit/analytics/members?${new URLSearchParams({ project, ...periodParams(period), tz, scope: 'team' })}`);
  } catch (err) {
    const status = httpStatus(err);
    if (status === 409) throw new TeamAnalyticsError('signedOut', (err as Error).message);
    if (status === 404) throw new TeamAnalyticsError('noProject', (err as Error).message);
    throw new TeamAnalyticsError('failed', (err as Error).message);
  }
  const members = (r?.members ?? []).map((m) => ({
    userId: String(m.userId),
    name: typeof m.displayName === 'string' ? m.displayName : null,
    email: typeof m.email === 'string' ? m.email : null,
    role: m.role === 'owner' || m.role === 'member' ? m.role : null,
    isYou: m.isYou === true,
    requests: num(m.requests),
    tokens: tokensOf(m),
    cost: num(m.cost),
    costUnknownRequests: Math.max(0, num(m.requests) - num(m.costedRequests)),
  }));
  const t = r?.totals;
  return {
    range,
    projectName: String(r?.project?.name ?? ''),
    role: r?.project?.role === 'owner' ? 'owner' : 'member',
    ownerEmail: typeof r?.project?.ownerEmail === 'string' ? r.project.ownerEmail : null,
    members,
    totals: {
      requests: num(t?.requests),
      tokens: tokensOf(t),
      cost: num(t?.cost),
      costUnknownRequests: Math.max(0, num(t?.requests) - num(t?.costedRequests)),
    },
  };
}
