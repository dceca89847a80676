/**
 * The team sharing commands' logic, without 'vscode': what to ask, which gateway route to
 * call (src/protocol/team.ts), and what to tell the person. teamCommands.ts gives it VS
 * Code's input box, quick pick and messages; tests give it fakes.
 */
import { call, type CallVia } from '../../conduit/client/call';
import { ROUTES } from '../../protocol/routes';
import {
  emailProblem, type ProjectInvitation, type ProjectMember, type TeamMembersResponse, type TeamMembership, type TeamProject, type WorkspaceLink,
} from '../../protocol/team';

/** The gateway's local API (GatewayApi; a test's fake): its answer, or an Error with the gateway's message. */
export type TeamApi = CallVia;

export interface PickItem<T> {
  label: string;
  description?: string;
  detail?: string;
  value: T;
}

export interface TeamUi {
  /** An input box; `validate` answers undefined for a valid value. Undefined when dismissed. */
  input(options: { prompt: string; placeHolder?: string; validate: (value: string) => string | undefined }): Promise<string | undefined>;
  pick<T>(items: PickItem<T>[], placeHolder: string): Promise<T | undefined>;
  /** A modal question with one action; true when the person chose it. */
  confirm(message: string, action: string): Promise<boolean>;
  info(message: string): void;
  error(message: string): void;
}

const day = (iso: string) => iso.slice(0, 10);

/** Who a member is, in one line. */
export function memberLabel(m: Pick<ProjectMember, 'displayName' | 'email' | 'userId'>): string {
  if (m.displayName && m.email && m.displayName !== m.email.split('@')[0]) return `${m.displayName} <${m.email}>`;
  return m.email ?? m.displayName ?? m.userId;
}

/** What to say after an invitation was sent (or found). */
export function invitationMessage(invitation: ProjectInvitation, projectName: string): string {
  if (invitation.status === 'accepted') return `${invitation.email} is already a member of "${projectName}".`;
  return `Invited ${invitation.email} to "${projectName}". They join when they sign in to Supabase with that address ` +
    `(Conduit: Sign In to Supabase); the invitation expires on ${day(invitation.expiresAt)}.`;
}

/** What to say after signing in, when invitations were accepted (null: nothing joined). */
export function joinedMessage(joined: TeamMembership[], projects: TeamProject[]): string | null {
  if (!joined.length) return null;
  const names = joined.map((j) => projects.find((p) => p.id === j.projectId)?.name ?? j.projectId).map((n) => `"${n}"`);
  return `You joined ${names.length === 1 ? 'the shared project' : `${names.length} shared projects`} ${names.join(', ')}: ` +
    'you can see their usage per member (Conduit: Show Project Members, or Team in Usage Analytics); ' +
    'to record a workspace\'s requests into one, run Conduit: Link Workspace to Shared Project.';
}

/**
 * Asks for an address and invites it to a project (a workspace key of one's own project,
 * or a Supabase project id). Returns the invitation, or undefined when dismissed or refused
 * (the person was told why).
 */
export async function inviteMember(api: TeamApi, ui: TeamUi, project: string, projectName: string): Promise<ProjectInvitation | undefined> {
  const email = await ui.input({
    prompt: `Invite to "${projectName}": their email address (they sign in to Supabase with it to join)`,
    placeHolder: 'name@example.com',
    validate: emailProblem,
  });
  if (email === undefined) return undefined;
  const problem = emailProblem(email);
  if (problem) {
    ui.error(problem);
    return undefined;
  }
  try {
    const invitation = await call(api, ROUTES.invite, { params: { projectId: project }, body: { email: email.trim() } });
    ui.info(invitationMessage(invitation, projectName));
    return invitation;
  } catch (err) {
    ui.error(`Could not invite ${email.trim()}: ${(err as Error).message}`);
    return undefined;
  }
}

type MemberAction =
  | { kind: 'member'; member: ProjectMember }
  | { kind: 'invitation'; invitation: ProjectInvitation }
  | { kind: 'invite' }
  | { kind: 'leave' };

