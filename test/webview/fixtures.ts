// Data the webview tests hand to the views, shaped as the host will send it.
import { DEFAULT_RULES, MODEL_CATEGORIES } from '../../src/conduit/routing/rules';
import type { AgentInfo, ProjectInfo } from '../../src/protocol/projects';
import type { UsageRecord } from '../../src/protocol/usage';
import type {
  AnalyticsData, AnalyticsRange, InheritedRules, ModelConfigInit, ModelOption, SidebarData,
} from '../../src/protocol/webviewMessages';

export const HOSTILE = '<img src=x onerror=alert(1)>';
export const HOSTILE_SCRIPT = '<script>alert(2)</script>';

export const MODELS: ModelOption[] = [
  { id: MODEL_CATEGORIES.powerful, name: 'Claude Opus 5.5', category: 'powerful', provider: 'anthropic' },
  { id: MODEL_CATEGORIES.balanced, name: 'Claude Sonnet 5.5', category: 'balanced', provider: 'anthropic' },
  { id: MODEL_CATEGORIES.fast, name: 'Claude Haiku 4.5', category: 'fast', provider: 'anthropic' },
  { id: 'openrouter/deepseek-v4', name: 'DeepSeek V4', category: null, provider: 'openrouter' },
];

export const INHERITED: InheritedRules = DEFAULT_RULES;

export function project(overrides: Partial<ProjectInfo> = {}): ProjectInfo {
  return {
    id: '5a0c3f5e-0000-4000-8000-000000000001',
    workspaceKey: 'ws-7f3a',
    name: 'synapse-app',
    modelConfig: { enabled: true, defaultModel: MODEL_CATEGORIES.balanced },
    dailyBudgetUsd: null,
    monthlyBudgetUsd: null,
    ...overrides,
  };
}

export function agent(overrides: Partial<AgentInfo> = {}): AgentInfo {
  return {
    id: '5a0c3f5e-0000-4000-8000-0000000000a1',
    projectId: project().id,
    name: 'Reviewer',
    personaType: 'code-reviewer',
    useProjectModel: true,
    customModelId: null,
    ...overrides,
  };
}

export function projectInit(p: ProjectInfo = project(), models: ModelOption[] = MODELS): ModelConfigInit {
  return { target: { kind: 'project', project: p }, models, inheritedRules: INHERITED };
}

export function agentInit(a: AgentInfo = agent(), p: ProjectInfo = project()): ModelConfigInit {
  return { target: { kind: 'agent', project: p, agent: a }, models: MODELS, inheritedRules: INHERITED };
}

// Read at each call: a fixture made now is "3 minutes ago" now, however late the test runs.
const now = (): number => Date.now();
const minutesAgo = (m: number) => new Date(now() - m * 60_000).toISOString();

const DAYS: Record<AnalyticsRange, number> = { today: 1, '24h': 2, 'this-week': 4, '7d': 7, 'this-month': 3, '30d': 30, custom: 3, day: 2, week: 7, month: 30 };
const LABELS: Record<AnalyticsRange, string> = {
  today: 'Today', '24h': 'Last 24 hours', 'this-week': 'This week', '7d': 'Last 7 days', 'this-month': 'This month', '30d': 'Last 30 days',
  custom: 'Dec 1 – Dec 3, 2026', day: 'Last 24 hours', week: 'Last 7 days', month: 'Last 30 days',
};
export const UNPRICED_MODEL = 'ft:claude-haiku-4-5:acme:support';
export const RETIRED_MODEL = 'claude-3-5-sonnet-20241022';

/**
 * A period's data, shaped as the host sends it: daily buckets stacked by model and agent
 * whose sums equal the summary, failed requests apart from unpriced ones, a retired model,
 * newest request 3 minutes ago.
 */
