/**
 * Assembles the analytics view's data from the gateway's analytics API
 * (GET /v1/conduit/analytics/<query>, each answering {query, scope, result}), and its Team
 * view from the members query (answered from Supabase, src/protocol/team.ts).
 */
import type { TeamUsageResponse, WorkspaceLink } from '../../protocol/team';
import type { AnalyticsData, AnalyticsRange, TeamAnalyticsData, TeamAnalyticsProblem } from '../../protocol/webviewMessages';
import { GatewayHttpError, type GatewayApi } from '../gateway/gatewayApi';
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

/** Today's and a session's cost as the usage store has them: the one source of totals. */
export interface LedgerTotals {
  today: { cost: number | null; unknownCostRequests: number };
  /** The session asked for; null when none was. */
  session: { id: string; cost: number | null; unknownCostRequests: number } | null;
}

/** Reads LedgerTotals from the analytics summary (range=day; a session over the last 30 days). */
export async function loadTotals(api: GatewayApi, sessionId: string | null, maxWaitMs = 60_000): Promise<LedgerTotals> {
  const tz = await dayTimeZone(api);
  const summary = (params: Record<string, string>) => api.callWhenReady<Json>('GET', `/v1/conduit/analytics/summary?${new URLSearchParams({ tz, ...params })}`, undefined, maxWaitMs)
    .then((s) => ({ cost: numOrNull(s?.cost), unknownCostRequests: num(s?.unknownCostRequests) }));
  const [today, session] = await Promise.all([
    summary({ range: 'day' }),
    sessionId ? summary({ range: 'month', session: sessionId }) : Promise.resolve(null),
  ]);
  return { today, session: sessionId && session ? { id: sessionId, ...session } : null };
}

/**
 * The analytics of a project (null: every project) or one session. Each query waits while
 * the gateway's store is still opening (503, GatewayApi.callWhenReady): the first start of a
 * store takes seconds, and the panel should fill in by itself, not fail.
 */
export async function loadAnalytics(api: GatewayApi, projectKey: string | null, range: AnalyticsRange, maxWaitMs = 60_000, sessionId: string | null = null): Promise<AnalyticsData> {
  const tz = await dayTimeZone(api);
  const query = (q: string) => {
    const params = new URLSearchParams({ range, tz, ...(projectKey ? { project: projectKey } : {}), ...(sessionId ? { session: sessionId } : {}), ...(q === 'timeseries' ? { bucket: range === 'day' ? 'hour' : 'day' } : {}) });
    // Each answer is {query, scope, ...its figures}.
    return api.callWhenReady<Json>('GET', `/v1/conduit/analytics/${q}?${params}`, undefined, maxWaitMs).then((r) => r ?? {});
  };
  const [summary, models, timeseries, sources, recent, agents, sessions, savings, cache] = await Promise.all(
    ['summary', 'models', 'timeseries', 'sources', 'recent', 'agents', 'sessions', 'savings', 'cache'].map(query),
  );
  return {
    range,
    bucket: timeseries.bucket === 'hour' ? 'hour' : 'day',
    summary: {
      cost: numOrNull(summary.cost),
      costUnknownRequests: num(summary.unknownCostRequests),
      refusedRequests: num(summary.refusedRequests),
      tokens: num(summary.totalTokens),
      requests: num(summary.requests),
      avgCostPerRequest: numOrNull(summary.averageCostPerRequest),
    },
    models: (models.models ?? []).map((m: Json) => ({ model: String(m.model ?? 'unknown'), requests: num(m.requests), tokens: num(m.totalTokens), cost: numOrNull(m.cost) })),
    timeseries: (timeseries.points ?? []).map((p: Json) => ({ bucketStart: String(p.start), cost: num(p.cost), requests: num(p.requests) })),
    sources: (sources.sources ?? []).map((s: Json) => ({ source: String(s.source ?? 'unknown'), requests: num(s.requests) })),
    recent: (recent.requests ?? []).slice(0, 50).map((r: Json) => ({
      requestId: String(r.requestId), sessionId: r.sessionId ?? null, agentName: r.agent?.name ?? null, model: String(r.model),
      tokens: tokensOf(r), cost: numOrNull(r.cost), createdAt: String(r.at), source: r.source ?? undefined, ...(r.costSource === REFUSED_COST_SOURCE ? { refused: true } : {}),
    })),
    agents: (agents.agents ?? []).map((a: Json) => ({ agentId: a.agentId ?? a.id ?? null, name: a.name ?? null, requests: num(a.requests), tokens: num(a.totalTokens), cost: numOrNull(a.cost) })),
    sessions: (sessions.sessions ?? []).map((s: Json) => ({
      sessionId: String(s.sessionId), agentNames: (s.agents ?? []).map((a: Json) => String(a.name ?? '')).filter(Boolean),
      models: (Array.isArray(s.models) ? s.models : []).map((m: Json) => ({
        requestedModel: typeof m?.requestedModel === 'string' ? m.requestedModel : '', model: String(m?.model ?? 'unknown'), requests: num(m?.requests),
      })),
      requests: num(s.requests), tokens: num(s.totalTokens), cost: numOrNull(s.cost), firstAt: String(s.firstAt), lastAt: String(s.lastAt),
    })),
    savings: num(savings.comparedRequests) > 0
      ? { actual: num(savings.actualCost), onDefaultModel: num(savings.baselineCost), saved: num(savings.savings), defaultModel: savings.baselineModels?.[0] ?? null }
      : null,
    cache: cache && (cache.hitRate !== undefined) ? { hitRate: numOrNull(cache.hitRate), savedUsd: numOrNull(cache.netSavings) } : null,
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
export async function loadTeamAnalytics(api: Pick<GatewayApi, 'call'>, projectKey: string | null, range: AnalyticsRange): Promise<TeamAnalyticsData> {
  if (!projectKey) throw new TeamAnalyticsError('noProject', 'Open a single workspace folder to see its team\'s usage.');
  const links = await api.call<WorkspaceLink[]>('GET', '/v1/conduit/team/links').catch(() => [] as WorkspaceLink[]);
  const project = (Array.isArray(links) ? links : []).find((l) => l.workspaceKey === projectKey)?.projectId ?? projectKey;
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  let r: TeamUsageResponse;
  try {
    r = await api.call<TeamUsageResponse>('GET', `/v1/conduit/analytics/members?${new URLSearchParams({ project, range, tz, scope: 'team' })}`);
  } catch (err) {
    const status = err instanceof GatewayHttpError ? err.status : 0;
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
