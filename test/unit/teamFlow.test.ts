// The team commands' logic (src/extension/sync/teamFlow.ts) without VS Code: a fake
// gateway API that records calls and a fake UI that answers from a script.
import assert from 'node:assert/strict';
import { acceptInvitations, inviteMember, joinedMessage, linkWorkspace, memberItems, memberLabel, showMembers, type PickItem, type TeamApi, type TeamUi } from '../../src/extension/sync/teamFlow';
import type { AnyRoute } from '../../src/protocol/route';
import { emailProblem, normaliseEmail, type ProjectInvitation, type TeamMembersResponse, type TeamProject, type WorkspaceLink } from '../../src/protocol/team';

const OWNER = '1a1a1a1a-0000-4000-8000-00000000001a';
const MEMBER = '1b1b1b1b-0000-4000-8000-00000000001b';
const PROJECT: TeamProject = { id: 'p-1', name: 'Shop', workspaceKey: 'ws', role: 'owner', ownerId: OWNER, ownerEmail: 'o@example.test', memberCount: 2 };
const invitation = (over: Partial<ProjectInvitation> = {}): ProjectInvitation => ({
  id: 'inv-1', projectId: 'p-1', email: 'new@example.test', status: 'pending', invitedBy: OWNER,
  createdAt: '2026-11-27T10:00:00.000Z', expiresAt: '2026-12-11T10:00:00.000Z', acceptedAt: null, ...over,
});
const membersView = (role: 'owner' | 'member'): TeamMembersResponse => ({
  project: { ...PROJECT, role },
  members: [
    { userId: OWNER, email: 'o@example.test', displayName: 'Olga Owner', role: 'owner', joinedAt: '2026-11-01T00:00:00.000Z', isYou: role === 'owner' },
    { userId: MEMBER, email: 'm@example.test', displayName: 'm', role: 'member', joinedAt: '2026-11-20T00:00:00.000Z', isYou: role === 'member' },
  ],
  invitations: role === 'owner' ? [invitation(), invitation({ id: 'inv-2', email: 'late@example.test', status: 'expired' }), invitation({ id: 'inv-3', status: 'accepted' })] : [],
});

interface Call { method: string; path: string; body?: unknown }

/** Answers each route by the method and path its call went to; records the calls. */
function fakeApi(answers: Record<string, unknown | Error>): TeamApi & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async send(route: AnyRoute, path: string, body: unknown): Promise<unknown> {
      const { method } = route;
      calls.push({ method, path, ...(body === undefined ? {} : { body }) });
      const answer = answers[`${method} ${path}`];
      if (answer instanceof Error) throw answer;
      if (answer === undefined) throw new Error(`unexpected ${method} ${path}`);
      return answer;
    },
  };
}

/** Answers inputs and picks in order (a function picks among the items), confirms as told. */
function fakeUi(script: { inputs?: (string | undefined)[]; picks?: ((items: PickItem<unknown>[]) => unknown)[]; confirm?: boolean } = {}) {
  const seen = { infos: [] as string[], errors: [] as string[], pickLists: [] as PickItem<unknown>[][], pickTitles: [] as string[], validate: null as ((v: string) => string | undefined) | null, confirms: [] as string[] };
  const inputs = [...(script.inputs ?? [])];
  const picks = [...(script.picks ?? [])];
  const ui: TeamUi = {
    input: async (o) => { seen.validate = o.validate; return inputs.shift(); },
    pick: async <T>(items: PickItem<T>[], title: string) => {
      seen.pickLists.push(items as PickItem<unknown>[]);
      seen.pickTitles.push(title);
      const choose = picks.shift();
      return (choose ? choose(items as PickItem<unknown>[]) : undefined) as T | undefined;
    },
    confirm: async (message) => { seen.confirms.push(message); return script.confirm ?? true; },
    info: (m) => seen.infos.push(m),
    error: (m) => seen.errors.push(m),
  };
  return { ui, seen };
}

