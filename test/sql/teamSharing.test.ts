// Team sharing on a real PostgreSQL 15 with Supabase's roles emulated (see rls.test.ts for
// how a statement runs as a signed-in user): invitations, membership, what members may read
// and write, removal, and the per-member statistics. Then the same flow on PGlite, the
// embedded store's engine, which applies the same migrations.
import assert from 'node:assert/strict';
import { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { applyMigrations } from '../../src/conduit/ledger/store/migrations';
import { fromPglite, type SqlClient } from '../../src/conduit/ledger/store/sqlClient';
import { buildDataset, insertDataset, migratedDatabase, usageStatistics, USER_A, USER_B, USER_C, type Dataset } from './ledgerFixtures';

/** Invited by A and accepted; removed near the end. */
const USER_D = '0d0d0d0d-0000-4000-8000-00000000000d';
/** Invited to A's second project, for expiry. */
const USER_E = '0e0e0e0e-0000-4000-8000-00000000000e';
/** Joins and leaves. */
const USER_F = '0f0f0f0f-0000-4000-8000-00000000000f';
const EMAIL: Record<string, string> = {
  [USER_A]: '0a@example.test', [USER_B]: '0b@example.test', [USER_C]: '0c@example.test',
  [USER_D]: 'dee@example.test', [USER_E]: 'eve@example.test', [USER_F]: 'fay@example.test',
};

type Role = 'authenticated' | 'anon';
type Row = Record<string, unknown>;
type PgError = Error & { code?: string };

/** A connection that can act as a Supabase API caller. */
class Caller {
  constructor(private readonly sql: SqlClient) {}

  /** Runs `work` as PostgREST would for a request of this user (null: anon), then rolls back (or commits). */
  async as<T>(sub: string | null, work: () => Promise<T>, options: { commit?: boolean; role?: Role } = {}): Promise<T> {
    const role = options.role ?? (sub ? 'authenticated' : 'anon');
    await this.sql.exec('begin');
    let ok = false;
    try {
      await this.sql.exec(`set local role ${role}`);
      const claims = sub ? { sub, role, email: EMAIL[sub] } : { role };
      await this.sql.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims)]);
      const value = await work();
      ok = true;
      return value;
    } finally {
      await this.sql.exec(ok && options.commit ? 'commit' : 'rollback');
    }
  }

  rows<T = Row>(text: string, params: unknown[] = []): Promise<T[]> {
    return this.sql.query<T & Row>(text, params).then((r) => r.rows as T[]);
  }

  async count(text: string, params: unknown[] = []): Promise<number> {
    return Number((await this.rows<{ count: unknown }>(text, params))[0].count);
  }

  /** Rows an INSERT, UPDATE or DELETE changed (through RETURNING, the same on node-postgres and PGlite). */
  async changed(text: string, params: unknown[] = []): Promise<number> {
    return this.count(`with changed as (${text} returning 1) select count(*) from changed`, params);
  }

  /** The statement fails with `code` (inside a savepoint, so the transaction goes on); returns the message. */
  async refused(text: string, params: unknown[], code: string): Promise<string> {
    await this.sql.exec('savepoint attempt');
    let error: PgError | undefined;
    try {
      await this.sql.query(text, params);
    } catch (err) {
      error = err as PgError;
    }
    await this.sql.exec('rollback to savepoint attempt');
    assert.ok(error, `expected refusal (${code}) of: ${text}`);
    assert.equal(error.code, code, error.message);
    return error.message;
  }
}

async function addUsers(sql: SqlClient, ids: string[]): Promise<void> {
  for (const id of ids) {
    await sql.query('insert into auth.users (id, email) values ($1, $2) on conflict (id) do update set email = excluded.email', [id, EMAIL[id]]);
  }
}

const invite = (c: Caller, project: string, email: string) =>
  c.rows<{ id: string; email: string; status: string; expires_at: Date; invited_by: string }>(
    'select * from public.invite_project_member($1, $2)', [project, email]).then((r) => r[0]);
const accept = (c: Caller, invitation: string) =>
  c.rows<{ project_id: string; user_id: string; role: string; invited_by: string }>(
    'select * from public.accept_project_invitation($1)', [invitation]).then((r) => r[0]);

interface MemberUsage {
  user_id: string; email: string | null; display_name: string | null; role: string | null; is_caller: boolean;
  request_count: string; total_tokens: string; cost: string; costed_request_count: string;
}
const teamUsage = (c: Caller, project: string, scope: 'own' | 'team', from: Date) =>
  c.rows<MemberUsage>(
    `select user_id, email, display_name, role, is_caller, request_count::text, total_tokens::text, cost::numeric(20, 6)::text as cost,
            costed_request_count::text
       from public.get_team_usage($1, $2, null, $3)`, [project, from.toISOString(), scope]);

