// usage_session_info (migration 20261203000003) on a real PostgreSQL with Supabase's roles
// emulated as PostgREST runs a request (SET LOCAL ROLE, request.jwt.claims): a person reads,
// writes, moves and deletes only their own sessions' first prompts; anon nothing. And the
// partial index of requests without a cost, failed or refused is what the summary's counts read.
import assert from 'node:assert/strict';
import type pg from 'pg';
import { migratedDatabase, USER_A, USER_B } from './ledgerFixtures';

type Role = 'authenticated' | 'anon';

describe('sql: usage_session_info row-level security', () => {
  let pgClient: pg.Client;

  before(async () => {
    ({ pgClient } = await migratedDatabase());
    await pgClient.query(`insert into auth.users (id) values ($1), ($2) on conflict do nothing`, [USER_A, USER_B]);
    await pgClient.query(
      `insert into public.usage_session_info (session_id, user_id, claude_session_id, first_prompt) values
         ('run-a', $1, 'claude-a', 'A''s prompt'), ('run-b', $2, 'claude-b', 'B''s prompt')`, [USER_A, USER_B]);
  });
  after(async () => {
    await pgClient?.end();
  });

  async function as<T>(role: Role, sub: string | null, work: () => Promise<T>): Promise<T> {
    await pgClient.query('begin');
    try {
      await pgClient.query(`set local role ${role}`);
      await pgClient.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(sub ? { sub, role, aud: role } : { role })]);
      return await work();
    } finally {
      await pgClient.query('rollback');
    }
  }
  async function refused(sql: string, params: unknown[]): Promise<void> {
    await pgClient.query('savepoint attempt');
    let error: (Error & { code?: string }) | undefined;
    try {
      await pgClient.query(sql, params);
    } catch (err) {
      error = err as Error & { code?: string };
    }
    await pgClient.query('rollback to savepoint attempt');
    assert.equal(error?.code, '42501', `refused: ${sql} (${error?.message})`);
  }
  const rows = async (sql: string, params: unknown[] = []) => (await pgClient.query(sql, params)).rows;
  const changed = async (sql: string, params: unknown[] = []) => (await pgClient.query(sql, params)).rowCount ?? 0;

  it("reads and changes only one's own rows", async () => {
    await as('authenticated', USER_A, async () => {
      assert.deepEqual((await rows(`select session_id from public.usage_session_info order by 1`)).map((r) => r.session_id), ['run-a']);
      assert.equal(await changed(`update public.usage_session_info set first_prompt = 'edited'`), 1);
      assert.equal(await changed(`delete from public.usage_session_info where session_id = 'run-b'`), 0);
      await refused(`insert into public.usage_session_info (session_id, user_id) values ('run-x', $1)`, [USER_B]);
      await refused(`update public.usage_session_info set user_id = $1 where session_id = 'run-a'`, [USER_B]);
      assert.equal(await changed(`insert into public.usage_session_info (session_id, user_id) values ('run-a2', $1)`, [USER_A]), 1);
      assert.equal(await changed(`delete from public.usage_session_info where session_id = 'run-a'`), 1);
    });
    await as('authenticated', USER_B, async () => {
      assert.deepEqual((await rows(`select first_prompt from public.usage_session_info`)).map((r) => r.first_prompt), ["B's prompt"]);
    });
    await as('anon', null, async () => {
      assert.equal((await rows(`select * from public.usage_session_info`)).length, 0);
      await refused(`insert into public.usage_session_info (session_id, user_id) values ('run-anon', $1)`, [USER_A]);
    });
    // Nothing above was kept (each ran in a transaction rolled back).
    assert.equal((await rows(`select count(*)::int as n from public.usage_session_info`))[0].n, 2);
  });

  it('keeps an excerpt of at most 160 characters', async () => {
    await assert.rejects(pgClient.query(`insert into public.usage_session_info (session_id, user_id, first_prompt) values ('run-long', $1, repeat('x', 161))`, [USER_A]), /check constraint/);
    assert.equal(await changed(`insert into public.usage_session_info (session_id, user_id, first_prompt) values ('run-160', $1, repeat('é', 160))`, [USER_A]), 1);
    await pgClient.query(`delete from public.usage_session_info where session_id = 'run-160'`);
  });

  it('counts failed, refused and unpriced requests from the partial index', async () => {
    await pgClient.query('set enable_seqscan = off');
    try {
      const plan = (await rows(`explain select count(*) from public.usage_tracking u
        where u.created_at >= now() - interval '30 days' and (u.cost is null or u.error is not null or coalesce(u.status, 200) >= 400 or u.cost_source = 'refused')`))
        .map((r) => r['QUERY PLAN']).join('\n');
      assert.match(plan, /usage_tracking_uncosted_created_idx/);
      assert.equal((await rows(`select count(*)::int as n from pg_indexes where indexname = 'usage_tracking_failed_created_idx'`))[0].n, 0, 'the narrower index is gone');
    } finally {
      await pgClient.query('reset enable_seqscan');
    }
  });
});
