/**
 * The messages between the extension host and its three webviews (model configuration,
 * usage analytics, sidebar). Both sides import this file; the webviews bundle it into the
 * browser, so it imports nothing that needs Node.
 *
 * Every message is an object with a `type` discriminant. Where a webview asks for data it
 * sends an `id` and the host answers with the same `id` (requestAnalytics → analytics |
 * analyticsError, requestTeamAnalytics → teamAnalytics | teamAnalyticsError, save → saved |
 * saveFailed, requestSidebarData → sidebarData); a webview
 * ignores answers whose id it is not waiting for (an older range, a superseded save).
 * Messages the host sends on its own (init, usageEvent, health, routingDecision,
 * sidebarData without id, refresh) carry no id.
 *
 * The guards check shape, not trust: the host still validates what it stores (the guard for
 * `save` runs parseProjectModelConfig and, for its budget, parseBudgetPolicy, so a config that
 * passes is one the gateway accepts).
 *
 * Also the shapes the status bar, the sidebar and the model configuration view share
 * (CalendarSpend, the model configuration's extras), at the end.
 */
import * as v from 'valibot';
import { budgetPolicyPatchSchema, type BudgetPolicy, type BudgetStatus } from './budgets';
import type { AgentInfo, ProjectInfo } from './projects';
import { MODEL_CATEGORY_NAMES, type ModelCategory } from './modelCategory';
import { projectModelConfigSchema, type ProjectModelConfig } from './modelConfig';
import type { RoutingDecision, RoutingSource } from './routing';
import type { UsageRecord } from './usage';
import type { SessionModelUse } from './session';
import { isPlainObject, passes } from './validate';
import type { ClientWire, RequestEnvelope, RequestType, ResponseEnvelope, ServerWire } from './channel';

// ---------------------------------------------------------------------------------------
// Shared data

/** One model the default-model select offers (from the configured providers). */
export interface ModelOption {
  /** Model reference as the gateway takes it: "model" or "provider/model". */
  id: string;
  /** Display name, e.g. "Claude Sonnet 5.5". */
  name: string;
  /** Its category (src/protocol/modelCategory.ts); null for a model outside the three. */
  category: ModelCategory | null;
  provider?: string | null;
}

/**
 * The rules a project inherits when it sets nothing: the gateway's DEFAULT_RULES merged with
 * its config.json (src/conduit/routing/rules.ts RoutingRules is assignable to this).
 */
export interface InheritedRules {
  longContextThreshold: number;
  longContextModel: string | null;
  backgroundModel: string | null;
  webSearchModel: string | null;
  reasoningModel: string | null;
  fallbackModels: string[];
  pluginsEnabled: boolean;
  defaultModel?: string | null;
}

/** What the sidebar shows about the gateway (the supervisor's GatewayState is assignable). */
export interface GatewayHealthView {
  health: 'stopped' | 'starting' | 'running' | 'error';
  port: number | null;
  version: string | null;
  /** Why it is stopped or failing, in words. */
  message: string | null;
  /** While running: the status bar's warning (src/extension/ui/gatewayWarning.ts), so the sidebar says the same; absent or null: none. */
  warning?: string | null;
  /** While running: no usable provider credentials, so the view offers the two fixes (set a key, sign in with a Claude subscription). */
  needsCredentials?: boolean;
}

/** The three webviews, by the name each page tells the host in its ready message. */
export const WEBVIEW_NAMES = ['modelConfig', 'analytics', 'sidebar'] as const;
export type WebviewName = (typeof WEBVIEW_NAMES)[number];

// ---------------------------------------------------------------------------------------
// Model configuration

export type ModelConfigTarget =
  | { kind: 'project'; project: ProjectInfo }
  | { kind: 'agent'; project: ProjectInfo; agent: AgentInfo };

/** What the model configuration view needs to show one project or agent. */
export interface ModelConfigInit {
  target: ModelConfigTarget;
  models: ModelOption[];
  inheritedRules: InheritedRules;
  /**
   * The target's budgets in the current periods (GET /v1/conduit/budgets, only the
   * project's own for a project, only the agent's for an agent); absent when unknown.
   */
  budgetStatuses?: BudgetStatus[];
}

/** What an agent's save stores (the agents table's use_project_model and custom_model_id). */
export interface AgentModelSelection {
  useProjectModel: boolean;
  /** null when the agent uses the project's defaults. */
  customModelId: string | null;
}

// ---------------------------------------------------------------------------------------
// Usage analytics

/**
 * The periods the analytics API answers for (GET /v1/conduit/analytics/<query>?range=):
 * calendar ones counted like budgets (today, this week from Monday, this month from the 1st,
 * in the gateway's zone), rolling ones (the last 24 hours, 7 or 30 days) and custom dates.
 * 'day' | 'week' | 'month' are the older names of 24h, 7d and 30d, still accepted.
 */
export const ANALYTICS_RANGE_KINDS = ['today', 'this-week', 'this-month', '24h', '7d', '30d', 'custom'] as const;
export type AnalyticsRangeKind = (typeof ANALYTICS_RANGE_KINDS)[number];
export type AnalyticsRange = AnalyticsRangeKind | 'day' | 'week' | 'month';
export const ANALYTICS_RANGES: readonly AnalyticsRange[] = [...ANALYTICS_RANGE_KINDS, 'day', 'week', 'month'];
/** A range as asked for: custom ones carry their first and last day (YYYY-MM-DD, both included). */
export interface AnalyticsPeriod { range: AnalyticsRange; from?: string; to?: string }

/** Which period an answer covers (the API's scope), so every figure can say it. */
export interface AnalyticsScope {
  range: AnalyticsRange;
  calendar: boolean;
  /** "This month", "Last 7 days", "Dec 1 – Dec 3, 2026". */
  label: string;
  from: string;
  to: string;
  /** The period of equal length just before (for "+12% vs previous period"). */
  previous: { from: string; to: string } | null;
}

/** Input, output, cache write and cache read tokens (src/protocol/measures.ts). */
export interface TokenSplit { inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number }

