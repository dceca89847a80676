/**
 * Team sharing over the gateway's local API (the token check happens before, in server.ts),
 * answered from Supabase with the signed-in person's session. Routes and errors: see
 * src/protocol/team.ts.
 *
 *   GET    /v1/conduit/team/projects
 *   GET    /v1/conduit/team/projects/:project/members
 *   POST   /v1/conduit/team/projects/:project/invitations       {email}
 *   DELETE /v1/conduit/team/projects/:project/invitations/:id
 *   DELETE /v1/conduit/team/projects/:project/members/:userId
 *   POST   /v1/conduit/team/projects/:project/leave
 *   POST   /v1/conduit/team/invitations/accept
 *   GET    /v1/conduit/team/links                                (this machine's store; no session needed)
 *   PUT    /v1/conduit/team/links/:workspaceKey                  {projectId}
 *   DELETE /v1/conduit/team/links/:workspaceKey                  (no session needed)
 *   GET    /v1/conduit/analytics/members?project=&range=&from=&to=&tz=&scope=   (from analyticsRoute.ts)
 */
import type { Logger } from '../core/log';
import { AnalyticsParamError, strictQuery, timeZoneParam } from '../ledger/store/queryParams';
import { remoteProjectId } from '../ledger/sync/outbox';
import { LedgerUnavailableError, type LedgerService } from '../ledger/service';
import { resolveTeamRange, type TeamRangeKind } from '../team/teamRange';
import { TeamError, type TeamErrorKind } from '../team/teamBackend';
import type { TeamAccess, TeamService } from '../team/teamService';
import { isAnalyticsScope, type AnalyticsScope } from '../../protocol/team';
import { hasControlCharacter } from '../../protocol/controlCharacters';
import { ROUTES } from '../../protocol/routes';
import { GatewayError, type AnthropicErrorType } from './errors';
import { serve, storeOf, type ServedRoute } from './routeTable';

export interface TeamRouteDeps {
  team?: TeamAccess | null;
  /** The store that keeps the workspace links. */
  ledger?: Pick<LedgerService, 'workspaceLinks'> | null;
  log: Logger;
}

/** Team bodies are one short field. */
const MAX_BODY = 4 * 1024;

const ERROR: Record<TeamErrorKind, [AnthropicErrorType, number]> = {
  not_signed_in: ['invalid_request_error', 409],
  forbidden: ['permission_error', 403],
  not_found: ['not_found_error', 404],
  invalid: ['invalid_request_error', 400],
  conflict: ['invalid_request_error', 409],
  unavailable: ['api_error', 502],
};

/** What the work answers; Supabase's refusals keep their meaning (ERROR), anything else is logged. */
async function teamAnswer<T>(deps: TeamRouteDeps, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof TeamError) {
      const [type, status] = ERROR[err.kind];
      if (err.kind === 'unavailable') deps.log.warn(`team ${what}: ${err.message}`);
      throw new GatewayError(type, err.message, status);
    }
    if (err instanceof AnalyticsParamError || err instanceof LedgerUnavailableError || err instanceof GatewayError) throw err;
    deps.log.error(`team ${what}: ${(err as Error)?.stack ?? String(err)}`);
    throw new GatewayError('api_error', `team ${what} failed: ${(err as Error)?.message ?? String(err)}`);
  }
}

