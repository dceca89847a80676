// Journal → ledger ingestion: every record once (replays, restarts, kill -9), torn lines,
// the checkpoint kept with the rows, and prompt ingestion of announced requests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectNameOf } from '../../src/conduit/ledger/store/ingest';
import { parseLine } from '../../src/conduit/ledger/store/journalReader';
import type { UsageRecord } from '../../src/protocol/usage';
import { AGENT_KEYS, journalLine, makeRecords, PROJECT_KEYS, writeJournal } from './support/records';
import { openTestStore, type TestStore } from './support/store';
import { assertRollupsExact } from './support/rollupChecks';
import { fromPglite } from '../../src/conduit/ledger/store/sqlClient';

const repoRoot = path.resolve(__dirname, '../..');

describe('ledger: journal ingestion', () => {
  let store: TestStore;
  const count = async (sql: string, params: unknown[] = []) => Number((await store.pglite.query<{ n: number }>(sql, params)).rows[0].n);

  before(async function () {
    this.timeout(120_000);
    store = await openTestStore();
  });
  beforeEach(async () => {
    await store.reset();
  });
  after(async () => {
    await store?.close();
  });

  it('stores every record with its project, agent, session, tokens, cost and decision', async () => {
    const records = makeRecords({ count: 900, seed: 1, spanMs: 3 * 86_400_000 });
    const { engine, journalDir } = await store.engine();
    const files = writeJournal(journalDir, records);
    assert.ok(files.length >= 3, 'several day files');

    const result = await engine.ingester.ingestAvailable();
    assert.deepEqual(result, { records: 900, inserted: 900, rejected: 0 });
    assert.equal(await count(`select count(*) as n from public.usage_tracking`), 900);
    assert.equal(await count(`select count(*) as n from public.routing_decisions`), 900);
    // One project per key, of the local user; one agent per (project, key).
    const { rows: projects } = await store.pglite.query<{ workspace_key: string; name: string; user_id: string }>(
      `select workspace_key, name, user_id::text from public.projects order by workspace_key`);
    assert.deepEqual(projects.map((p) => p.workspace_key), [...PROJECT_KEYS].sort());
    assert.ok(projects.every((p) => p.user_id === engine.localUserId));
    assert.equal(projects.find((p) => p.workspace_key === 'file:///work/alpha')?.name, 'alpha');
    const { rows: agents } = await store.pglite.query<{ n: number }>(
      `select count(*)::int as n from public.agents a join public.projects p on p.id = a.project_id`);
    assert.equal(agents[0].n, PROJECT_KEYS.length * AGENT_KEYS.length);
    assert.equal(await count(`select count(*) as n from public.usage_tracking where project_id is null`), records.filter((r) => !r.context.projectId).length);
    // The rollups count every row.
    assert.equal(await count(`select sum(request_count) as n from public.usage_hourly_rollup`), 900);
    assert.equal(await count(`select sum(request_count) as n from public.usage_session_rollup`), 900);

    // One record, field by field.
    const r = records.find((x) => x.context.agentId && x.usage && x.cost.cost !== null)!;
    const { rows } = await store.pglite.query<Record<string, unknown>>(
      `select u.*, u.cost::float8 as cost, p.workspace_key, a.external_id, d.selected_model, d.routing_source as d_source, d.rule, d.token_count,
              d.requested_model as d_requested, d.created_at as decided_at
       from public.usage_tracking u
       join public.projects p on p.id = u.project_id
       join public.agents a on a.id = u.agent_id
       join public.routing_decisions d on d.request_id = u.request_id
       where u.request_id = $1`, [r.id]);
    const row = rows[0];
    assert.equal(row.workspace_key, r.context.projectId);
    assert.equal(row.external_id, r.context.agentId);
    assert.equal(row.session_id, r.context.sessionId);
    assert.equal(row.claude_session_id, r.context.claudeSessionId);
    assert.equal(row.model, r.decision.model);
    assert.equal(row.routing_source, r.decision.source);
    assert.equal(row.input_tokens, r.usage!.inputTokens);
    assert.equal(row.output_tokens, r.usage!.outputTokens);
    assert.equal(row.total_tokens, r.usage!.inputTokens + r.usage!.outputTokens);
    assert.equal(row.cache_read_tokens, r.usage!.cacheReadTokens);
    assert.equal(row.cache_creation_5m_tokens, r.usage!.cacheCreation5mTokens);
    assert.equal(row.cost, r.cost.cost);
    assert.equal(row.cost_source, r.cost.costSource);
    assert.equal((row.created_at as Date).toISOString(), r.endedAt);
    assert.equal(row.selected_model, r.decision.model);
    assert.equal(row.d_source, r.decision.source);
    assert.equal(row.rule, r.decision.rule);
    assert.equal(row.token_count, r.decision.tokenCount);
    assert.equal((row.decided_at as Date).toISOString(), r.decision.timestamp);

    // A failed request: no usage, unknown cost (NULL, never 0).
    const failed = records.find((x) => !x.usage)!;
    const { rows: f } = await store.pglite.query<{ cost: unknown; status: number; error: string; input_tokens: number }>(
      `select cost, status, error, input_tokens from public.usage_tracking where request_id = $1`, [failed.id]);
    assert.deepEqual(f[0], { cost: null, status: 529, error: 'overloaded_error', input_tokens: 0 });

    // PGlite has no autovacuum: the engine's own maintenance vacuums and analyzes.
    await engine.maintain();
    const { rows: stats } = await store.pglite.query<{ relname: string }>(
      `select relname from pg_stat_user_tables where last_analyze is not null or last_vacuum is not null order by 1`);
    for (const t of ['usage_hourly_rollup', 'usage_project_hourly', 'usage_session_rollup', 'usage_session_model_rollup', 'usage_tracking']) {
      assert.ok(stats.some((s) => s.relname === t), `${t} maintained`);
    }
  });

  it('keeps the mark of output tokens the gateway estimated (a client that left mid-stream), and no mark on counted ones', async () => {
    const [estimated, counted] = makeRecords({ count: 2, seed: 7, spanMs: 60_000 }).map((r) => ({ ...r, usage: r.usage ?? { inputTokens: 10, outputTokens: 5, cacheCreationTokens: 0, cacheCreation5mTokens: 0, cacheCreation1hTokens: 0, cacheReadTokens: 0 } }));
    estimated.outputEstimated = true;
    estimated.error = 'client_closed';
    const { engine, journalDir } = await store.engine();
    writeJournal(journalDir, [estimated, counted]);
    assert.equal((await engine.ingester.ingestAvailable()).inserted, 2);
    const { rows } = await store.pglite.query<{ request_id: string; estimated: boolean | null; output_tokens: number }>(
      `select request_id, (metadata->>'outputEstimated')::boolean as estimated, output_tokens from public.usage_tracking`);
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    assert.equal(byId.get(estimated.id)?.estimated, true);
    assert.equal(byId.get(estimated.id)?.output_tokens, estimated.usage!.outputTokens);
    assert.equal(byId.get(counted.id)?.estimated, null);
  });

  it('counts a replay once: again from the checkpoint, and again from the start of every file', async () => {
    const records = makeRecords({ count: 700, seed: 2 });
    const { engine, journalDir } = await store.engine();
    writeJournal(journalDir, records);
    await engine.ingester.ingestAvailable();
    const again = await engine.ingester.ingestAvailable();
    assert.deepEqual(again, { records: 0, inserted: 0, rejected: 0 }, 'the checkpoint says nothing is new');

    // Forget the checkpoints (a replay of the whole journal): every line is read, none counts.
    await store.pglite.exec(`truncate conduit_local.journal_checkpoint`);
    const { engine: fresh } = await store.engine({ journalDir });
    const replay = await fresh.ingester.ingestAvailable();
    assert.deepEqual(replay, { records: 700, inserted: 0, rejected: 0 });
    // The same records appended to the journal a second time: still once.
    writeJournal(journalDir, records.slice(0, 100));
    assert.deepEqual(await fresh.ingester.ingestAvailable(), { records: 100, inserted: 0, rejected: 0 });

    assert.equal(await count(`select count(*) as n from public.usage_tracking`), 700);
    assert.equal(await count(`select count(*) as n from public.routing_decisions`), 700);
    assert.equal(await count(`select sum(request_count) as n from public.usage_hourly_rollup`), 700);
    assert.equal(await count(`select sum(request_count) as n from public.usage_session_rollup`), 700);
  });

  it('keeps every rollup equal to the stored rows through batches that repeat records, across hours and sessions', async () => {
    const records = makeRecords({ count: 500, seed: 12, spanMs: 6 * 3_600_000 });
    const { engine, journalDir } = await store.engine({ ingest: { batchSize: 64 } });
    writeJournal(journalDir, records);
    // Lines again: within one batch of 64 (the ingester drops them) and across batches (the store does).
    writeJournal(journalDir, [...records.slice(100, 130), ...records.slice(100, 300)]);
    const result = await engine.ingester.ingestAvailable();
    assert.equal(result.inserted, 500);
    assert.equal(await count(`select count(*) as n from public.usage_tracking`), 500);
    assert.ok(await count(`select count(distinct public.usage_hour_bucket(created_at)) as n from public.usage_tracking`) >= 6);
    assert.ok(await count(`select count(distinct coalesce(claude_session_id, session_id)) as n from public.usage_tracking`) >= 3);
    await assertRollupsExact(fromPglite(store.pglite), 'after ingesting batches with repeated records');
  });

  it('keeps the checkpoint (file, byte offset) in the store, with the rows of the same transaction', async () => {
    const records = makeRecords({ count: 300, seed: 3, spanMs: 3_600_000 });
    const { engine, journalDir } = await store.engine({ ingest: { batchSize: 100 } });
    const [file] = writeJournal(journalDir, records);
    const name = path.basename(file);
    const batches: number[] = [];
    engine.ingester.on('batch', (b: { offset: number }) => batches.push(b.offset));
    await engine.ingester.ingestAvailable();
    const size = statSync(file).size;
    assert.equal(batches.length, 3);
    assert.equal(batches[2], size);
    const { rows } = await store.pglite.query<{ file: string; byte_offset: number; records: number }>(
      `select file, byte_offset::float8 as byte_offset, records::int as records from conduit_local.journal_checkpoint`);
    assert.deepEqual(rows, [{ file: name, byte_offset: size, records: 300 }]);

    // A batch the store refuses as a whole: nothing of it is stored, the checkpoint stays.
    const more = makeRecords({ count: 50, seed: 4, spanMs: 60_000, end: new Date(records[299].endedAt), idPrefix: 'more' });
    appendFileSync(file, more.map(journalLine).join(''));
    await store.pglite.exec(`alter table public.usage_tracking add constraint test_refuse_all check (request_id not like 'more-%')`);
    try {
      await assert.rejects(engine.ingester.ingestAvailable(), /test_refuse_all/);
      assert.equal(await count(`select count(*) as n from public.usage_tracking`), 300);
      assert.equal(await count(`select byte_offset as n from conduit_local.journal_checkpoint`), size);
    } finally {
      await store.pglite.exec(`alter table public.usage_tracking drop constraint test_refuse_all`);
    }
    assert.equal((await engine.ingester.ingestAvailable()).inserted, 50);
    assert.equal(await count(`select byte_offset as n from conduit_local.journal_checkpoint`), statSync(file).size);
  });

  it('stores the rest of a batch when the store refuses one record, and keeps that one aside', async () => {
    const records = makeRecords({ count: 40, seed: 5, spanMs: 60_000 });
    const { engine, journalDir } = await store.engine();
    writeJournal(journalDir, records);
    const refused = records[17].id;
    await store.pglite.query(`alter table public.usage_tracking add constraint test_refuse_one check (request_id <> '${refused}')`);
    try {
      const result = await engine.ingester.ingestAvailable();
      assert.deepEqual(result, { records: 39, inserted: 39, rejected: 1 });
    } finally {
      await store.pglite.exec(`alter table public.usage_tracking drop constraint test_refuse_one`);
    }
    const { rows } = await store.pglite.query<{ request_id: string; error: string }>(`select request_id, error from conduit_local.ingest_rejects`);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].request_id, refused);
    assert.match(rows[0].error, /test_refuse_one/);
  });

  it('waits for a torn last line, and ingests it once the rest is written', async () => {
    const records = makeRecords({ count: 20, seed: 6, spanMs: 60_000 });
    const { engine, journalDir } = await store.engine();
    const [file] = writeJournal(journalDir, records.slice(0, 19));
    const complete = statSync(file).size;
    const last = journalLine(records[19]);
    appendFileSync(file, last.slice(0, 150)); // the journal is writing it, or the writer died
    assert.deepEqual(await engine.ingester.ingestAvailable(), { records: 19, inserted: 19, rejected: 0 });
    assert.equal(engine.ingester.checkpointOf(path.basename(file)), complete);
    assert.deepEqual(await engine.ingester.ingestAvailable(), { records: 0, inserted: 0, rejected: 0 });
    appendFileSync(file, last.slice(150));
    assert.deepEqual(await engine.ingester.ingestAvailable(), { records: 1, inserted: 1, rejected: 0 });
    assert.equal(await count(`select count(*) as n from public.usage_tracking`), 20);
  });

  it('recovers the whole record appended after a torn line (the gateway died mid-write, then restarted)', async () => {
    const records = makeRecords({ count: 3, seed: 7, spanMs: 60_000 });
    const { engine, journalDir } = await store.engine();
    const [file] = writeJournal(journalDir, records.slice(0, 1));
    appendFileSync(file, journalLine(records[1]).slice(0, 200)); // torn: never completed
    appendFileSync(file, journalLine(records[2])); // the next run appends after it
    const result = await engine.ingester.ingestAvailable();
    assert.deepEqual(result, { records: 2, inserted: 2, rejected: 1 });
    const { rows } = await store.pglite.query<{ request_id: string }>(`select request_id from public.usage_tracking order by request_id`);
    assert.deepEqual(rows.map((r) => r.request_id), [records[0].id, records[2].id]);
    const { rows: rejects } = await store.pglite.query<{ error: string; line: string }>(`select error, line from conduit_local.ingest_rejects`);
    assert.equal(rejects.length, 1);
    assert.match(rejects[0].error, /torn line/);
    assert.equal(rejects[0].line, journalLine(records[1]).slice(0, 200));
    // And the parser alone, on lines that are not records at all.
    assert.match(parseLine('not json').reject!.error, /not JSON/);
    assert.match(parseLine('{"id":"x","decision":{"model":"m","source":"nope"},"endedAt":"2026-01-01T00:00:00Z"}').reject!.error, /unknown routing source/);
  });

  it('uses an existing project named by its id, and names projects by their last path segment', async () => {
    const { engine, journalDir } = await store.engine();
    const { rows } = await store.pglite.query<{ id: string }>(
      `insert into public.projects (user_id, name, workspace_key) values ($1, 'Named', 'some-key') returning id::text`, [engine.localUserId]);
    const [r] = makeRecords({ count: 1, seed: 8, noProject: 0 });
    const record: UsageRecord = { ...r, context: { ...r.context, projectId: rows[0].id, agentId: 'agent-x' } };
    writeJournal(journalDir, [record]);
    await engine.ingester.ingestAvailable();
    const { rows: u } = await store.pglite.query<{ project_id: string; agent: string }>(
      `select u.project_id::text, a.external_id as agent from public.usage_tracking u join public.agents a on a.id = u.agent_id`);
    assert.deepEqual(u, [{ project_id: rows[0].id, agent: 'agent-x' }]);
    assert.equal(await count(`select count(*) as n from public.projects`), 1);
    assert.equal(projectNameOf('C:\\Users\\me\\repo'), 'repo');
    assert.equal(projectNameOf('file:///home/me/work/'), 'work');
  });

  it('checks a batch\'s projects and agents once: one deleted since it was first seen is made again, and no row names a missing one', async () => {
    const { engine, journalDir } = await store.engine();
    const [a, b, c] = makeRecords({ count: 3, seed: 9, noProject: 0 });
    const at = (r: UsageRecord, agentId: string): UsageRecord => ({ ...r, context: { ...r.context, projectId: 'file:///work/kept', agentId } });
    writeJournal(journalDir, [at(a, 'reviewer')]);
    await engine.ingester.ingestAvailable();
    const ids = async () => (await store.pglite.query<{ project: string; agent: string | null }>(
      `select u.project_id::text as project, u.agent_id::text as agent from public.usage_tracking u order by u.created_at desc limit 1`)).rows[0];
    const first = await ids();

    // The agent goes (not through the projects API, so the ingester is not told), then the whole project.
    await store.pglite.query(`delete from public.agents where id = $1`, [first.agent]);
    writeJournal(journalDir, [at(b, 'reviewer')]);
    assert.deepEqual(await engine.ingester.ingestAvailable(), { records: 1, inserted: 1, rejected: 0 });
    const second = await ids();
    assert.equal(second.project, first.project);
    assert.ok(second.agent && second.agent !== first.agent, 'the agent is made again');

    await store.pglite.query(`delete from public.projects where id = $1`, [first.project]);
    writeJournal(journalDir, [at(c, 'reviewer')]);
    assert.deepEqual(await engine.ingester.ingestAvailable(), { records: 1, inserted: 1, rejected: 0 });
    const third = await ids();
    assert.ok(third.project !== first.project && third.agent !== second.agent, 'project and agent are made again');
    assert.equal(await count(
      `select count(*) as n from public.usage_tracking u
       where not exists (select 1 from public.projects p where p.id = u.project_id)
          or not exists (select 1 from public.agents g where g.id = u.agent_id and g.project_id = u.project_id)`), 0);
    assert.equal(await count(
      `select count(*) as n from public.routing_decisions d join public.usage_tracking u using (request_id)
       where d.project_id is distinct from u.project_id or d.agent_id is distinct from u.agent_id`), 0);
    // Outbox's change log names every usage row and decision the ingester wrote (its triggers do not fire for these inserts).
    assert.equal(await count(
      `select count(*) as n from public.usage_tracking u
       where not exists (select 1 from conduit_local.sync_log l where l.table_name = 'usage_tracking' and u.id = any(l.ids))`), 0);
    assert.equal(await count(
      `select count(*) as n from public.routing_decisions d
       where not exists (select 1 from conduit_local.sync_log l where l.table_name = 'routing_decisions' and d.id = any(l.ids))`), 0);
    assert.equal(await count(`select sum(request_count) as n from public.usage_hourly_rollup`), 1, 'the rollups follow the cascades and the inserts');
  });

  it('ingests an announced request promptly, also when its line reaches the disk after the announcement', async () => {
    const { engine, journalDir } = await store.engine({ ingest: { debounceMs: 20 } });
    const records = makeRecords({ count: 2, seed: 9, spanMs: 60_000 });
    engine.start();
    await once(engine.ingester, 'idle'); // the start-up catch-up pass found nothing

    writeJournal(journalDir, [records[0]]);
    const first = once(engine.ingester, 'pass');
    engine.ingester.announce([records[0].id]);
    assert.equal((await first)[0].inserted, 1);

    // The hub publishes before the journal's write is on disk: a pass finds nothing, and
    // the ingester looks again until the announced line is there.
    const stored = new Promise<void>((resolve) => {
      engine.ingester.on('batch', (b: { inserted: number }) => { if (b.inserted === 1) resolve(); });
    });
    const emptyPass = once(engine.ingester, 'pass');
    engine.ingester.announce([records[1].id]);
    assert.equal((await emptyPass)[0].records, 0);
    writeJournal(journalDir, [records[1]]);
    await stored;
    assert.equal(await count(`select count(*) as n from public.usage_tracking`), 2);
  });

  it('loses and doubles nothing when the ingesting process is killed (SIGKILL) mid-way, then resumes', async function () {
    this.timeout(180_000);
    const home = mkdtempSync(path.join(os.tmpdir(), 'conduit-kill-'));
    try {
      const dataDir = path.join(home, 'data', 'pglite');
      const journalDir = path.join(home, 'journal');
      const total = 24_000;
      writeJournal(journalDir, makeRecords({ count: total, seed: 10, spanMs: 2 * 86_400_000 }));

      const child = (mode: string) => spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'support/ingestChild.ts'), mode, dataDir, journalDir], {
        cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
      });
      const lines = (c: ReturnType<typeof child>) => createInterface({ input: c.stdout! });
      const stderrOf = (c: ReturnType<typeof child>) => {
        let text = '';
        c.stderr!.on('data', (d: Buffer) => (text += d.toString()));
        return () => text;
      };

      // 1. Ingest, and kill it right after its 4th batch commits: it is then inside the 5th.
      const first = child('ingest');
      const firstErr = stderrOf(first);
      let committedBeforeKill = 0;
      let batches = 0;
      const killed = new Promise<void>((resolve, reject) => {
        lines(first).on('line', (line) => {
          if (!line.startsWith('batch ')) return;
          committedBeforeKill += Number(line.slice(6));
          if (++batches === 4) first.kill('SIGKILL');
        });
        first.once('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`the child ended on its own (${code}): ${firstErr()}`))));
      });
      await killed;
      assert.ok(committedBeforeKill > 0 && committedBeforeKill < total, `killed mid-way (${committedBeforeKill} committed)`);

      // 2. Start again: it resumes from the checkpoint and finishes.
      const second = child('ingest');
      const secondErr = stderrOf(second);
      let done: { records: number; inserted: number } | null = null;
      lines(second).on('line', (line) => { if (line.startsWith('done ')) done = JSON.parse(line.slice(5)); });
      const [code] = await once(second, 'exit');
      assert.equal(code, 0, secondErr());
      assert.ok(done, 'the second run finished');
      const resumed = done as unknown as { records: number; inserted: number };
      assert.ok(resumed.records < total, 'it resumed from the checkpoint rather than reading everything again');
      // (A batch may have committed between the 4th batch's line and the kill's arrival.)
      assert.ok(resumed.inserted > 0 && resumed.inserted <= total - committedBeforeKill,
        `inserted ${resumed.inserted} after ${committedBeforeKill} before the kill`);

      // 3. Every record exactly once, rollups exact, checkpoints at the end of every file.
      const third = child('count');
      const thirdErr = stderrOf(third);
      let counts: Record<string, unknown> | null = null;
      lines(third).on('line', (line) => { if (line.startsWith('counts ')) counts = JSON.parse(line.slice(7)); });
      const [code3] = await once(third, 'exit');
      assert.equal(code3, 0, thirdErr());
      const c = counts as unknown as Record<string, number> & { checkpoints: Record<string, number>; sizes: Record<string, number> };
      assert.equal(c.usage, total);
      assert.equal(c.distinct_usage, total);
      assert.equal(c.decisions, total);
      assert.equal(c.hourly_rollup, total);
      assert.equal(c.session_rollup, c.with_session);
      assert.deepEqual(c.checkpoints, c.sizes);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('reads a journal it did not write: a line of another shape is set aside, not retried', async () => {
    const { engine, journalDir } = await store.engine();
    const [r] = makeRecords({ count: 1, seed: 11 });
    const [file] = writeJournal(journalDir, [r]);
    appendFileSync(file, '{"hello":"world"}\n\n');
    writeFileSync(path.join(journalDir, 'notes.txt'), 'not a journal file\n');
    const result = await engine.ingester.ingestAvailable();
    assert.deepEqual(result, { records: 1, inserted: 1, rejected: 1 });
    assert.equal(engine.ingester.checkpointOf(path.basename(file)), readFileSync(file).length);
    assert.deepEqual(await engine.ingester.ingestAvailable(), { records: 0, inserted: 0, rejected: 0 });
  });
});