export interface AnalyticsSummary {
  /** USD of the requests with a known price; null when none had one. */
  cost: number | null;
  /** Requests whose cost is unknown (no price for the model, or no usage reported). */
  costUnknownRequests: number;
  /** Requests a budget refused (cost 0: the provider was never called); among `requests`. */
  refusedRequests: number;
  /** Total tokens (src/protocol/measures.ts: input + output + cache write + cache read). */
  tokens: number;
  requests: number;
  /** cost / requests with a known cost; null when there are none. */
  averageCostPerRequest: number | null;
  /** The four measures that make up `tokens`. */
  split?: TokenSplit;
  /** Requests that ended with an error (status >= 400; budget refusals apart). */
  failedRequests?: number;
  errorRate?: number | null;
  failedByStatus?: { status: number; error: string | null; requests: number }[];
  /** Requests that reported usage but whose model has no price, and those models. */
  unpricedRequests?: number;
  unpricedModels?: { model: string; requests: number; tokens: number }[];
  /** The same figures for scope.previous. */
  previous?: { cost: number | null; requests: number; tokens: number } | null;
}

/** A model that its provider retired, and who still asks for it. */
export interface RetiredModel {
  since: string;
  replacement: string | null;
  askedBy: { agents: { id: string; name: string }[]; sessions: number };
}
export interface ModelUsage {
  model: string;
  requests: number;
  tokens: number;
  cost: number | null;
  split?: TokenSplit;
  /** false: the price table has no price for it (its cost is unknown, never $0). */
  priceKnown?: boolean;
  retired?: RetiredModel | null;
  /** What cache reads saved against the input price; null without a price. */
  cacheSavings?: number | null;
}
export interface CostPoint { bucketStart: string; cost: number; requests: number }
export interface SourceUsage { source: RoutingSource | string; requests: number; cost?: number | null; share?: number }

/** What the daily chart stacks by. */
export const DAILY_GROUP_BYS = ['model', 'agent', 'project'] as const;
export type DailyGroupBy = (typeof DAILY_GROUP_BYS)[number];
/** cacheSavings: by model only, what the model's cache reads saved that day (null: no price). */
export interface DailyCell { cost: number | null; requests: number; tokens: number; split?: TokenSplit; cacheSavings?: number | null }
/** Cost per local calendar day of the range, stacked by model, agent or project (GET …/analytics/daily). */
export interface DailyBreakdown {
  groupBy: DailyGroupBy;
  days: { date: string; start: string; cost: number | null; requests: number; tokens: number; byKey: Record<string, DailyCell> }[];
  /** Sorted by cost, most first; key '' is "No agent". */
  keys: { key: string; label: string; cost: number | null; requests: number }[];
  unknownCostRequests: number;
}

export const SESSION_SORTS = ['recent', 'cost', 'requests', 'tokens', 'duration'] as const;
export type SessionSort = (typeof SESSION_SORTS)[number];
/** One page of the range's sessions, ranked over the whole range. */
export interface SessionsPage { sort: SessionSort; offset: number; total: number; sessions: SessionUsage[] }

export interface RecentRequest {
  requestId: string;
  sessionId: string | null;
  agentName: string | null;
  model: string;
  tokens: number;
  cost: number | null;
  /** ISO-8601. */
  createdAt: string;
  source?: RoutingSource | string;
  /** A budget refused it: the provider was never called (cost 0). */
  refused?: boolean;
}

export interface AgentUsage {
  agentId: string | null;
  /** null for requests without an agent. */
  name: string | null;
  requests: number;
  tokens: number;
  cost: number | null;
  /** Of the range's known cost (0..1). */
  share?: number;
  /** Cost per day (per week beyond 31 days) over the range. */
  trend?: number[];
}

export interface SessionUsage {
  /** Claude Code's session id, else Conduit's (src/protocol/session.ts sessionIdOf). */
  sessionId: string;
  /** The models asked for and routed to, most requests first (absent from an older gateway). */
  models?: SessionModelUse[];
  agentNames: string[];
  requests: number;
  tokens: number;
  cost: number | null;
  firstAt: string;
  lastAt: string;
  /** Claude Code's own session id, when claude sent one. */
  claudeSessionId?: string | null;
  durationMs?: number;
  /** The start of the session's first prompt (at most 160 characters). */
  firstPrompt?: string | null;
}

export interface SavingsSummary {
  /** What the requests cost. */
  actual: number;
  /** What the same tokens would have cost on the default model. */
  onDefaultModel: number;
  /** onDefaultModel - actual (negative: routing cost more). */
  saved: number;
  defaultModel: string | null;
}

export interface CacheSummary {
  /** cache reads / (input + cache writes + cache reads); null without prompt tokens. */
  hitRate: number | null;
  /** USD saved by cache reads (net of the write premium); null when unpriced. */
  netSavings: number | null;
}

/**
 * One range's analytics, as the host assembles it from the gateway's
 * GET /v1/conduit/analytics/{summary,models,timeseries,sources,recent,agents,sessions,savings,cache}.
 */
export interface AnalyticsData {
  range: AnalyticsRange;
  /** Size of a timeseries bucket; inferred from the points when absent. */
  bucket?: 'hour' | 'day';
  /** Shown under the title, e.g. the project's name. */
  scopeLabel?: string | null;
  summary: AnalyticsSummary;
  models: ModelUsage[];
  timeseries: CostPoint[];
  sources: SourceUsage[];
  /** Newest first, at most 50. */
  recent: RecentRequest[];
  agents: AgentUsage[];
  sessions: SessionUsage[];
  /** null when no request could be compared (no default model or no prices). */
  savings: SavingsSummary | null;
  cache: CacheSummary | null;
  /** The period the figures cover (absent from an older gateway). */
  scope?: AnalyticsScope | null;
  /** Custom range's days, as asked for. */
  from?: string;
  to?: string;
  /** Cost per day, by each grouping. */
  daily?: Partial<Record<DailyGroupBy, DailyBreakdown>>;
  /** The first page of sessions (sessions above are its rows). */
  sessionsPage?: { sort: SessionSort; offset: number; total: number };
}

/** Whose usage the analytics view shows: this machine's own (mine) or the project's team's. */
export const ANALYTICS_VIEWS = ['mine', 'team'] as const;
export type AnalyticsView = (typeof ANALYTICS_VIEWS)[number];

/** One member's usage of the project over the range (a row of GET /v1/conduit/analytics/members). */
export interface TeamMemberUsage {
  userId: string;
  /** The account's display name; null for someone who is no longer a member. */
  name: string | null;
  email: string | null;
  role: 'owner' | 'member' | null;
  isYou: boolean;
  requests: number;
  /** Input + output tokens. */
  tokens: number;
  /** USD of the requests with a known price. */
  cost: number;
  /** Requests without a known price. */
  costUnknownRequests: number;
}

