// The gateway's team routes over real HTTP, answered by the Supabase schema on a real
// PostgreSQL as the signed-in person (PgTeamBackend runs each call the way PostgREST would:
// role authenticated, the person's JWT claims). The session reaches them the way the
// extension hands it over: POST /v1/conduit/sync/session.
import assert from 'node:assert/strict';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { silentLogger } from '../../src/conduit/core/log';
import { createGatewayServer, type ServerDeps } from '../../src/conduit/http/server';
import { parseMembersQuery } from '../../src/conduit/http/teamRoute';
import { remoteProjectId } from '../../src/conduit/ledger/sync/outbox';
import type { SyncStatusReport } from '../../src/conduit/ledger/service';
import { PgTeamBackend } from '../../src/conduit/team/pgTeamBackend';
import { TeamAccess } from '../../src/conduit/team/teamService';
import type { ProjectInvitation, TeamMembersResponse, TeamMembership, TeamProject, TeamUsageResponse } from '../../src/protocol/team';
import { migratedDatabase } from './ledgerFixtures';

const OWNER = '1a1a1a1a-0000-4000-8000-00000000001a';
const MEMBER = '1b1b1b1b-0000-4000-8000-00000000001b';
const OUTSIDER = '1c1c1c1c-0000-4000-8000-00000000001c';
const EMAILS: Record<string, string> = { [OWNER]: 'owner@example.test', [MEMBER]: 'member@example.test', [OUTSIDER]: 'outsider@example.test' };
const WORKSPACE = 'ws-owner-1';

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** A session as the extension posts it (the signature is never checked by the gateway; Supabase would). */
const sessionOf = (user: string) => ({
  url: 'http://127.0.0.1:54321',
  anonKey: 'anon-key',
  accessToken: `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: user, role: 'authenticated', exp: Math.floor(Date.now() / 1000) + 3600 })}.sig`,
  refreshToken: 'refresh',
});

