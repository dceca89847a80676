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
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/log';
import { AnalyticsParamError, strictQuery, timeZoneParam } from '../ledger/store/queryParams';
import { remoteProjectId } from '../ledger/sync/outbox';
import { LedgerUnavailableError, type LedgerService } from '../ledger/service';
import { resolveTeamRange, type TeamRangeKind } from '../team/teamRange';
import { TeamError, type TeamErrorKind } from '../team/teamBackend';
import type { TeamAccess, TeamService } from '../team/teamService';
import { isAnalyticsScope, type AnalyticsScope } from '../../protocol/team';
import { readBody } from './body';
import { sendError, type AnthropicErrorType } from './errors';

export interface TeamRouteDeps {
  team?: TeamAccess | null;
  /** The store that keeps the workspace links. */
  ledger?: Pick<LedgerService, 'workspaceLinks'> | null;
  log: Logger;
}

export const TEAM_PREFIX = '/v1/conduit/team/';
const MAX_BODY = 4 * 1024;

const ERROR: Record<TeamErrorKind, [AnthropicErrorType, number]> = {
  not_signed_in: ['invalid_request_error', 409],
  forbidden: ['permission_error', 403],
  not_found: ['not_found_error', 404],
  invalid: ['invalid_request_error', 400],
  conflict: ['invalid_request_error', 409],
  unavailable: ['api_error', 502],
};

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

async function answer(res: ServerResponse, deps: TeamRouteDeps, what: string, work: () => Promise<unknown>): Promise<void> {
  try {
    sendJson(res, 200, await work());
  } catch (err) {
    if (err instanceof TeamError) {
      const [type, status] = ERROR[err.kind];
      if (err.kind === 'unavailable') deps.log.warn(`team ${what}: ${err.message}`);
      return sendError(res, type, err.message, status);
    }
    if (err instanceof AnalyticsParamError) return sendError(res, 'invalid_request_error', err.message);
    if (err instanceof LedgerUnavailableError) {
      // As analyticsRoute's sendUnavailable (not imported: that module imports this one).
      res.setHeader('retry-after', err.state === 'opening' ? '5' : '60');
      return sendError(res, 'api_error', err.message, 503);
    }
    deps.log.error(`team ${what}: ${(err as Error)?.stack ?? String(err)}`);
    sendError(res, 'api_error', `team ${what} failed: ${(err as Error)?.message ?? String(err)}`);
  }
}

function access(deps: TeamRouteDeps): TeamService {
  if (!deps.team) throw new TeamError('unavailable', 'team sharing is not available in this gateway');
  return deps.team.service();
}

function segment(value: string, name: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    throw new TeamError('invalid', `${name}: not a valid percent-encoded path segment`);
  }
  // eslint-disable-next-line no-control-regex
  if (!decoded || decoded.length > 200 || /[\u0000-\u001f\u007f]/.test(decoded)) throw new TeamError('invalid', `${name}: 1 to 200 characters, no control characters`);
  return decoded;
}

