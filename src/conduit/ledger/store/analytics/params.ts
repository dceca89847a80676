// The query string of GET /v1/conduit/analytics/<query>, checked without a database.
import {
  ANALYTICS_RANGES, DAILY_GROUPS, MAX_PAGE_LIMIT, RANGE_ALIASES, SESSION_RANGE, SESSION_SORTS,
  type DailyGroupBy, type ScopeRange, type SessionSort,
} from '../../../../protocol/analytics';
import { AnalyticsParamError, strictQuery, timeZoneParam } from '../queryParams';

export const ANALYTICS_QUERIES = ['summary', 'models', 'timeseries', 'sources', 'recent', 'agents', 'sessions', 'savings', 'cache', 'daily'] as const;
export type AnalyticsQuery = (typeof ANALYTICS_QUERIES)[number];

/**
 * The range kinds the queries take (the older day, week and month are read as 24h, 7d and
 * 30d), and 'session': the named session's own span, first to last request.
 */
export type RangeKind = ScopeRange;
export type Bucket = 'hour' | 'day';

export interface AnalyticsParams {
  project?: string;
  agent?: string;
  session?: string;
  /** Older callers may still pass 'day' | 'week' | 'month' (read as their rolling range). */
  range: RangeKind | keyof typeof RANGE_ALIASES;
  /** custom only: as given (YYYY-MM-DD, local date-time, or date-time with offset). */
  from?: string;
  to?: string;
  tz: string;
  bucket?: Bucket;
  limit: number;
  /** sessions and recent: rows to skip. */
  offset?: number;
  /** sessions: the ranking. */
  sort?: SessionSort;
  /** daily: what each day's cost is split by. */
  groupBy?: DailyGroupBy;
  /** savings: compare against this model instead of the project's default model. */
  baseline?: string;
}

const PARAMS = ['project', 'agent', 'session', 'range', 'from', 'to', 'tz', 'bucket', 'limit', 'offset', 'sort', 'groupBy', 'baseline'] as const;
/** The default page (and the most rows of queries other than sessions and recent). */
export const MAX_LIMIT = 50;
/** Queries whose rows come in pages (limit up to MAX_PAGE_LIMIT, offset). */
const PAGED: readonly AnalyticsQuery[] = ['sessions', 'recent'];
const MAX_OFFSET = 1_000_000;
export const MAX_CUSTOM_DAYS = 366;
export const MAX_HOUR_BUCKET_DAYS = 31;

export const DATE = /^\d{4}-\d{2}-\d{2}$/;
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$/;
export const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$/i;

export function isAnalyticsQuery(name: string): name is AnalyticsQuery {
  return (ANALYTICS_QUERIES as readonly string[]).includes(name);
}

/** The range kind a caller named, an older name resolved to the rolling range it means. */
export function rangeKind(range: AnalyticsParams['range']): RangeKind {
  return Object.hasOwn(RANGE_ALIASES, range) ? RANGE_ALIASES[range as keyof typeof RANGE_ALIASES] : range as RangeKind;
}