/** The quick pick of a project's members (and, for the owner, its invitations and "invite"). */
export function memberItems(view: TeamMembersResponse): PickItem<MemberAction>[] {
  const owner = view.project.role === 'owner';
  const items: PickItem<MemberAction>[] = view.members.map((m) => ({
    label: memberLabel(m),
    description: [m.role, m.isYou ? 'you' : null].filter(Boolean).join(' · '),
    detail: `joined ${day(m.joinedAt)}${owner && !m.isYou && m.role !== 'owner' ? ' · choose to remove' : ''}`,
    value: { kind: 'member', member: m },
  }));
  if (owner) {
    for (const i of view.invitations.filter((x) => x.status === 'pending' || x.status === 'expired')) {
      items.push({
        label: i.email,
        description: i.status === 'pending' ? `invited · until ${day(i.expiresAt)}` : `invitation expired ${day(i.expiresAt)}`,
        detail: i.status === 'pending' ? 'choose to withdraw the invitation' : 'choose to invite again',
        value: { kind: 'invitation', invitation: i },
      });
    }
    items.push({ label: '$(person-add) Invite a member…', value: { kind: 'invite' } });
  } else {
    items.push({ label: '$(sign-out) Leave this project', value: { kind: 'leave' } });
  }
  return items;
}

/**
 * "Show Project Members": pick a project (own or shared), see its members; the owner can
 * remove a member, withdraw or renew an invitation, or invite; a member can leave.
 */
export async function showMembers(api: TeamApi, ui: TeamUi): Promise<void> {
  let projects: TeamProject[];
  try {
    projects = await call(api, ROUTES.teamProjects, {});
  } catch (err) {
    ui.error(`Could not list the projects on Supabase: ${(err as Error).message}`);
    return;
  }
  if (!projects.length) {
    ui.info('No projects on Supabase yet: your projects appear there after their first sync, shared ones once you accepted an invitation (by signing in with the invited address).');
    return;
  }
  const project = projects.length === 1 ? projects[0] : await ui.pick(projects.map((p) => ({
    label: p.name,
    description: p.role === 'owner' ? 'yours' : `shared by ${p.ownerEmail ?? 'its owner'}`,
    detail: `${p.memberCount} member${p.memberCount === 1 ? '' : 's'}`,
    value: p,
  })), 'Members of which project?');
  if (!project) return;
  let view: TeamMembersResponse;
  try {
    view = await call(api, ROUTES.teamMembers, { params: { projectId: project.id } });
  } catch (err) {
    ui.error(`Could not list the members of "${project.name}": ${(err as Error).message}`);
    return;
  }
  const action = await ui.pick(memberItems(view), `Members of "${project.name}"${project.role === 'owner' ? ' (you own it)' : ''}`);
  if (!action) return;
  try {
    await act(api, ui, view, action);
  } catch (err) {
    ui.error((err as Error).message);
  }
}

async function act(api: TeamApi, ui: TeamUi, view: TeamMembersResponse, action: MemberAction): Promise<void> {
  const { project } = view;
  switch (action.kind) {
    case 'invite':
      await inviteMember(api, ui, project.id, project.name);
      return;
    case 'leave':
      if (!(await ui.confirm(`Leave "${project.name}"? You will no longer see its usage; its owner can invite you again.`, 'Leave'))) return;
      await call(api, ROUTES.leaveTeamProject, { params: { projectId: project.id } });
      ui.info(`You left "${project.name}".`);
      await unlinkProject(api, project.id);
      return;
    case 'invitation': {
      const { invitation } = action;
      if (invitation.status === 'expired') {
        const renewed = await call(api, ROUTES.invite, { params: { projectId: project.id }, body: { email: invitation.email } });
        ui.info(invitationMessage(renewed, project.name));
        return;
      }
      if (!(await ui.confirm(`Withdraw the invitation of ${invitation.email} to "${project.name}"?`, 'Withdraw'))) return;
      await call(api, ROUTES.revokeInvitation, { params: { projectId: project.id, invitationId: invitation.id } });
      ui.info(`Withdrew the invitation of ${invitation.email}.`);
      return;
    }
    case 'member': {
      const { member } = action;
      if (project.role !== 'owner' || member.isYou || member.role === 'owner') return;
      const who = memberLabel(member);
      if (!(await ui.confirm(`Remove ${who} from "${project.name}"? They lose access to its usage at once; their recorded usage stays in the project.`, 'Remove'))) return;
      const { removed } = await call(api, ROUTES.removeTeamMember, { params: { projectId: project.id, userId: member.userId } });
      ui.info(removed ? `Removed ${who} from "${project.name}".` : `${who} was no longer a member of "${project.name}".`);
      return;
    }
  }
}

