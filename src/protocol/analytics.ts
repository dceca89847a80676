/**
 * The analytics API's parameters and answers (GET /v1/conduit/analytics/<query>), shared by
 * the gateway (src/conduit/ledger/store/analytics/) and the views that read it. Money is USD; a
 * cost is null when no request of the set had a known price (never 0 for "unknown").
 * Plain types and constants only: the webview imports this file.
 */
import type { TokenMeasures } from './measures';

/** Calendar ranges, counted like budgets in the caller's time zone (DST included): local midnight, Monday, the 1st → now. */
export const CALENDAR_RANGES = ['today', 'this-week', 'this-month'] as const;
/** Rolling ranges: now minus 24 hours, 7 or 30 days → now. */
export const ROLLING_RANGES = ['24h', '7d', '30d'] as const;
export type CalendarRange = (typeof CALENDAR_RANGES)[number];
export type RollingRange = (typeof ROLLING_RANGES)[number];
export type AnalyticsRange = CalendarRange | RollingRange | 'custom';
/** Older names, still accepted: each is the rolling range it names. */
export const RANGE_ALIASES = { day: '24h', week: '7d', month: '30d' } as const satisfies Record<string, RollingRange>;
export const ANALYTICS_RANGES: readonly AnalyticsRange[] = [...CALENDAR_RANGES, ...ROLLING_RANGES, 'custom'];
/**
 * A session's whole life, first to last request (`session=<id>` without a range, or
 * `range=session`): a session's figures whatever its age.
 */
export const SESSION_RANGE = 'session';
/** What an answer's scope.range can be: a range kind, or a session's own span. */
export type ScopeRange = AnalyticsRange | typeof SESSION_RANGE;
/** How a session's span is named on screen, before its dates ("Whole session · Nov 2 – Nov 3"). */
export const SESSION_RANGE_LABEL = 'Whole session';

/** How each range is named on screen (a custom range is named by its dates). */
export const RANGE_LABELS: Record<Exclude<AnalyticsRange, 'custom'>, string> = {
  today: 'Today',
  'this-week': 'This week',
  'this-month': 'This month',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
};

export const SESSION_SORTS = ['recent', 'cost', 'requests', 'tokens', 'duration'] as const;
export type SessionSort = (typeof SESSION_SORTS)[number];
export const DAILY_GROUPS = ['model', 'agent', 'project'] as const;
export type DailyGroupBy = (typeof DAILY_GROUPS)[number];
/** The most rows one page of sessions or recent requests holds. */
export const MAX_PAGE_LIMIT = 200;

/** The period an answer covers (every answer's `scope`). */
export interface AnalyticsScope {
  from: string;
  to: string;
  tz: string;
  project: { id: string; name: string; workspaceKey: string } | null;
  agent: string | null;
  session: string | null;
  /** The range as asked, an older name resolved ('day' → '24h'); 'session': the session's own span. */
  range: ScopeRange;
  calendar: boolean;
  /** "This month", "Last 7 days", "Dec 1 – Dec 3, 2026", "Whole session · Nov 2 – Nov 3". */
  label: string;
  /** The period of equal length just before; a calendar range's previous period cut at the same elapsed time. */
  previous: { from: string; to: string };
}

export interface UsageTotals extends TokenMeasures {
  requests: number;
  /** Requests that failed (an error, or a status of 400 and up), refusals by a budget included. */
  errors: number;
  cacheCreation5mTokens: number;
  cacheCreation1hTokens: number;
  /** input + output + cache write + cache read (src/protocol/measures.ts). */
  totalTokens: number;
  cost: number | null;
  costedRequests: number;
  /** Requests without a known cost: failed before any usage, or to a model without a price. */
  unknownCostRequests: number;
}

export interface FailedStatus {
  status: number;
  /** The error type the request ended with ("overloaded_error"), null when none was named. */
  error: string | null;
  requests: number;
}

export interface UnpricedModel {
  model: string;
  requests: number;
  totalTokens: number;
}

export interface SummaryAnswer extends UsageTotals {
  query: 'summary';
  scope: AnalyticsScope;
  averageCostPerRequest: number | null;
  averageDurationMs: number | null;
  /** Requests a budget refused (402, the provider never called): not in failedRequests. */
  refusedRequests: number;
  /** Requests that failed (status >= 400 or an error), refusals apart. */
  failedRequests: number;
  /** failedRequests / requests; null when there were no requests. */
  errorRate: number | null;
  /** Most first. */
  failedByStatus: FailedStatus[];
  /** Requests that reported usage but whose model has no price. */
  unpricedRequests: number;
  unpricedModels: UnpricedModel[];
  previous: { cost: number | null; requests: number; totalTokens: number };
  unrecorded: { count: number; costUsd: number };
}

