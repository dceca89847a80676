// Rows written the Synapse app's way, beside Conduit's own: in the embedded store (PGlite,
// the real ledger engine) a usage row with only the app's columns is shown in the
// analytics and pushed by the outbox like a gateway's row; on a real PostgreSQL 15 built
// from the app's Conduit migration with the app's rows (Supabase's roles, the outbox
// writing as the signed-in user), the push is accepted, the app's rows stay as they were,
// and the team analytics count both.
import assert from 'node:assert/strict';
import type pg from 'pg';
import type { LedgerEngine } from '../../src/conduit/ledger/store/engine';
import { remoteProjectId } from '../../src/conduit/ledger/sync/outbox';
import { PgSyncTarget } from '../../src/conduit/ledger/sync/pgSyncTarget';
import type { UsageRecord } from '../../src/protocol/usage';
import { assertRollupsExact } from '../ledger/support/rollupChecks';
import { makeRecords, PROJECT_KEYS, writeJournal } from '../ledger/support/records';
import { openTestStore, type TestStore } from '../ledger/support/store';
import { APP_USAGE, as, buildFrom, SHOP, STARTS } from './appFixtures';
import { connectFreshDatabase, USER_A, USER_B } from './ledgerFixtures';
import { fromPgClient, type SqlClient } from '../../src/conduit/ledger/store/sqlClient';

const KEY = PROJECT_KEYS[0];

describe("sql: the Synapse app's rows beside Conduit's, in the embedded store and synced to PostgreSQL", () => {
  let pgClient: pg.Client;
  let remote: SqlClient;
  let target: PgSyncTarget;
  let store: TestStore;
  let engine: LedgerEngine;
  let records: UsageRecord[];
  let appRow: { id: string; request_id: string };

  before(async function () {
    this.timeout(120_000);
    pgClient = await connectFreshDatabase();
    remote = fromPgClient(pgClient);
    await buildFrom(remote, STARTS[2]);
    const c = (pgClient as unknown as { connectionParameters: { host: string; port: number; database: string; user: string } }).connectionParameters;
    target = new PgSyncTarget({ connectionString: `postgresql://${c.user}@${c.host}:${c.port}/${c.database}`, asUser: USER_A });

    store = await openTestStore();
    let journalDir: string;
    ({ engine, journalDir } = await store.engine({ outbox: { batchSize: 100, minBackoffMs: 30, maxBackoffMs: 300, debounceMs: 5 } }));
    records = makeRecords({ count: 60, seed: 1405, idPrefix: 'app-schema', noProject: 0, spanMs: 6 * 3_600_000 })
      .filter((r) => r.context.projectId === KEY);
    writeJournal(journalDir, records);
    await engine.ingester.ingestAvailable();
  });

  after(async () => {
    await target?.close();
    await store?.close();
    await pgClient?.end();
  });

  /** The local analytics' request count of the workspace over the last 7 days. */
  async function localRequests(): Promise<number> {
    const raw = await engine.analytics('summary', { range: '7d', tz: 'UTC', limit: 50, project: KEY });
    return (raw as unknown as { result: { requests: number } }).result.requests;
  }

  it("shows a row written with only the app's columns in the local analytics, with a request id from its id", async () => {
    assert.ok(records.length > 5);
    assert.equal(await localRequests(), records.length);
    const { rows: [row] } = await store.pglite.query<{ id: string; request_id: string }>(
      `insert into public.usage_tracking (project_id, agent_id, model, input_tokens, output_tokens, cost, routing_source, metadata)
       select p.id, null, 'claude-sonnet-4-5', 900, 120, 0.004500, 'default', '{"source": "synapse"}'
       from public.projects p where p.workspace_key = $1
       returning id::text, request_id`, [KEY]);
    appRow = row;
    assert.equal(appRow.request_id, appRow.id);
    assert.equal(await localRequests(), records.length + 1);
  });

  it("pushes it with Conduit's rows into the database the app's migration built; the app's rows are kept", async () => {
    engine.setSyncTarget({ key: `test|${USER_A}`, userId: USER_A, label: 'postgres as user A', target });
    await engine.outbox.pushNow();
    const status = await engine.syncStatus();
    assert.equal(status.lastError, null);
    assert.equal(status.waiting, 0);

    const project = remoteProjectId(USER_A, KEY);
    const { rows } = await remote.query<{ request_id: string; project_id: string }>(
      `select request_id, project_id::text from public.usage_tracking where request_id = any($1::text[]) order by 1`,
      [[...records.map((r) => r.id), appRow.request_id]]);
    assert.equal(rows.length, records.length + 1);
    assert.ok(rows.every((r) => r.project_id === project));
    const { rows: [pushed] } = await remote.query<{ id: string }>(`select id::text from public.usage_tracking where request_id = $1`, [appRow.request_id]);
    assert.equal(pushed.id, appRow.id, 'the app-shaped row keeps its id and its key');

    const { rows: kept } = await remote.query<{ n: number }>(`select count(*)::int as n from public.usage_tracking where project_id = $1`, [SHOP]);
    assert.equal(kept[0].n, APP_USAGE.length);
    await assertRollupsExact(remote, 'after the push');
  });

  it('counts both in the team analytics of user A, and shows user B neither', async () => {
    const requests = (projectId: string) => remote.query<{ n: string }>(
      `select coalesce(sum(request_count), 0)::text as n from public.get_team_usage($1, null, null, 'team')`, [projectId]);
    await as(remote, USER_A, async () => {
      assert.equal((await requests(SHOP)).rows[0].n, String(APP_USAGE.length), "the app's rows, as its owner's");
      assert.equal((await requests(remoteProjectId(USER_A, KEY))).rows[0].n, String(records.length + 1));
    });
    await as(remote, USER_B, async () => {
      assert.equal((await requests(SHOP)).rows[0].n, '0');
      assert.equal((await requests(remoteProjectId(USER_A, KEY))).rows[0].n, '0');
    });
  });
});
