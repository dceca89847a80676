// A member's usage reaches the shared project: the member's embedded store (PGlite, the
// real ledger engine and outbox) links a workspace to the owner's project through the
// gateway's team route, and its sync pushes to a real PostgreSQL 15 with the Supabase
// schema as the member (role authenticated, the member's JWT claims: row-level security as
// on Supabase). The owner then reads the project's usage per member.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type pg from 'pg';
import { silentLogger } from '../../src/conduit/core/log';
import { createGatewayServer, type ServerDeps } from '../../src/conduit/http/server';
import { EngineLedger } from '../../src/conduit/ledger/process/engineLedger';
import type { LedgerEngine } from '../../src/conduit/ledger/store/engine';
import { remoteAgentId, remoteProjectId, type LinkBrokenEvent, type SyncTable, type SyncTarget, type SyncTargetConfig } from '../../src/conduit/ledger/sync/outbox';
import { PgSyncTarget } from '../../src/conduit/ledger/sync/pgSyncTarget';
import { isRowRefusal } from '../../src/conduit/ledger/sync/syncErrors';
import { PgTeamBackend } from '../../src/conduit/team/pgTeamBackend';
import { TeamAccess, TeamService } from '../../src/conduit/team/teamService';
import type { TeamUsageResponse, WorkspaceLink } from '../../src/protocol/team';
import type { UsageRecord } from '../../src/protocol/usage';
import { makeRecords, PROJECT_KEYS, writeJournal } from '../ledger/support/records';
import { openTestStore, type TestStore } from '../ledger/support/store';
import { migratedDatabase } from './ledgerFixtures';

const OWNER = '2a2a2a2a-0000-4000-8000-00000000002a';
const MEMBER = '2b2b2b2b-0000-4000-8000-00000000002b';
const EMAILS: Record<string, string> = { [OWNER]: 'lead@example.test', [MEMBER]: 'dev@example.test' };
/** The owner's workspace key, and the member's own key for the same code (another checkout). */
const OWNER_KEY = 'git:example/shared-app';
const MEMBER_KEY = PROJECT_KEYS[0];
const OTHER_KEY = PROJECT_KEYS[1];

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const sessionOf = (user: string) => ({
  url: 'http://127.0.0.1:54321',
  anonKey: 'anon-key',
  accessToken: `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: user, role: 'authenticated', exp: Math.floor(Date.now() / 1000) + 3600 })}.sig`,
  refreshToken: 'refresh',
});

/** Records of one workspace, each with an agent (so dropping agent ids shows). */
function recordsOf(key: string, count: number, seed: number, idPrefix: string): UsageRecord[] {
  return makeRecords({ count: count * 6, seed, idPrefix, noProject: 0, spanMs: 24 * 3_600_000 })
    .filter((r) => r.context.projectId === key)
    .slice(0, count)
    .map((r) => ({ ...r, context: { ...r.context, agentId: 'reviewer', agentType: 'subagent' } }));
}