/** The one string field of a small JSON body ({"email": ...}, {"projectId": ...}). */
async function fieldOf(req: IncomingMessage, field: string, example: string): Promise<string> {
  const raw = await readBody(req, MAX_BODY);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new TeamError('invalid', `the body must be JSON: {"${field}": "${example}"}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new TeamError('invalid', `the body must be a JSON object: {"${field}": "${example}"}`);
  const keys = Object.keys(body);
  const extra = keys.find((k) => k !== field);
  if (extra) throw new TeamError('invalid', `unknown field "${extra.slice(0, 40)}" (allowed: ${field})`);
  const value = (body as Record<string, unknown>)[field];
  if (typeof value !== 'string') throw new TeamError('invalid', `${field}: required, a string`);
  return value;
}

const emailOf = (req: IncomingMessage) => fieldOf(req, 'email', 'name@example.com');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function links(deps: TeamRouteDeps): Pick<LedgerService, 'workspaceLinks'> {
  if (!deps.ledger) throw new LedgerUnavailableError('failed', 'the usage store is turned off in this gateway');
  return deps.ledger;
}

/**
 * PUT /v1/conduit/team/links/:workspaceKey {projectId}: the project must be one the signed-in
 * person is a member of (Supabase says so), and not the workspace's own project.
 */
async function link(req: IncomingMessage, deps: TeamRouteDeps, workspaceKey: string) {
  const projectId = (await fieldOf(req, 'projectId', '<a project id from GET /v1/conduit/team/projects>')).trim();
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

export async function handleTeam(req: IncomingMessage, res: ServerResponse, path: string, deps: TeamRouteDeps): Promise<void> {
  const method = req.method ?? 'GET';
  const parts = path.slice(TEAM_PREFIX.length).split('/');
  const notAllowed = (allowed: string) => sendError(res, 'invalid_request_error', `${method} is not allowed on ${path}; use ${allowed}`, 405);

  if (parts.length === 2 && parts[0] === 'invitations' && parts[1] === 'accept') {
    if (method !== 'POST') return notAllowed('POST');
    return answer(res, deps, 'accept', () => access(deps).acceptPending());
  }
  if (parts[0] === 'links') {
    if (parts.length === 1) {
      if (method !== 'GET') return notAllowed('GET');
      return answer(res, deps, 'links', () => links(deps).workspaceLinks({ op: 'list' }));
    }
    if (parts.length !== 2) return sendError(res, 'not_found_error', `no route ${method} ${path}`);
    if (method === 'PUT') return answer(res, deps, 'link', () => link(req, deps, segment(parts[1], 'workspace')));
    if (method === 'DELETE') {
      return answer(res, deps, 'unlink', async () => links(deps).workspaceLinks({ op: 'remove', workspaceKey: segment(parts[1], 'workspace') }));
    }
    return notAllowed('PUT or DELETE');
  }
  if (parts[0] !== 'projects') return sendError(res, 'not_found_error', `no route ${method} ${path}`);
  if (parts.length === 1) {
    if (method !== 'GET') return notAllowed('GET');
    return answer(res, deps, 'projects', () => access(deps).projects());
  }
  const rest = parts.slice(2);
  let allowed: string;
  let run: (team: TeamService, project: string) => Promise<unknown>;
  if (rest.length === 1 && rest[0] === 'members') {
    allowed = 'GET';
    run = (team, project) => team.members(project);
  } else if (rest.length === 1 && rest[0] === 'invitations') {
    allowed = 'POST';
    run = async (team, project) => team.invite(project, await emailOf(req));
  } else if (rest.length === 2 && rest[0] === 'invitations') {
    allowed = 'DELETE';
    run = (team, project) => team.revoke(project, segment(rest[1], 'invitation'));
  } else if (rest.length === 2 && rest[0] === 'members') {
    allowed = 'DELETE';
    run = (team, project) => team.remove(project, segment(rest[1], 'member'));
  } else if (rest.length === 1 && rest[0] === 'leave') {
    allowed = 'POST';
    run = (team, project) => team.leave(project);
  } else {
    return sendError(res, 'not_found_error', `no route ${method} ${path}`);
  }
  if (method !== allowed) return notAllowed(allowed);
  return answer(res, deps, rest[0], () => run(access(deps), segment(parts[1], 'project')));
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
  // eslint-disable-next-line no-control-regex
  if (project.length > 200 || /[\u0000-\u001f\u007f]/.test(project)) throw new AnalyticsParamError('project: 1 to 200 characters, no control characters');
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

export async function handleTeamUsage(res: ServerResponse, search: URLSearchParams, deps: TeamRouteDeps): Promise<void> {
  await answer(res, deps, 'members', async () => {
    const query = parseMembersQuery(search);
    return access(deps).usage(query.project, query.range, query.scope);
  });
}