export function analyticsData(range: AnalyticsRange = 'this-month', names: { agent?: string; model?: string } = {}): AnalyticsData {
  const hourly = range === 'day' || range === '24h' || range === 'today';
  const buckets = hourly ? 24 : DAYS[range];
  const step = hourly ? 3_600_000 : 86_400_000;
  const lastStart = Math.floor(now() / step) * step;
  const timeseries = Array.from({ length: buckets }, (_, i) => ({
    bucketStart: new Date(lastStart - (buckets - 1 - i) * step).toISOString(),
    cost: Math.round((0.05 + ((i * 37) % 11) / 20) * 1e4) / 1e4,
    requests: 3 + ((i * 7) % 5),
  }));
  const agentName = names.agent ?? 'Reviewer';
  const model = names.model ?? MODEL_CATEGORIES.balanced;
  const recent = Array.from({ length: 40 }, (_, i) => ({
    requestId: `req-${i}`,
    sessionId: i % 4 === 3 ? null : `sess-${i % 3}`,
    agentName: i % 5 === 4 ? null : i % 2 ? 'Planner' : agentName,
    model: i % 3 === 2 ? MODEL_CATEGORIES.fast : model,
    tokens: 1200 + i * 10,
    cost: i === 5 ? null : 0.0123 + i / 1000,
    createdAt: minutesAgo(3 + i * 7),
    source: i % 3 === 2 ? 'background' : 'default',
  }));
  // Cost per model and day: the summary's cost is their sum (to the micro-dollar).
  const days = DAYS[range];
  const dayStart = Math.floor(now() / 86_400_000) * 86_400_000;
  const modelCost = [[model, 0.3], [MODEL_CATEGORIES.powerful, 0.1], [MODEL_CATEGORIES.fast, 0.01152]] as const;
  const agentKeys = [[agent().id, agentName, 0.75], ['a2', 'Planner', 0.2], ['', 'No agent', 0.05]] as const;
  const dailyDays = Array.from({ length: days }, (_, i) => {
    const date = new Date(dayStart - (days - 1 - i) * 86_400_000);
    return { date: date.toISOString().slice(0, 10), start: date.toISOString(), weight: 1 + (i % 3) };
  });
  const weights = dailyDays.reduce((n, d) => n + d.weight, 0);
  const cell = (cost: number, requests: number) => ({ cost: Math.round(cost * 1e6) / 1e6, requests, tokens: requests * 3000 });
  const byModel = dailyDays.map((d) => {
    const byKey = Object.fromEntries(modelCost.map(([m, c]) => [m, cell((c * d.weight) / weights * 3, d.weight * 2)]));
    const cost = Object.values(byKey).reduce((n, c) => n + c.cost, 0);
    return { date: d.date, start: d.start, cost: Math.round(cost * 1e6) / 1e6, requests: d.weight * 6, tokens: d.weight * 18000, byKey };
  });
  const total = Math.round(byModel.reduce((n, d) => n + d.cost, 0) * 1e6) / 1e6;
  const byAgent = byModel.map((d) => ({
    ...d, byKey: Object.fromEntries(agentKeys.map(([k, , share]) => [k, cell(d.cost * share, d.requests / 3)])),
  }));
  const keys = (list: readonly (readonly [string, string, number])[], perKey: (k: string) => number) => list.map(([key, label]) => ({ key, label, cost: perKey(key), requests: 10 }));
  const sumOf = (rows: typeof byModel, key: string) => Math.round(rows.reduce((n, d) => n + (d.byKey[key]?.cost ?? 0), 0) * 1e6) / 1e6;
  return {
    range,
    ...(range === 'custom' ? { from: '2026-12-01', to: '2026-12-03' } : {}),
    scope: { range, calendar: ['today', 'this-week', 'this-month'].includes(range), label: LABELS[range], from: new Date(dayStart - (days - 1) * 86_400_000).toISOString(), to: new Date(now()).toISOString(), previous: { from: new Date(dayStart - (2 * days - 1) * 86_400_000).toISOString(), to: new Date(dayStart - (days - 1) * 86_400_000).toISOString() } },
    bucket: hourly ? 'hour' : 'day',
    scopeLabel: 'synapse-app',
    summary: {
      cost: total, costUnknownRequests: 7, refusedRequests: 0, tokens: 32_512_000, requests: 1931, averageCostPerRequest: 0.0308,
      split: { inputTokens: 1_200_000, outputTokens: 300_000, cacheCreationTokens: 912_000, cacheReadTokens: 30_100_000 },
      failedRequests: 4, errorRate: 4 / 1931, failedByStatus: [{ status: 529, error: 'overloaded_error', requests: 3 }, { status: 500, error: 'api_error', requests: 1 }],
      unpricedRequests: 3, unpricedModels: [{ model: UNPRICED_MODEL, requests: 3, tokens: 9000 }],
      previous: { cost: total / 1.12, requests: 1700, tokens: 30_000_000 },
    },
    models: [
      { model, requests: 1200, tokens: 20_000_000, cost: sumOf(byModel, model), split: { inputTokens: 800_000, outputTokens: 200_000, cacheCreationTokens: 600_000, cacheReadTokens: 18_400_000 }, priceKnown: true, retired: null, cacheSavings: 49.68 },
      { model: MODEL_CATEGORIES.fast, requests: 500, tokens: 9_000_000, cost: sumOf(byModel, MODEL_CATEGORIES.fast), split: { inputTokens: 300_000, outputTokens: 80_000, cacheCreationTokens: 220_000, cacheReadTokens: 8_400_000 }, priceKnown: true, retired: null, cacheSavings: 7.56 },
      { model: MODEL_CATEGORIES.powerful, requests: 220, tokens: 3_503_000, cost: sumOf(byModel, MODEL_CATEGORIES.powerful), split: { inputTokens: 99_000, outputTokens: 20_000, cacheCreationTokens: 92_000, cacheReadTokens: 3_292_000 }, priceKnown: true, retired: null, cacheSavings: 14.81 },
      { model: UNPRICED_MODEL, requests: 3, tokens: 9000, cost: null, split: { inputTokens: 1000, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 8000 }, priceKnown: false, retired: null, cacheSavings: null },
      { model: RETIRED_MODEL, requests: 8, tokens: 0, cost: 0, split: { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 }, priceKnown: true, retired: { since: '2025-10-22', replacement: 'claude-sonnet-4-5', askedBy: { agents: [{ id: 'a2', name: 'Planner' }], sessions: 2 } }, cacheSavings: 0 },
    ],
    timeseries,
    sources: [
      { source: 'default', requests: 900, cost: 0.5, share: 900 / 1931 }, { source: 'background', requests: 500, cost: 0.02, share: 500 / 1931 },
      { source: 'long-context', requests: 300, cost: 0.3, share: 300 / 1931 }, { source: 'reasoning', requests: 150, cost: 0.2, share: 150 / 1931 },
      { source: 'agent', requests: 40, cost: 0.1, share: 40 / 1931 }, { source: 'web-search', requests: 20, cost: 0.05, share: 20 / 1931 },
      { source: 'plugin', requests: 12, cost: 0.04, share: 12 / 1931 }, { source: 'passthrough', requests: 9, cost: 0.03, share: 9 / 1931 },
    ],
    recent,
    agents: [
      { agentId: 'a2', name: 'Planner', requests: 400, tokens: 7_000_000, cost: sumOf(byAgent, 'a2'), share: 0.2, trend: byAgent.map((d) => d.byKey.a2.cost) },
      { agentId: null, name: null, requests: 31, tokens: 512_000, cost: sumOf(byAgent, ''), share: 0.05, trend: byAgent.map((d) => d.byKey[''].cost) },
      { agentId: agent().id, name: agentName, requests: 1500, tokens: 25_000_000, cost: sumOf(byAgent, agent().id), share: 0.75, trend: byAgent.map((d) => d.byKey[agent().id].cost) },
    ],
    sessions: [
      {
        sessionId: 'sess-0', claudeSessionId: 'sess-0', agentNames: [agentName], requests: 20, tokens: 60000, cost: 17.14, firstAt: minutesAgo(300), lastAt: minutesAgo(3), durationMs: 297 * 60_000,
        firstPrompt: 'Refactor the billing module so that invoices are computed from the ledger', models: [{ requestedModel: MODEL_CATEGORIES.powerful, model: names.model ?? MODEL_CATEGORIES.balanced, requests: 14 }, { requestedModel: MODEL_CATEGORIES.fast, model: MODEL_CATEGORIES.fast, requests: 6 }],
      },
      { sessionId: 'sess-1', claudeSessionId: 'sess-1', agentNames: ['Planner'], requests: 12, tokens: 40000, cost: 15.56, firstAt: minutesAgo(500), lastAt: minutesAgo(10), durationMs: 490 * 60_000, firstPrompt: 'Plan the migration' },
      { sessionId: 'sess-2', claudeSessionId: null, agentNames: [agentName, 'Planner'], requests: 10, tokens: 23456, cost: 14.39, firstAt: minutesAgo(900), lastAt: minutesAgo(17), durationMs: 883 * 60_000, firstPrompt: null },
    ],
    sessionsPage: { sort: 'cost', offset: 0, total: 3 },
    daily: {
      model: { groupBy: 'model', days: byModel, keys: keys(modelCost.map(([m, c]) => [m, m, c] as const), (k) => sumOf(byModel, k)), unknownCostRequests: 7 },
      agent: { groupBy: 'agent', days: byAgent, keys: keys(agentKeys, (k) => sumOf(byAgent, k)), unknownCostRequests: 7 },
    },
    savings: { actual: total, onDefaultModel: total + 1931.2049, saved: 1931.2049, defaultModel: MODEL_CATEGORIES.balanced },
    cache: { hitRate: 0.62, netSavings: 72.05 },
  };
}