function access(deps: TeamRouteDeps): TeamService {
  if (!deps.team) throw new TeamError('unavailable', 'team sharing is not available in this gateway');
  return deps.team.service();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const links = (deps: TeamRouteDeps) => storeOf(deps.ledger);

/**
 * PUT /v1/conduit/team/links/:workspaceKey {projectId}: the project must be one the signed-in
 * person is a member of (Supabase says so), and not the workspace's own project.
 */
async function link(deps: TeamRouteDeps, workspaceKey: string, projectIdGiven: string) {
  const projectId = projectIdGiven.trim();
  if (!UUID.test(projectId)) throw new TeamError('invalid', 'projectId: expected a Supabase project id (a UUID) from GET /v1/conduit/team/projects');
  const team = access(deps);
  const project = await team.project(projectId);
  if (project.id === remoteProjectId(team.userId, workspaceKey)) {
    throw new TeamError('invalid', `"${project.name}" is this workspace's own project: its usage goes there without a link (remove the link instead)`);
  }
  return links(deps).workspaceLinks({
    op: 'set',
    link: { workspaceKey, projectId: project.id, projectName: project.name, ownerEmail: project.ownerEmail, userId: team.userId },
  });
}

export function teamRoutes(deps: TeamRouteDeps): ServedRoute[] {
  const team = <T>(what: string, work: (service: TeamService) => Promise<T>) => teamAnswer(deps, what, () => work(access(deps)));
  return [
    serve(ROUTES.acceptInvitations, () => team('accept', (s) => s.acceptPending())),
    serve(ROUTES.workspaceLinks, () => teamAnswer(deps, 'links', () => links(deps).workspaceLinks({ op: 'list' }))),
    serve(ROUTES.linkWorkspace, ({ params, body }) => teamAnswer(deps, 'link', () => link(deps, params.workspaceKey, body.projectId)), { maxBodyBytes: MAX_BODY }),
    serve(ROUTES.unlinkWorkspace, ({ params }) => teamAnswer(deps, 'unlink', () => links(deps).workspaceLinks({ op: 'remove', workspaceKey: params.workspaceKey }))),
    serve(ROUTES.teamProjects, () => team('projects', (s) => s.projects())),
    serve(ROUTES.teamMembers, ({ params }) => team('members', (s) => s.members(params.projectId))),
    serve(ROUTES.invite, ({ params, body }) => team('invitations', (s) => s.invite(params.projectId, body.email)), { maxBodyBytes: MAX_BODY }),
    serve(ROUTES.revokeInvitation, ({ params }) => team('invitations', (s) => s.revoke(params.projectId, params.invitationId))),
    serve(ROUTES.removeTeamMember, ({ params }) => team('members', (s) => s.remove(params.projectId, params.userId))),
    serve(ROUTES.leaveTeamProject, ({ params }) => team('leave', (s) => s.leave(params.projectId))),
  ];
}

const MEMBERS_PARAMS = ['project', 'range', 'from', 'to', 'tz', 'scope'] as const;
const RANGES: TeamRangeKind[] = ['day', 'week', 'month', 'custom'];

export interface MembersQuery {
  project: string;
  range: { from: Date; to: Date };
  scope: AnalyticsScope;
}

/** Checks the query string of GET /v1/conduit/analytics/members. */
export function parseMembersQuery(search: URLSearchParams, now = new Date()): MembersQuery {
  const get = strictQuery(search, MEMBERS_PARAMS, 'the members query');
  const project = get('project');
  if (!project) throw new AnalyticsParamError('project: required (a workspace key of your own project, or a Supabase project id from GET /v1/conduit/team/projects)');
  if (project.length > 200 || hasControlCharacter(project)) throw new AnalyticsParamError('project: 1 to 200 characters, no control characters');
  const scope = get('scope') ?? 'team';
  if (!isAnalyticsScope(scope)) throw new AnalyticsParamError(`scope: expected own or team, got "${scope.slice(0, 40)}"`);
  const from = get('from');
  const to = get('to');
  const range = get('range') ?? (from || to ? 'custom' : 'week');
  if (!(RANGES as string[]).includes(range)) throw new AnalyticsParamError(`range: expected one of ${RANGES.join(', ')}, got "${range.slice(0, 40)}"`);
  if (range !== 'custom' && (from || to)) throw new AnalyticsParamError(`from and to apply to range=custom only (range is ${range})`);
  const tz = timeZoneParam(get('tz') ?? 'UTC');
  return { project, scope, range: resolveTeamRange({ range: range as TeamRangeKind, from, to, tz }, now) };
}

/** GET /v1/conduit/analytics/members (served with the analytics routes). */
export function teamUsage(search: URLSearchParams, deps: TeamRouteDeps) {
  return teamAnswer(deps, 'members', async () => {
    const query = parseMembersQuery(search);
    return access(deps).usage(query.project, query.range, query.scope);
  });
}
