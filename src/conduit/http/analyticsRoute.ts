/**
 * GET /v1/conduit/analytics/<query>?project=&agent=&session=&range=today|this-week|this-month|24h|7d|30d|custom&from=&to=&tz=&bucket=hour|day&limit=&offset=&sort=&groupBy=&baseline=
 *
 * Queries: summary, models, timeseries, daily, sources, recent, agents, sessions, savings, cache
 * (see src/conduit/ledger/store/analytics/, answers in src/protocol/analytics.ts). Answers 400 for a bad parameter, 404 for an
 * unknown query, and 503 with Retry-After while the usage store is opening (or if it
 * failed to open). The token check happens before (server.ts).
 *
 * scope=own|team: this machine's store holds only the person's own usage, so these
 * queries take scope=own (the default) and refuse scope=team. The team's usage per member
 * is the members query, answered from Supabase with the signed-in session (teamRoute.ts,
 * src/protocol/team.ts): GET /v1/conduit/analytics/members?project=&range=&scope=team|own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/log';
import {
  ANALYTICS_QUERIES, AnalyticsParamError, finishAnalytics, isAnalyticsQuery, parseAnalyticsParams, type AnalyticsQuery, type PriceLookup,
} from '../ledger/store/analytics';
import { LedgerUnavailableError, type LedgerService } from '../ledger/service';
import type { TeamAccess } from '../team/teamService';
import { VIEW_RECENT_LIMIT, VIEW_SESSIONS_PAGE_SIZE, type AnalyticsViewAnswer } from '../../protocol/analyticsView';
import type { DailyAnswer, DailyGroupBy } from '../../protocol/analytics';
import { GatewayError, sendError } from './errors';
import { handleTeamUsage } from './teamRoute';

export interface AnalyticsRouteDeps {
  ledger?: LedgerService | null;
  prices: PriceLookup;
  log: Logger;
  /** The signed-in person's Supabase access, for the members query. */
  team?: TeamAccess | null;
}

export const ANALYTICS_PREFIX = '/v1/conduit/analytics/';

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** Answers 503 for a store that is not ready, with Retry-After while it opens. */
export function sendUnavailable(res: ServerResponse, err: LedgerUnavailableError): void {
  res.setHeader('retry-after', err.state === 'opening' ? '5' : '60');
  sendError(res, 'api_error', err.message, 503);
}

export async function handleAnalytics(req: IncomingMessage, res: ServerResponse, path: string, search: URLSearchParams, deps: AnalyticsRouteDeps): Promise<void> {
  const name = path.slice(ANALYTICS_PREFIX.length);
  if (req.method !== 'GET') return sendError(res, 'invalid_request_error', `${req.method} is not allowed on ${path}; use GET`, 405);
  if (name === 'members') return handleTeamUsage(res, search, deps);
  if (!isAnalyticsQuery(name)) {
    return sendError(res, 'not_found_error', `no analytics query "${name.slice(0, 60)}" (have: ${ANALYTICS_QUERIES.join(', ')}, members)`);
  }
  const scopes = search.getAll('scope');
  if (scopes.length) {
    if (scopes.length > 1) return sendError(res, 'invalid_request_error', 'parameter "scope" is given more than once');
    if (scopes[0] === 'team') {
      return sendError(res, 'invalid_request_error',
        `scope=team: the ${name} query reads this machine's store, which holds only your own usage; ` +
        'the team\'s usage per member is GET /v1/conduit/analytics/members?project=<project>&scope=team (needs the Supabase sign-in)');
    }
    if (scopes[0] !== 'own' && scopes[0] !== '') return sendError(res, 'invalid_request_error', `scope: expected own or team, got "${scopes[0].slice(0, 40)}"`);
    search = new URLSearchParams(search);
    search.delete('scope');
  }
  let params;
  try {
    params = parseAnalyticsParams(search, name);
  } catch (err) {
    if (err instanceof AnalyticsParamError) return sendError(res, 'invalid_request_error', err.message);
    throw err;
  }
  const ledger = deps.ledger;
  if (!ledger) {
    return sendUnavailable(res, new LedgerUnavailableError('failed', 'the usage store is turned off in this gateway'));
  }
  try {
    const raw = await ledger.analytics(name, params);
    sendJson(res, 200, { query: name, ...finishAnalytics(raw, deps.prices, params) });
  } catch (err) {
    if (err instanceof AnalyticsParamError) return sendError(res, 'invalid_request_error', err.message);
    if (err instanceof LedgerUnavailableError) return sendUnavailable(res, err);
    deps.log.error(`analytics ${name}: ${(err as Error)?.stack ?? String(err)}`);
    sendError(res, 'api_error', `the analytics query failed: ${(err as Error)?.message ?? String(err)}`);
  }
}

/**
 * GET /v1/conduit/analytics/view (src/protocol/analyticsView.ts): the queries an analytics
 * view shows, each answered as its own GET would answer it, in one round trip. The view's
 * parameters go to every query (each query's parser checks them as strictly as its own
 * route does); bucket goes to the time series only.
 */
export async function analyticsView(search: URLSearchParams, deps: AnalyticsRouteDeps): Promise<AnalyticsViewAnswer> {
  const ledger = deps.ledger;
  if (!ledger) throw new LedgerUnavailableError('failed', 'the usage store is turned off in this gateway');
  const base = new URLSearchParams(search);
  const bucket = base.get('bucket');
  base.delete('bucket');
  const run = async <A>(query: AnalyticsQuery, extra: Record<string, string> = {}): Promise<A> => {
    const one = new URLSearchParams(base);
    for (const [k, value] of Object.entries(extra)) one.set(k, value);
    const params = parseAnalyticsParams(one, query);
    return { query, ...finishAnalytics(await ledger.analytics(query, params), deps.prices, params) } as A;
  };
  const daily = (groupBy: DailyGroupBy) => run<DailyAnswer>('daily', { groupBy });
  // Every project's view (no project, no session) breaks each day down by project too.
  const everyProject = !base.has('project') && !base.has('session');
  try {
    const [summary, models, timeseries, sources, recent, agents, sessions, savings, cache, byModel, byAgent, byProject] = await Promise.all([
      run<AnalyticsViewAnswer['summary']>('summary'),
      run<AnalyticsViewAnswer['models']>('models'),
      run<AnalyticsViewAnswer['timeseries']>('timeseries', bucket ? { bucket } : {}),
      run<AnalyticsViewAnswer['sources']>('sources'),
      run<AnalyticsViewAnswer['recent']>('recent', { limit: String(VIEW_RECENT_LIMIT) }),
      run<AnalyticsViewAnswer['agents']>('agents'),
      run<AnalyticsViewAnswer['sessions']>('sessions', { sort: 'cost', offset: '0', limit: String(VIEW_SESSIONS_PAGE_SIZE) }),
      run<AnalyticsViewAnswer['savings']>('savings'),
      run<AnalyticsViewAnswer['cache']>('cache'),
      daily('model'), daily('agent'), everyProject ? daily('project') : null,
    ]);
    return {
      summary, models, timeseries, sources, recent, agents, sessions, savings, cache,
      daily: { model: byModel, agent: byAgent, ...(byProject ? { project: byProject } : {}) },
    };
  } catch (err) {
    if (err instanceof AnalyticsParamError) throw new GatewayError('invalid_request_error', err.message);
    if (err instanceof LedgerUnavailableError) throw err;
    deps.log.error(`analytics view: ${(err as Error)?.stack ?? String(err)}`);
    throw new GatewayError('api_error', `the analytics query failed: ${(err as Error)?.message ?? String(err)}`);
  }
}