export function emptyAnalytics(range: AnalyticsRange = 'this-month'): AnalyticsData {
  return {
    range, bucket: range === 'day' ? 'hour' : 'day', scopeLabel: 'synapse-app',
    scope: { range, calendar: false, label: LABELS[range], from: new Date(now() - 86_400_000).toISOString(), to: new Date(now()).toISOString(), previous: null },
    summary: { cost: null, costUnknownRequests: 0, refusedRequests: 0, tokens: 0, requests: 0, averageCostPerRequest: null },
    models: [], timeseries: [], sources: [], recent: [], agents: [], sessions: [], savings: null, cache: null, daily: {},
  };
}

let recordCounter = 0;

export function usageRecord(overrides: { cost?: number | null; input?: number; output?: number; model?: string; sessionId?: string; agentId?: string; at?: string; source?: string } = {}): UsageRecord {
  recordCounter += 1;
  const at = overrides.at ?? new Date().toISOString();
  return {
    id: `live-${recordCounter}-${Math.random().toString(36).slice(2, 8)}`,
    context: { sessionId: overrides.sessionId ?? 'sess-live', projectId: 'ws-7f3a', agentId: overrides.agentId ?? agent().id, agentType: 'code-reviewer' },
    decision: {
      model: overrides.model ?? MODEL_CATEGORIES.balanced, provider: 'anthropic', source: (overrides.source ?? 'default') as UsageRecord['decision']['source'],
      rule: 'default model', tokenCount: 1000, requestedModel: 'claude-sonnet-5-5', timestamp: at,
    },
    usage: { inputTokens: overrides.input ?? 1000, outputTokens: overrides.output ?? 500, cacheCreationTokens: 0, cacheCreation5mTokens: 0, cacheCreation1hTokens: 0, cacheReadTokens: 0 },
    cost: { cost: overrides.cost === undefined ? 0.01 : overrides.cost, costSource: 'table:test', priceVersion: 'test' },
    status: 200,
    stream: true,
    durationMs: 1200,
    firstByteMs: 300,
    startedAt: at,
    endedAt: at,
    device: 'test',
  };
}