/** The Team view of one range: the project's usage per member, and the whole project's. */
export interface TeamAnalyticsData {
  range: AnalyticsRange;
  projectName: string;
  /** The signed-in person's role in the project. */
  role: 'owner' | 'member';
  ownerEmail: string | null;
  /** Highest cost first. */
  members: TeamMemberUsage[];
  totals: { requests: number; tokens: number; cost: number; costUnknownRequests: number };
}

/**
 * Why the Team view has no data: signedOut (no Supabase session: the view offers to sign
 * in), noProject (no workspace folder, or no such project on Supabase yet), failed (anything else).
 */
export const TEAM_ANALYTICS_PROBLEMS = ['signedOut', 'noProject', 'failed'] as const;
export type TeamAnalyticsProblem = (typeof TEAM_ANALYTICS_PROBLEMS)[number];

// ---------------------------------------------------------------------------------------
// Sidebar

export interface SidebarDecision {
  requestId: string;
  model: string;
  source: RoutingSource | string;
  rule: string;
  tokenCount: number;
  timestamp: string;
  agentName: string | null;
  /** A budget refused it: shown as refused, not as a routing. */
  refused?: boolean;
}

export interface SidebarData {
  health: GatewayHealthView;
  /**
   * Today so far (the day in the gateway's time zone), as the usage store has it: the
   * analytics summary of range=day. Tokens are total tokens (src/protocol/measures.ts).
   */
  today: { cost: number | null; tokens: number; requests: number; costUnknownRequests: number; refusedRequests?: number };
  /** Today's cost per hour, oldest first. */
  costSeries: { bucketStart: string; cost: number }[];
  /** Newest first. */
  decisions: SidebarDecision[];
}

// ---------------------------------------------------------------------------------------
// Initial state: what the host passes to webviewHtml({initialState}) for each view.

/** sessionId: the panel shows that one session (no period or Mine / Team to choose). */
export interface AnalyticsInitialState { period?: AnalyticsPeriod; view?: AnalyticsView; sessionId?: string | null }
export interface SidebarInitialState { data?: SidebarData | null }
/** What each view's page carries (webviewHost.ts renderWebview); a view checks it before use, as anything from outside. */
export interface InitialStateFor {
  modelConfig: ModelConfigInit | null;
  analytics: AnalyticsInitialState;
  sidebar: SidebarInitialState;
}

/**
 * The part of a model configuration webview's persisted state (vscode.getState) that the
 * host's WebviewPanelSerializer reads to know which project or agent to reopen.
 */
export interface ModelConfigPersistedTarget {
  target: { kind: 'project'; projectKey: string } | { kind: 'agent'; projectKey: string; agentId: string } | null;
}

// ---------------------------------------------------------------------------------------
// Host → webview

/**
 * (modelConfig) Show this project or agent: the answer to ready, and sent again whenever what
 * it shows changed (its stored configuration or budget, their spend); the view keeps unsaved edits.
 */
export interface InitMessage extends ModelConfigInit { type: 'init' }
/** (modelConfig) The save with this id is stored; project/agent: what was stored. */
export interface SavedMessage {
  type: 'saved'; id: string; project?: ProjectInfo; agent?: AgentInfo;
  /** The budgets' spend as it is after the save (a budget set just now gets its spend line); absent when the gateway cannot tell. */
  budgetStatuses?: BudgetStatus[];
}
/** (modelConfig) The save failed; field: the config path at fault (e.g. "rules.longContextThreshold"), when known. */
export interface SaveFailedMessage { type: 'saveFailed'; id: string; message: string; field?: string | null }

/** (analytics) The answer to requestAnalytics. */
export interface AnalyticsMessage { type: 'analytics'; id: string; data: AnalyticsData }
/** notRunning: the gateway is not up (yet); the view waits for the host's refresh instead of showing the socket error. */
export interface AnalyticsErrorMessage { type: 'analyticsError'; id: string; message: string; problem?: 'notRunning' | 'failed' }
/** (analytics, sidebar) A request ended; agentName: the agent's name when the host knows it. */
export interface UsageEventMessage { type: 'usageEvent'; record: UsageRecord; agentName?: string | null }
/** (analytics) Fetch again: the gateway started or stopped, the store ingested new requests, the person signed in. */
export interface RefreshMessage { type: 'refresh' }
/** (analytics) The answer to requestTeamAnalytics. */
export interface TeamAnalyticsMessage { type: 'teamAnalytics'; id: string; data: TeamAnalyticsData }
export interface TeamAnalyticsErrorMessage { type: 'teamAnalyticsError'; id: string; problem: TeamAnalyticsProblem; message: string }
/** (analytics) The answer to requestSessions. */
export interface SessionsPageMessage { type: 'sessionsPage'; id: string; page: SessionsPage }
/** (analytics) The answer to addPrice or exportView: done (saved: the price was stored) or why not. */
export interface ActionResultMessage { type: 'actionResult'; action: 'addPrice' | 'exportView'; ok: boolean; message: string }

/** (every view) The host could not answer the request with this id (it was malformed, or answering it failed). */
export interface RequestFailedMessage { type: 'requestFailed'; id: string; message: string }

/** (sidebar) Everything the sidebar shows; id set when it answers requestSidebarData, absent when the host refreshes it. */
export interface SidebarDataMessage { type: 'sidebarData'; id?: string; data: SidebarData }
export interface HealthMessage { type: 'health'; health: GatewayHealthView }
/** (sidebar) The gateway routed a request (event stream "decision"). */
export interface RoutingDecisionMessage { type: 'routingDecision'; requestId: string; decision: RoutingDecision; agentName?: string | null }

export type ModelConfigHostMessage = InitMessage | SavedMessage | SaveFailedMessage | RequestFailedMessage;
export type AnalyticsHostMessage = AnalyticsMessage | AnalyticsErrorMessage | UsageEventMessage | RefreshMessage
  | TeamAnalyticsMessage | TeamAnalyticsErrorMessage | SessionsPageMessage | ActionResultMessage | RequestFailedMessage;
export type SidebarHostMessage = SidebarDataMessage | HealthMessage | RoutingDecisionMessage | UsageEventMessage | RequestFailedMessage;
export type HostToWebviewMessage = ModelConfigHostMessage | AnalyticsHostMessage | SidebarHostMessage | RequestFailedMessage;

// ---------------------------------------------------------------------------------------
// Webview → host

/** Every view, once its script runs: the host answers with init / sidebarData as needed. */
export interface ReadyMessage { type: 'ready'; view: WebviewName }