export function idParam(name: string, value: string): string {
  if (value.length < 1 || value.length > 200) throw new AnalyticsParamError(`${name}: expected 1 to 200 characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new AnalyticsParamError(`${name}: control characters are not allowed`);
  return value;
}

export function timeParam(name: string, value: string): string {
  if (!DATE.test(value) && !LOCAL_TIME.test(value) && !ZONED_TIME.test(value)) {
    throw new AnalyticsParamError(`${name}: expected a date (2026-11-27), a local date-time (2026-11-27T14:00) or one with an offset (2026-11-27T14:00:00Z), got "${value.slice(0, 40)}"`);
  }
  if (Number.isNaN(Date.parse(DATE.test(value) ? `${value}T00:00:00Z` : ZONED_TIME.test(value) ? value : `${value}Z`))) {
    throw new AnalyticsParamError(`${name}: "${value}" is not a valid date`);
  }
  return value;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new AnalyticsParamError(`${name}: expected one of ${allowed.join(', ')}, got "${value.slice(0, 40)}"`);
  return value as T;
}

function wholeNumber(name: string, value: string, min: number, max: number): number {
  if (!/^\d{1,7}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new AnalyticsParamError(`${name}: expected a whole number from ${min} to ${max}, got "${value.slice(0, 40)}"`);
  }
  return Number(value);
}

/**
 * Checks the query string of GET /v1/conduit/analytics/<query>. With `query`, parameters
 * that apply to other queries only (sort, groupBy, offset) are refused by name.
 */
export function parseAnalyticsParams(search: URLSearchParams, query?: AnalyticsQuery): AnalyticsParams {
  const get = strictQuery(search, PARAMS);
  const from = get('from');
  const to = get('to');
  // A session named without a period: its whole life, whatever its age.
  const rangeText = get('range') ?? (from || to ? 'custom' : search.has('session') ? SESSION_RANGE : '7d');
  const accepted = [...ANALYTICS_RANGES, SESSION_RANGE, ...Object.keys(RANGE_ALIASES)];
  if (!accepted.includes(rangeText)) throw new AnalyticsParamError(`range: expected one of ${accepted.join(', ')}, got "${rangeText.slice(0, 40)}"`);
  const range = rangeKind(rangeText as AnalyticsParams['range']);
  const params: AnalyticsParams = { range, tz: 'UTC', limit: MAX_LIMIT };
  if (range === 'custom') {
    if (!from || !to) throw new AnalyticsParamError('range=custom needs both from and to');
    params.from = timeParam('from', from);
    params.to = timeParam('to', to);
  } else if (from || to) {
    throw new AnalyticsParamError(`from and to apply to range=custom only (range is ${rangeText})`);
  }
  if (range === SESSION_RANGE && !search.get('session')) throw new AnalyticsParamError('range=session needs session (the session\'s id)');
  const tz = get('tz');
  if (tz !== undefined) params.tz = timeZoneParam(tz);
  const bucket = get('bucket');
  if (bucket !== undefined) {
    if (bucket !== 'hour' && bucket !== 'day') throw new AnalyticsParamError(`bucket: expected hour or day, got "${bucket.slice(0, 40)}"`);
    params.bucket = bucket;
    if (params.bucket === 'hour' && range === '30d') {
      throw new AnalyticsParamError(`bucket=hour covers at most ${MAX_HOUR_BUCKET_DAYS} days; use bucket=day for range=${rangeText}`);
    }
  }
  const paged = query === undefined || PAGED.includes(query);
  const limit = get('limit');
  if (limit !== undefined) {
    const max = paged ? MAX_PAGE_LIMIT : MAX_LIMIT;
    params.limit = wholeNumber('limit', limit, 1, max);
  }
  const offset = get('offset');
  if (offset !== undefined) {
    if (!paged) throw new AnalyticsParamError(`offset applies to the sessions and recent queries only (not ${query})`);
    params.offset = wholeNumber('offset', offset, 0, MAX_OFFSET);
  }
  const sort = get('sort');
  if (sort !== undefined) {
    if (query !== undefined && query !== 'sessions') throw new AnalyticsParamError(`sort applies to the sessions query only (not ${query})`);
    params.sort = oneOf('sort', sort, SESSION_SORTS);
  }
  const groupBy = get('groupBy');
  if (groupBy !== undefined) {
    if (query !== undefined && query !== 'daily') throw new AnalyticsParamError(`groupBy applies to the daily query only (not ${query})`);
    params.groupBy = oneOf('groupBy', groupBy, DAILY_GROUPS);
  }
  for (const k of ['project', 'agent', 'session', 'baseline'] as const) {
    const v = get(k);
    if (v !== undefined) params[k] = idParam(k, v);
  }
  return params;
}