export interface RetiredModel {
  /** YYYY-MM-DD */
  since: string;
  replacement: string | null;
  /** Who asked for it in the range: agents by name, and how many sessions. */
  askedBy: { agents: { id: string; name: string }[]; sessions: number };
}

export interface ModelRow extends UsageTotals {
  model: string;
  share: number;
  priceKnown: boolean;
  retired: RetiredModel | null;
  /** Cache reads priced at (input - cache read price); null without a price. */
  cacheSavings: number | null;
}

export interface ModelsAnswer {
  query: 'models';
  scope: AnalyticsScope;
  models: ModelRow[];
}

export interface DailyMeasures {
  cost: number | null;
  requests: number;
  totalTokens: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  /**
   * groupBy=model only: what cache reads saved (priced like ModelRow.cacheSavings; a day's:
   * of its models with a price). null without a price.
   */
  cacheSavings?: number | null;
}

export interface DailyDay extends DailyMeasures {
  /** The local date, YYYY-MM-DD. */
  date: string;
  /** The local midnight that starts it. */
  start: string;
  byKey: Record<string, DailyMeasures>;
}

export interface DailyKey {
  /** The model id, agent id ('' for none) or project id ('' for none). */
  key: string;
  /** The model id, the agent's name ("No agent"), the project's name ("No project"). */
  label: string;
  cost: number | null;
  requests: number;
  /** groupBy=model only: the model's cache savings over the range (its models row's cacheSavings). */
  cacheSavings?: number | null;
}

export interface DailyAnswer {
  query: 'daily';
  scope: AnalyticsScope;
  groupBy: DailyGroupBy;
  days: DailyDay[];
  /** Cost first (unknown last), then requests. */
  keys: DailyKey[];
  unknownCostRequests: number;
}

export interface AgentRow extends UsageTotals {
  agentId: string | null;
  name: string | null;
  externalId: string | null;
  personaType: string | null;
  /** Of the range's known cost, 0..1. */
  share: number;
  /** Cost per local day of the range (per week beyond 31 days), 0 for none. */
  trend: number[];
}

export interface AgentsAnswer {
  query: 'agents';
  scope: AnalyticsScope;
  /** Cost first (unknown last), then requests. */
  agents: AgentRow[];
  /** What each trend point covers. */
  trendUnit: 'day' | 'week';
}

export interface SessionRow {
  sessionId: string;
  claudeSessionId: string | null;
  models: { requestedModel: string; model: string; requests: number }[];
  firstAt: string;
  lastAt: string;
  durationMs: number;
  projectIds: string[];
  agents: { id: string; name: string; externalId: string | null }[];
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  cost: number | null;
  unknownCostRequests: number;
  averageDurationMs: number | null;
  /** At most 160 characters of the session's first prompt, whitespace collapsed. */
  firstPrompt: string | null;
}

export interface SessionsAnswer {
  query: 'sessions';
  scope: AnalyticsScope;
  sessions: SessionRow[];
  /** Sessions in the range (all pages). */
  total: number;
  offset: number;
  sort: SessionSort;
}

export interface RecentRow {
  requestId: string;
  at: string;
  model: string;
  requestedModel: string | null;
  provider: string | null;
  source: string | null;
  rule: string | null;
  projectId: string | null;
  agent: { id: string; name: string; externalId: string | null } | null;
  sessionId: string | null;
  conduitSessionId: string | null;
  claudeSessionId: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  cost: number | null;
  costSource: string | null;
  status: number | null;
  error: string | null;
  stream: boolean;
  durationMs: number | null;
  firstByteMs: number | null;
}

export interface RecentAnswer {
  query: 'recent';
  scope: AnalyticsScope;
  requests: RecentRow[];
  offset: number;
}

/** The first prompt excerpt a session keeps: its length, whitespace collapsed. */
export const FIRST_PROMPT_CHARS = 160;

/**
 * A prompt as the sessions view shows it: whitespace runs as one space, at most
 * FIRST_PROMPT_CHARS characters (code points: a cut never splits a surrogate pair), an
 * ellipsis where it was cut. Lone surrogates and NUL are the caller's to clean (the store
 * cannot hold them).
 */
export function promptExcerpt(text: string): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim());
  return chars.length <= FIRST_PROMPT_CHARS ? chars.join('') : `${chars.slice(0, FIRST_PROMPT_CHARS - 1).join('').trimEnd()}…`;
}

/** PUT /v1/conduit/sessions/<conduitSessionId>/info: what conduit-claude tells of its session. */
export interface SessionInfoBody {
  claudeSessionId?: string | null;
  firstPrompt?: string | null;
}

/** PUT /v1/conduit/prices/<model>: USD per million tokens; cache prices default from input (1.25x, 2x, 0.1x). */
export interface PriceBody {
  input: number;
  output: number;
  cacheWrite5m?: number;
  cacheWrite1h?: number;
  cacheRead?: number;
}