/** budget: the whole policy to store (null fields cleared), sent when the form changed it. */
export type SaveMessage =
  | { type: 'save'; id: string; kind: 'project'; projectKey: string; config: ProjectModelConfig; budget?: BudgetPolicy }
  | { type: 'save'; id: string; kind: 'agent'; projectKey: string; agentId: string; config: AgentModelSelection; budget?: BudgetPolicy };

export interface RequestAnalyticsMessage { type: 'requestAnalytics'; id: string; range: AnalyticsRange; from?: string; to?: string }
/** (analytics) A page of the range's sessions in another order. */
export interface RequestSessionsMessage { type: 'requestSessions'; id: string; range: AnalyticsRange; from?: string; to?: string; sort: SessionSort; offset: number }
/** (analytics) Ask for a price of a model that has none (the host asks for the figures and stores them). */
export interface AddPriceMessage { type: 'addPrice'; model: string }
/** What an export writes: one of the tables on screen, for the period on screen. */
export const EXPORT_VIEWS = ['sessions', 'recent', 'agents', 'models', 'daily'] as const;
export type ExportViewName = (typeof EXPORT_VIEWS)[number];
export interface ExportViewMessage {
  type: 'exportView';
  format: 'csv' | 'json';
  view: ExportViewName;
  params: { range: AnalyticsRange; from?: string; to?: string; sort?: SessionSort; groupBy?: DailyGroupBy };
}
export interface OpenSessionMessage { type: 'openSession'; sessionId: string }
/** (analytics) The Team view of a range: the project's usage per member, from Supabase. */
export interface RequestTeamAnalyticsMessage { type: 'requestTeamAnalytics'; id: string; range: AnalyticsRange; from?: string; to?: string }
/** (analytics) Run "Conduit: Sign In to Supabase" (the Team view without a session); the host sends refresh after it. */
export interface SignInMessage { type: 'signIn' }

export interface OpenPanelMessage { type: 'openPanel'; panel: 'analytics' | 'modelConfig' }
/** setApiKey: "Conduit: Set Provider API Key"; claudeLogin: claude in a terminal, to sign in with a Claude subscription (/login). */
export const GATEWAY_ACTIONS = ['start', 'restart', 'showLogs', 'setApiKey', 'claudeLogin'] as const;
export interface GatewayActionMessage { type: 'gatewayAction'; action: (typeof GATEWAY_ACTIONS)[number] }
export interface RequestSidebarDataMessage { type: 'requestSidebarData'; id: string }

export type ModelConfigWebviewMessage = ReadyMessage | SaveMessage;
export type AnalyticsWebviewMessage = ReadyMessage | RequestAnalyticsMessage | OpenSessionMessage | RequestTeamAnalyticsMessage | SignInMessage
  | RequestSessionsMessage | AddPriceMessage | ExportViewMessage;
export type SidebarWebviewMessage = ReadyMessage | OpenPanelMessage | GatewayActionMessage | RequestSidebarDataMessage;
export type WebviewToHostMessage = ModelConfigWebviewMessage | AnalyticsWebviewMessage | SidebarWebviewMessage;

/** A message without what the channel's wire adds to it (its type and id): a request's parameters. */
type ParamsPart<T> = T extends unknown ? Omit<T, 'type' | 'id'> : never;
/** An answer without its id (the wire adds the request's). */
type AnswerPart<T> = T extends unknown ? Omit<T, 'id'> : never;

/**
 * Each request a webview sends, by its type: its parameters (the message without type and
 * id) and the messages that answer it (with the same id). They travel on the typed channel
 * (channel.ts) through WEBVIEW_WIRE below; a view waits only for its newest request of a
 * kind (the channel's `supersede`).
 */
export type WebviewRequests = {
  requestAnalytics: RequestType<ParamsPart<RequestAnalyticsMessage>, AnswerPart<AnalyticsMessage | AnalyticsErrorMessage>>;
  requestSessions: RequestType<ParamsPart<RequestSessionsMessage>, AnswerPart<SessionsPageMessage | AnalyticsErrorMessage>>;
  requestTeamAnalytics: RequestType<ParamsPart<RequestTeamAnalyticsMessage>, AnswerPart<TeamAnalyticsMessage | TeamAnalyticsErrorMessage>>;
  save: RequestType<ParamsPart<SaveMessage>, AnswerPart<SavedMessage | SaveFailedMessage>>;
  requestSidebarData: RequestType<ParamsPart<RequestSidebarDataMessage>, AnswerPart<SidebarDataMessage>>;
};
export type ModelConfigRequests = Pick<WebviewRequests, 'save'>;
export type AnalyticsRequests = Pick<WebviewRequests, 'requestAnalytics' | 'requestSessions' | 'requestTeamAnalytics'>;
export type SidebarRequests = Pick<WebviewRequests, 'requestSidebarData'>;
/** The answers to a request of this type. */
export type AnswerTo<T extends keyof WebviewRequests> = WebviewRequests[T]['response'];

/** What the host may post to each view. */
export interface HostMessageFor {
  modelConfig: ModelConfigHostMessage;
  analytics: AnalyticsHostMessage;
  sidebar: SidebarHostMessage;
}

// ---------------------------------------------------------------------------------------
// Guards

type Obj = Record<string, unknown>;
const str = (v: unknown, max = 10_000): v is string => typeof v === 'string' && v.length <= max;
const nonEmpty = (v: unknown, max = 500): v is string => str(v, max) && v.length > 0;
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const bool = (v: unknown): v is boolean => typeof v === 'boolean';
const numOrNull = (v: unknown): boolean => v === null || num(v);
const strOrNull = (v: unknown): boolean => v === null || str(v);
const optional = (v: unknown, check: (x: unknown) => boolean): boolean => v === undefined || check(v);
const arrayOf = (v: unknown, check: (x: unknown) => boolean): boolean => Array.isArray(v) && v.every((x) => check(x));
const oneOf = <T extends string>(values: readonly T[]) => (v: unknown): v is T => typeof v === 'string' && (values as readonly string[]).includes(v);
const obj = (check: (o: Obj) => boolean) => (v: unknown): boolean => isPlainObject(v) && check(v);

const isRange = oneOf(ANALYTICS_RANGES);
const isId = (v: unknown): v is string => nonEmpty(v, 200);

const isModelOption = obj((o) => nonEmpty(o.id) && str(o.name, 500)
  && (o.category === null || o.category === undefined || oneOf(MODEL_CATEGORY_NAMES)(o.category)) && optional(o.provider, strOrNull));

