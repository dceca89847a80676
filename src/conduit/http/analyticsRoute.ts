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
import * as v from 'valibot';
import type { Logger } from '../core/log';
import {
  ANALYTICS_QUERIES, AnalyticsParamError, finishAnalytics, parseAnalyticsParams, type AnalyticsQuery, type PriceLookup,
} from '../ledger/store/analytics';
import { LedgerUnavailableError, type LedgerService } from '../ledger/service';
import type { TeamAccess } from '../team/teamService';
import { VIEW_RECENT_LIMIT, VIEW_SESSIONS_PAGE_SIZE, type AnalyticsViewAnswer } from '../../protocol/analyticsView';
import type { DailyAnswer, DailyGroupBy } from '../../protocol/analytics';
import { route } from '../../protocol/route';
import { ROUTES } from '../../protocol/routes';
import { GatewayError } from './errors';
import { serve, storeOf, type ServedRoute } from './routeTable';
import { teamUsage } from './teamRoute';

export interface AnalyticsRouteDeps {
  ledger?: LedgerService | null;
  prices: PriceLookup;
  log: Logger;
  /** The signed-in person's Supabase access, for the members query. */
  team?: TeamAccess | null;
}

/** Each query of the store as its route of the table, by the query's name. */
const QUERY_ROUTES = {
  summary: ROUTES.analyticsSummary,
  models: ROUTES.analyticsModels,
  timeseries: ROUTES.analyticsTimeseries,
  sources: ROUTES.analyticsSources,
  recent: ROUTES.analyticsRecent,
  agents: ROUTES.analyticsAgents,
  sessions: ROUTES.analyticsSessions,
  savings: ROUTES.analyticsSavings,
  cache: ROUTES.analyticsCache,
  daily: ROUTES.analyticsDaily,
} as const satisfies Record<AnalyticsQuery, unknown>;

/**
 * Any other name under /v1/conduit/analytics/: not a route of the table (no client calls
 * it), served last so that its 404 lists the queries there are.
 */
const UNKNOWN_QUERY = route('GET', '/v1/conduit/analytics/:query', { params: v.object({ query: v.string() }) });

export function analyticsRoutes(deps: AnalyticsRouteDeps): ServedRoute[] {
  return [
    serve(ROUTES.analyticsView, ({ search }) => analyticsView(search, deps)),
    serve(ROUTES.analyticsMembers, ({ search }) => teamUsage(search, deps)),
    ...ANALYTICS_QUERIES.map((name) => serve(QUERY_ROUTES[name], ({ search }) => storeQuery(name, search, deps))),
    serve(UNKNOWN_QUERY, ({ params }) => {
      throw new GatewayError('not_found_error', `no analytics query "${params.query.slice(0, 60)}" (have: ${ANALYTICS_QUERIES.join(', ')}, members)`);
    }),
  ];
}

/** One query of this machine's store, answered as { query, ...its answer }. */
async function storeQuery(name: AnalyticsQuery, search: URLSearchParams, deps: AnalyticsRouteDeps): Promise<never> {
  const scopes = search.getAll('scope');
  if (scopes.length) {
    if (scopes.length > 1) throw new AnalyticsParamError('parameter "scope" is given more than once');
    if (scopes[0] === 'team') {
      throw new AnalyticsParamError(
        `scope=team: the ${name} query reads this machine's store, which holds only your own usage; ` +
        'the team\'s usage per member is GET /v1/conduit/analytics/members?project=<project>&scope=team (needs the Supabase sign-in)');
    }
    if (scopes[0] !== 'own' && scopes[0] !== '') throw new AnalyticsParamError(`scope: expected own or team, got "${scopes[0].slice(0, 40)}"`);
    search = new URLSearchParams(search);
    search.delete('scope');
  }
  const params = parseAnalyticsParams(search, name);
  const ledger = storeOf(deps.ledger);
  try {
    const raw = await ledger.analytics(name, params);
    // Each answer's type is its route's (src/protocol/analytics.ts); the store's finishing is untyped.
    return { query: name, ...finishAnalytics(raw, deps.prices, params) } as never;
  } catch (err) {
    if (err instanceof AnalyticsParamError || err instanceof LedgerUnavailableError) throw err;
    deps.log.error(`analytics ${name}: ${(err as Error)?.stack ?? String(err)}`);
    throw new GatewayError('api_error', `the analytics query failed: ${(err as Error)?.message ?? String(err)}`);
  }
}

/**
 * GET /v1/conduit/analytics/view (src/protocol/analyticsView.ts): the queries an analytics
 * view shows, each answered as its own GET would answer it, in one round trip. The view's
 * parameters go to every query (each query's parser checks them as strictly as its own
 * route does); bucket goes to the time series only.
 */
export async function analyticsView(search: URLSearchParams, deps: AnalyticsRouteDeps): Promise<AnalyticsViewAnswer> {
  const ledger = storeOf(deps.ledger);
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
    if (err instanceof AnalyticsParamError || err instanceof LedgerUnavailableError) throw err;
    deps.log.error(`analytics view: ${(err as Error)?.stack ?? String(err)}`);
    throw new GatewayError('api_error', `the analytics query failed: ${(err as Error)?.message ?? String(err)}`);
  }
}
