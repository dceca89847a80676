// Team sharing as the gateway offers it (src/protocol/team.ts): the Supabase functions
// called as the signed-in person, their rows turned into the protocol's types, and a
// project named either by its Supabase id or by the workspace key of one of the person's
// own projects (the outbox gave that project the id remoteProjectId(user, key)).
//
// TeamAccess holds the person's Supabase session (the one the extension hands to the sync,
// POST /v1/conduit/sync/session) in memory only, like the sync does.
import { remoteProjectId } from '../ledger/sync/outbox';
import { accessTokenClaims } from '../../protocol/accessToken';
import type { SyncSessionInput } from '../ledger/service';
import type {
  AnalyticsScope, InvitationStatus, MemberRole, MemberUsageRow, ProjectInvitation, ProjectMember, TeamMembership,
  TeamMembersResponse, TeamProject, TeamUsageResponse,
} from '../../protocol/team';
import { normaliseEmail } from '../../protocol/team';
import { SupabaseTeamBackend, TeamError, type Json, type JsonRow, type TeamBackend } from './teamBackend';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const text = (v: Json | undefined): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: Json | undefined): number => (v === null || v === undefined ? 0 : Number(v));
const iso = (v: Json | undefined): string | null => (v === null || v === undefined ? null : new Date(String(v)).toISOString());
const role = (v: Json | undefined): MemberRole | null => (v === 'owner' || v === 'member' ? v : null);

function rows(value: Json): JsonRow[] {
  if (Array.isArray(value)) return value.filter((r): r is JsonRow => typeof r === 'object' && r !== null && !Array.isArray(r));
  return [];
}

function row(value: Json, what: string): JsonRow {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  throw new TeamError('unavailable', `Supabase answered ${what} with something that is not a row`);
}

function projectOf(r: JsonRow): TeamProject {
  return {
    id: String(r.project_id),
    name: String(r.name ?? ''),
    workspaceKey: String(r.workspace_key ?? ''),
    role: role(r.role) ?? 'member',
    ownerId: String(r.owner_id),
    ownerEmail: text(r.owner_email),
    memberCount: num(r.member_count),
  };
}

export function invitationOf(r: JsonRow, now = Date.now()): ProjectInvitation {
  const expiresAt = iso(r.expires_at) ?? new Date(0).toISOString();
  let status = String(r.status) as InvitationStatus;
  if (status === 'pending' && Date.parse(expiresAt) <= now) status = 'expired';
  return {
    id: String(r.id),
    projectId: String(r.project_id),
    email: String(r.email),
    status,
    invitedBy: text(r.invited_by),
    createdAt: iso(r.created_at) ?? expiresAt,
    expiresAt,
    acceptedAt: iso(r.accepted_at),
  };
}

function usageOf(r: JsonRow): MemberUsageRow {
  return {
    userId: String(r.user_id),
    email: text(r.email),
    displayName: text(r.display_name),
    role: role(r.role),
    isYou: r.is_caller === true,
    requests: num(r.request_count),
    errors: num(r.error_count),
    inputTokens: num(r.input_tokens),
    outputTokens: num(r.output_tokens),
    cacheCreationTokens: num(r.cache_creation_tokens),
    cacheReadTokens: num(r.cache_read_tokens),
    cost: num(r.cost),
    costedRequests: num(r.costed_request_count),
    firstAt: iso(r.first_at),
    lastAt: iso(r.last_at),
  };
}

export class TeamService {
  constructor(private readonly backend: TeamBackend, readonly userId: string) {}

  async projects(): Promise<TeamProject[]> {
    return rows(await this.backend.rpc('list_team_projects', {})).map(projectOf);
  }

  /** A project by its Supabase id or by the workspace key of one of the person's own projects. */
  async project(ref: string): Promise<TeamProject> {
    const ref2 = ref.trim();
    if (!ref2 || ref2.length > 200) throw new TeamError('invalid', 'project: a Supabase project id or a workspace key (1 to 200 characters)');
    const own = remoteProjectId(this.userId, ref2);
    const projects = await this.projects();
    const found = projects.find((p) => p.id === own) ?? (UUID.test(ref2) ? projects.find((p) => p.id === ref2.toLowerCase()) : undefined);
    if (!found) {
      throw new TeamError('not_found',
        `no project "${ref2.slice(0, 80)}" on Supabase that you own or are a member of ` +
        '(a project of yours appears there after its first sync; a shared one after you accepted the invitation)');
    }
    return found;
  }

