/**
 * The gateway's HTTP API, each route once: method, path, parameters, query, body and
 * answer (route.ts says what a route is). The server dispatches from this table
 * (src/conduit/http/server.ts) and every client calls through it (src/conduit/client/call.ts,
 * the extension's GatewayApi). /v1/messages and /v1/messages/count_tokens are Anthropic's
 * API, forwarded as they are, and the event stream is SSE: neither is here.
 */
import * as v from 'valibot';
import type {
  AgentsAnswer, DailyAnswer, ModelsAnswer, PriceBody, RecentAnswer, SessionInfoBody, SessionsAnswer, SummaryAnswer,
} from './analytics';
import type { AnalyticsViewAnswer, CacheAnswer, SavingsAnswer, SourcesAnswer, TimeseriesAnswer } from './analyticsView';
import type { ReportLine } from './reports';
import type { BudgetAlert, BudgetAlertsResponse, BudgetsResponse } from './budgets';
import { leaseRenewalSchema, stopWhenIdleSchema, type LeaseInfo, type LeasesStatus, type StopWhenIdleAnswer } from './leases';
import type { AgentInfo, ProjectInfo } from './projects';
import type {
  ProjectInvitation, TeamMembersResponse, TeamMembership, TeamProject, TeamUsageResponse, WorkspaceLink,
} from './team';
import type { SessionSummary } from './usage';
import { closedObjectOf, expected, objectOf, route, typed, withoutControlCharacters, type Schema } from './route';
import { plainObjectSchema } from './validate';
import type { ModelCategory } from './modelCategory';

const text = v.string();
const optionalText = v.optional(v.string());

/** Session ids are plain: an id that needs percent-encoding names no session. */
export const SESSION_ID = /^[A-Za-z0-9._-]{1,200}$/;
const sessionId = v.pipe(v.string(), v.regex(SESSION_ID, expected('1 to 200 letters, digits, dots, dashes or underscores')));

/** A key or id in a path (a team project, member, invitation, workspace): 1 to 200 characters, no control characters. */
const pathSegment = v.pipe(v.string(), v.minLength(1), v.maxLength(200), withoutControlCharacters);

/** The parameters every analytics query takes: whose usage, and over which period. */
const analyticsTarget = {
  project: optionalText,
  agent: optionalText,
  session: optionalText,
  range: optionalText,
  from: optionalText,
  to: optionalText,
  tz: optionalText,
};

/**
 * The query of GET /v1/conduit/analytics/<query> for one of the store's queries: every
 * query takes the target, a page's size (limit) and scope=own (team is refused, see
 * analyticsRoute.ts); some take more (the gateway's parser refuses, by name, a parameter
 * that applies to another query only).
 */
const storeQuery = { ...analyticsTarget, limit: optionalText, scope: optionalText };
const bucket = v.optional(v.picklist(['hour', 'day'], expected('hour or day')));

/** A price as the gateway costs a model's requests: USD per million tokens. */
export interface PriceAnswer {
  model: string;
  /** above200k: the prices past 200k prompt tokens, where the model has them. */
  price: (Required<PriceBody> & { above200k?: Partial<Required<PriceBody>> }) | null;
  /** Where the price comes from (config.json's prices, the built-in table); null: none known. */
  source: string | null;
}

/**
 * The routing rules config.json merged over the gateway's defaults (a project's own
 * configuration overrides them per request): what a model configuration view inherits.
 */
export const routingRulesSchema = objectOf({
  longContextThreshold: v.pipe(v.number(expected('a number ≥ 0')), v.minValue(0, expected('a number ≥ 0'))),
  longContextModel: v.nullable(v.string(expected('a model id or null'))),
  backgroundModel: v.nullable(v.string(expected('a model id or null'))),
  webSearchModel: v.nullable(v.string(expected('a model id or null'))),
  reasoningModel: v.nullable(v.string(expected('a model id or null'))),
  reasoningKeywords: v.array(v.string(expected('a string')), expected('a list of strings')),
  reasoningBudgetThreshold: v.nullable(v.number(expected('a number or null'))),
  reasoningEfforts: v.array(v.string(expected('a string')), expected('a list of strings')),
  fallbackModels: v.array(v.string(expected('a model id')), expected('a list of model ids')),
  pluginsEnabled: v.boolean(expected('true or false')),
  defaultModel: v.nullable(v.string(expected('a model id or null'))),
});
export type MergedRoutingRules = v.InferOutput<typeof routingRulesSchema>;

export interface CatalogueModel {
  id: string;
  name: string;
  category: ModelCategory | null;
  /** Input and output USD per million tokens (a view's ModelListPrice); null when no price is known. */
  price: { input: number; output: number } | null;
}

/** A session's requests since the gateway started, by either of its ids. */
export interface SessionAnswer extends SessionSummary {
  /** The id the session is known by everywhere (claude's, else Conduit's). */
  sessionId: string;
}

