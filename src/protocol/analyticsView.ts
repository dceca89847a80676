/**
 * GET /v1/conduit/analytics/view: everything an analytics view shows, in one round trip.
 * The gateway runs the queries the view needs (each as GET /v1/conduit/analytics/<query>
 * would answer it) and answers them together; the view's parameters are those every
 * query takes (project, session, range, from, to, tz) and the time series' bucket.
 * Answers of the queries not typed in analytics.ts are typed here.
 */
import type {
  AgentsAnswer, AnalyticsScope, DailyAnswer, DailyGroupBy, ModelsAnswer, RecentAnswer, SessionsAnswer, SummaryAnswer,
} from './analytics';

/** Recent requests a view holds (the API's most in one page); its table pages through them. */
export const VIEW_RECENT_LIMIT = 200;
/** Sessions per page of a view's Sessions table (the first page comes with the view, by cost). */
export const VIEW_SESSIONS_PAGE_SIZE = 25;

export interface TimeseriesPoint {
  start: string;
  label: string;
  requests: number;
  errors: number;
  totalTokens: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  cost: number | null;
  unknownCostRequests: number;
}

export interface TimeseriesAnswer {
  query: 'timeseries';
  scope: AnalyticsScope;
  bucket: 'hour' | 'day';
  points: TimeseriesPoint[];
}

export interface SourceRow {
  source: string;
  requests: number;
  cost: number | null;
  /** Of the range's requests, 0..1. */
  share: number;
}

export interface SourcesAnswer {
  query: 'sources';
  scope: AnalyticsScope;
  sources: SourceRow[];
}

export interface SavingsAnswer {
  query: 'savings';
  scope: AnalyticsScope;
  baselineModels: string[];
  comparedRequests: number;
  actualCost: number;
  baselineCost: number;
  savings: number;
  savingsPercent: number | null;
}

export interface CacheAnswer {
  query: 'cache';
  scope: AnalyticsScope;
  hitRate: number | null;
  inputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  savedByReads: number;
  writePremium: number;
  netSavings: number;
  unpricedModels: string[];
}

export interface AnalyticsViewAnswer {
  summary: SummaryAnswer;
  models: ModelsAnswer;
  timeseries: TimeseriesAnswer;
  sources: SourcesAnswer;
  /** The latest VIEW_RECENT_LIMIT requests. */
  recent: RecentAnswer;
  agents: AgentsAnswer;
  /** The first page of sessions by cost (VIEW_SESSIONS_PAGE_SIZE). */
  sessions: SessionsAnswer;
  savings: SavingsAnswer;
  cache: CacheAnswer;
  /** By model and by agent; by project too for every project's view (no project, no session). */
  daily: Partial<Record<DailyGroupBy, DailyAnswer>>;
}