const isInheritedRules = obj((o) => num(o.longContextThreshold) && strOrNull(o.longContextModel) && strOrNull(o.backgroundModel)
  && strOrNull(o.webSearchModel) && strOrNull(o.reasoningModel) && arrayOf(o.fallbackModels, str) && typeof o.pluginsEnabled === 'boolean'
  && optional(o.defaultModel, strOrNull));

const isProjectModelConfig = (x: unknown): x is ProjectModelConfig => passes(projectModelConfigSchema, x);

const isBudgetStatusObject = obj((o) => oneOf(['project', 'agent'] as const)(o.scope) && str(o.projectKey) && strOrNull(o.agentId)
  && str(o.name) && oneOf(['daily', 'monthly'] as const)(o.period) && num(o.limitUsd) && num(o.spentUsd) && num(o.percent)
  && str(o.periodStart) && str(o.periodEnd) && numOrNull(o.forecastUsd) && strOrNull(o.forecastCrossingAt)
  && oneOf(['ok', 'soft', 'hard'] as const)(o.state) && numOrNull(o.softLimitPercent) && strOrNull(o.softLimitModel)
  && numOrNull(o.hardLimitPercent));
/** One budget's status as the model configuration view reads it (the host drops any other). */
export function isBudgetStatus(v: unknown): v is BudgetStatus { return isBudgetStatusObject(v); }

const isProjectInfo = obj((o) => str(o.id) && str(o.workspaceKey) && str(o.name) && isProjectModelConfig(o.modelConfig));
const isAgentInfo = obj((o) => str(o.id) && str(o.projectId) && str(o.name) && str(o.personaType)
  && typeof o.useProjectModel === 'boolean' && strOrNull(o.customModelId));

const isTarget = obj((o) => (o.kind === 'project' && isProjectInfo(o.project))
  || (o.kind === 'agent' && isProjectInfo(o.project) && isAgentInfo(o.agent)));

export function isModelConfigInit(v: unknown): v is ModelConfigInit {
  return isPlainObject(v) && isTarget(v.target) && arrayOf(v.models, isModelOption) && isInheritedRules(v.inheritedRules)
    && optional(v.budgetStatuses, (x) => arrayOf(x, isBudgetStatus));
}


const isTokenUsage = obj((o) => num(o.inputTokens) && num(o.outputTokens) && num(o.cacheCreationTokens) && num(o.cacheReadTokens));
const isUsageRecord = obj((o) => str(o.id) && isPlainObject(o.context) && isPlainObject(o.decision)
  && str((o.decision as Obj).model) && str((o.decision as Obj).source)
  && (o.usage === null || isTokenUsage(o.usage)) && isPlainObject(o.cost) && numOrNull((o.cost as Obj).cost)
  && str(o.startedAt) && str(o.endedAt));

const isDay = (v: unknown): v is string => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v);
const isTokenSplit = obj((t) => num(t.inputTokens) && num(t.outputTokens) && num(t.cacheCreationTokens) && num(t.cacheReadTokens));
const isSummary = obj((o) => numOrNull(o.cost) && num(o.costUnknownRequests) && num(o.refusedRequests) && num(o.tokens) && num(o.requests) && numOrNull(o.averageCostPerRequest)
  && optional(o.split, isTokenSplit) && optional(o.failedRequests, num) && optional(o.errorRate, numOrNull)
  && optional(o.failedByStatus, (x) => arrayOf(x, obj((f) => num(f.status) && strOrNull(f.error) && num(f.requests))))
  && optional(o.unpricedRequests, num) && optional(o.unpricedModels, (x) => arrayOf(x, obj((m) => str(m.model) && num(m.requests) && num(m.tokens))))
  && optional(o.previous, (x) => x === null || obj((q) => numOrNull(q.cost) && num(q.requests) && num(q.tokens))(x)));
const isRetired = obj((r) => str(r.since) && strOrNull(r.replacement)
  && obj((a) => arrayOf(a.agents, obj((g) => str(g.id) && str(g.name))) && num(a.sessions))(r.askedBy));
const isDailyCell = obj((c) => numOrNull(c.cost) && num(c.requests) && num(c.tokens) && optional(c.split, isTokenSplit));
const isDaily = obj((d) => oneOf(DAILY_GROUP_BYS)(d.groupBy) && num(d.unknownCostRequests)
  && arrayOf(d.days, obj((day) => isDay(day.date) && str(day.start) && numOrNull(day.cost) && num(day.requests) && num(day.tokens)
    && isPlainObject(day.byKey) && Object.values(day.byKey).every(isDailyCell)))
  && arrayOf(d.keys, obj((k) => str(k.key) && str(k.label) && numOrNull(k.cost) && num(k.requests))));
const isScope = obj((sc) => isRange(sc.range) && bool(sc.calendar) && str(sc.label, 200) && str(sc.from) && str(sc.to)
  && (sc.previous === null || obj((q) => str(q.from) && str(q.to))(sc.previous)));
const isSession = obj((s) => str(s.sessionId) && arrayOf(s.agentNames, str) && num(s.requests) && num(s.tokens)
  && numOrNull(s.cost) && str(s.firstAt) && str(s.lastAt)
  && optional(s.models, (ms) => arrayOf(ms, obj((m) => str(m.requestedModel) && str(m.model) && num(m.requests))))
  && optional(s.claudeSessionId, strOrNull) && optional(s.durationMs, num) && optional(s.firstPrompt, strOrNull));
const isSessionsPage = obj((pg) => oneOf(SESSION_SORTS)(pg.sort) && num(pg.offset) && num(pg.total) && arrayOf(pg.sessions, isSession));
const checkAnalyticsData = obj((o) => isRange(o.range) && optional(o.bucket, oneOf(['hour', 'day'] as const)) && optional(o.scopeLabel, strOrNull)
  && isSummary(o.summary)
  && arrayOf(o.models, obj((m) => str(m.model) && num(m.requests) && num(m.tokens) && numOrNull(m.cost) && optional(m.split, isTokenSplit)
    && optional(m.priceKnown, bool) && optional(m.retired, (r) => r === null || isRetired(r)) && optional(m.cacheSavings, numOrNull)))
  && arrayOf(o.timeseries, obj((p) => str(p.bucketStart) && num(p.cost) && num(p.requests)))
  && arrayOf(o.sources, obj((s) => str(s.source) && num(s.requests) && optional(s.cost, numOrNull) && optional(s.share, num)))
  && arrayOf(o.recent, obj((r) => str(r.requestId) && strOrNull(r.sessionId) && strOrNull(r.agentName) && str(r.model)
    && num(r.tokens) && numOrNull(r.cost) && str(r.createdAt) && optional(r.source, str) && optional(r.refused, bool)))
  && arrayOf(o.agents, obj((a) => strOrNull(a.agentId) && strOrNull(a.name) && num(a.requests) && num(a.tokens) && numOrNull(a.cost)
    && optional(a.share, num) && optional(a.trend, (t) => arrayOf(t, num))))
  && arrayOf(o.sessions, isSession)
  && (o.savings === null || obj((s) => num(s.actual) && num(s.onDefaultModel) && num(s.saved) && strOrNull(s.defaultModel))(o.savings))
  && (o.cache === null || obj((c) => numOrNull(c.hitRate) && numOrNull(c.netSavings))(o.cache))
  && optional(o.scope, (sc) => sc === null || isScope(sc)) && optional(o.from, isDay) && optional(o.to, isDay)
  && optional(o.daily, obj((d) => Object.entries(d).every(([k, v]) => oneOf(DAILY_GROUP_BYS)(k) && isDaily(v))))
  && optional(o.sessionsPage, obj((pg) => oneOf(SESSION_SORTS)(pg.sort) && num(pg.offset) && num(pg.total))));

