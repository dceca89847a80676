// get_usage_statistics on a known data set: the figures are computed here from the rows
// that were inserted, not written down.
import assert from 'node:assert/strict';
import type pg from 'pg';
import type { SqlClient } from '../../src/conduit/ledger/store/sqlClient';
import { buildDataset, expectedStatistics, insertDataset, migratedDatabase, usageStatistics, type Dataset } from './ledgerFixtures';

const DAY = 86_400_000;

describe('sql: get_usage_statistics', () => {
  let pgClient: pg.Client;
  let sql: SqlClient;
  let ds: Dataset;
  before(async () => {
    ({ pgClient, sql } = await migratedDatabase());
    ds = buildDataset();
    await insertDataset(sql, ds);
  });
  after(async () => {
    await pgClient.end();
  });

  it('covers every project with several models, unknown costs and old rows', () => {
    // Guards the data set itself: the assertions below would be weak without these.
    for (const p of ds.projects) {
      const rows = ds.usage.filter((u) => u.projectId === p.id);
      assert.ok(new Set(rows.map((u) => u.model)).size >= 3, p.name);
      assert.ok(rows.some((u) => u.costMicros === null), `${p.name}: an unknown cost`);
      assert.ok(rows.some((u) => u.createdAt.getTime() < ds.anchor.getTime() - 7 * DAY), `${p.name}: rows older than 7 days`);
    }
  });

  it('returns the last 7 days by default, per model, most requests first', async () => {
    for (const p of ds.projects) {
      const expected = expectedStatistics(ds, p.id, 7 * DAY);
      assert.ok(expected.length > 0);
      assert.deepEqual(await usageStatistics(sql, p.id), expected, p.name);
    }
  });

  it('honours the time range', async () => {
    for (const p of ds.projects) {
      assert.deepEqual(await usageStatistics(sql, p.id, '30 days'), expectedStatistics(ds, p.id, 30 * DAY), p.name);
      assert.deepEqual(await usageStatistics(sql, p.id, '100 days'), expectedStatistics(ds, p.id, 100 * DAY), p.name);
    }
  });

  it('reports an unknown total cost as NULL, never 0', async () => {
    const project = ds.projects[0];
    await sql.query(
      `insert into public.usage_tracking (request_id, project_id, model, input_tokens, output_tokens, cost)
       values ('unpriced-1', $1, 'local-llama', 10, 5, null), ('unpriced-2', $1, 'local-llama', 20, 5, null)`,
      [project.id],
    );
    const row = (await usageStatistics(sql, project.id)).find((r) => r.model === 'local-llama');
    assert.deepEqual(row, { model: 'local-llama', request_count: '2', total_tokens: '40', total_cost: null, avg_tokens_per_request: '20.00' });
    await sql.query(`delete from public.usage_tracking where request_id like 'unpriced-%'`);
  });

  it('returns nothing for a project without usage', async () => {
    assert.deepEqual(await usageStatistics(sql, '00000000-0000-4000-8000-000000000000'), []);
  });
});