describe('sql: team sharing (project members, Supabase roles emulated)', () => {
  let pgClient: pg.Client;
  let sql: SqlClient;
  let c: Caller;
  let ds: Dataset;
  let shared: string; // A's first project: B and D are members
  let other: string; // A's second project: nobody else
  let projectB: string;
  let from: Date;

  before(async () => {
    ({ pgClient, sql } = await migratedDatabase());
    ds = buildDataset(new Date(), 300);
    await insertDataset(sql, ds);
    await addUsers(sql, [USER_A, USER_B, USER_C, USER_D, USER_E, USER_F]);
    c = new Caller(sql);
    [shared, other] = ds.projects.filter((p) => p.userId === USER_A).map((p) => p.id);
    projectB = ds.projects.find((p) => p.userId === USER_B)!.id;
    from = new Date(ds.anchor.getTime() - 100 * 86_400_000);

    // A invites B and D; both accept (committed: the suite reads the membership after).
    for (const user of [USER_B, USER_D]) {
      const invitation = await c.as(USER_A, () => invite(c, shared, EMAIL[user]), { commit: true });
      await c.as(user, () => accept(c, invitation.id), { commit: true });
    }
    // B and D record some usage and decisions of their own in the shared project.
    for (const [user, n] of [[USER_B, 7], [USER_D, 3]] as const) {
      await c.as(user, async () => {
        for (let i = 0; i < n; i++) {
          await c.changed(
            `insert into public.usage_tracking (request_id, project_id, model, input_tokens, output_tokens, cost, session_id)
             values ($1, $2, 'claude-haiku-4-5', $3, 10, $4, 'member-session')`,
            [`${user}-${i}`, shared, 100 + i, (0.001 * (i + 1)).toFixed(6)]);
          await c.changed(
            `insert into public.routing_decisions (request_id, project_id, selected_model, routing_source)
             values ($1, $2, 'claude-haiku-4-5', 'default')`, [`${user}-${i}`, shared]);
        }
      }, { commit: true });
    }
  });
  after(async () => {
    await pgClient?.end();
  });

  /** What the store's owner (no row-level security) counts. */
  const total = (text: string, params: unknown[]) => c.count(text, params);

  describe('membership', () => {
    it("mirrors every project's owner as its one 'owner' member (backfill and trigger)", async () => {
      const { rows } = await sql.query<{ mismatched: string }>(
        `select count(*)::text as mismatched from public.projects p
         where (select array_agg(m.user_id) from public.project_members m where m.project_id = p.id and m.role = 'owner') is distinct from array[p.user_id]`);
      assert.equal(rows[0].mismatched, '0');
      await c.as(USER_C, async () => {
        const [p] = await c.rows<{ id: string }>(`insert into public.projects (name, workspace_key) values ('C new', 'c-key') returning id`);
        const members = await c.rows<{ user_id: string; role: string }>('select user_id, role from public.project_members where project_id = $1', [p.id]);
        assert.deepEqual(members, [{ user_id: USER_C, role: 'owner' }]);
      });
    });

    it('lists the members with their email and a display name to members only', async () => {
      const expected = [
        { user_id: USER_A, email: EMAIL[USER_A], display_name: '0a', role: 'owner' },
        { user_id: USER_B, email: EMAIL[USER_B], display_name: '0b', role: 'member' },
        { user_id: USER_D, email: EMAIL[USER_D], display_name: 'dee', role: 'member' },
      ];
      const list = () => c.rows('select user_id, email, display_name, role from public.list_project_members($1)', [shared]);
      assert.deepEqual(await c.as(USER_B, list), expected);
      assert.deepEqual(await c.as(USER_A, list), expected);
      assert.deepEqual(await c.as(USER_C, list), []);
      assert.deepEqual(await c.as(null, list), []);
      // auth.users is not readable through the API at all.
      await c.as(USER_B, async () => {
        await c.refused('select email from auth.users', [], '42501');
      });
    });

    it('lists the projects a person can see with their role in each', async () => {
      const projects = (user: string) => c.as(user, () => c.rows<{ project_id: string; role: string; owner_email: string; member_count: string }>(
        'select project_id, role, owner_email, member_count::text from public.list_team_projects()'));
      assert.deepEqual(await projects(USER_B), [
        { project_id: projectB, role: 'owner', owner_email: EMAIL[USER_B], member_count: '1' },
        { project_id: shared, role: 'member', owner_email: EMAIL[USER_A], member_count: '3' },
      ]);
      assert.deepEqual((await projects(USER_A)).map((p) => [p.project_id, p.role]).sort(), [[shared, 'owner'], [other, 'owner']].sort());
      assert.deepEqual(await projects(USER_C), []);
    });

    it('lets nobody write project_members directly (only the functions do)', async () => {
      await c.as(USER_B, async () => {
        await c.refused(`insert into public.project_members (project_id, user_id, role) values ($1, $2, 'member')`, [other, USER_B], '42501');
        assert.equal(await c.changed(`update public.project_members set role = 'owner' where project_id = $1`, [shared]), 0);
        assert.equal(await c.changed(`delete from public.project_members where project_id = $1`, [shared]), 0);
      });
      await c.as(USER_A, async () => {
        // Not even the owner: removal goes through remove_project_member.
        assert.equal(await c.changed(`delete from public.project_members where project_id = $1 and user_id = $2`, [shared, USER_B]), 0);
      });
      assert.equal(await total('select count(*) from public.project_members where project_id = $1', [shared]), 3);
    });
  });

  describe('invitations', () => {
    it('only the owner invites; the address is normalised; inviting again returns the same invitation', async () => {
      await c.as(USER_B, async () => {
        assert.match(await c.refused('select public.invite_project_member($1, $2)', [shared, 'x@example.test'], '42501'), /only the owner/);
      });
      await c.as(USER_C, async () => {
        await c.refused('select public.invite_project_member($1, $2)', [shared, 'x@example.test'], '42501');
      });
      await c.as(null, async () => {
        await c.refused('select public.invite_project_member($1, $2)', [shared, 'x@example.test'], '42501');
      });
      await c.as(USER_A, async () => {
        for (const bad of ['', 'no-at-sign', 'a@b', 'two@@example.test', 'sp ace@example.test', `${'x'.repeat(320)}@example.test`]) {
          await c.refused('select public.invite_project_member($1, $2)', [shared, bad], '22023');
        }
        await c.refused('select public.invite_project_member($1, $2)', [shared, EMAIL[USER_A].toUpperCase()], '22023');
        const first = await invite(c, shared, '  New.Person@Example.TEST ');
        assert.equal(first.email, 'new.person@example.test');
        assert.equal(first.status, 'pending');
        assert.equal(first.invited_by, USER_A);
        const days = (new Date(first.expires_at).getTime() - Date.now()) / 86_400_000;
        assert.ok(days > 13.9 && days <= 14, `expires in 14 days (${days})`);
        const again = await invite(c, shared, 'new.person@example.test');
        assert.equal(again.id, first.id);
        assert.equal(new Date(again.expires_at).getTime(), new Date(first.expires_at).getTime());
        // Already a member: the accepted invitation, unchanged.
        const member = await invite(c, shared, EMAIL[USER_B]);
        assert.equal(member.status, 'accepted');
        assert.equal(await total('select count(*) from public.project_invitations where project_id = $1 and email = $2', [shared, 'new.person@example.test']), 1);
      });
    });

    it('shows invitations to the owner and to the invitee, and to nobody else', async () => {
      await c.as(USER_A, async () => {
        assert.deepEqual((await c.rows<{ email: string }>('select email from public.project_invitations order by email')).map((r) => r.email),
          [EMAIL[USER_B], EMAIL[USER_D]]);
      });
      await c.as(USER_B, async () => {
        assert.deepEqual((await c.rows<{ email: string }>('select email from public.project_invitations')).map((r) => r.email), [EMAIL[USER_B]]);
      });
      await c.as(USER_C, async () => {
        assert.equal(await c.count('select count(*) from public.project_invitations'), 0);
        await c.refused(`insert into public.project_invitations (project_id, email) values ($1, '0c@example.test')`, [shared], '42501');
        assert.equal(await c.changed(`update public.project_invitations set status = 'pending'`), 0);
      });
    });

    it('is accepted by the invited address only', async () => {
      const invitation = await c.as(USER_A, () => invite(c, other, EMAIL[USER_E]), { commit: true });
      for (const wrong of [USER_B, USER_C]) {
        await c.as(wrong, async () => {
          assert.match(await c.refused('select public.accept_project_invitation($1)', [invitation.id], '42501'), /another email address/);
        });
      }
      await c.as(null, async () => {
        await c.refused('select public.accept_project_invitation($1)', [invitation.id], '42501');
      });
      await c.as(USER_E, async () => {
        await c.refused('select public.accept_project_invitation($1)', ['00000000-0000-4000-8000-000000000000'], 'P0002');
        const member = await accept(c, invitation.id);
        assert.deepEqual(member, { ...member, project_id: other, user_id: USER_E, role: 'member', invited_by: USER_A });
        // Accepting twice is fine.
        assert.equal((await accept(c, invitation.id)).user_id, USER_E);
        assert.equal(await c.count('select count(*) from public.projects where id = $1', [other]), 1);
      });
    });

    it('expires: an expired invitation cannot be accepted; inviting again renews it', async () => {
      const invitation = await c.as(USER_A, () => invite(c, other, EMAIL[USER_F]), { commit: true });
      await sql.query(`update public.project_invitations set expires_at = now() - interval '1 second' where id = $1`, [invitation.id]);
      await c.as(USER_F, async () => {
        assert.match(await c.refused('select public.accept_project_invitation($1)', [invitation.id], 'P0001'), /expired/);
        assert.deepEqual(await c.rows('select * from public.accept_pending_invitations()'), [], 'sign-in skips expired invitations');
        assert.equal(await c.count('select count(*) from public.projects where id = $1', [other]), 0);
      });
      await c.as(USER_A, async () => {
        const renewed = await invite(c, other, EMAIL[USER_F]);
        assert.equal(renewed.id, invitation.id);
        assert.equal(renewed.status, 'pending');
        assert.ok(new Date(renewed.expires_at).getTime() > Date.now() + 13 * 86_400_000);
        // Acceptance on sign-in, in the same transaction as F below would be: separate.
      }, { commit: true });
      await c.as(USER_F, async () => {
        const joined = await c.rows<{ project_id: string; role: string }>('select project_id, role from public.accept_pending_invitations()');
        assert.deepEqual(joined, [{ project_id: other, role: 'member' }]);
        assert.equal(await c.count('select count(*) from public.projects where id = $1', [other]), 1);
      }, { commit: true });
    });

    it('needs a confirmed address where auth.users records confirmation (Supabase)', async () => {
      // Supabase's auth.users has email_confirmed_at; the shim's has not. Added in this
      // transaction only (rolled back), as on Supabase.
      await sql.exec('begin');
      try {
        await sql.exec('alter table auth.users add column email_confirmed_at timestamptz');
        const invitation = (await sql.query<{ id: string }>(
          `insert into public.project_invitations (project_id, email, invited_by) values ($1, $2, $3) returning id`,
          [shared, EMAIL[USER_C], USER_A])).rows[0];
        await sql.exec(`set local role authenticated`);
        await sql.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: USER_C, role: 'authenticated', email: EMAIL[USER_C] })]);
        await c.refused('select public.accept_project_invitation($1)', [invitation.id], '42501');
        assert.equal(await c.count('select count(*) from public.accept_pending_invitations()'), 0);
        await sql.exec('reset role');
        await sql.query('update auth.users set email_confirmed_at = now() where id = $1', [USER_C]);
        await sql.exec(`set local role authenticated`);
        assert.equal((await accept(c, invitation.id)).user_id, USER_C);
      } finally {
        await sql.exec('rollback');
      }
      await c.as(USER_C, async () => {
        assert.equal(await c.count('select count(*) from public.projects'), 0, 'C is still nobody');
      });
    });

    it('the owner can withdraw a pending invitation; then it cannot be accepted', async () => {
      const invitation = await c.as(USER_A, () => invite(c, shared, 'withdrawn@example.test'), { commit: true });
      await c.as(USER_B, async () => {
        await c.refused('select public.revoke_project_invitation($1)', [invitation.id], 'P0002');
      });
      const revoked = await c.as(USER_A, () => c.rows<{ status: string }>('select status from public.revoke_project_invitation($1)', [invitation.id]), { commit: true });
      assert.equal(revoked[0].status, 'revoked');
      await sql.query('insert into auth.users (id, email) values ($1, $2)', ['0abcdef0-0000-4000-8000-000000000001', 'withdrawn@example.test']);
      await c.as('0abcdef0-0000-4000-8000-000000000001', async () => {
        assert.match(await c.refused('select public.accept_project_invitation($1)', [invitation.id], 'P0001'), /withdrawn/);
      });
    });
  });

  describe('what a member reads', () => {
    const PROJECT_TABLES = [
      ['projects', 'id'], ['agents', 'project_id'], ['usage_tracking', 'project_id'], ['routing_decisions', 'project_id'],
      ['usage_hourly_rollup', 'project_id'], ['usage_session_rollup', 'project_id'], ['usage_project_hourly', 'project_id'], ['usage_session_model_rollup', 'project_id'],
    ] as const;

    it("a member (and the owner) reads every row of the shared project, in every table", async () => {
      for (const [table, column] of PROJECT_TABLES) {
        const all = await total(`select count(*) from public.${table} where ${column} = $1`, [shared]);
        assert.ok(all > 0, `${table} has rows of the shared project`);
        for (const user of [USER_A, USER_B, USER_D]) {
          assert.equal(await c.as(user, () => c.count(`select count(*) from public.${table} where ${column} = $1`, [shared])), all, `${table} as ${user}`);
        }
      }
    });

    it("a member reads nothing of the owner's other projects, and a non-member nothing of the shared one", async () => {
      for (const [table, column] of PROJECT_TABLES) {
        await c.as(USER_B, async () => {
          assert.equal(await c.count(`select count(*) from public.${table} where ${column} = $1`, [other]), 0, table);
        });
        await c.as(USER_C, async () => {
          assert.equal(await c.count(`select count(*) from public.${table}`), 0, table);
        });
        await c.as(null, async () => {
          assert.equal(await c.count(`select count(*) from public.${table}`), 0, table);
        });
      }
    });

    it('checks membership once per statement (a hashed subplan), not once per row', async () => {
      await c.as(USER_B, async () => {
        const plan = (await c.rows<{ 'QUERY PLAN': string }>(
          `explain (analyze, costs off, timing off) select count(*) from public.usage_tracking where project_id = $1`, [shared]))
          .map((r) => r['QUERY PLAN']).join('\n');
        assert.match(plan, /Filter: \(hashed SubPlan 1\)/, plan);
        assert.doesNotMatch(plan, /loops=[2-9]|loops=\d\d/, plan);
      });
    });

    it('get_usage_statistics gives members the whole project, non-members nothing', async () => {
      const all = await usageStatistics(sql, shared, '100 days');
      assert.ok(all.length > 0);
      assert.deepEqual(await c.as(USER_B, () => usageStatistics(sql, shared, '100 days')), all);
      assert.deepEqual(await c.as(USER_A, () => usageStatistics(sql, shared, '100 days')), all);
      assert.deepEqual(await c.as(USER_C, () => usageStatistics(sql, shared, '100 days')), []);
      assert.deepEqual(await c.as(USER_B, () => usageStatistics(sql, other, '100 days')), []);
    });
  });

  describe('what a member may change', () => {
    it("cannot change the project's configuration or budgets, nor delete it (0 rows); the owner can", async () => {
      const changes = [
        [`update public.projects set model_config = '{"enabled": false, "defaultModel": "x"}' where id = $1`, [shared]],
        [`update public.projects set daily_budget_usd = 1, monthly_budget_usd = 10 where id = $1`, [shared]],
        [`update public.projects set name = 'renamed' where id = $1`, [shared]],
        [`delete from public.projects where id = $1`, [shared]],
      ] as const;
      await c.as(USER_B, async () => {
        for (const [text, params] of changes) assert.equal(await c.changed(text, [...params]), 0, text);
        // Taking the project over is refused outright.
        assert.equal(await c.changed(`update public.projects set user_id = $2 where id = $1`, [shared, USER_B]), 0);
        await c.refused(`insert into public.projects (id, user_id, name, workspace_key) values (gen_random_uuid(), $1, 'x', 'x')`, [USER_A], '42501');
      });
      assert.equal(await total(`select count(*) from public.projects where id = $1 and name <> 'renamed' and daily_budget_usd is null`, [shared]), 1);
      await c.as(USER_A, async () => {
        for (const [text, params] of changes) assert.equal(await c.changed(text, [...params]), 1, text);
      });
    });

    it("cannot add, change or delete the project's agents (refused, 0 rows, 0 rows); the owner can", async () => {
      const agent = ds.agents.find((a) => a.projectId === shared)!.id;
      await c.as(USER_B, async () => {
        await c.refused(`insert into public.agents (project_id, name) values ($1, 'mine')`, [shared], '42501');
        assert.equal(await c.changed(`update public.agents set custom_model_id = 'x', use_project_model = false where id = $1`, [agent]), 0);
        assert.equal(await c.changed(`update public.agents set daily_budget_usd = 1 where project_id = $1`, [shared]), 0);
        assert.equal(await c.changed(`delete from public.agents where project_id = $1`, [shared]), 0);
      });
      await c.as(USER_A, async () => {
        assert.equal(await c.changed(`insert into public.agents (project_id, name) values ($1, 'new one')`, [shared]), 1);
        assert.equal(await c.changed(`update public.agents set daily_budget_usd = 1 where id = $1`, [agent]), 1);
        assert.equal(await c.changed(`delete from public.agents where id = $1`, [agent]), 1);
      });
    });

    it('reads the budget alerts of the shared project but cannot raise or acknowledge them; the owner can', async () => {
      await sql.query(
        `insert into public.budget_alerts (alert_id, project_id, scope, period, period_start, period_end, kind, threshold, status, message)
         values ('t-80', $1, 'project', 'daily', now() - interval '1 hour', now() + interval '1 hour', 'threshold', 80, '{}', 'at 80 %')`, [shared]);
      await c.as(USER_B, async () => {
        assert.equal(await c.count('select count(*) from public.budget_alerts where project_id = $1', [shared]), 1);
        assert.equal(await c.changed('update public.budget_alerts set acknowledged_at = now() where project_id = $1', [shared]), 0);
        assert.equal(await c.changed('delete from public.budget_alerts where project_id = $1', [shared]), 0);
        await c.refused(
          `insert into public.budget_alerts (alert_id, project_id, scope, period, period_start, period_end, kind, status, message)
           values ('f', $1, 'project', 'daily', now(), now(), 'forecast', '{}', 'x')`, [shared], '42501');
        // The budget policy is configuration: the owner's.
        assert.equal(await c.changed('update public.projects set budget_hard_limit_percent = 100, budget_soft_limit_model = $2 where id = $1', [shared, 'm']), 0);
      });
      await c.as(USER_C, async () => {
        assert.equal(await c.count('select count(*) from public.budget_alerts'), 0);
      });
      await c.as(USER_A, async () => {
        assert.equal(await c.changed('update public.budget_alerts set acknowledged_at = now() where project_id = $1', [shared]), 1);
        assert.equal(await c.changed('update public.projects set budget_hard_limit_percent = 100 where id = $1', [shared]), 1);
      });
    });

    it('writes usage and decisions of their own into the shared project, attributed to them; not in anyone else\'s name', async () => {
      for (const table of ['usage_tracking', 'routing_decisions'] as const) {
        const insert = table === 'usage_tracking'
          ? (user: string | null) => [`insert into public.usage_tracking (request_id, project_id, model, user_id) values ('x-' || gen_random_uuid(), $1, 'm', $2)`, [shared, user]] as const
          : (user: string | null) => [`insert into public.routing_decisions (request_id, project_id, selected_model, routing_source, user_id) values ('x-' || gen_random_uuid(), $1, 'm', 'default', $2)`, [shared, user]] as const;
        await c.as(USER_B, async () => {
          const [own] = await c.rows<{ user_id: string }>(
            table === 'usage_tracking'
              ? `insert into public.usage_tracking (request_id, project_id, model) values ('b-own', $1, 'm') returning user_id`
              : `insert into public.routing_decisions (request_id, project_id, selected_model, routing_source) values ('b-own', $1, 'm', 'default') returning user_id`,
            [shared]);
          assert.equal(own.user_id, USER_B, 'user_id defaults to the caller');
          for (const someoneElse of [USER_A, USER_D, null]) {
            const [text, params] = insert(someoneElse);
            assert.match(await c.refused(text, [...params], '42501'), /row-level security/);
          }
          // Not into a project they are not a member of, even in their own name.
          await c.refused(`insert into public.${table} (request_id, project_id, ${table === 'usage_tracking' ? 'model' : 'selected_model, routing_source'})
            values ('b-elsewhere', $1, 'm'${table === 'usage_tracking' ? '' : `, 'default'`})`, [other], '42501');
        });
      }
    });

    it("changes and deletes only their own usage rows; the owner may delete any of the project's", async () => {
      for (const table of ['usage_tracking', 'routing_decisions'] as const) {
        const others = await total(`select count(*) from public.${table} where project_id = $1 and user_id is distinct from $2`, [shared, USER_B]);
        const own = await total(`select count(*) from public.${table} where project_id = $1 and user_id = $2`, [shared, USER_B]);
        assert.ok(others > 0 && own > 0);
        await c.as(USER_B, async () => {
          assert.equal(await c.changed(`update public.${table} set created_at = created_at where project_id = $1`, [shared]), own, 'own rows only');
          await c.refused(`update public.${table} set user_id = $2 where project_id = $1 and user_id = $3`, [shared, USER_A, USER_B], '42501');
          await c.refused(`update public.${table} set project_id = $2 where project_id = $1 and user_id = $3`, [shared, other, USER_B], '42501');
          assert.equal(await c.changed(`delete from public.${table} where project_id = $1`, [shared]), own);
          assert.equal(await c.count(`select count(*) from public.${table} where project_id = $1`, [shared]), others);
        });
        await c.as(USER_A, async () => {
          // Updates: the owner's own rows (and the unattributed, which are theirs), not B's.
          const ownersRows = await c.count(`select count(*) from public.${table} where project_id = $1 and (user_id is null or user_id = $2)`, [shared, USER_A]);
          assert.equal(await c.changed(`update public.${table} set created_at = created_at where project_id = $1`, [shared]), ownersRows);
          assert.equal(await c.changed(`delete from public.${table} where project_id = $1 and user_id = $2`, [shared, USER_B]), own);
        });
      }
    });

    it("keeps the project's rollups exact when a member writes (the triggers run as definer)", async () => {
      await c.as(USER_B, async () => {
        const sum = () => c.count(`select coalesce(sum(request_count), 0) as count from public.usage_project_hourly where project_id = $1`, [shared]);
        const before = await sum();
        await c.changed(`insert into public.usage_tracking (request_id, project_id, model) values ('b-rollup', $1, 'm')`, [shared]);
        assert.equal(await sum(), before + 1);
        // ...but cannot write a rollup row directly.
        await c.refused(`insert into public.usage_hourly_rollup (project_id, bucket, model, request_count) values ($1, now(), 'm', 1)`, [shared], '42501');
        assert.equal(await c.changed(`update public.usage_hourly_rollup set request_count = 0 where project_id = $1`, [shared]), 0);
      });
    });
  });

  describe('team statistics', () => {
    it("per member, the team's rows add up to the project; 'own' is the caller's row of them", async () => {
      const [project] = await sql.query<{ n: string; tokens: string; cost: string }>(
        `select count(*)::text as n, coalesce(sum(total_tokens), 0)::text as tokens, coalesce(sum(cost), 0)::numeric(20, 6)::text as cost
         from public.usage_tracking where project_id = $1 and created_at >= $2`, [shared, from.toISOString()]).then((r) => r.rows);
      for (const viewer of [USER_A, USER_B, USER_D]) {
        const team = await c.as(viewer, () => teamUsage(c, shared, 'team', from));
        assert.deepEqual(team.map((r) => r.user_id).sort(), [USER_A, USER_B, USER_D].sort(), 'one row per member');
        assert.equal(String(team.reduce((n, r) => n + Number(r.request_count), 0)), project.n);
        assert.equal(String(team.reduce((n, r) => n + Number(r.total_tokens), 0)), project.tokens);
        const micros = team.reduce((n, r) => n + Math.round(Number(r.cost) * 1e6), 0);
        assert.equal((micros / 1e6).toFixed(6), project.cost);
        assert.deepEqual(team.filter((r) => r.is_caller).map((r) => r.user_id), [viewer]);

        const own = await c.as(viewer, () => teamUsage(c, shared, 'own', from));
        assert.deepEqual(own, team.filter((r) => r.user_id === viewer));
      }
      const team = await c.as(USER_B, () => teamUsage(c, shared, 'team', from));
      const byUser = new Map(team.map((r) => [r.user_id, r]));
      // The owner's row holds the rows from before sharing (user_id NULL).
      assert.equal(byUser.get(USER_A)!.request_count,
        String(await total('select count(*) from public.usage_tracking where project_id = $1 and created_at >= $2 and (user_id is null or user_id = $3)', [shared, from.toISOString(), USER_A])));
      assert.equal(byUser.get(USER_D)!.request_count, '3');
      assert.equal(byUser.get(USER_D)!.cost, '0.006000');
      assert.deepEqual([byUser.get(USER_D)!.email, byUser.get(USER_D)!.role], [EMAIL[USER_D], 'member']);
      assert.deepEqual([byUser.get(USER_A)!.email, byUser.get(USER_A)!.role], [EMAIL[USER_A], 'owner']);
    });

    it('gives a non-member nothing, and refuses an unknown scope', async () => {
      assert.deepEqual(await c.as(USER_C, () => teamUsage(c, shared, 'team', from)), []);
      assert.deepEqual(await c.as(USER_C, () => teamUsage(c, shared, 'own', from)), []);
      assert.deepEqual(await c.as(null, () => teamUsage(c, shared, 'team', from)), []);
      await c.as(USER_A, async () => {
        await c.refused(`select * from public.get_team_usage($1, null, null, 'everyone')`, [shared], '22023');
      });
    });

    it('honours the time range', async () => {
      const recent = new Date(Date.now() - 60_000);
      const team = await c.as(USER_A, () => teamUsage(c, shared, 'team', recent));
      const n = await total('select count(*) from public.usage_tracking where project_id = $1 and created_at >= $2', [shared, recent.toISOString()]);
      assert.equal(team.reduce((s, r) => s + Number(r.request_count), 0), n);
    });
  });

  describe('removal and leaving', () => {
    it('only the owner removes, never themselves', async () => {
      await c.as(USER_B, async () => {
        await c.refused('select public.remove_project_member($1, $2)', [shared, USER_D], '42501');
      });
      await c.as(USER_A, async () => {
        await c.refused('select public.remove_project_member($1, $2)', [shared, USER_A], '22023');
        await c.refused('select public.leave_project($1)', [shared], '22023');
      });
    });

    it("removing a member ends their reads; their usage stays in the project as a former member's", async () => {
      const removed = await c.as(USER_A, () => c.rows<{ removed: boolean }>('select public.remove_project_member($1, $2) as removed', [shared, USER_D]), { commit: true });
      assert.equal(removed[0].removed, true);
      assert.equal((await c.as(USER_A, () => c.rows<{ removed: boolean }>('select public.remove_project_member($1, $2) as removed', [shared, USER_D])))[0].removed, false);
      await c.as(USER_D, async () => {
        for (const table of ['projects', 'agents', 'usage_tracking', 'routing_decisions', 'usage_hourly_rollup', 'project_members']) {
          assert.equal(await c.count(`select count(*) from public.${table}`), 0, table);
        }
        assert.deepEqual(await usageStatistics(sql, shared, '100 days'), []);
        // Signing in again does not bring them back; the old invitation is withdrawn.
        assert.deepEqual(await c.rows('select * from public.accept_pending_invitations()'), []);
        const [old] = await c.rows<{ id: string }>('select id from public.project_invitations');
        assert.match(await c.refused('select public.accept_project_invitation($1)', [old.id], 'P0001'), /withdrawn/);
      });
      const team = await c.as(USER_B, () => teamUsage(c, shared, 'team', from));
      const former = team.find((r) => r.user_id === USER_D)!;
      assert.deepEqual([former.email, former.display_name, former.role, former.request_count], [null, null, null, '3']);
    });

    it('a member can leave; then they read nothing of the project', async () => {
      await c.as(USER_F, async () => {
        assert.equal(await c.count('select count(*) from public.projects where id = $1', [other]), 1);
        assert.equal((await c.rows<{ left: boolean }>('select public.leave_project($1) as left', [other]))[0].left, true);
        assert.equal(await c.count('select count(*) from public.projects where id = $1', [other]), 0);
        assert.equal(await c.count('select count(*) from public.usage_tracking where project_id = $1', [other]), 0);
      });
    });
  });
});