export function sidebarData(names: { agent?: string; model?: string } = {}): SidebarData {
  const hourStart = Math.floor(now() / 3_600_000) * 3_600_000;
  const hours = Math.max(1, new Date(now()).getUTCHours() + 1);
  return {
    health: { health: 'running', port: 3460, version: '0.1.0', message: null },
    today: { cost: 0.4567, tokens: 45678, requests: 17, costUnknownRequests: 1 },
    costSeries: Array.from({ length: hours }, (_, i) => ({
      bucketStart: new Date(hourStart - (hours - 1 - i) * 3_600_000).toISOString(),
      cost: Math.round((0.01 + ((i * 13) % 7) / 100) * 1e4) / 1e4,
    })),
    decisions: Array.from({ length: 8 }, (_, i) => ({
      requestId: `dec-${i}`,
      model: i === 0 ? (names.model ?? MODEL_CATEGORIES.balanced) : i % 2 ? MODEL_CATEGORIES.fast : MODEL_CATEGORIES.powerful,
      source: i % 2 ? 'background' : i === 2 ? 'reasoning' : 'long-context',
      rule: i % 2 ? 'background request for claude-haiku-4-5' : '~72,000 tokens > 60,000',
      tokenCount: 72000,
      timestamp: minutesAgo(2 + i * 5),
      agentName: i === 0 ? (names.agent ?? 'Reviewer') : 'Planner',
    })),
  };
}
