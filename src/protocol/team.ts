/**
 * Team sharing (Supabase): projects shared with members, invitations, and usage per member.
 * Shared by the gateway (which talks to Supabase with the signed-in person's session), the
 * extension (invite, list and remove members) and the webviews.
 *
 * A project on Supabase has its own id there. Where a route takes a project, it takes
 * either that id (as listed by GET /v1/conduit/team/projects) or the workspace key of one
 * of this person's own projects (SYNAPSE_PROJECT_ID), which the gateway maps to the id the
 * sync gave that workspace's project on Supabase.
 *
 * HTTP API (loopback, the local token required like every /v1/conduit route). Every route
 * needs the Supabase session (storage "local plus Supabase", signed in): without it they
 * answer 409 with type 'invalid_request_error' and a message saying to sign in.
 *
 *   GET    /v1/conduit/team/projects                          → TeamProject[]
 *   GET    /v1/conduit/team/projects/:project/members         → TeamMembersResponse
 *   POST   /v1/conduit/team/projects/:project/invitations     {email} → ProjectInvitation (owner only;
 *          inviting the same address again returns the same invitation)
 *   DELETE /v1/conduit/team/projects/:project/invitations/:id → ProjectInvitation (withdrawn; owner only)
 *   DELETE /v1/conduit/team/projects/:project/members/:userId → {removed: boolean} (owner only)
 *   POST   /v1/conduit/team/projects/:project/leave           → {left: boolean} (members, not the owner)
 *   POST   /v1/conduit/team/invitations/accept                → {joined: TeamMembership[]}: accepts every
 *          open invitation sent to the signed-in address (called after signing in)
 *   GET    /v1/conduit/analytics/members?project=&range=day|week|month|custom&from=&to=&tz=&scope=team|own
 *          → TeamUsageResponse: the project's usage per member (scope team, the default), or only
 *          the caller's row (own)
 *
 * Workspace links (this machine's store; see WorkspaceLink):
 *
 *   GET    /v1/conduit/team/links                     → WorkspaceLink[] (no session needed)
 *   PUT    /v1/conduit/team/links/:workspaceKey       {projectId} → WorkspaceLink: this workspace's usage
 *          goes to that project (one shared with you, as listed by GET /v1/conduit/team/projects)
 *   DELETE /v1/conduit/team/links/:workspaceKey       → {unlinked: boolean} (no session needed): new
 *          usage goes to your own project again
 *
 * A link whose project refused the person's rows (row-level security: they were removed
 * from it, or left it from another machine) is marked broken by the sync (brokenAt,
 * brokenReason) and no longer applies; GET /v1/conduit/sync/status names it (brokenLinks)
 * until it is set again with PUT (which clears the mark) or removed.
 *
 * The other analytics queries read this machine's store, where every row is the person's
 * own: they take scope=own (the default) and answer 400 to scope=team.
 *
 * Errors from Supabase keep their meaning: 403 (permission_error) not allowed (not the
 * owner, not the invited address), 404 (not_found_error) no such project or invitation
 * visible to this person, 400 a bad argument, 409 a state that forbids it (expired,
 * withdrawn), 502 (api_error) Supabase did not answer.
 */
import type { TokenMeasures } from './measures';

export type MemberRole = 'owner' | 'member';
export type AnalyticsScope = 'own' | 'team';
export const ANALYTICS_SCOPES: readonly AnalyticsScope[] = ['own', 'team'];

/** A project on Supabase that the signed-in person owns or is a member of. */
export interface TeamProject {
  /** The project's id on Supabase. */
  id: string;
  name: string;
  /** The owner's workspace key (equal to a local project's key for one's own projects). */
  workspaceKey: string;
  role: MemberRole;
  ownerId: string;
  ownerEmail: string | null;
  memberCount: number;
}

export interface ProjectMember {
  userId: string;
  email: string | null;
  /** The account's full name, or the part of the address before '@'. */
  displayName: string | null;
  role: MemberRole;
  /** ISO-8601. */
  joinedAt: string;
  /** This is the signed-in person. */
  isYou: boolean;
}

export type InvitationStatus = 'pending' | 'accepted' | 'revoked' | 'expired';

export interface ProjectInvitation {
  id: string;
  projectId: string;
  /** Lower-cased. */
  email: string;
  /** 'expired': pending, past expiresAt. */
  status: InvitationStatus;
  invitedBy: string | null;
  /** ISO-8601. */
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
}