describe('sql: team sharing through the gateway (real PostgreSQL as Supabase)', () => {
  let pgClient: pg.Client;
  let server: http.Server;
  let base: string;
  let project: string;
  const backends: PgTeamBackend[] = [];
  const token = 'local-test-token';

  before(async () => {
    const db = await migratedDatabase();
    pgClient = db.pgClient;
    for (const [id, email] of Object.entries(EMAILS)) await pgClient.query('insert into auth.users (id, email) values ($1, $2)', [id, email]);
    // The owner's project as the outbox pushes it: its id derived from the user and the workspace key.
    project = remoteProjectId(OWNER, WORKSPACE);
    await pgClient.query(`insert into public.projects (id, user_id, name, workspace_key) values ($1, $2, 'Shared app', $3)`, [project, OWNER, WORKSPACE]);
    await pgClient.query(
      `insert into public.usage_tracking (request_id, project_id, model, input_tokens, output_tokens, cost, created_at)
       select 'owner-' || i, $1, 'claude-sonnet-4-5', 1000, 100, 0.010000, now() - make_interval(hours => i) from generate_series(1, 5) i`,
      [project]);

    const connectionString = (pgClient as unknown as { connectionParameters: { host: string; port: number; database: string; user: string } }).connectionParameters;
    const url = `postgresql://${connectionString.user}@${connectionString.host}:${connectionString.port}/${connectionString.database}`;
    const team = new TeamAccess((_session, userId) => {
      const backend = new PgTeamBackend(url, userId);
      backends.push(backend);
      return backend;
    });
    // What the sync route needs of the ledger; nothing else here touches it.
    const status = (userId: string | null): SyncStatusReport => ({
      store: 'ready', mode: userId ? 'supabase' : 'local', target: null, userId, lastSuccessAt: null, waiting: 0,
      lastError: null, lastErrorAt: null, pushed: 0, nextRetryAt: null, brokenLinks: [],
    });
    const ledger = {
      state: 'ready', error: null,
      setSyncSession: async () => status('x'),
      clearSyncSession: async () => status(null),
      syncStatus: async () => status(null),
      analytics: async () => { throw new Error('not in this test'); },
    };
    const deps = { token, log: silentLogger, ledger, team, prices: {}, hub: {}, maxBodyBytes: () => 1 << 20 } as unknown as ServerDeps;
    server = createGatewayServer(deps);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    for (const b of backends) await b.close();
    await pgClient?.end();
  });

  async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { 'x-conduit-token': token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, json: (await r.json()) as T };
  }
  const errorOf = (json: unknown) => (json as { error: { type: string; message: string } }).error;
  const signIn = async (user: string) => assert.equal((await call('POST', '/v1/conduit/sync/session', sessionOf(user))).status, 200);

  it('answers 409 with a clear message before anyone signed in to Supabase', async () => {
    for (const [method, path] of [['GET', '/v1/conduit/team/projects'], ['GET', `/v1/conduit/analytics/members?project=${WORKSPACE}`],
      ['POST', '/v1/conduit/team/invitations/accept']] as const) {
      const r = await call(method, path);
      assert.equal(r.status, 409, path);
      assert.equal(errorOf(r.json).type, 'invalid_request_error');
      assert.match(errorOf(r.json).message, /sign in/i);
    }
  });

  it('the owner sees the project by its workspace key and invites by email (validated, idempotent)', async () => {
    await signIn(OWNER);
    const projects = await call<TeamProject[]>('GET', '/v1/conduit/team/projects');
    assert.deepEqual(projects.json.map((p) => [p.id, p.role, p.workspaceKey, p.memberCount]), [[project, 'owner', WORKSPACE, 1]]);

    const bad = await call('POST', `/v1/conduit/team/projects/${WORKSPACE}/invitations`, { email: 'not an address' });
    assert.equal(bad.status, 400);
    assert.match(errorOf(bad.json).message, /not an email address/);
    assert.equal((await call('POST', `/v1/conduit/team/projects/${WORKSPACE}/invitations`, { email: 'a@b.test', extra: 1 })).status, 400);
    assert.equal((await call('GET', `/v1/conduit/team/projects/${WORKSPACE}/invitations`)).status, 405);

    const first = await call<ProjectInvitation>('POST', `/v1/conduit/team/projects/${WORKSPACE}/invitations`, { email: ' Member@Example.TEST ' });
    assert.equal(first.status, 200);
    assert.equal(first.json.email, EMAILS[MEMBER]);
    assert.equal(first.json.status, 'pending');
    assert.equal(first.json.projectId, project);
    const again = await call<ProjectInvitation>('POST', `/v1/conduit/team/projects/${project}/invitations`, { email: EMAILS[MEMBER] });
    assert.equal(again.json.id, first.json.id, 'by the Supabase id too, the same invitation');

    const members = await call<TeamMembersResponse>('GET', `/v1/conduit/team/projects/${WORKSPACE}/members`);
    assert.deepEqual(members.json.members.map((m) => [m.userId, m.role, m.isYou]), [[OWNER, 'owner', true]]);
    assert.deepEqual(members.json.invitations.map((i) => [i.email, i.status]), [[EMAILS[MEMBER], 'pending']]);

    const unknown = await call('GET', '/v1/conduit/team/projects/no-such-workspace/members');
    assert.equal(unknown.status, 404);
    assert.match(errorOf(unknown.json).message, /no project "no-such-workspace"/);
  });

  it('the invited person joins on sign-in, then reads the team usage per member; not configuration rights', async () => {
    await signIn(MEMBER);
    assert.deepEqual((await call<TeamProject[]>('GET', '/v1/conduit/team/projects')).json, []);
    const accepted = await call<{ joined: TeamMembership[] }>('POST', '/v1/conduit/team/invitations/accept');
    assert.deepEqual(accepted.json.joined, [{ projectId: project, role: 'member' }]);
    const projects = await call<TeamProject[]>('GET', '/v1/conduit/team/projects');
    assert.deepEqual(projects.json.map((p) => [p.id, p.role, p.ownerEmail]), [[project, 'member', EMAILS[OWNER]]]);

    // The member's own usage in the shared project (their gateway's sync would push it).
    await pgClient.query('begin');
    await pgClient.query('set local role authenticated');
    await pgClient.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: MEMBER, role: 'authenticated' })]);
    await pgClient.query(`insert into public.usage_tracking (request_id, project_id, model, input_tokens, output_tokens, cost) values ('member-1', $1, 'claude-haiku-4-5', 10, 5, 0.001000)`, [project]);
    await pgClient.query('commit');

    const members = await call<TeamMembersResponse>('GET', `/v1/conduit/team/projects/${project}/members`);
    assert.deepEqual(members.json.members.map((m) => [m.email, m.role, m.isYou]), [[EMAILS[OWNER], 'owner', false], [EMAILS[MEMBER], 'member', true]]);
    assert.deepEqual(members.json.invitations, [], 'only the owner sees invitations');

    const team = await call<TeamUsageResponse>('GET', `/v1/conduit/analytics/members?project=${project}&range=week`);
    assert.equal(team.status, 200);
    assert.equal(team.json.scope, 'team');
    assert.deepEqual(team.json.members.map((m) => [m.email, m.requests, m.cost, m.isYou]),
      [[EMAILS[OWNER], 5, 0.05, false], [EMAILS[MEMBER], 1, 0.001, true]]);
    assert.deepEqual(team.json.totals, { requests: 6, errors: 0, inputTokens: 5010, outputTokens: 505, cacheCreationTokens: 0, cacheReadTokens: 0, cost: 0.051, costedRequests: 6 });
    const own = await call<TeamUsageResponse>('GET', `/v1/conduit/analytics/members?project=${project}&scope=own`);
    assert.deepEqual(own.json.members.map((m) => m.userId), [MEMBER]);
    assert.equal(own.json.totals.requests, 1);

    const invite = await call('POST', `/v1/conduit/team/projects/${project}/invitations`, { email: EMAILS[OUTSIDER] });
    assert.equal(invite.status, 403);
    assert.match(errorOf(invite.json).message, /only the owner/);
    const remove = await call('DELETE', `/v1/conduit/team/projects/${project}/members/${OWNER}`);
    assert.equal(remove.status, 403);
  });

  it('checks the analytics parameters, and points scope=team of the local queries to the members query', async () => {
    for (const [query, pattern] of [
      ['members', /project: required/],
      [`members?project=${project}&scope=all`, /scope: expected own or team/],
      [`members?project=${project}&range=year`, /range: expected/],
      [`members?project=${project}&tz=Mars/Olympus`, /tz:/],
      [`members?project=${project}&bucket=day`, /unknown parameter "bucket"/],
      ['summary?scope=team', /members\?project=<project>&scope=team/],
      ['summary?scope=everyone', /scope: expected own or team/],
    ] as const) {
      const r = await call('GET', `/v1/conduit/analytics/${query}`);
      assert.equal(r.status, 400, query);
      assert.match(errorOf(r.json).message, pattern, query);
    }
  });

  it('the owner removes the member, whose reads end; signing out ends team access', async () => {
    await signIn(OWNER);
    const team = await call<TeamUsageResponse>('GET', `/v1/conduit/analytics/members?project=${WORKSPACE}&range=month`);
    assert.deepEqual(team.json.members.map((m) => m.userId).sort(), [OWNER, MEMBER].sort());
    assert.deepEqual((await call('DELETE', `/v1/conduit/team/projects/${WORKSPACE}/members/${MEMBER}`)).json, { removed: true });
    assert.equal((await call('DELETE', `/v1/conduit/team/projects/${WORKSPACE}/members/not-a-uuid`)).status, 400);

    await signIn(MEMBER);
    assert.deepEqual((await call<TeamProject[]>('GET', '/v1/conduit/team/projects')).json, []);
    assert.equal((await call('GET', `/v1/conduit/analytics/members?project=${project}`)).status, 404);

    assert.equal((await call('DELETE', '/v1/conduit/sync/session')).status, 200);
    assert.equal((await call('GET', '/v1/conduit/team/projects')).status, 409);
  });

  it('resolves day, week, month and custom ranges in the time zone like the local analytics', () => {
    const now = new Date('2026-11-27T15:30:00Z');
    const range = (q: string) => {
      const r = parseMembersQuery(new URLSearchParams(`project=p&${q}`), now).range;
      return [r.from.toISOString(), r.to.toISOString()];
    };
    assert.deepEqual(range('range=day'), ['2026-11-27T00:00:00.000Z', now.toISOString()]);
    assert.deepEqual(range('range=week&tz=Europe/Berlin'), ['2026-11-20T23:00:00.000Z', now.toISOString()]);
    assert.deepEqual(range('range=month&tz=America/New_York'), ['2026-10-29T04:00:00.000Z', now.toISOString()], 'across the end of daylight saving time');
    assert.deepEqual(range('from=2026-03-29&to=2026-03-29&tz=Europe/Berlin'), ['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z'], 'a 23-hour day');
    assert.deepEqual(range('from=2026-11-01T08:00&to=2026-11-02T08:00:00Z&tz=Asia/Kolkata'), ['2026-11-01T02:30:00.000Z', '2026-11-02T08:00:00.000Z']);
    assert.throws(() => range('from=2026-11-02&to=2026-11-01'), /from must be before to/);
    assert.throws(() => range('range=week&from=2026-11-01'), /apply to range=custom only/);
  });
});
