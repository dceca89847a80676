// Data the webview tests hand to the views, shaped as the host will send it.
import { DEFAULT_RULES, MODEL_CATEGORIES } from '../../src/conduit/routing/rules';
import type { AgentInfo, ProjectInfo } from '../../src/protocol/projects';
import type { UsageRecord } from '../../src/protocol/usage';
import { finishAnalytics } from '../../src/conduit/ledger/store/analytics/prices';
import type { ModelTokens } from '../../src/conduit/ledger/store/analytics/raw';
import type { ScopeInfo } from '../../src/conduit/ledger/store/analytics/scope';
import { PriceTable, costOf } from '../../src/conduit/pricing/priceTable';
import { retirementOf } from '../../src/conduit/pricing/retired';
import type {
  AnalyticsData, AnalyticsRange, InheritedRules, ModelConfigInit, ModelOption, SidebarData, TokenSplit,
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

/** The bundled price table (no config.json prices): the list prices of ../shared/PRICES.md. */
const LIST_PRICES = new PriceTable();

/**
 * What `split` costs at `model`'s list prices, by the gateway's own costOf; null without a
 * price. Tokens written to the cache count as 5-minute writes, the default duration.
 */
function listCost(model: string, split: TokenSplit): number | null {
  const hit = LIST_PRICES.lookup(model);
  return hit ? costOf(hit.price, { ...split, cacheCreation5mTokens: split.cacheCreationTokens, cacheCreation1hTokens: 0 }) : null;
}

const usd = (x: number) => Math.round(x * 1e6) / 1e6;
const sum = (xs: readonly number[]) => xs.reduce((n, x) => n + x, 0);
const tokensOf = (s: TokenSplit) => s.inputTokens + s.outputTokens + s.cacheCreationTokens + s.cacheReadTokens;

/** `total` shared out in proportion to `weights`, each part rounded to 1/perUnit, the last part taking what rounding left. */
function spread(total: number, weights: readonly number[], perUnit: number): number[] {
  const w = sum(weights);
  const parts = weights.map((x) => Math.round((total * x * perUnit) / w) / perUnit);
  parts[parts.length - 1] = Math.round((total - sum(parts.slice(0, -1))) * perUnit) / perUnit;
  return parts;
}

/**
 * A period's usage per model, the figures everything else is derived from. `priceOf` is the
 * model whose list price applies: tests may show another name (a hostile one) in its place.
 * failed: requests that ended in an error before any usage (their cost is unknown); the
 * retired model's all fail upstream.
 */
interface PeriodModel { model: string; priceOf: string; requests: number; failed: number; split: TokenSplit }

function periodModels(balanced: string): PeriodModel[] {
  return [
    { model: balanced, priceOf: MODEL_CATEGORIES.balanced, requests: 1200, failed: 3, split: { inputTokens: 800_000, outputTokens: 200_000, cacheCreationTokens: 600_000, cacheReadTokens: 18_400_000 } },
    { model: MODEL_CATEGORIES.fast, priceOf: MODEL_CATEGORIES.fast, requests: 500, failed: 0, split: { inputTokens: 300_000, outputTokens: 80_000, cacheCreationTokens: 220_000, cacheReadTokens: 8_400_000 } },
    { model: MODEL_CATEGORIES.powerful, priceOf: MODEL_CATEGORIES.powerful, requests: 220, failed: 1, split: { inputTokens: 99_000, outputTokens: 20_000, cacheCreationTokens: 92_000, cacheReadTokens: 3_292_000 } },
    { model: UNPRICED_MODEL, priceOf: UNPRICED_MODEL, requests: 3, failed: 0, split: { inputTokens: 1000, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 8000 } },
    { model: RETIRED_MODEL, priceOf: RETIRED_MODEL, requests: 8, failed: 8, split: { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 } },
  ];
}

/** A model's row as the gateway's ledger sums it, for the gateway's own pricing of savings and cache (finishAnalytics). */
function ledgerRow(m: PeriodModel, cost: number | null): ModelTokens {
  const costed = cost === null ? 0 : m.requests - m.failed;
  return {
    model: m.priceOf, projectId: project().id, defaultModel: MODEL_CATEGORIES.balanced,
    requests: m.requests, errors: m.failed, ...m.split, cacheCreation5mTokens: m.split.cacheCreationTokens, cacheCreation1hTokens: 0,
    totalTokens: tokensOf(m.split), cost: cost ?? 0, costedRequests: costed, unknownCostRequests: m.requests - costed,
  };
}

/** Which models' requests each routing source sent (all of a model's requests share its cost evenly). */
function sourceRequests(balanced: string): Record<string, Record<string, number>> {
  return {
    default: { [balanced]: 900 }, background: { [MODEL_CATEGORIES.fast]: 500 }, 'long-context': { [balanced]: 300 },
    reasoning: { [MODEL_CATEGORIES.powerful]: 150 }, agent: { [MODEL_CATEGORIES.powerful]: 40 }, 'web-search': { [MODEL_CATEGORIES.powerful]: 20 },
    plugin: { [MODEL_CATEGORIES.powerful]: 10, [UNPRICED_MODEL]: 3 }, passthrough: { [RETIRED_MODEL]: 8 },
  };
}

/** One request's tokens: a quarter of them output, the rest input. */
const requestSplit = (tokens: number): TokenSplit => ({ inputTokens: tokens - Math.round(tokens / 4), outputTokens: Math.round(tokens / 4), cacheCreationTokens: 0, cacheReadTokens: 0 });

/**
 * A period's data, shaped as the host sends it, every figure agreeing with the others: each
 * model's cost is its tokens at the list prices (src/conduit/pricing), the summary their sums,
 * savings and cache economics priced by the gateway's own finishAnalytics; daily buckets
 * stacked by model and agent, the routing sources and the timeseries add up to the summary.
 * Failed requests apart from unpriced ones, a retired model, newest request 3 minutes ago.
 * The period's totals are the same whatever the range (only the buckets differ).
 */
export function analyticsData(range: AnalyticsRange = 'this-month', names: { agent?: string; model?: string } = {}): AnalyticsData {
  const agentName = names.agent ?? 'Reviewer';
  const model = names.model ?? MODEL_CATEGORIES.balanced;
  const scopeStub = {} as ScopeInfo;

  // Per model: tokens at list prices, then what the gateway derives from them.
  const period = periodModels(model);
  const costs = period.map((m) => { const c = listCost(m.priceOf, m.split); return c === null ? null : usd(c); });
  const rows = period.map((m, i) => ledgerRow(m, costs[i]));
  const priced = finishAnalytics({ query: 'models', scope: scopeStub, result: { models: rows } }, LIST_PRICES, {}).models as { cacheSavings: number | null }[];
  const savings = finishAnalytics({ query: 'savings', scope: scopeStub, byModel: rows }, LIST_PRICES, {}) as { actualCost: number; baselineCost: number; savings: number };
  const cache = finishAnalytics({ query: 'cache', scope: scopeStub, byModel: rows }, LIST_PRICES, {}) as { hitRate: number | null; netSavings: number };
  const total = usd(sum(costs.map((c) => c ?? 0)));
  const requests = sum(period.map((m) => m.requests));
  const tokens = sum(period.map((m) => tokensOf(m.split)));
  const failed = sum(period.map((m) => m.failed));
  const unpriced = period.filter((_, i) => costs[i] === null);
  const unpricedRequests = sum(unpriced.map((m) => m.requests));
  const costUnknown = failed + unpricedRequests;
  const splitTotal = (k: keyof TokenSplit) => sum(period.map((m) => m.split[k]));

  const hourly = range === 'day' || range === '24h' || range === 'today';
  const days = DAYS[range];
  const dayStart = Math.floor(now() / 86_400_000) * 86_400_000;
  const dailyDays = Array.from({ length: days }, (_, i) => {
    const date = new Date(dayStart - (days - 1 - i) * 86_400_000);
    return { date: date.toISOString().slice(0, 10), start: date.toISOString(), weight: 1 + (i % 3) };
  });
  const weights = dailyDays.map((d) => d.weight);

  // Cost per model and day: each priced model's cost, requests and tokens shared out over the days.
  const pricedModels = period.map((m, i) => ({ ...m, cost: costs[i] })).filter((m) => m.cost !== null && m.cost > 0);
  const modelDays = pricedModels.map((m) => ({ cost: spread(m.cost!, weights, 1e6), requests: spread(m.requests, weights, 1), tokens: spread(tokensOf(m.split), weights, 1) }));
  const byModel = dailyDays.map((d, i) => {
    const byKey = Object.fromEntries(pricedModels.map((m, j) => [m.model, { cost: modelDays[j].cost[i], requests: modelDays[j].requests[i], tokens: modelDays[j].tokens[i] }]));
    const cells = Object.values(byKey);
    return { date: d.date, start: d.start, cost: usd(sum(cells.map((c) => c.cost))), requests: sum(cells.map((c) => c.requests)), tokens: sum(cells.map((c) => c.tokens)), byKey };
  });

  // Agents: shares of the period's cost, tokens and requests alike; per day, a share of the day.
  const agentShares = [[agent().id, agentName, 0.75], ['a2', 'Planner', 0.2], ['', 'No agent', 0.05]] as const;
  const agentTotals = agentShares.map(([key, , share], i) => ({
    key, cost: i === agentShares.length - 1 ? usd(total - sum(agentShares.slice(0, -1).map(([, , s]) => usd(total * s)))) : usd(total * share),
    requests: spread(requests, agentShares.map(([, , s]) => s), 1)[i], tokens: spread(tokens, agentShares.map(([, , s]) => s), 1)[i],
  }));
  const agentDays = agentTotals.map((a) => ({ cost: spread(a.cost, byModel.map((d) => d.cost), 1e6), requests: spread(a.requests, weights, 1), tokens: spread(a.tokens, weights, 1) }));
  const byAgent = byModel.map((d, i) => ({
    ...d, byKey: Object.fromEntries(agentTotals.map((a, j) => [a.key, { cost: agentDays[j].cost[i], requests: agentDays[j].requests[i], tokens: agentDays[j].tokens[i] }])),
  }));
  const agentRow = (key: string) => agentTotals.find((a) => a.key === key)!;
  const sumOf = (rows: typeof byModel, key: string) => usd(sum(rows.map((d) => d.byKey[key]?.cost ?? 0)));
  const keys = (list: readonly (readonly [string, string])[], perKey: (k: string) => { cost: number; requests: number }) => list.map(([key, label]) => ({ key, label, ...perKey(key) }));

  // The chart's buckets: the days above, or the period's cost and requests shared out over 24 hours.
  const buckets = hourly ? 24 : days;
  const step = hourly ? 3_600_000 : 86_400_000;
  const lastStart = Math.floor(now() / step) * step;
  const hourWeights = Array.from({ length: 24 }, (_, i) => 1 + ((i * 37) % 11));
  const hourCost = spread(total, hourWeights, 1e4);
  const hourRequests = spread(requests, hourWeights, 1);
  const timeseries = Array.from({ length: buckets }, (_, i) => ({
    bucketStart: new Date(lastStart - (buckets - 1 - i) * step).toISOString(),
    cost: hourly ? hourCost[i] : byModel[i].cost,
    requests: hourly ? hourRequests[i] : byModel[i].requests,
  }));

  // Routing sources: each model's cost shared by its requests.
  const perRequest = new Map(period.map((m, i) => [m.model, { requests: m.requests, cost: costs[i] }]));
  const sources = Object.entries(sourceRequests(model)).map(([source, byModelRequests]) => {
    const n = sum(Object.values(byModelRequests));
    const known = Object.entries(byModelRequests).filter(([m]) => perRequest.get(m)!.cost !== null);
    const cost = known.length ? usd(sum(known.map(([m, r]) => (perRequest.get(m)!.cost! * r) / perRequest.get(m)!.requests))) : null;
    return { source, requests: n, cost, share: n / requests };
  });

  const recent = Array.from({ length: 40 }, (_, i) => {
    const fast = i % 3 === 2;
    const requestTokens = 1200 + i * 10;
    return {
      requestId: `req-${i}`,
      sessionId: i % 4 === 3 ? null : `sess-${i % 3}`,
      agentName: i % 5 === 4 ? null : i % 2 ? 'Planner' : agentName,
      model: fast ? MODEL_CATEGORIES.fast : model,
      tokens: requestTokens,
      cost: i === 5 ? null : listCost(fast ? MODEL_CATEGORIES.fast : MODEL_CATEGORIES.balanced, requestSplit(requestTokens)),
      createdAt: minutesAgo(3 + i * 7),
      source: fast ? 'background' : 'default',
    };
  });
  // Sessions: their tokens at the list prices of the models they were routed to.
  const sessionUse: [string, TokenSplit][][] = [
    [[MODEL_CATEGORIES.balanced, { inputTokens: 24_000, outputTokens: 20_000, cacheCreationTokens: 38_000, cacheReadTokens: 960_000 }],
      [MODEL_CATEGORIES.fast, { inputTokens: 6000, outputTokens: 4000, cacheCreationTokens: 8000, cacheReadTokens: 180_000 }]],
    [[MODEL_CATEGORIES.balanced, { inputTokens: 14_000, outputTokens: 12_000, cacheCreationTokens: 24_000, cacheReadTokens: 560_000 }]],
    [[MODEL_CATEGORIES.balanced, { inputTokens: 9456, outputTokens: 8000, cacheCreationTokens: 16_000, cacheReadTokens: 390_000 }]],
  ];
  const session = (i: number) => ({
    tokens: sum(sessionUse[i].map(([, s]) => tokensOf(s))),
    cost: usd(sum(sessionUse[i].map(([m, s]) => listCost(m, s)!))),
  });

  return {
    range,
    ...(range === 'custom' ? { from: '2026-12-01', to: '2026-12-03' } : {}),
    scope: { range, calendar: ['today', 'this-week', 'this-month'].includes(range), label: LABELS[range], from: new Date(dayStart - (days - 1) * 86_400_000).toISOString(), to: new Date(now()).toISOString(), previous: { from: new Date(dayStart - (2 * days - 1) * 86_400_000).toISOString(), to: new Date(dayStart - (days - 1) * 86_400_000).toISOString() } },
    bucket: hourly ? 'hour' : 'day',
    scopeLabel: 'synapse-app',
    summary: {
      cost: total, costUnknownRequests: costUnknown, refusedRequests: 0, tokens, requests, averageCostPerRequest: usd(total / (requests - costUnknown)),
      split: { inputTokens: splitTotal('inputTokens'), outputTokens: splitTotal('outputTokens'), cacheCreationTokens: splitTotal('cacheCreationTokens'), cacheReadTokens: splitTotal('cacheReadTokens') },
      failedRequests: failed, errorRate: failed / requests,
      failedByStatus: [{ status: 404, error: 'not_found_error', requests: 8 }, { status: 529, error: 'overloaded_error', requests: 3 }, { status: 500, error: 'api_error', requests: 1 }],
      unpricedRequests, unpricedModels: unpriced.map((m) => ({ model: m.model, requests: m.requests, tokens: tokensOf(m.split) })),
      // A slightly quieter period before, at the same mix of models: 12% less.
      previous: { cost: usd(total / 1.12), requests: Math.round(requests / 1.12), tokens: Math.round(tokens / 1.12) },
    },
    models: period.map((m, i) => ({
      model: m.model, requests: m.requests, tokens: tokensOf(m.split), cost: costs[i], split: m.split, priceKnown: costs[i] !== null,
      retired: m.model === RETIRED_MODEL ? { ...retirementOf(RETIRED_MODEL, '2026-12-01')!, askedBy: { agents: [{ id: 'a2', name: 'Planner' }], sessions: 2 } } : null,
      cacheSavings: priced[i].cacheSavings,
    })),
    timeseries,
    sources,
    recent,
    agents: [
      { agentId: 'a2', name: 'Planner', requests: agentRow('a2').requests, tokens: agentRow('a2').tokens, cost: sumOf(byAgent, 'a2'), share: sumOf(byAgent, 'a2') / total, trend: byAgent.map((d) => d.byKey.a2.cost) },
      { agentId: null, name: null, requests: agentRow('').requests, tokens: agentRow('').tokens, cost: sumOf(byAgent, ''), share: sumOf(byAgent, '') / total, trend: byAgent.map((d) => d.byKey[''].cost) },
      { agentId: agent().id, name: agentName, requests: agentRow(agent().id).requests, tokens: agentRow(agent().id).tokens, cost: sumOf(byAgent, agent().id), share: sumOf(byAgent, agent().id) / total, trend: byAgent.map((d) => d.byKey[agent().id].cost) },
    ],
    sessions: [
      {
        sessionId: 'sess-0', claudeSessionId: 'sess-0', agentNames: [agentName], requests: 20, ...session(0), firstAt: minutesAgo(300), lastAt: minutesAgo(3), durationMs: 297 * 60_000,
        firstPrompt: 'Refactor the billing module so that invoices are computed from the ledger', models: [{ requestedModel: MODEL_CATEGORIES.powerful, model: names.model ?? MODEL_CATEGORIES.balanced, requests: 14 }, { requestedModel: MODEL_CATEGORIES.fast, model: MODEL_CATEGORIES.fast, requests: 6 }],
      },
      { sessionId: 'sess-1', claudeSessionId: 'sess-1', agentNames: ['Planner'], requests: 12, ...session(1), firstAt: minutesAgo(500), lastAt: minutesAgo(10), durationMs: 490 * 60_000, firstPrompt: 'Plan the migration' },
      { sessionId: 'sess-2', claudeSessionId: null, agentNames: [agentName, 'Planner'], requests: 10, ...session(2), firstAt: minutesAgo(900), lastAt: minutesAgo(17), durationMs: 883 * 60_000, firstPrompt: null },
    ],
    sessionsPage: { sort: 'cost', offset: 0, total: 3 },
    daily: {
      model: { groupBy: 'model', days: byModel, keys: keys(pricedModels.map((m) => [m.model, m.model] as const), (k) => ({ cost: sumOf(byModel, k), requests: sum(byModel.map((d) => d.byKey[k].requests)) })).sort((a, b) => b.cost - a.cost), unknownCostRequests: costUnknown },
      agent: { groupBy: 'agent', days: byAgent, keys: keys(agentShares.map(([k, label]) => [k, label] as const), (k) => ({ cost: sumOf(byAgent, k), requests: agentRow(k).requests })), unknownCostRequests: costUnknown },
    },
    savings: { actual: savings.actualCost, onDefaultModel: savings.baselineCost, saved: savings.savings, defaultModel: MODEL_CATEGORIES.balanced },
    cache: { hitRate: cache.hitRate, netSavings: cache.netSavings },
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