export interface TeamMembersResponse {
  project: TeamProject;
  members: ProjectMember[];
  /** Only the owner sees the project's invitations (others get []). */
  invitations: ProjectInvitation[];
}

/**
 * "This workspace records into a project shared with me": kept in this machine's store
 * (conduit_local.workspace_link). While signed in as userId, the sync pushes the
 * workspace's requests and routing decisions into projectId as that person's (user_id),
 * without agent ids, and pushes neither the workspace's project settings nor its agents
 * (the owner's configuration, which members cannot change). Rows already pushed stay
 * where they went; removing the link sends the rows pushed from then on to the person's
 * own project again.
 */
export interface WorkspaceLink {
  /** The local workspace key (SYNAPSE_PROJECT_ID). */
  workspaceKey: string;
  /** The shared project's id on Supabase. */
  projectId: string;
  projectName: string;
  ownerEmail: string | null;
  /** The Supabase user who linked it; the link applies while the sync runs as them. */
  userId: string;
  /** ISO-8601. */
  linkedAt: string;
  /**
   * ISO-8601 when the shared project refused this person's rows (row-level security: no
   * longer a member): the link no longer applies and the workspace's rows go to the
   * person's own project. null while the link works. Cleared by linking again.
   */
  brokenAt: string | null;
  /** Why, from Supabase's refusal; null while the link works. */
  brokenReason: string | null;
}

/** A broken link as the sync status shows it: the link and one sentence saying what happened. */
export interface BrokenLinkNotice {
  workspaceKey: string;
  projectId: string;
  projectName: string;
  brokenAt: string;
  reason: string;
  message: string;
}

/** One sentence for a person: which workspace's link broke, when, why, and what now happens. */
export function brokenLinkMessage(link: Pick<WorkspaceLink, 'workspaceKey' | 'projectName' | 'ownerEmail' | 'brokenAt' | 'brokenReason'>): string {
  const project = `"${link.projectName || 'a shared project'}"${link.ownerEmail ? ` (owner ${link.ownerEmail})` : ''}`;
  const when = link.brokenAt ? ` since ${link.brokenAt.slice(0, 16).replace('T', ' ')} UTC` : '';
  const why = link.brokenReason ? ` (${link.brokenReason.replace(/[.\s]+$/, '')})` : '';
  return `The link of workspace "${link.workspaceKey}" to ${project} is broken${when}: that project refused your rows${why}, ` +
    'so this workspace\'s usage now syncs to your own project until you link it again or unlink it.';
}

export interface TeamMembership {
  projectId: string;
  role: MemberRole;
}

/** One member's usage of a project over the range (one row of get_team_usage). */
export interface MemberUsageRow extends TokenMeasures {
  userId: string;
  /** null for someone who is no longer a member (their usage stays in the project). */
  email: string | null;
  displayName: string | null;
  role: MemberRole | null;
  isYou: boolean;
  requests: number;
  errors: number;
  /** USD, the sum of the known costs (see costedRequests). */
  cost: number;
  /** Requests with a known price; fewer than requests means some costs are unknown. */
  costedRequests: number;
  /** ISO-8601 of the first and last request in the range, null without requests. */
  firstAt: string | null;
  lastAt: string | null;
}

export interface TeamUsageResponse {
  query: 'members';
  scope: AnalyticsScope;
  project: TeamProject;
  /** ISO-8601: [from, to). */
  from: string;
  to: string;
  members: MemberUsageRow[];
  /** The sum of the rows (for scope team: the whole project). */
  totals: Pick<MemberUsageRow, 'requests' | 'errors' | keyof TokenMeasures | 'cost' | 'costedRequests'>;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
export const MAX_EMAIL_LENGTH = 320;

/** An invitation's address as Supabase stores it (trimmed, lower-cased), or null when it is not one. */
export function normaliseEmail(value: string): string | null {
  const email = value.trim().toLowerCase();
  return email.length <= MAX_EMAIL_LENGTH && EMAIL.test(email) ? email : null;
}

/** For an input box: undefined when valid, else what is wrong (VS Code's validateInput shape). */
export function emailProblem(value: string): string | undefined {
  if (!value.trim()) return 'An email address, such as name@example.com';
  if (value.trim().length > MAX_EMAIL_LENGTH) return `At most ${MAX_EMAIL_LENGTH} characters`;
  return normaliseEmail(value) ? undefined : `"${value.trim().slice(0, 60)}" is not an email address (name@example.com)`;
}

export function isAnalyticsScope(value: string): value is AnalyticsScope {
  return (ANALYTICS_SCOPES as readonly string[]).includes(value);
}