const isHealth = obj((o) => oneOf(['stopped', 'starting', 'running', 'error'] as const)(o.health)
  && numOrNull(o.port) && strOrNull(o.version) && strOrNull(o.message) && optional(o.warning, strOrNull) && optional(o.needsCredentials, bool));
const isSidebarDecision = obj((o) => str(o.requestId) && str(o.model) && str(o.source) && str(o.rule) && num(o.tokenCount)
  && str(o.timestamp) && strOrNull(o.agentName) && optional(o.refused, bool));
const checkSidebarData = obj((o) => isHealth(o.health)
  && obj((t) => numOrNull(t.cost) && num(t.tokens) && num(t.requests) && num(t.costUnknownRequests) && optional(t.refusedRequests, num))(o.today)
  && arrayOf(o.costSeries, obj((p) => str(p.bucketStart) && num(p.cost)))
  && arrayOf(o.decisions, isSidebarDecision));

const isTeamMemberUsage = obj((m) => nonEmpty(m.userId) && strOrNull(m.name) && strOrNull(m.email)
  && (m.role === null || oneOf(['owner', 'member'] as const)(m.role)) && typeof m.isYou === 'boolean'
  && num(m.requests) && num(m.tokens) && num(m.cost) && num(m.costUnknownRequests));
const checkTeamAnalyticsData = obj((o) => isRange(o.range) && str(o.projectName, 500) && oneOf(['owner', 'member'] as const)(o.role)
  && strOrNull(o.ownerEmail) && arrayOf(o.members, isTeamMemberUsage)
  && obj((t) => num(t.requests) && num(t.tokens) && num(t.cost) && num(t.costUnknownRequests))(o.totals));

export function isAnalyticsData(v: unknown): v is AnalyticsData { return checkAnalyticsData(v); }
export function isTeamAnalyticsData(v: unknown): v is TeamAnalyticsData { return checkTeamAnalyticsData(v); }
export function isSidebarData(v: unknown): v is SidebarData { return checkSidebarData(v); }

const HOST_MESSAGES: Record<HostToWebviewMessage['type'], (o: Obj) => boolean> = {
  init: (o) => isModelConfigInit(o),
  saved: (o) => isId(o.id) && optional(o.project, isProjectInfo) && optional(o.agent, isAgentInfo) && optional(o.budgetStatuses, (x) => arrayOf(x, isBudgetStatus)),
  saveFailed: (o) => isId(o.id) && str(o.message) && optional(o.field, strOrNull),
  analytics: (o) => isId(o.id) && checkAnalyticsData(o.data),
  analyticsError: (o) => isId(o.id) && str(o.message) && optional(o.problem, oneOf(['notRunning', 'failed'] as const)),
  sessionsPage: (o) => isId(o.id) && isSessionsPage(o.page),
  actionResult: (o) => oneOf(['addPrice', 'exportView'] as const)(o.action) && bool(o.ok) && str(o.message),
  usageEvent: (o) => isUsageRecord(o.record) && optional(o.agentName, strOrNull),
  refresh: () => true,
  teamAnalytics: (o) => isId(o.id) && checkTeamAnalyticsData(o.data),
  teamAnalyticsError: (o) => isId(o.id) && oneOf(TEAM_ANALYTICS_PROBLEMS)(o.problem) && str(o.message),
  sidebarData: (o) => optional(o.id, isId) && checkSidebarData(o.data),
  health: (o) => isHealth(o.health),
  requestFailed: (o) => isId(o.id) && str(o.message),
  routingDecision: (o) => isId(o.requestId) && obj((d) => str(d.model) && str(d.source) && str(d.rule) && num(d.tokenCount) && str(d.timestamp))(o.decision)
    && optional(o.agentName, strOrNull),
};

const VIEW_HOST_TYPES: Record<WebviewName, readonly HostToWebviewMessage['type'][]> = {
  modelConfig: ['init', 'saved', 'saveFailed', 'requestFailed'],
  analytics: ['analytics', 'analyticsError', 'usageEvent', 'refresh', 'teamAnalytics', 'teamAnalyticsError', 'sessionsPage', 'actionResult', 'requestFailed'],
  sidebar: ['sidebarData', 'health', 'routingDecision', 'usageEvent', 'requestFailed'],
};
function check<T extends string>(table: Record<T, (o: Obj) => boolean>, allowed: readonly T[] | null, v: unknown): boolean {
  if (!isPlainObject(v) || typeof v.type !== 'string') return false;
  const type = v.type as T;
  if (!Object.prototype.hasOwnProperty.call(table, type)) return false;
  if (allowed && !allowed.includes(type)) return false;
  return table[type](v);
}

export function isHostToWebviewMessage(v: unknown): v is HostToWebviewMessage { return check(HOST_MESSAGES, null, v); }

export function isModelConfigHostMessage(v: unknown): v is ModelConfigHostMessage { return check(HOST_MESSAGES, VIEW_HOST_TYPES.modelConfig, v); }
export function isAnalyticsHostMessage(v: unknown): v is AnalyticsHostMessage { return check(HOST_MESSAGES, VIEW_HOST_TYPES.analytics, v); }
export function isSidebarHostMessage(v: unknown): v is SidebarHostMessage { return check(HOST_MESSAGES, VIEW_HOST_TYPES.sidebar, v); }

