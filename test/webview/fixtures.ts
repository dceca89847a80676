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

/** A day's data (24 hourly buckets) or a week's/month's (daily buckets), newest request 3 minutes ago. */
export function analyticsData(range: AnalyticsRange = 'week', names: { agent?: string; model?: string } = {}): AnalyticsData {
  const hourly = range === 'day';
  const buckets = hourly ? 24 : range === 'week' ? 7 : 30;
  const step = hourly ? 3_600_000 : 86_400_000;
  const lastStart = Math.floor(now() / step) * step;
  const timeseries = Array.from({ length: buckets }, (_, i) => ({
    bucketStart: new Date(lastStart - (buckets - 1 - i) * step).toISOString(),
    cost: Math.round((0.05 + ((i * 37) % 11) / 20) * 1e4) / 1e4,
    requests: 3 + ((i * 7) % 5),
  }));
  const agentName = names.agent ?? 'Reviewer';
  const model = names.model ?? MODEL_CATEGORIES.balanced;
  const recent = Array.from({ length: 14 }, (_, i) => ({
    requestId: `req-${i}`,
    sessionId: i % 4 === 3 ? null : `sess-${i % 3}`,
    agentName: i % 2 ? 'Planner' : agentName,
    model: i % 3 === 2 ? MODEL_CATEGORIES.fast : model,
    tokens: 1200 + i * 10,
    cost: i === 5 ? null : 0.0123 + i / 1000,
    createdAt: minutesAgo(3 + i * 7),
    source: i % 3 === 2 ? 'background' : 'default',
  }));
  return {
    range,
    bucket: hourly ? 'hour' : 'day',
    scopeLabel: 'synapse-app',
    summary: { cost: 1.23456, costUnknownRequests: 2, refusedRequests: 0, tokens: 123456, requests: 42, avgCostPerRequest: 0.0308 },
    models: [
      { model, requests: 25, tokens: 90000, cost: 0.9 },
      { model: MODEL_CATEGORIES.fast, requests: 12, tokens: 20000, cost: 0.03456 },
      { model: MODEL_CATEGORIES.powerful, requests: 5, tokens: 13456, cost: 0.3 },
    ],
    timeseries,
    sources: [{ source: 'default', requests: 20 }, { source: 'background', requests: 12 }, { source: 'long-context', requests: 6 }, { source: 'reasoning', requests: 4 }],
    recent,
    agents: [
      { agentId: agent().id, name: agentName, requests: 30, tokens: 100000, cost: 1.0 },
      { agentId: 'a2', name: 'Planner', requests: 10, tokens: 20000, cost: 0.2 },
      { agentId: null, name: null, requests: 2, tokens: 3456, cost: 0.03456 },
    ],
    sessions: [
      {
        sessionId: 'sess-0', agentNames: [agentName], requests: 20, tokens: 60000, cost: 0.6, firstAt: minutesAgo(300), lastAt: minutesAgo(3),
        models: [{ requestedModel: MODEL_CATEGORIES.powerful, model: names.model ?? MODEL_CATEGORIES.balanced, requests: 14 }, { requestedModel: MODEL_CATEGORIES.fast, model: MODEL_CATEGORIES.fast, requests: 6 }],
      },
      { sessionId: 'sess-1', agentNames: ['Planner'], requests: 12, tokens: 40000, cost: 0.4, firstAt: minutesAgo(500), lastAt: minutesAgo(10) },
      { sessionId: 'sess-2', agentNames: [agentName, 'Planner'], requests: 10, tokens: 23456, cost: 0.23456, firstAt: minutesAgo(900), lastAt: minutesAgo(17) },
    ],
    savings: { actual: 1.23456, onDefaultModel: 2.5, saved: 1.26544, defaultModel: MODEL_CATEGORIES.balanced },
    cache: { hitRate: 0.62, savedUsd: 0.4321 },
  };
}

export function emptyAnalytics(range: AnalyticsRange = 'week'): AnalyticsData {
  return {
    range, bucket: range === 'day' ? 'hour' : 'day', scopeLabel: 'synapse-app',
    summary: { cost: null, costUnknownRequests: 0, refusedRequests: 0, tokens: 0, requests: 0, avgCostPerRequest: null },
    models: [], timeseries: [], sources: [], recent: [], agents: [], sessions: [], savings: null, cache: null,
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