/** What GET /v1/conduit/sync/status answers. */
export interface SyncStatusAnswer {
  mode: string;
  lastSuccessAt: string | null;
  /** Rows recorded and not yet pushed (null in local mode). */
  waiting: number | null;
  lastError: string | null;
  brokenLinks?: { message: string }[];
}

/** A field of a Supabase session: a non-empty string, which a refusal never echoes. */
const secretText = v.pipe(
  v.string('required, a non-empty string'),
  v.check((s) => s.trim() !== '', 'required, a non-empty string'),
  v.maxLength(16_384, 'longer than 16384 characters'),
);

const projectKey = v.object({ key: text });
/** A project's or agent's settings: an object here, each field checked by the gateway's projects route (projectsRoute.ts). */
const projectBody = plainObjectSchema;
const agentPath = v.object({ key: text, agentId: text });
const teamProject = v.object({ projectId: pathSegment });

export const ROUTES = {
  health: route('GET', '/health', { response: typed<Record<string, unknown>>() }),
  status: route('GET', '/v1/conduit/status', { response: typed<Record<string, unknown>>() }),
  models: route('GET', '/v1/conduit/models', { response: typed<{ models: CatalogueModel[] }>() }),
  rules: route('GET', '/v1/conduit/rules', { response: routingRulesSchema }),
  session: route('GET', '/v1/conduit/sessions/:id', { params: v.object({ id: sessionId }), response: typed<SessionAnswer>() }),
  sessionInfo: route('PUT', '/v1/conduit/sessions/:id/info', {
    params: v.object({ id: sessionId }),
    body: closedObjectOf({
      claudeSessionId: v.optional(v.nullable(sessionId)),
      firstPrompt: v.optional(v.nullable(v.string(expected('a string')))),
      /** Older wrappers sent the session's id in the body too (it is the path's). */
      conduitSessionId: v.optional(v.unknown()),
    }) satisfies Schema<SessionInfoBody>,
    response: typed<{ sessionId: string; claudeSessionId: string | null; firstPrompt: string | null }>(),
  }),
  modelPrice: route('GET', '/v1/conduit/prices/:model', { params: v.object({ model: text }), response: typed<PriceAnswer>() }),
  price: route('PUT', '/v1/conduit/prices/:model', { params: v.object({ model: text }), body: typed<PriceBody>(), response: typed<Record<string, unknown>>() }),

  analyticsView: route('GET', '/v1/conduit/analytics/view', {
    query: v.object({ ...analyticsTarget, bucket }),
    response: typed<AnalyticsViewAnswer>(),
  }),
  analyticsSummary: route('GET', '/v1/conduit/analytics/summary', { query: v.object(storeQuery), response: typed<SummaryAnswer>() }),
  analyticsModels: route('GET', '/v1/conduit/analytics/models', { query: v.object(storeQuery), response: typed<ModelsAnswer>() }),
  analyticsTimeseries: route('GET', '/v1/conduit/analytics/timeseries', { query: v.object({ ...storeQuery, bucket }), response: typed<TimeseriesAnswer>() }),
  analyticsSources: route('GET', '/v1/conduit/analytics/sources', { query: v.object(storeQuery), response: typed<SourcesAnswer>() }),
  analyticsRecent: route('GET', '/v1/conduit/analytics/recent', { query: v.object({ ...storeQuery, offset: optionalText }), response: typed<RecentAnswer>() }),
  analyticsAgents: route('GET', '/v1/conduit/analytics/agents', { query: v.object(storeQuery), response: typed<AgentsAnswer>() }),
  analyticsSessions: route('GET', '/v1/conduit/analytics/sessions', {
    query: v.object({ ...storeQuery, sort: optionalText, offset: optionalText }),
    response: typed<SessionsAnswer>(),
  }),
  /** baseline: compare against this model instead of the project's default model. */
  analyticsSavings: route('GET', '/v1/conduit/analytics/savings', { query: v.object({ ...storeQuery, baseline: optionalText }), response: typed<SavingsAnswer>() }),
  analyticsCache: route('GET', '/v1/conduit/analytics/cache', { query: v.object(storeQuery), response: typed<CacheAnswer>() }),
  analyticsDaily: route('GET', '/v1/conduit/analytics/daily', { query: v.object({ ...storeQuery, groupBy: optionalText }), response: typed<DailyAnswer>() }),
  analyticsMembers: route('GET', '/v1/conduit/analytics/members', {
    query: v.object(
      { project: text, range: optionalText, from: optionalText, to: optionalText, tz: optionalText, scope: optionalText },
      'required (a workspace key of your own project, or a Supabase project id from GET /v1/conduit/team/projects)',
    ),
    response: typed<TeamUsageResponse>(),
  }),

  /**
   * A usage report (src/protocol/reports.ts): the answer is NDJSON, one ReportLine a line,
   * read line by line as it streams (src/conduit/client/reportClient.ts), not as one JSON
   * value. groupBy is comma-separated dimensions.
   */
  usageReport: route('GET', '/v1/conduit/reports/usage', {
    query: v.object({ from: optionalText, to: optionalText, tz: optionalText, groupBy: optionalText, project: optionalText, agent: optionalText }),
    response: typed<ReportLine>(),
  }),

  project: route('GET', '/v1/conduit/projects/:key', { params: projectKey, response: typed<ProjectInfo>() }),
  saveProject: route('PUT', '/v1/conduit/projects/:key', { params: projectKey, body: projectBody, response: typed<ProjectInfo>() }),
  agents: route('GET', '/v1/conduit/projects/:key/agents', { params: projectKey, response: typed<AgentInfo[]>() }),
  createAgent: route('POST', '/v1/conduit/projects/:key/agents', { params: projectKey, body: projectBody, response: typed<AgentInfo>() }),
  saveAgent: route('PUT', '/v1/conduit/projects/:key/agents/:agentId', { params: agentPath, body: projectBody, response: typed<AgentInfo>() }),
  deleteAgent: route('DELETE', '/v1/conduit/projects/:key/agents/:agentId', { params: agentPath }),

  budgets: route('GET', '/v1/conduit/budgets', { query: v.object({ project: optionalText }), response: typed<BudgetsResponse>() }),
  budgetAlerts: route('GET', '/v1/conduit/budgets/alerts', { query: v.object({ project: optionalText }), response: typed<BudgetAlertsResponse>() }),
  ackBudgetAlert: route('POST', '/v1/conduit/budgets/alerts/:id/ack', { params: v.object({ id: text }), response: typed<BudgetAlert>() }),

  /** The session's fields are secrets: a refusal names the field, never what came. */
  syncSession: route('POST', '/v1/conduit/sync/session', {
    body: closedObjectOf({ url: secretText, anonKey: secretText, accessToken: secretText, refreshToken: secretText }),
    response: typed<SyncStatusAnswer>(),
  }),
  endSyncSession: route('DELETE', '/v1/conduit/sync/session', { response: typed<SyncStatusAnswer>() }),
  syncStatus: route('GET', '/v1/conduit/sync/status', { response: typed<SyncStatusAnswer>() }),

  teamProjects: route('GET', '/v1/conduit/team/projects', { response: typed<TeamProject[]>() }),
  teamMembers: route('GET', '/v1/conduit/team/projects/:projectId/members', { params: teamProject, response: typed<TeamMembersResponse>() }),
  removeTeamMember: route('DELETE', '/v1/conduit/team/projects/:projectId/members/:userId', {
    params: v.object({ projectId: pathSegment, userId: pathSegment }), response: typed<{ removed: boolean }>(),
  }),
  invite: route('POST', '/v1/conduit/team/projects/:projectId/invitations', { params: teamProject, body: closedObjectOf({ email: v.string(expected('a string')) }), response: typed<ProjectInvitation>() }),
  revokeInvitation: route('DELETE', '/v1/conduit/team/projects/:projectId/invitations/:invitationId', { params: v.object({ projectId: pathSegment, invitationId: pathSegment }), response: typed<ProjectInvitation>() }),
  leaveTeamProject: route('POST', '/v1/conduit/team/projects/:projectId/leave', { params: teamProject, response: typed<{ left: boolean }>() }),
  acceptInvitations: route('POST', '/v1/conduit/team/invitations/accept', { response: typed<{ joined: TeamMembership[] }>() }),
  workspaceLinks: route('GET', '/v1/conduit/team/links', { response: typed<WorkspaceLink[]>() }),
  linkWorkspace: route('PUT', '/v1/conduit/team/links/:workspaceKey', {
    params: v.object({ workspaceKey: pathSegment }), body: closedObjectOf({ projectId: v.string(expected('a string')) }), response: typed<WorkspaceLink>(),
  }),
  unlinkWorkspace: route('DELETE', '/v1/conduit/team/links/:workspaceKey', { params: v.object({ workspaceKey: pathSegment }), response: typed<{ unlinked: boolean }>() }),

  leases: route('GET', '/v1/conduit/leases', { response: typed<LeasesStatus>() }),
  renewLease: route('PUT', '/v1/conduit/leases/:id', { params: v.object({ id: text }), body: leaseRenewalSchema, response: typed<LeaseInfo>() }),
  releaseLease: route('DELETE', '/v1/conduit/leases/:id', { params: v.object({ id: text }), response: typed<{ released: boolean }>() }),
  stopWhenIdle: route('POST', '/v1/conduit/stop-when-idle', { body: stopWhenIdleSchema, response: typed<StopWhenIdleAnswer>() }),
} as const;