describe('sql: a member\'s linked workspace syncs into the shared project (real PostgreSQL as Supabase)', () => {
  let pgClient: pg.Client;
  let url: string;
  let shared: string;
  let ownerAgent: string;
  let store: TestStore;
  let engine: LedgerEngine;
  let journalDir: string;
  let server: http.Server;
  let base: string;
  const token = 'local-test-token';
  const backends: PgTeamBackend[] = [];
  /** What the member's outbox asked the target to write, per table. */
  const writes: { table: SyncTable; rows: Record<string, unknown>[] }[] = [];
  let config: SyncTargetConfig;
  let pgTarget: PgSyncTarget;

  const backend = (user: string) => {
    const b = new PgTeamBackend(url, user);
    backends.push(b);
    return b;
  };

  before(async function () {
    this.timeout(120_000);
    const db = await migratedDatabase();
    pgClient = db.pgClient;
    const c = (pgClient as unknown as { connectionParameters: { host: string; port: number; database: string; user: string } }).connectionParameters;
    url = `postgresql://${c.user}@${c.host}:${c.port}/${c.database}`;
    for (const [id, email] of Object.entries(EMAILS)) await pgClient.query('insert into auth.users (id, email) values ($1, $2)', [id, email]);

    // The owner's project, agent and usage as the owner's outbox pushes them.
    shared = remoteProjectId(OWNER, OWNER_KEY);
    ownerAgent = remoteAgentId(shared, 'reviewer', '');
    await pgClient.query(`insert into public.projects (id, user_id, name, workspace_key) values ($1, $2, 'Shared app', $3)`, [shared, OWNER, OWNER_KEY]);
    await pgClient.query(`insert into public.agents (id, project_id, name, persona_type, external_id) values ($1, $2, 'reviewer', 'code-reviewer', 'reviewer')`, [ownerAgent, shared]);
    await pgClient.query(
      `insert into public.usage_tracking (request_id, project_id, agent_id, user_id, model, input_tokens, output_tokens, cost, created_at)
       select 'owner-' || i, $1, $2, $3, 'claude-sonnet-4-5', 1000, 100, 0.010000, now() - make_interval(hours => i) from generate_series(1, 5) i`,
      [shared, ownerAgent, OWNER]);

    // The owner invites the member, who joins on signing in.
    await backend(OWNER).rpc('invite_project_member', { p_project_id: shared, p_email: EMAILS[MEMBER] });
    const joined = await backend(MEMBER).rpc('accept_pending_invitations', {});
    assert.equal((joined as { project_id: string }[])[0].project_id, shared);

    // The member's machine: its store, its gateway (team routes as the member), its sync.
    store = await openTestStore();
    ({ engine, journalDir } = await store.engine({ outbox: { batchSize: 100, minBackoffMs: 30, maxBackoffMs: 300, debounceMs: 5 } }));
    pgTarget = new PgSyncTarget({ connectionString: url, asUser: MEMBER });
    const recording: SyncTarget = {
      async upsert(table, rows, onConflict, options) {
        writes.push({ table, rows });
        await pgTarget.upsert(table, rows, onConflict, options);
      },
      isProjectMember: (projectId) => pgTarget.isProjectMember(projectId),
    };
    config = { key: `test|${MEMBER}`, userId: MEMBER, label: 'postgres as the member', target: recording };
    const team = new TeamAccess((_session, userId) => backend(userId));
    team.setSession(sessionOf(MEMBER));
    const deps = { token, log: silentLogger, ledger: new EngineLedger(engine), team, prices: {}, hub: {}, maxBodyBytes: () => 1 << 20 } as unknown as ServerDeps;
    server = createGatewayServer(deps);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await pgTarget?.close();
    await store?.close();
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
  const linkPath = (key: string) => `/v1/conduit/team/links/${encodeURIComponent(key)}`;
  const errorOf = (json: unknown) => (json as { error: { message: string } }).error.message;

  async function record(records: UsageRecord[]): Promise<void> {
    writeJournal(journalDir, records);
    await engine.ingester.ingestAvailable();
  }

  /** The target's rows of these requests (as the superuser, past row-level security). */
  async function remoteUsage(records: UsageRecord[]) {
    const { rows } = await pgClient.query<{ request_id: string; project_id: string; user_id: string; agent_id: string | null }>(
      `select request_id, project_id::text, user_id::text, agent_id::text from public.usage_tracking where request_id = any($1) order by request_id`,
      [records.map((r) => r.id)]);
    const { rows: decisions } = await pgClient.query<{ request_id: string; project_id: string; user_id: string; agent_id: string | null }>(
      `select request_id, project_id::text, user_id::text, agent_id::text from public.routing_decisions where request_id = any($1) order by request_id`,
      [records.map((r) => r.id)]);
    return { usage: rows, decisions };
  }

  it('links only to a project shared with the person, by its Supabase id', async () => {
    assert.deepEqual((await call<WorkspaceLink[]>('GET', '/v1/conduit/team/links')).json, []);
    const notUuid = await call('PUT', linkPath(MEMBER_KEY), { projectId: 'Shared app' });
    assert.equal(notUuid.status, 400);
    assert.match(errorOf(notUuid.json), /projectId: expected a Supabase project id/);
    const stranger = await call('PUT', linkPath(MEMBER_KEY), { projectId: '00000000-0000-4000-8000-000000000000' });
    assert.equal(stranger.status, 404, 'not a project the member can see');
    assert.equal((await call('PUT', linkPath(MEMBER_KEY), { projectId: shared, extra: 1 })).status, 400);

    const linked = await call<WorkspaceLink>('PUT', linkPath(MEMBER_KEY), { projectId: shared });
    assert.equal(linked.status, 200);
    assert.deepEqual({ ...linked.json, linkedAt: typeof linked.json.linkedAt }, {
      workspaceKey: MEMBER_KEY, projectId: shared, projectName: 'Shared app', ownerEmail: EMAILS[OWNER], userId: MEMBER, linkedAt: 'string',
      brokenAt: null, brokenReason: null,
    });
    assert.deepEqual((await call<WorkspaceLink[]>('GET', '/v1/conduit/team/links')).json.map((l) => [l.workspaceKey, l.projectId]), [[MEMBER_KEY, shared]]);
  });

  it('pushes the linked workspace\'s usage and decisions into the shared project as the member\'s, without agents or configuration', async () => {
    const linkedRecords = recordsOf(MEMBER_KEY, 40, 51, 'member-linked');
    const ownRecords = recordsOf(OTHER_KEY, 10, 52, 'member-own');
    assert.equal(linkedRecords.length, 40);
    await record([...linkedRecords, ...ownRecords]);
    engine.setSyncTarget(config);
    await engine.outbox.pushNow();

    const status = await engine.syncStatus();
    assert.equal(status.lastError, null, 'no row-level security refusal');
    assert.equal(status.waiting, 0);

    const linked = await remoteUsage(linkedRecords);
    assert.equal(linked.usage.length, 40);
    assert.equal(linked.decisions.length, 40);
    for (const r of [...linked.usage, ...linked.decisions]) {
      assert.equal(r.project_id, shared, r.request_id);
      assert.equal(r.user_id, MEMBER, r.request_id);
      assert.equal(r.agent_id, null, `${r.request_id}: the member's agent is not the owner's`);
    }
    // The member's other workspace still goes to the member's own project, with its configuration.
    const own = await remoteUsage(ownRecords);
    assert.deepEqual([...new Set(own.usage.map((r) => r.project_id))], [remoteProjectId(MEMBER, OTHER_KEY)]);

    // Never a configuration write for the linked workspace: no project row, no agent row.
    const configWrites = writes.filter((w) => w.table === 'projects' || w.table === 'agents').flatMap((w) => w.rows);
    assert.ok(configWrites.length > 0, 'the unlinked workspace\'s configuration is pushed');
    for (const row of configWrites) {
      assert.notEqual(row.workspace_key, MEMBER_KEY);
      assert.notEqual(row.id, shared);
      assert.notEqual(row.project_id, shared);
    }
    const { rows: memberProjects } = await pgClient.query(`select workspace_key from public.projects where user_id = $1 order by 1`, [MEMBER]);
    assert.deepEqual(memberProjects.map((p) => p.workspace_key), [OTHER_KEY]);
    const { rows: agents } = await pgClient.query(`select id::text from public.agents where project_id = $1`, [shared]);
    assert.deepEqual(agents.map((a) => a.id), [ownerAgent], 'the owner\'s agents are unchanged');
  });

  it('shows the member\'s usage in the owner\'s project; the rows per member add up to the project', async () => {
    const owner = new TeamService(backend(OWNER), OWNER);
    const range = { from: new Date(Date.now() - 7 * 86_400_000), to: new Date(Date.now() + 60_000) };
    const team: TeamUsageResponse = await owner.usage(OWNER_KEY, range, 'team');
    const { rows: [total] } = await pgClient.query<{ n: string; cost: string; input: string; output: string }>(
      `select count(*) as n, coalesce(sum(cost), 0)::text as cost, sum(input_tokens) as input, sum(output_tokens) as output
       from public.usage_tracking where project_id = $1 and created_at >= $2 and created_at < $3`, [shared, range.from, range.to]);
    const byUser = new Map(team.members.map((m) => [m.userId, m]));
    assert.deepEqual([...byUser.keys()].sort(), [OWNER, MEMBER].sort());
    assert.equal(byUser.get(MEMBER)!.requests, 40);
    assert.equal(byUser.get(MEMBER)!.email, EMAILS[MEMBER]);
    assert.equal(byUser.get(OWNER)!.requests, 5);
    const sum = (f: (m: TeamUsageResponse['members'][number]) => number) => team.members.reduce((n, m) => n + f(m), 0);
    assert.equal(sum((m) => m.requests), Number(total.n));
    assert.equal(team.totals.requests, Number(total.n));
    assert.equal(sum((m) => m.inputTokens), Number(total.input));
    assert.equal(sum((m) => m.outputTokens), Number(total.output));
    assert.equal(Math.round(sum((m) => m.cost) * 1e6), Math.round(Number(total.cost) * 1e6));
    assert.equal(Math.round(team.totals.cost * 1e6), Math.round(Number(total.cost) * 1e6));

    // The member sees the same project per member too, and their own row alone with scope own.
    const member = new TeamService(backend(MEMBER), MEMBER);
    const mine = await member.usage(shared, range, 'own');
    assert.deepEqual(mine.members.map((m) => [m.userId, m.requests, m.isYou]), [[MEMBER, 40, true]]);
  });

  it('applies the link only to the person who made it, and unlinking sends new rows to the person\'s own project', async () => {
    // Unlinking needs no Supabase session: it is this machine's store.
    const removed = await call<{ unlinked: boolean }>('DELETE', linkPath(MEMBER_KEY));
    assert.deepEqual(removed.json, { unlinked: true });
    assert.deepEqual((await call('DELETE', linkPath(MEMBER_KEY))).json, { unlinked: false });
    const later = recordsOf(MEMBER_KEY, 8, 53, 'member-later');
    await record(later);
    await engine.outbox.pushNow();
    assert.equal((await engine.syncStatus()).lastError, null);
    const own = remoteProjectId(MEMBER, MEMBER_KEY);
    const pushed = await remoteUsage(later);
    assert.equal(pushed.usage.length, 8);
    for (const r of pushed.usage) assert.equal(r.project_id, own);
    assert.ok(pushed.usage.every((r) => r.agent_id === remoteAgentId(own, 'reviewer', '')), 'agents are the member\'s own again');
    const { rows } = await pgClient.query(`select user_id::text from public.projects where id = $1`, [own]);
    assert.deepEqual(rows, [{ user_id: MEMBER }]);
    // The rows pushed while linked stay in the shared project.
    const { rows: [still] } = await pgClient.query<{ n: string }>(`select count(*) as n from public.usage_tracking where project_id = $1 and user_id = $2`, [shared, MEMBER]);
    assert.equal(Number(still.n), 40);

    // A link made by another account does not apply to this one's sync.
    await engine.workspaceLinks({ op: 'set', link: { workspaceKey: MEMBER_KEY, projectId: shared, projectName: 'Shared app', ownerEmail: null, userId: OWNER } });
    const afterOther = recordsOf(MEMBER_KEY, 3, 54, 'member-other-link');
    await record(afterOther);
    await engine.outbox.pushNow();
    assert.deepEqual([...new Set((await remoteUsage(afterOther)).usage.map((r) => r.project_id))], [own]);
  });

  // The member is removed while a workspace is still linked and has rows not yet pushed:
  // the shared project refuses them (row-level security), and the one ordered log must not
  // stall for the member's other workspaces.
  describe('when the shared project stops accepting the member\'s rows', () => {
    const own = () => remoteProjectId(MEMBER, MEMBER_KEY);
    const other = () => remoteProjectId(MEMBER, OTHER_KEY);
    let linksBroken: LinkBrokenEvent[];
    const onBroken = (e: LinkBrokenEvent) => linksBroken.push(e);

    before(() => {
      linksBroken = [];
      engine.outbox.on('linkBroken', onBroken);
    });
    after(() => {
      engine.outbox.off('linkBroken', onBroken);
    });

    async function link(): Promise<WorkspaceLink> {
      const r = await call<WorkspaceLink>('PUT', linkPath(MEMBER_KEY), { projectId: shared });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return r.json;
    }
    const theLink = async () => (await call<WorkspaceLink[]>('GET', '/v1/conduit/team/links')).json.find((l) => l.workspaceKey === MEMBER_KEY);

    it('the member\'s next sync pushes everything: the refused rows to the member\'s own project, the other workspace as before; the link is marked broken and the status says so', async () => {
      await link();
      assert.equal((await theLink())?.brokenAt, null);
      // While a member, the linked workspace's rows go to the shared project.
      const before = recordsOf(MEMBER_KEY, 4, 61, 'member-before-removal');
      await record(before);
      await engine.outbox.pushNow();
      assert.deepEqual([...new Set((await remoteUsage(before)).usage.map((r) => r.project_id))], [shared]);

      // Rows recorded and not yet pushed (the member's machine offline): the linked
      // workspace's and the other workspace's, interleaved.
      engine.setSyncTarget(null);
      const refused = recordsOf(MEMBER_KEY, 30, 62, 'member-refused');
      const others = recordsOf(OTHER_KEY, 12, 63, 'member-others');
      await record([...refused.slice(0, 10), ...others.slice(0, 6), ...refused.slice(10), ...others.slice(6)]);
      // One of them reached the shared project before the removal (the push was accepted,
      // the cursor had not moved yet): it stays there.
      const early = refused[0];
      await pgClient.query(
        `insert into public.usage_tracking (request_id, project_id, user_id, model, input_tokens, output_tokens, created_at)
         values ($1, $2, $3, 'claude-sonnet-4-5', 1, 1, now())`, [early.id, shared, MEMBER]);

      // The owner removes the member.
      assert.equal(await backend(OWNER).rpc('remove_project_member', { p_project_id: shared, p_user_id: MEMBER }), true);

      // Back online: one push, no stall.
      engine.setSyncTarget(config);
      const pushed = await engine.outbox.pushNow();
      assert.ok(pushed >= 84, `rows pushed: ${pushed}`);

      const status = await engine.syncStatus();
      assert.equal(status.lastError, null);
      assert.equal(status.nextRetryAt, null);
      assert.equal(status.waiting, 0);
      assert.equal(status.brokenLinks.length, 1);
      const [broken] = status.brokenLinks;
      assert.equal(broken.workspaceKey, MEMBER_KEY);
      assert.equal(broken.projectId, shared);
      assert.equal(broken.projectName, 'Shared app');
      assert.ok(Math.abs(Date.parse(broken.brokenAt) - Date.now()) < 60_000, broken.brokenAt);
      assert.match(broken.reason, /no longer a member/);
      assert.match(broken.reason, /row-level security/);
      assert.match(broken.reason, /42501/);
      assert.match(broken.message, new RegExp(`^The link of workspace "${MEMBER_KEY}" to "Shared app" \\(owner ${EMAILS[OWNER]}\\) is broken since .* UTC: that project refused your rows \\(you are no longer a member of it;.*\\), so this workspace's usage now syncs to your own project until you link it again or unlink it\\.$`));
      assert.equal(broken.message.split(/\.\s/).length, 1, 'one sentence');
      assert.equal(linksBroken.length, 1);
      assert.deepEqual(linksBroken[0].workspaceKeys, [MEMBER_KEY]);
      assert.equal(linksBroken[0].projectId, shared);

      // The link is kept, with the time and the reason.
      const kept = await theLink();
      assert.equal(kept?.projectId, shared);
      assert.equal(kept?.brokenAt, broken.brokenAt);
      assert.equal(kept?.brokenReason, broken.reason);

      // The refused rows are in the member's own project, as the member's, with its agents and configuration.
      const moved = await remoteUsage(refused.slice(1));
      assert.equal(moved.usage.length, 29);
      assert.equal(moved.decisions.length, 29);
      for (const r of [...moved.usage, ...moved.decisions]) {
        assert.equal(r.project_id, own(), r.request_id);
        assert.equal(r.user_id, MEMBER, r.request_id);
      }
      assert.ok(moved.usage.every((r) => r.agent_id === remoteAgentId(own(), 'reviewer', '')));
      assert.deepEqual((await remoteUsage([early])).usage.map((r) => [r.project_id, r.user_id]), [[shared, MEMBER]], 'the row accepted before the removal stays');
      // The other workspace synced as before.
      const otherRows = await remoteUsage(others);
      assert.equal(otherRows.usage.length, 12);
      assert.deepEqual([...new Set(otherRows.usage.map((r) => r.project_id))], [other()]);
      // The rows pushed while a member stay in the shared project.
      assert.deepEqual([...new Set((await remoteUsage(before)).usage.map((r) => r.project_id))], [shared]);
    });

    it('sends the workspace\'s later rows to the member\'s own project without asking the shared project again', async () => {
      const from = writes.length;
      const later = recordsOf(MEMBER_KEY, 5, 64, 'member-after-break');
      await record(later);
      await engine.outbox.pushNow();
      assert.deepEqual([...new Set((await remoteUsage(later)).usage.map((r) => r.project_id))], [own()]);
      assert.ok(writes.slice(from).every((w) => w.rows.every((r) => r.project_id !== shared)), 'no write to the shared project');
      assert.equal(linksBroken.length, 1);
      const status = await engine.syncStatus();
      assert.equal(status.lastError, null);
      assert.equal(status.brokenLinks.length, 1, 'still named until re-linked or unlinked');
    });

    it('linking again (after joining again) clears the broken mark; the rows go to the shared project again', async () => {
      await backend(OWNER).rpc('invite_project_member', { p_project_id: shared, p_email: EMAILS[MEMBER] });
      await backend(MEMBER).rpc('accept_pending_invitations', {});
      const relinked = await link();
      assert.equal(relinked.brokenAt, null);
      assert.equal(relinked.brokenReason, null);
      assert.deepEqual((await engine.syncStatus()).brokenLinks, []);
      const again = recordsOf(MEMBER_KEY, 3, 65, 'member-relinked');
      await record(again);
      await engine.outbox.pushNow();
      assert.deepEqual([...new Set((await remoteUsage(again)).usage.map((r) => r.project_id))], [shared]);
      assert.equal((await engine.syncStatus()).lastError, null);
    });

    it('a transient failure (the target unreachable) backs off and leaves the link as it is', async () => {
      // A port nothing listens on.
      const port = await new Promise<number>((resolve) => {
        const probe = net.createServer().listen(0, '127.0.0.1', () => {
          const p = (probe.address() as AddressInfo).port;
          probe.close(() => resolve(p));
        });
      });
      const unreachable = new PgSyncTarget({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres`, asUser: MEMBER, connectTimeoutMs: 2_000 });
      try {
        const rows = recordsOf(MEMBER_KEY, 4, 66, 'member-offline');
        engine.setSyncTarget(null);
        await record(rows);
        const failed = once(engine.outbox, 'failed') as Promise<[Error]>;
        engine.setSyncTarget({ ...config, target: unreachable });
        const [err] = await failed;
        assert.equal(isRowRefusal(err), false, err.message);
        const status = await engine.syncStatus();
        assert.ok(status.lastError, 'the failure is in the status');
        assert.ok(status.nextRetryAt, 'a retry is due');
        assert.ok(status.waiting! >= 8);
        assert.deepEqual(status.brokenLinks, []);
        assert.equal((await theLink())?.brokenAt, null);

        // Back online: the rows go where the link says.
        engine.setSyncTarget(config);
        await engine.outbox.pushNow();
        assert.deepEqual([...new Set((await remoteUsage(rows)).usage.map((r) => r.project_id))], [shared]);
        assert.equal(linksBroken.length, 1, 'no new broken link');
      } finally {
        await unreachable.close();
      }
    });

    it('a refusal while the person is still a member (as the target says) keeps the backoff and the link', async () => {
      // 42501 for the shared project's rows, as a missing privilege would give: not the link's fault.
      const refusing: SyncTarget = {
        async upsert(table, rows, onConflict, options) {
          if (rows.some((r) => r.project_id === shared)) {
            throw Object.assign(new Error(`permission denied for table ${table}`), { code: '42501' });
          }
          await pgTarget.upsert(table, rows, onConflict, options);
        },
        isProjectMember: (projectId) => pgTarget.isProjectMember(projectId),
      };
      const rows = recordsOf(MEMBER_KEY, 2, 67, 'member-still');
      engine.setSyncTarget(null);
      await record(rows);
      const failed = once(engine.outbox, 'failed') as Promise<[Error]>;
      engine.setSyncTarget({ ...config, target: refusing });
      const [err] = await failed;
      assert.equal(isRowRefusal(err), true);
      const status = await engine.syncStatus();
      assert.match(status.lastError ?? '', /permission denied/);
      assert.ok(status.nextRetryAt);
      assert.deepEqual(status.brokenLinks, []);
      assert.equal((await theLink())?.brokenAt, null);
      engine.setSyncTarget(config);
      await engine.outbox.pushNow();
      assert.deepEqual([...new Set((await remoteUsage(rows)).usage.map((r) => r.project_id))], [shared]);
    });
  });
});