describe('sql: team sharing on the embedded store (PGlite)', () => {
  let lite: PGlite;
  let sql: SqlClient;

  before(async function () {
    this.timeout(120_000); // a new PGlite instance takes several seconds here
    lite = await PGlite.create();
    sql = fromPglite(lite);
    await applyMigrations(sql, { includeShim: true });
  });
  after(async () => {
    await lite?.close();
  });

  it('applies the migration, and invitations, member reads and owner-only configuration work as on PostgreSQL', async () => {
    const c = new Caller(sql);
    await addUsers(sql, [USER_A, USER_B, USER_C]);
    const { rows: [p] } = await sql.query<{ id: string }>(`insert into public.projects (user_id, name, workspace_key) values ($1, 'P', 'k') returning id`, [USER_A]);
    // The local store's rows: user_id NULL (auth.uid() is NULL there), i.e. the owner's.
    const { rows: [u] } = await sql.query<{ user_id: string | null }>(
      `insert into public.usage_tracking (request_id, project_id, model, cost) values ('local-1', $1, 'm', 0.5) returning user_id`, [p.id]);
    assert.equal(u.user_id, null);

    const invitation = await c.as(USER_A, () => invite(c, p.id, EMAIL[USER_B]), { commit: true });
    await c.as(USER_C, async () => {
      await c.refused('select public.accept_project_invitation($1)', [invitation.id], '42501');
    });
    await c.as(USER_B, () => accept(c, invitation.id), { commit: true });
    await c.as(USER_B, async () => {
      assert.equal(await c.count('select count(*) from public.usage_tracking where project_id = $1', [p.id]), 1);
      assert.equal(await c.changed(`update public.projects set model_config = '{}' where id = $1`, [p.id]), 0);
      assert.equal(await c.changed(`insert into public.usage_tracking (request_id, project_id, model, cost) values ('b-1', $1, 'm', 0.25)`, [p.id]), 1);
      const team = await c.rows<{ user_id: string; cost: string }>(`select user_id, cost::text from public.get_team_usage($1) order by user_id`, [p.id]);
      assert.deepEqual(team.map((r) => [r.user_id, Number(r.cost)]), [[USER_A, 0.5], [USER_B, 0.25]]);
    });
    await c.as(USER_C, async () => {
      assert.equal(await c.count('select count(*) from public.usage_tracking'), 0);
    });
  });
});