// ---------------------------------------------------------------------------------------
// Webview → host: what a webview sends, checked by the host (a webview is not trusted with
// anything it stores or runs), as valibot schemas. The guards check shape; the host still
// validates what it stores (a save's config passes parseProjectModelConfig's schema, its
// budget the budget policy's, so a save that passes is one the gateway accepts).

const idSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(200));
const nonEmptySchema = v.pipe(v.string(), v.minLength(1), v.maxLength(500));
const daySchema = v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}$/));
const periodEntries = { range: v.picklist(ANALYTICS_RANGES), from: v.optional(daySchema), to: v.optional(daySchema) };
/** A range, with its two days when (and only when) it is custom. */
const periodCheck = <T extends { range: AnalyticsRange; from?: string; to?: string }>() => v.check<T>((p) => (p.range === 'custom'
  ? p.from !== undefined && p.to !== undefined && p.from <= p.to
  : p.from === undefined && p.to === undefined));
const agentSelectionSchema = v.pipe(
  v.object({ useProjectModel: v.boolean(), customModelId: v.nullable(nonEmptySchema) }),
  v.check((c) => (c.useProjectModel ? c.customModelId === null : c.customModelId !== null)),
);

/** Each request's parameters (the message without type and id). */
const REQUEST_PARAMS = {
  requestAnalytics: v.pipe(v.object(periodEntries), periodCheck()),
  requestSessions: v.pipe(v.object({ ...periodEntries, sort: v.picklist(SESSION_SORTS), offset: v.pipe(v.number(), v.finite(), v.minValue(0)) }), periodCheck()),
  requestTeamAnalytics: v.pipe(v.object(periodEntries), periodCheck()),
  save: v.variant('kind', [
    v.object({ kind: v.literal('project'), projectKey: nonEmptySchema, agentId: v.optional(v.undefined()), config: projectModelConfigSchema, budget: v.optional(budgetPolicyPatchSchema) }),
    v.object({ kind: v.literal('agent'), projectKey: nonEmptySchema, agentId: idSchema, config: agentSelectionSchema, budget: v.optional(budgetPolicyPatchSchema) }),
  ]),
  requestSidebarData: v.object({}),
} satisfies Record<keyof WebviewRequests, v.GenericSchema>;

/** The messages that are not requests, by type; signIn carries nothing (no command to run). */
const NOTICE_SCHEMAS = {
  ready: v.object({ view: v.picklist(WEBVIEW_NAMES) }),
  addPrice: v.object({ model: v.pipe(v.string(), v.minLength(1), v.maxLength(200)) }),
  exportView: v.object({
    format: v.picklist(['csv', 'json']),
    view: v.picklist(EXPORT_VIEWS),
    params: v.pipe(v.object({ ...periodEntries, sort: v.optional(v.picklist(SESSION_SORTS)), groupBy: v.optional(v.picklist(DAILY_GROUP_BYS)) }), periodCheck()),
  }),
  openSession: v.object({ sessionId: idSchema }),
  signIn: v.strictObject({}),
  openPanel: v.object({ panel: v.picklist(['analytics', 'modelConfig']) }),
  gatewayAction: v.object({ action: v.picklist(GATEWAY_ACTIONS) }),
} satisfies Record<Exclude<WebviewToHostMessage['type'], keyof WebviewRequests>, v.GenericSchema>;

const VIEW_WEBVIEW_TYPES: Record<WebviewName, readonly WebviewToHostMessage['type'][]> = {
  modelConfig: ['ready', 'save'],
  analytics: ['ready', 'requestAnalytics', 'openSession', 'requestTeamAnalytics', 'signIn', 'requestSessions', 'addPrice', 'exportView'],
  sidebar: ['ready', 'openPanel', 'gatewayAction', 'requestSidebarData'],
};

const isRequestType = (type: unknown): type is keyof WebviewRequests => typeof type === 'string' && Object.prototype.hasOwnProperty.call(REQUEST_PARAMS, type);
const isNoticeType = (type: unknown): type is keyof typeof NOTICE_SCHEMAS => typeof type === 'string' && Object.prototype.hasOwnProperty.call(NOTICE_SCHEMAS, type);

/** The parameters of a request of this type pass its schema (what the host's channel checks before answering). */
export function requestParamsPass<M extends keyof WebviewRequests>(method: M, params: unknown): params is WebviewRequests[M]['params'] {
  return passes(REQUEST_PARAMS[method] as v.GenericSchema, params);
}

/** For channelServer's `validate`: each request's parameters checked against its schema. */
export const WEBVIEW_REQUEST_CHECKS: { [M in keyof WebviewRequests]: (params: unknown) => params is WebviewRequests[M]['params'] } = {
  requestAnalytics: (p): p is WebviewRequests['requestAnalytics']['params'] => requestParamsPass('requestAnalytics', p),
  requestSessions: (p): p is WebviewRequests['requestSessions']['params'] => requestParamsPass('requestSessions', p),
  requestTeamAnalytics: (p): p is WebviewRequests['requestTeamAnalytics']['params'] => requestParamsPass('requestTeamAnalytics', p),
  save: (p): p is WebviewRequests['save']['params'] => requestParamsPass('save', p),
  requestSidebarData: (p): p is WebviewRequests['requestSidebarData']['params'] => requestParamsPass('requestSidebarData', p),
};

function checkWebviewMessage(allowed: readonly WebviewToHostMessage['type'][] | null, m: unknown): boolean {
  if (!isPlainObject(m)) return false;
  const { type, id, ...rest } = m;
  if (allowed && !allowed.includes(type as WebviewToHostMessage['type'])) return false;
  if (isRequestType(type)) return passes(idSchema, id) && passes(REQUEST_PARAMS[type] as v.GenericSchema, rest);
  return isNoticeType(type) && id === undefined && passes(NOTICE_SCHEMAS[type] as v.GenericSchema, rest);
}

export function isWebviewToHostMessage(m: unknown): m is WebviewToHostMessage { return checkWebviewMessage(null, m); }
export function isModelConfigWebviewMessage(m: unknown): m is ModelConfigWebviewMessage { return checkWebviewMessage(VIEW_WEBVIEW_TYPES.modelConfig, m); }
export function isAnalyticsWebviewMessage(m: unknown): m is AnalyticsWebviewMessage { return checkWebviewMessage(VIEW_WEBVIEW_TYPES.analytics, m); }
export function isSidebarWebviewMessage(m: unknown): m is SidebarWebviewMessage { return checkWebviewMessage(VIEW_WEBVIEW_TYPES.sidebar, m); }

