// Row-level security with Supabase's roles emulated the way PostgREST runs a request: in a
// transaction, SET LOCAL ROLE authenticated (or anon) and the JWT claims in
// request.jwt.claims. User B can read, insert, update and delete none of user A's rows in
// any table; A can do all of that on A's own rows; anon sees and writes nothing.
import assert from 'node:assert/strict';
import type pg from 'pg';
import { buildDataset, insertDataset, migratedDatabase, usageStatistics, USER_A, USER_B, USER_C, type Dataset } from './ledgerFixtures';
import { fromPgClient } from '../../src/conduit/ledger/store/sqlClient';

type Role = 'authenticated' | 'anon' | 'service_role';

/** A project and its owner. */
interface Owner { project: string; user: string }

/** How to touch one table for rows of a given project. Each returns [sql, params]. */
interface TableCase {
  table: string;
  /** WHERE clause selecting the rows of project $1. */
  ofProject: string;
  /** INSERT of one fresh row (marked "intruder") belonging to `to`. */
  insert(to: Owner): [string, unknown[]];
  /** UPDATE of every row of a project that changes nothing about ownership. */
  update(of: Owner): [string, unknown[]];
  /** UPDATE moving the fresh "intruder" rows of `from` to `to`. */
  move(from: Owner, to: Owner): [string, unknown[]];
  /** DELETE of every row of a project. */
  delete(of: Owner): [string, unknown[]];
}

const TABLES: TableCase[] = [
  {
    table: 'projects',
    ofProject: 'id = $1',
    insert: (to) => [`insert into public.projects (user_id, name, workspace_key) values ($1, 'intruder', 'file:///intruder')`, [to.user]],
    update: (of) => [`update public.projects set name = name || ' (edited)' where id = $1`, [of.project]],
    move: (from, to) => [`update public.projects set user_id = $2 where user_id = $1 and name = 'intruder'`, [from.user, to.user]],
    delete: (of) => [`delete from public.projects where id = $1`, [of.project]],
  },
  {
    table: 'agents',
    ofProject: 'project_id = $1',
    insert: (to) => [`insert into public.agents (project_id, name) values ($1, 'intruder')`, [to.project]],
    update: (of) => [`update public.agents set name = name || ' (edited)' where project_id = $1`, [of.project]],
    // Only agents without usage can move: usage rows pin (agent_id, project_id).
    move: (from, to) => [`update public.agents set project_id = $2 where project_id = $1 and name like 'intruder%'`, [from.project, to.project]],
    delete: (of) => [`delete from public.agents where project_id = $1`, [of.project]],
  },
  {
    table: 'usage_tracking',
    ofProject: 'project_id = $1',
    insert: (to) => [
      `insert into public.usage_tracking (request_id, project_id, model, input_tokens, output_tokens, cost)
       values ('intruder-' || gen_random_uuid(), $1, 'claude-haiku-4-5', 1, 1, 0.000001)`,
      [to.project],
    ],
    update: (of) => [`update public.usage_tracking set output_tokens = output_tokens + 1 where project_id = $1`, [of.project]],
    move: (from, to) => [
      `update public.usage_tracking set project_id = $2 where project_id = $1 and request_id like 'intruder-%'`,
      [from.project, to.project],
    ],
    delete: (of) => [`delete from public.usage_tracking where project_id = $1`, [of.project]],
  },
  {
    table: 'routing_decisions',
    ofProject: 'project_id = $1',
    insert: (to) => [
      `insert into public.routing_decisions (request_id, project_id, selected_model, routing_source)
       values ('intruder-' || gen_random_uuid(), $1, 'claude-haiku-4-5', 'default')`,
      [to.project],
    ],
    update: (of) => [`update public.routing_decisions set rule = 'edited' where project_id = $1`, [of.project]],
    move: (from, to) => [
      `update public.routing_decisions set project_id = $2 where project_id = $1 and request_id like 'intruder-%'`,
      [from.project, to.project],
    ],
    delete: (of) => [`delete from public.routing_decisions where project_id = $1`, [of.project]],
  },
  {
    table: 'usage_hourly_rollup',
    ofProject: 'project_id = $1',
    insert: (to) => [
      `insert into public.usage_hourly_rollup (project_id, bucket, model, request_count)
       values ($1, timestamptz '1999-01-01 00:00:00+00', 'intruder', 1)`,
      [to.project],
    ],
    update: (of) => [`update public.usage_hourly_rollup set request_count = request_count + 1 where project_id = $1`, [of.project]],
    move: (from, to) => [
      `update public.usage_hourly_rollup set project_id = $2 where project_id = $1 and model = 'intruder'`,
      [from.project, to.project],
    ],
    delete: (of) => [`delete from public.usage_hourly_rollup where project_id = $1`, [of.project]],
  },
  {
    // A session's models asked for and routed to (20261203000002): the same policies as
    // usage_session_rollup, so nobody reads another user's pairs.
    table: 'usage_session_model_rollup',
    ofProject: 'project_id = $1',
    insert: (to) => [
      `insert into public.usage_session_model_rollup (project_id, session_id, requested_model, model, request_count)
       values ($1, 'intruder', 'intruder', 'intruder', 1)`,
      [to.project],
    ],
    update: (of) => [`update public.usage_session_model_rollup set request_count = request_count + 1 where project_id = $1`, [of.project]],
    move: (from, to) => [
      `update public.usage_session_model_rollup set project_id = $2 where project_id = $1 and session_id = 'intruder'`,
      [from.project, to.project],
    ],
    delete: (of) => [`delete from public.usage_session_model_rollup where project_id = $1`, [of.project]],
  },
];