describe('unit: team sharing commands (no VS Code)', () => {
  it('validates and normalises email addresses as the database does', () => {
    assert.equal(normaliseEmail('  Ann.Lee@Example.COM '), 'ann.lee@example.com');
    for (const bad of ['', 'ann', 'ann@host', 'a b@example.com', 'a@@example.com', `${'x'.repeat(320)}@example.com`]) {
      assert.equal(normaliseEmail(bad), null, bad);
      assert.ok(emailProblem(bad), bad);
    }
    assert.equal(emailProblem('ann@example.com'), undefined);
  });

  it('invites: asks for a validated address, posts it for the project, says when they join', async () => {
    const api = fakeApi({ 'POST /v1/conduit/team/projects/ws%201/invitations': invitation() });
    const { ui, seen } = fakeUi({ inputs: ['New@Example.test'] });
    const result = await inviteMember(api, ui, 'ws 1', 'Shop');
    assert.equal(result?.id, 'inv-1');
    assert.deepEqual(api.calls, [{ method: 'POST', path: '/v1/conduit/team/projects/ws%201/invitations', body: { email: 'New@Example.test' } }]);
    assert.equal(seen.validate!('nope'), '"nope" is not an email address (name@example.com)');
    assert.equal(seen.validate!('a@b.co'), undefined);
    assert.match(seen.infos[0], /^Invited new@example\.test to "Shop"\. They join when they sign in .* expires on 2026-12-11\.$/);
  });

  it('invites: nothing when dismissed; a refusal is reported with the gateway\'s reason', async () => {
    const none = fakeApi({});
    assert.equal(await inviteMember(none, fakeUi({ inputs: [undefined] }).ui, 'ws', 'Shop'), undefined);
    assert.deepEqual(none.calls, []);

    const refused = fakeApi({ 'POST /v1/conduit/team/projects/ws/invitations': new Error('team sharing needs Supabase: choose storage "local plus Supabase" and sign in') });
    const { ui, seen } = fakeUi({ inputs: ['a@example.test'] });
    assert.equal(await inviteMember(refused, ui, 'ws', 'Shop'), undefined);
    assert.deepEqual(seen.errors, ['Could not invite a@example.test: team sharing needs Supabase: choose storage "local plus Supabase" and sign in']);
    assert.deepEqual(seen.infos, []);

    const already = fakeApi({ 'POST /v1/conduit/team/projects/ws/invitations': invitation({ status: 'accepted' }) });
    const second = fakeUi({ inputs: ['new@example.test'] });
    await inviteMember(already, second.ui, 'ws', 'Shop');
    assert.deepEqual(second.seen.infos, ['new@example.test is already a member of "Shop".']);
  });

  it("lists members for the owner with invitations and removal; for a member with 'leave'", () => {
    const owner = memberItems(membersView('owner'));
    assert.deepEqual(owner.map((i) => [i.label, i.description]), [
      ['Olga Owner <o@example.test>', 'owner · you'],
      ['m@example.test', 'member'],
      ['new@example.test', 'invited · until 2026-12-11'],
      ['late@example.test', 'invitation expired 2026-12-11'],
      ['$(person-add) Invite a member…', undefined],
    ]);
    assert.match(owner[1].detail!, /choose to remove/);
    assert.doesNotMatch(owner[0].detail!, /remove/);
    const member = memberItems(membersView('member'));
    assert.deepEqual(member.map((i) => i.label), ['Olga Owner <o@example.test>', 'm@example.test', '$(sign-out) Leave this project']);
    assert.equal(memberLabel({ displayName: null, email: null, userId: MEMBER }), MEMBER);
  });

  it('the owner removes a member after confirming', async () => {
    const api = fakeApi({
      'GET /v1/conduit/team/projects': [PROJECT, { ...PROJECT, id: 'p-2', name: 'Other', role: 'member' }],
      'GET /v1/conduit/team/projects/p-1/members': membersView('owner'),
      [`DELETE /v1/conduit/team/projects/p-1/members/${MEMBER}`]: { removed: true },
    });
    const { ui, seen } = fakeUi({ picks: [(items) => items[0].value, (items) => items[1].value] });
    await showMembers(api, ui);
    assert.deepEqual(seen.pickLists[0].map((i) => [i.label, i.description]), [['Shop', 'yours'], ['Other', 'shared by o@example.test']]);
    assert.match(seen.confirms[0], /^Remove m@example\.test from "Shop"\?/);
    assert.deepEqual(api.calls.at(-1), { method: 'DELETE', path: `/v1/conduit/team/projects/p-1/members/${MEMBER}` });
    assert.deepEqual(seen.infos, ['Removed m@example.test from "Shop".']);
  });

  it('does not remove when the owner declines, nor for a member picking someone', async () => {
    const declined = fakeApi({ 'GET /v1/conduit/team/projects': [PROJECT], 'GET /v1/conduit/team/projects/p-1/members': membersView('owner') });
    await showMembers(declined, fakeUi({ picks: [(items) => items[1].value], confirm: false }).ui);
    assert.equal(declined.calls.length, 2);

    const asMember = fakeApi({ 'GET /v1/conduit/team/projects': [{ ...PROJECT, role: 'member' }], 'GET /v1/conduit/team/projects/p-1/members': membersView('member') });
    const { ui, seen } = fakeUi({ picks: [(items) => items[0].value] });
    await showMembers(asMember, ui);
    assert.equal(asMember.calls.length, 2);
    assert.deepEqual(seen.confirms, []);
  });

  it('withdraws a pending invitation, renews an expired one, and lets a member leave', async () => {
    const api = fakeApi({
      'GET /v1/conduit/team/projects': [PROJECT],
      'GET /v1/conduit/team/projects/p-1/members': membersView('owner'),
      'DELETE /v1/conduit/team/projects/p-1/invitations/inv-1': invitation({ status: 'revoked' }),
      'POST /v1/conduit/team/projects/p-1/invitations': invitation({ id: 'inv-2', email: 'late@example.test' }),
    });
    const withdraw = fakeUi({ picks: [(items) => items.find((i) => i.label === 'new@example.test')!.value] });
    await showMembers(api, withdraw.ui);
    assert.deepEqual(withdraw.seen.infos, ['Withdrew the invitation of new@example.test.']);
    const renew = fakeUi({ picks: [(items) => items.find((i) => i.label === 'late@example.test')!.value] });
    await showMembers(api, renew.ui);
    assert.deepEqual(api.calls.at(-1), { method: 'POST', path: '/v1/conduit/team/projects/p-1/invitations', body: { email: 'late@example.test' } });
    assert.match(renew.seen.infos[0], /^Invited late@example\.test to "Shop"/);

    const leaving = fakeApi({
      'GET /v1/conduit/team/projects': [{ ...PROJECT, role: 'member' }],
      'GET /v1/conduit/team/projects/p-1/members': membersView('member'),
      'POST /v1/conduit/team/projects/p-1/leave': { left: true },
    });
    const leave = fakeUi({ picks: [(items) => items.at(-1)!.value] });
    await showMembers(leaving, leave.ui);
    assert.deepEqual(leave.seen.infos, ['You left "Shop".']);
  });

  it('says clearly when listing fails (not signed in) or there is nothing yet', async () => {
    const failing = fakeUi();
    await showMembers(fakeApi({ 'GET /v1/conduit/team/projects': new Error('team sharing needs Supabase: sign in') }), failing.ui);
    assert.deepEqual(failing.seen.errors, ['Could not list the projects on Supabase: team sharing needs Supabase: sign in']);
    const empty = fakeUi();
    await showMembers(fakeApi({ 'GET /v1/conduit/team/projects': [] }), empty.ui);
    assert.match(empty.seen.infos[0], /^No projects on Supabase yet/);
  });

  it('links a workspace to a project shared with you (only those are offered), and unlinks it', async () => {
    const shared: TeamProject = { ...PROJECT, id: 'p-2', name: 'Team app', role: 'member', memberCount: 3 };
    const link: WorkspaceLink = { workspaceKey: 'ws 1', projectId: 'p-2', projectName: 'Team app', ownerEmail: 'o@example.test', userId: MEMBER, linkedAt: '2026-11-29T10:00:00.000Z', brokenAt: null, brokenReason: null };
    const api = fakeApi({
      'GET /v1/conduit/team/links': [],
      'GET /v1/conduit/team/projects': [PROJECT, shared],
      'PUT /v1/conduit/team/links/ws%201': link,
    });
    const { ui, seen } = fakeUi({ picks: [(items) => items[0].value] });
    assert.deepEqual(await linkWorkspace(api, ui, 'ws 1', 'shop-ui'), link);
    assert.deepEqual(seen.pickLists[0].map((i) => [i.label, i.description]), [['Team app', 'shared by o@example.test']], 'not one\'s own projects');
    assert.deepEqual(api.calls.at(-1), { method: 'PUT', path: '/v1/conduit/team/links/ws%201', body: { projectId: 'p-2' } });
    assert.match(seen.infos[0], /^"shop-ui" now records into "Team app" \(shared by o@example\.test\): its requests sync there as yours/);

    // Linked: the pick says so and offers to unlink, which works without a Supabase session.
    const linked = fakeApi({
      'GET /v1/conduit/team/links': [link],
      'GET /v1/conduit/team/projects': new Error('team sharing needs Supabase: sign in'),
      'DELETE /v1/conduit/team/links/ws%201': { unlinked: true },
    });
    const unlink = fakeUi({ picks: [(items) => items.at(-1)!.value] });
    assert.equal(await linkWorkspace(linked, unlink.ui, 'ws 1', 'shop-ui'), null);
    assert.deepEqual(unlink.seen.pickLists[0].map((i) => i.label), ['$(debug-disconnect) Unlink']);
    assert.match(unlink.seen.infos[0], /^"shop-ui" records into your own project again, from the next sync on \(requests already synced stay in "Team app"\)\.$/);
  });

  it('a broken link says so and can be linked again to the same project (which clears the mark)', async () => {
    const shared: TeamProject = { ...PROJECT, id: 'p-2', name: 'Team app', role: 'member', memberCount: 3 };
    const broken: WorkspaceLink = {
      workspaceKey: 'ws', projectId: 'p-2', projectName: 'Team app', ownerEmail: 'o@example.test', userId: MEMBER,
      linkedAt: '2026-11-29T10:00:00.000Z', brokenAt: '2026-11-30T08:00:00.000Z', brokenReason: 'not a member (42501)',
    };
    const relinked: WorkspaceLink = { ...broken, linkedAt: '2026-12-01T09:00:00.000Z', brokenAt: null, brokenReason: null };
    const api = fakeApi({ 'GET /v1/conduit/team/links': [broken], 'GET /v1/conduit/team/projects': [shared], 'PUT /v1/conduit/team/links/ws': relinked });
    const { ui, seen } = fakeUi({ picks: [(items) => items[0].value] });
    assert.deepEqual(await linkWorkspace(api, ui, 'ws', 'shop'), relinked);
    assert.match(seen.pickTitles[0], /broke on 2026-11-30 \(that project refused your rows\)/);
    assert.equal(seen.pickLists[0][0].description, 'shared by o@example.test · link broken: pick to link again');
    assert.deepEqual(api.calls.at(-1), { method: 'PUT', path: '/v1/conduit/team/links/ws', body: { projectId: 'p-2' } });
  });

  it('linking: says clearly when nothing is shared yet, when not signed in, and when the gateway refuses', async () => {
    const none = fakeUi();
    assert.equal(await linkWorkspace(fakeApi({ 'GET /v1/conduit/team/links': [], 'GET /v1/conduit/team/projects': [PROJECT] }), none.ui, 'ws', 'shop'), undefined);
    assert.match(none.seen.infos[0], /^No project is shared with you yet/);
    const out = fakeUi();
    await linkWorkspace(fakeApi({ 'GET /v1/conduit/team/links': [], 'GET /v1/conduit/team/projects': new Error('sign in') }), out.ui, 'ws', 'shop');
    assert.deepEqual(out.seen.errors, ['Could not list the projects shared with you: sign in']);
    const refused = fakeUi({ picks: [(items) => items[0].value] });
    await linkWorkspace(fakeApi({
      'GET /v1/conduit/team/links': [],
      'GET /v1/conduit/team/projects': [{ ...PROJECT, role: 'member' }],
      'PUT /v1/conduit/team/links/ws': new Error('no project "p-1" on Supabase that you own or are a member of'),
    }), refused.ui, 'ws', 'shop');
    assert.match(refused.seen.errors[0], /^Could not link "shop" to "Shop": no project/);
  });

  it('leaving a project unlinks the workspaces linked to it', async () => {
    const link: WorkspaceLink = { workspaceKey: 'ws', projectId: 'p-1', projectName: 'Shop', ownerEmail: null, userId: MEMBER, linkedAt: '2026-11-29T10:00:00.000Z', brokenAt: null, brokenReason: null };
    const api = fakeApi({
      'GET /v1/conduit/team/projects': [{ ...PROJECT, role: 'member' }],
      'GET /v1/conduit/team/projects/p-1/members': membersView('member'),
      'POST /v1/conduit/team/projects/p-1/leave': { left: true },
      'GET /v1/conduit/team/links': [link, { ...link, workspaceKey: 'other', projectId: 'p-9' }],
      'DELETE /v1/conduit/team/links/ws': { unlinked: true },
    });
    await showMembers(api, fakeUi({ picks: [(items) => items.at(-1)!.value] }).ui);
    assert.deepEqual(api.calls.filter((c) => c.method === 'DELETE').map((c) => c.path), ['/v1/conduit/team/links/ws']);
  });

  it('after sign-in, names the projects joined; silent when none or when it fails', async () => {
    const api = fakeApi({
      'POST /v1/conduit/team/invitations/accept': { joined: [{ projectId: 'p-1', role: 'member' }] },
      'GET /v1/conduit/team/projects': [{ ...PROJECT, role: 'member' }],
    });
    assert.match((await acceptInvitations(api))!, /^You joined the shared project "Shop"/);
    assert.equal(await acceptInvitations(fakeApi({ 'POST /v1/conduit/team/invitations/accept': { joined: [] } })), null);
    assert.equal(await acceptInvitations(fakeApi({ 'POST /v1/conduit/team/invitations/accept': new Error('no function') })), null);
    assert.match(joinedMessage([{ projectId: 'a', role: 'member' }, { projectId: 'b', role: 'member' }], [])!, /^You joined 2 shared projects "a", "b"/);
  });
});