/** A message of one type, narrowed: `if (isMessageOfType(m, 'save')) m.config`. */
export function isMessageOfType<T extends WebviewToHostMessage['type']>(m: unknown, type: T): m is Extract<WebviewToHostMessage, { type: T }> {
  return isWebviewToHostMessage(m) && m.type === type;
}

// ---------------------------------------------------------------------------------------
// The webview wire: the typed channel's envelopes as the views' own messages. A request is
// {type: <request>, id, ...params}; its answer is one of the messages WebviewRequests names,
// with the same id; requestFailed when the host could not answer. Messages without an id
// are not the channel's (notices both ways).

/** The host's side: which message is a request, and the message an answer travels in. */
export const HOST_WIRE: ServerWire<HostToWebviewMessage> = {
  request(message): RequestEnvelope | null {
    if (!isPlainObject(message) || !isRequestType(message.type) || typeof message.id !== 'string') return null;
    const { type, id, ...params } = message;
    return { channel: 'request', id, method: type as string, params };
  },
  response(envelope: ResponseEnvelope): HostToWebviewMessage {
    const id = String(envelope.id);
    return envelope.ok ? { ...(envelope.value as HostToWebviewMessage), id } as HostToWebviewMessage : { type: 'requestFailed', id, message: envelope.error.message };
  },
};

/**
 * A view's side. Its ids are unique to the page (`pageId`), so an answer meant for the page
 * before a reload is not taken for one to this page's request.
 */
export function webviewWire(pageId: string): ClientWire<WebviewToHostMessage> {
  const prefix = `${pageId}-`;
  return {
    request: (envelope) => ({ type: envelope.method, id: `${prefix}${envelope.id}`, ...(envelope.params as object) }) as WebviewToHostMessage,
    response(message): ResponseEnvelope | null {
      if (!isPlainObject(message) || typeof message.id !== 'string') return null;
      // 0 is no request's id: an answer to another page is consumed and dropped.
      const n = message.id.startsWith(prefix) ? Number(message.id.slice(prefix.length)) : 0;
      const id = Number.isSafeInteger(n) && n > 0 ? n : 0;
      return message.type === 'requestFailed'
        ? { channel: 'response', id, ok: false, error: { name: 'Error', message: String(message.message) } }
        : { channel: 'response', id, ok: true, value: message };
    },
  };
}

// ---------------------------------------------------------------------------------------
// Calendar spend: what the status bar, the sidebar and the model configuration view show

/*
 * What a project, an agent or every project spent today and this month, counted as budgets
 * count them: calendar periods in the gateway's time zone (GET /v1/conduit/status
 * `timeZone`), from local midnight and from the 1st at 00:00 to now. The figures are the
 * usage store's (the analytics summary), the amounts the budgets'; the status bar, the
 * sidebar and the model configuration view all show this one shape.
 */

/** One calendar period's spend, with the budget set for it. */
export interface PeriodSpend {
  /** USD of the requests with a known price; null when no request had one. */
  cost: number | null;
  requests: number;
  /** Requests whose price is unknown (not in `cost`). */
  unknownCostRequests: number;
  /** The period's budget in USD; null when none is set. */
  budgetUsd: number | null;
}

export interface CalendarSpend {
  today: PeriodSpend;
  month: PeriodSpend;
  /** The zone the periods are counted in (IANA name). */
  timeZone: string;
}

/** The local dates that bound today and this month in `timeZone` ("2026-12-03", "2026-12-01"). */
export function calendarDates(timeZone: string, now: Date = new Date()): { today: string; monthStart: string } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const month = `${part('year')}-${part('month')}`;
  return { today: `${month}-${part('day')}`, monthStart: `${month}-01` };
}

const isCount = (v: unknown): v is number => num(v) && v >= 0;

export function isPeriodSpend(v: unknown): v is PeriodSpend {
  return isPlainObject(v) && numOrNull(v.cost) && isCount(v.requests) && isCount(v.unknownCostRequests) && numOrNull(v.budgetUsd);
}

export function isCalendarSpend(v: unknown): v is CalendarSpend {
  return isPlainObject(v) && isPeriodSpend(v.today) && isPeriodSpend(v.month) && str(v.timeZone, 100);
}

/** A model's list price in USD per million tokens (the gateway's price table, config.json's prices on top). */
export interface ModelListPrice { input: number; output: number }

export function isModelListPrice(v: unknown): v is ModelListPrice {
  return isPlainObject(v) && isCount(v.input) && isCount(v.output);
}

/**
 * What the sidebar shows besides SidebarData: whose figures they are, and that scope's
 * calendar spend against its budgets (absent until the store answered).
 */
export interface SidebarSpend {
  /** "project synapse-app" or "all projects". */
  scopeLabel: string;
  spend?: CalendarSpend;
}

export type SidebarSpendData = SidebarData & Partial<SidebarSpend>;

export function isSidebarSpend(v: unknown): v is SidebarSpend {
  return isPlainObject(v) && str(v.scopeLabel, 300) && (v.spend === undefined || isCalendarSpend(v.spend));
}

// ---------------------------------------------------------------------------------------
// Model configuration extras

/**
 * What the model configuration view gets besides ModelConfigInit: each model's list price
 * (GET /v1/conduit/models), the gateway's plugins folder (its CONDUIT_HOME's, from GET
 * /v1/conduit/status), and what the project or agent shown spent today and this month
 * against its budgets (CalendarSpend).
 */
export interface PricedModelOption extends ModelOption {
  /** USD per million tokens; null when the gateway knows no price; absent from an older gateway. */
  price?: ModelListPrice | null;
}

export interface ModelConfigExtras {
  /** The folder the gateway loads custom router plugins from; null when the gateway does not say. */
  pluginsDir?: string | null;
  spend?: CalendarSpend;
}

export type ModelConfigViewInit = ModelConfigInit & ModelConfigExtras & { models: PricedModelOption[] };

/** The extras of an init as the view reads them: each checked, a malformed one dropped. */
export function modelConfigExtrasOf(v: unknown): ModelConfigExtras {
  const o = isPlainObject(v) ? v : {};
  return {
    pluginsDir: str(o.pluginsDir, 4096) ? o.pluginsDir : null,
    ...(isCalendarSpend(o.spend) ? { spend: o.spend } : {}),
  };
}

/** A model's price as the view reads it: null when absent or malformed. */
export function listPriceOf(model: ModelOption): ModelListPrice | null {
  const price = (model as PricedModelOption).price;
  return isModelListPrice(price) ? price : null;
}