describe('sql: row-level security (Supabase roles emulated)', () => {
  let pgClient: pg.Client;
  let ds: Dataset;
  let projectA: string;
  let projectB: string;
  let a: Owner;
  let a2: Owner;
  let b: Owner;
  before(async () => {
    const db = await migratedDatabase();
    pgClient = db.pgClient;
    ds = buildDataset(new Date(), 200);
    await insertDataset(db.sql, ds);
    projectA = ds.projects.find((p) => p.userId === USER_A)!.id;
    projectB = ds.projects.find((p) => p.userId === USER_B)!.id;
    a = { project: projectA, user: USER_A };
    a2 = { project: ds.projects.filter((p) => p.userId === USER_A)[1].id, user: USER_A };
    b = { project: projectB, user: USER_B };
    // Every table holds rows of both users, or the checks below prove nothing.
    for (const t of TABLES) {
      for (const p of [projectA, projectB]) {
        const n = await count(`select count(*) from public.${t.table} where ${t.ofProject}`, [p]);
        assert.ok(n > 0, `${t.table} has rows of project ${p}`);
      }
    }
  });
  after(async () => {
    await pgClient.end();
  });

  async function count(sql: string, params: unknown[] = []): Promise<number> {
    const { rows } = await pgClient.query(sql, params);
    return Number(rows[0].count);
  }

  /** Runs `work` as PostgREST would for a request with this role and JWT, then rolls back. */
  async function as<T>(role: Role, sub: string | null, work: () => Promise<T>): Promise<T> {
    await pgClient.query('begin');
    try {
      await pgClient.query(`set local role ${role}`);
      const claims = sub ? { sub, role, aud: role } : { role };
      await pgClient.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims)]);
      return await work();
    } finally {
      await pgClient.query('rollback');
    }
  }

  /** The statement fails with `code`; the transaction goes on (savepoint). */
  async function refused(sql: string, params: unknown[], code = '42501'): Promise<string> {
    await pgClient.query('savepoint attempt');
    let error: (Error & { code?: string }) | undefined;
    try {
      await pgClient.query(sql, params);
    } catch (err) {
      error = err as Error & { code?: string };
    }
    await pgClient.query('rollback to savepoint attempt');
    assert.ok(error, `expected refusal of: ${sql}`);
    assert.equal(error.code, code, error.message);
    return error.message;
  }

  async function changed(sql: string, params: unknown[]): Promise<number> {
    const result = await pgClient.query(sql, params);
    return result.rowCount ?? 0;
  }

  it('auth.uid() reads the sub claim of request.jwt.claims', async () => {
    const uid = await as('authenticated', USER_A, async () => (await pgClient.query('select auth.uid() as uid')).rows[0].uid);
    assert.equal(uid, USER_A);
    // Outside a request the transaction-local setting reads '' and auth.uid() is NULL.
    assert.equal((await pgClient.query('select auth.uid() as uid')).rows[0].uid, null);
  });

  for (const t of TABLES) {
    describe(t.table, () => {
      it("user B can select none of user A's rows, and sees only B's own", async () => {
        await as('authenticated', USER_B, async () => {
          assert.equal(await count(`select count(*) from public.${t.table} where ${t.ofProject}`, [projectA]), 0);
          assert.equal(await count(`select count(*) from public.${t.table} where ${t.ofProject}`, [a2.project]), 0);
          const visible = await count(`select count(*) from public.${t.table}`);
          const own = await count(`select count(*) from public.${t.table} where ${t.ofProject}`, [projectB]);
          assert.ok(own > 0);
          assert.equal(visible, own);
        });
      });

      it("user B can insert no row into user A's project", async () => {
        await as('authenticated', USER_B, async () => {
          const message = await refused(...t.insert(a));
          assert.match(message, /row-level security/);
        });
      });

      it("user B can update none of user A's rows, nor move a row of B's to A", async () => {
        await as('authenticated', USER_B, async () => {
          assert.equal(await changed(...t.update(a)), 0);
          assert.equal(await changed(...t.insert(b)), 1, 'B may add to B\'s own project');
          await refused(...t.move(b, a));
        });
      });

      it("user B can delete none of user A's rows", async () => {
        await as('authenticated', USER_B, async () => {
          assert.equal(await changed(...t.delete(a)), 0);
        });
        assert.ok((await count(`select count(*) from public.${t.table} where ${t.ofProject}`, [a.project])) > 0);
      });

      it('user A can select, insert, update and delete rows of their own projects', async () => {
        const total = await count(`select count(*) from public.${t.table} where ${t.ofProject}`, [a.project]);
        await as('authenticated', USER_A, async () => {
          assert.equal(await count(`select count(*) from public.${t.table} where ${t.ofProject}`, [a.project]), total);
          assert.equal(await changed(...t.insert(a)), 1);
          assert.ok((await changed(...t.update(a))) > 0);
          assert.equal(await changed(...t.move(a, a2)), 1, 'between own projects');
          assert.ok((await changed(...t.delete(a))) > 0);
          assert.equal(await count(`select count(*) from public.${t.table} where ${t.ofProject}`, [a.project]), 0);
        });
      });

      it('anon sees nothing and can write nothing', async () => {
        await as('anon', null, async () => {
          assert.equal(await count(`select count(*) from public.${t.table}`), 0);
          await refused(...t.insert(a));
          assert.equal(await changed(...t.update(a)), 0);
          assert.equal(await changed(...t.delete(a)), 0);
        });
      });
    });
  }

  it('a signed-in user without projects sees nothing', async () => {
    await as('authenticated', USER_C, async () => {
      for (const t of TABLES) assert.equal(await count(`select count(*) from public.${t.table}`), 0, t.table);
    });
  });

  it("a project inserted through the API belongs to the caller (user_id defaults to auth.uid())", async () => {
    await as('authenticated', USER_B, async () => {
      const { rows } = await pgClient.query(
        `insert into public.projects (name, workspace_key) values ('new', 'file:///b/new') returning user_id`,
      );
      assert.equal(rows[0].user_id, USER_B);
    });
  });

  it("user B cannot attach user A's agent to B's own usage", async () => {
    const agentA = ds.agents.find((a) => a.projectId === projectA)!.id;
    await as('authenticated', USER_B, async () => {
      await refused(
        `insert into public.usage_tracking (request_id, project_id, agent_id, model) values ('borrowed-agent', $1, $2, 'm')`,
        [projectB, agentA],
        '23503',
      );
    });
  });

  it("get_usage_statistics gives user B nothing of user A's project, and user A all of it", async () => {
    const sql = fromPgClient(pgClient);
    const all = await usageStatistics(sql, projectA, '100 days');
    assert.ok(all.length > 0);
    assert.deepEqual(await as('authenticated', USER_B, () => usageStatistics(sql, projectA, '100 days')), []);
    assert.deepEqual(await as('anon', null, () => usageStatistics(sql, projectA, '100 days')), []);
    assert.deepEqual(await as('authenticated', USER_A, () => usageStatistics(sql, projectA, '100 days')), all);
  });

  it('user A writing usage through the API keeps the rollup exact (trigger runs as definer)', async () => {
    await as('authenticated', USER_A, async () => {
      const before = await count(`select coalesce(sum(request_count), 0) as count from public.usage_hourly_rollup where project_id = $1`, [projectA]);
      await pgClient.query(
        `insert into public.usage_tracking (request_id, project_id, model, input_tokens) values ('api-write', $1, 'claude-haiku-4-5', 5)`,
        [projectA],
      );
      const after = await count(`select coalesce(sum(request_count), 0) as count from public.usage_hourly_rollup where project_id = $1`, [projectA]);
      assert.equal(after, before + 1);
      // The session's model pair too (usage_session_model_rollup), read back by its owner.
      await pgClient.query(
        `insert into public.usage_tracking (request_id, project_id, session_id, requested_model, model) values ('api-write-session', $1, 'api-session', 'claude-sonnet-4-5', 'claude-haiku-4-5')`,
        [projectA],
      );
      const { rows } = await pgClient.query(
        `select requested_model, model, request_count::int as n from public.usage_session_model_rollup where session_id = 'api-session'`,
      );
      assert.deepEqual(rows, [{ requested_model: 'claude-sonnet-4-5', model: 'claude-haiku-4-5', n: 1 }]);
    });
    await as('authenticated', USER_B, async () => {
      assert.equal(await count(`select count(*) from public.usage_session_model_rollup where project_id = $1`, [projectA]), 0);
    });
  });

  it('API roles cannot rebuild the rollup; service_role bypasses row-level security', async () => {
    await as('authenticated', USER_A, async () => {
      await refused('select public.rebuild_usage_hourly_rollup()', []);
      await refused('select public.rebuild_usage_session_model_rollup()', []);
    });
    await as('anon', null, async () => {
      await refused('select public.rebuild_usage_hourly_rollup()', []);
      await refused('select public.rebuild_usage_session_model_rollup()', []);
    });
    const total = await count('select count(*) from public.usage_tracking');
    await as('service_role', null, async () => {
      assert.equal(await count('select count(*) from public.usage_tracking'), total);
    });
  });

  it('API roles cannot read the migration records', async () => {
    for (const role of ['authenticated', 'anon'] as const) {
      await as(role, role === 'anon' ? null : USER_A, async () => {
        await refused('select count(*) from public.conduit_schema_migrations', []);
      });
    }
  });
});
