/**
 * What the sidebar shows, read from the gateway: today's figures, its cost per hour and the
 * last requests of one scope (the workspace's project, or every project), and that scope's
 * spend today and this month against its budgets. Today is the calendar day in the gateway's
 * zone, as budgets count it. No vscode import: the tests run it against a real gateway.
 */
import { calendarDates } from '../../protocol/webviewMessages';
import type { GatewayHealthView, SidebarDecision } from '../../protocol/webviewMessages';
import type { SidebarSpendData } from '../../protocol/webviewMessages';
import { REFUSED_COST_SOURCE, totalTokens } from '../../protocol/measures';
import { call } from '../../conduit/client/call';
import { ROUTES } from '../../protocol/routes';
import { loadCalendarSpend, type SpendApi } from './calendarSpend';
import { gatewayFacts } from './gatewayFacts';
import { credentialsProblem } from '../../protocol/credentials';
import { gatewayWarning } from '../ui/gatewayWarning';
import type { GatewayState } from '../gateway/supervisor';

/** The project the sidebar covers; null: every project (no single workspace folder). */
export interface SidebarScope { key: string; name: string }

const DECISIONS = 10;


/**
 * The gateway's health as the sidebar shows it, with the status bar's warning (a journal that
 * cannot write, a refused config.json, no credentials): "running" alone would say all is well
 * where the status bar says it is not.
 */
export function healthViewOf(s: Pick<GatewayState, 'health' | 'port' | 'version' | 'message' | 'journal' | 'credentials' | 'configProblem'>): GatewayHealthView {
  const running = s.health === 'running';
  return {
    health: s.health, port: s.port, version: s.version, message: s.message,
    warning: running ? gatewayWarning(s) : null,
    needsCredentials: running && credentialsProblem(s.credentials) !== null,
  };
}

/** "project synapse-app" / "all projects": whose figures the sidebar and the status bar show. */
export function scopeLabelOf(scope: SidebarScope | null): string {
  return scope ? `project ${scope.name}` : 'all projects';
}

export async function loadSidebarData(api: SpendApi, health: GatewayHealthView, scope: SidebarScope | null, maxWaitMs = 30_000): Promise<SidebarSpendData> {
  const data: SidebarSpendData = {
    health,
    today: { cost: null, tokens: 0, requests: 0, costUnknownRequests: 0 },
    costSeries: [],
    decisions: [],
    scopeLabel: scopeLabelOf(scope),
  };
  try {
    const { timeZone } = await gatewayFacts(api);
    const { today } = calendarDates(timeZone);
    const target = { range: 'custom', from: today, to: today, tz: timeZone, ...(scope ? { project: scope.key } : {}) };
    const wait = { waitForStoreMs: maxWaitMs };
    const [summary, series, recent, spend] = await Promise.all([
      call(api, ROUTES.analyticsSummary, { query: target }, wait),
      call(api, ROUTES.analyticsTimeseries, { query: { ...target, bucket: 'hour' } }, wait),
      call(api, ROUTES.analyticsRecent, { query: { ...target, limit: String(DECISIONS) } }, wait),
      loadCalendarSpend(api, { projectKey: scope?.key }, timeZone, maxWaitMs),
    ]);
    data.today = {
      cost: summary.cost, tokens: summary.totalTokens, requests: summary.requests,
      costUnknownRequests: summary.unknownCostRequests, refusedRequests: summary.refusedRequests,
    };
    // The day's hours up to now: the store's buckets run to the end of the day.
    const now = Date.now();
    data.costSeries = series.points.map((p) => ({ bucketStart: p.start, cost: p.cost ?? 0 }))
      .filter((p) => Date.parse(p.bucketStart) <= now);
    data.decisions = recent.requests.slice(0, DECISIONS).map((r): SidebarDecision => ({
      requestId: r.requestId, model: r.model, source: r.source ?? 'unknown', rule: r.rule ?? '',
      tokenCount: totalTokens(r), timestamp: r.at, agentName: r.agent?.name ?? null,
      ...(r.costSource === REFUSED_COST_SOURCE ? { refused: true } : {}),
    }));
    data.spend = spend;
  } catch { /* the gateway or its store is not up yet: health alone */ }
  return data;
}