  async members(ref: string): Promise<TeamMembersResponse> {
    const project = await this.project(ref);
    const [members, invitations] = await Promise.all([
      this.backend.rpc('list_project_members', { p_project_id: project.id }),
      project.role === 'owner' ? this.backend.invitations(project.id) : Promise.resolve([] as JsonRow[]),
    ]);
    return {
      project,
      members: rows(members).map((r): ProjectMember => ({
        userId: String(r.user_id),
        email: text(r.email),
        displayName: text(r.display_name),
        role: role(r.role) ?? 'member',
        joinedAt: iso(r.joined_at) ?? new Date(0).toISOString(),
        isYou: String(r.user_id) === this.userId,
      })),
      invitations: invitations.map((r) => invitationOf(r)),
    };
  }

  async invite(ref: string, email: string): Promise<ProjectInvitation> {
    const address = normaliseEmail(email);
    if (!address) throw new TeamError('invalid', `email: "${email.slice(0, 80)}" is not an email address`);
    const project = await this.project(ref);
    if (project.role !== 'owner') throw new TeamError('forbidden', `only the owner of "${project.name}" can invite members`);
    return invitationOf(row(await this.backend.rpc('invite_project_member', { p_project_id: project.id, p_email: address }), 'the invitation'));
  }

  async revoke(ref: string, invitationId: string): Promise<ProjectInvitation> {
    if (!UUID.test(invitationId)) throw new TeamError('invalid', 'invitation: expected an invitation id (a UUID)');
    await this.project(ref);
    return invitationOf(row(await this.backend.rpc('revoke_project_invitation', { p_invitation_id: invitationId }), 'the invitation'));
  }

  async remove(ref: string, userId: string): Promise<{ removed: boolean }> {
    if (!UUID.test(userId)) throw new TeamError('invalid', 'member: expected a user id (a UUID)');
    const project = await this.project(ref);
    return { removed: (await this.backend.rpc('remove_project_member', { p_project_id: project.id, p_user_id: userId })) === true };
  }

  async leave(ref: string): Promise<{ left: boolean }> {
    const project = await this.project(ref);
    return { left: (await this.backend.rpc('leave_project', { p_project_id: project.id })) === true };
  }

  /** Accepts every open invitation sent to the signed-in (confirmed) address. */
  async acceptPending(): Promise<{ joined: TeamMembership[] }> {
    return {
      joined: rows(await this.backend.rpc('accept_pending_invitations', {}))
        .map((r) => ({ projectId: String(r.project_id), role: role(r.role) ?? 'member' })),
    };
  }

  async usage(ref: string, range: { from: Date; to: Date }, scope: AnalyticsScope): Promise<TeamUsageResponse> {
    const project = await this.project(ref);
    const members = rows(await this.backend.rpc('get_team_usage', {
      p_project_id: project.id, p_from: range.from.toISOString(), p_to: range.to.toISOString(), p_scope: scope,
    })).map(usageOf);
    const totals = { requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, cost: 0, costedRequests: 0 };
    for (const m of members) {
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += m[k];
    }
    // Summed in micro-dollars' precision: the rows' costs have at most 6 decimals.
    totals.cost = Math.round(totals.cost * 1e6) / 1e6;
    return { query: 'members', scope, project, from: range.from.toISOString(), to: range.to.toISOString(), members, totals };
  }
}

export type TeamBackendFactory = (session: SyncSessionInput, userId: string) => TeamBackend;

export const supabaseTeamBackend: TeamBackendFactory = (s) => new SupabaseTeamBackend(s.url, s.anonKey, s.accessToken);

/** The signed-in person's team service, while the gateway holds a Supabase session. */
export class TeamAccess {
  private current: { url: string; userId: string; backend: TeamBackend } | null = null;

  constructor(private readonly connect: TeamBackendFactory = supabaseTeamBackend) {}

  /** The session the extension handed over (null: signed out). A refresh of the same person's session keeps the connection. */
  setSession(session: SyncSessionInput | null): void {
    if (!session) {
      void this.current?.backend.close();
      this.current = null;
      return;
    }
    const userId = accessTokenClaims(session.accessToken).sub;
    if (this.current && this.current.url === session.url && this.current.userId === userId) {
      this.current.backend.setAccessToken(session.accessToken);
      return;
    }
    void this.current?.backend.close();
    this.current = { url: session.url, userId, backend: this.connect(session, userId) };
  }

  get signedIn(): boolean {
    return this.current !== null;
  }

  /** Throws TeamError 'not_signed_in' without a session. */
  service(): TeamService {
    if (!this.current) {
      throw new TeamError('not_signed_in',
        'team sharing needs Supabase: choose storage "local plus Supabase" and sign in (Conduit: Sign In to Supabase); ' +
        'this machine\'s own usage is in the other analytics queries');
    }
    return new TeamService(this.current.backend, this.current.userId);
  }

  async close(): Promise<void> {
    await this.current?.backend.close();
    this.current = null;
  }
}