/** After signing in: joins every project the signed-in address was invited to. Never throws. */
export async function acceptInvitations(api: TeamApi): Promise<string | null> {
  try {
    const { joined } = await call(api, ROUTES.acceptInvitations, {});
    if (!joined.length) return null;
    const projects = await call(api, ROUTES.teamProjects, {}).catch(() => [] as TeamProject[]);
    return joinedMessage(joined, projects);
  } catch {
    // A Supabase without the team migration, or offline: sign-in itself succeeded.
    return null;
  }
}

/** After leaving a project: workspaces linked to it record into their own projects again. Never throws. */
async function unlinkProject(api: TeamApi, projectId: string): Promise<void> {
  try {
    const links = await call(api, ROUTES.workspaceLinks, {});
    for (const l of links.filter((x) => x.projectId === projectId)) await call(api, ROUTES.unlinkWorkspace, { params: { workspaceKey: l.workspaceKey } });
  } catch {
    // The gateway's store is not up: when the sync next runs, the project refuses the rows and
    // the link is marked broken (its rows go to the person's own project; the status says so).
  }
}

type LinkChoice = { kind: 'link'; project: TeamProject } | { kind: 'unlink' };

/**
 * "Link Workspace to Shared Project": records a workspace's requests into a project shared
 * with the person (chosen among the team API's projects where they are a member), or back
 * into their own. Returns the new link, null when unlinked, undefined when nothing changed.
 */
export async function linkWorkspace(api: TeamApi, ui: TeamUi, workspaceKey: string, folderName: string): Promise<WorkspaceLink | null | undefined> {
  let current: WorkspaceLink | undefined;
  try {
    current = (await call(api, ROUTES.workspaceLinks, {})).find((l) => l.workspaceKey === workspaceKey);
  } catch (err) {
    ui.error(`Could not read the workspace links: ${(err as Error).message}`);
    return undefined;
  }
  let shared: TeamProject[] = [];
  try {
    shared = (await call(api, ROUTES.teamProjects, {})).filter((p) => p.role === 'member');
  } catch (err) {
    // Unlinking needs no Supabase session; linking does.
    if (!current) {
      ui.error(`Could not list the projects shared with you: ${(err as Error).message}`);
      return undefined;
    }
  }
  if (!shared.length && !current) {
    ui.info('No project is shared with you yet: once its owner invited your address (Conduit: Invite Project Member), ' +
      'sign in to Supabase with it to join, then link this workspace.');
    return undefined;
  }
  const items: PickItem<LinkChoice>[] = shared.map((p) => ({
    label: p.name,
    description: `shared by ${p.ownerEmail ?? 'its owner'}${current?.projectId === p.id ? (current.brokenAt ? ' · link broken: pick to link again' : ' · linked now') : ''}`,
    detail: `${p.memberCount} member${p.memberCount === 1 ? '' : 's'}`,
    value: { kind: 'link', project: p },
  }));
  if (current) {
    items.push({ label: '$(debug-disconnect) Unlink', detail: `record "${folderName}" into your own project again`, value: { kind: 'unlink' } });
  }
  const choice = await ui.pick(items, !current
    ? `Record the requests of "${folderName}" into which shared project?`
    : current.brokenAt
      ? `The link of "${folderName}" to "${current.projectName}" broke on ${current.brokenAt.slice(0, 10)} (that project refused your rows): its requests go to your own project. Link it again, to another shared project, or unlink?`
      : `"${folderName}" records into "${current.projectName}". Link it to another shared project, or unlink?`);
  if (!choice) return undefined;
  if (choice.kind === 'unlink') {
    await call(api, ROUTES.unlinkWorkspace, { params: { workspaceKey } });
    ui.info(`"${folderName}" records into your own project again, from the next sync on (requests already synced stay in "${current!.projectName}").`);
    return null;
  }
  const { project } = choice;
  if (current?.projectId === project.id && !current.brokenAt) {
    ui.info(`"${folderName}" already records into "${project.name}".`);
    return undefined;
  }
  try {
    const link = await call(api, ROUTES.linkWorkspace, { params: { workspaceKey }, body: { projectId: project.id } });
    ui.info(`"${folderName}" now records into "${project.name}" (shared by ${project.ownerEmail ?? 'its owner'}): its requests sync there as yours, ` +
      'for every member to see; its model settings and agents stay on this machine (the owner configures the shared project).');
    return link;
  } catch (err) {
    ui.error(`Could not link "${folderName}" to "${project.name}": ${(err as Error).message}`);
    return undefined;
  }
}
