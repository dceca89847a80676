// The outbox against a real target: PostgreSQL 15 with the Supabase schema (shim +
// migrations), written through PgSyncTarget as a signed-in user (role authenticated, JWT
// claims: row-level security applies as on Supabase), reached through a TCP proxy that
// can stop accepting. With SUPABASE_URL, SUPABASE_ANON_KEY, SUPABASE_TEST_EMAIL and
// SUPABASE_TEST_PASSWORD set, the same suite runs against that Supabase project through
// SupabaseSyncTarget.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import pg from 'pg';
import { applyMigrations } from '../../src/conduit/ledger/store/migrations';
import { Outbox, remoteAgentId, remoteProjectId, type SyncTable, type SyncTarget, type SyncTargetConfig } from '../../src/conduit/ledger/sync/outbox';
import { PgSyncTarget } from '../../src/conduit/ledger/sync/pgSyncTarget';
import { fromPgClient } from '../../src/conduit/ledger/store/sqlClient';
import { signInWithPassword } from '../../src/extension/sync/supabaseAuth';
import { createNodeSupabaseClient } from '../../src/conduit/client/supabaseClient';
import { SupabaseSyncTarget } from '../../src/conduit/ledger/sync/supabaseSyncTarget';
import { silentLogger } from '../../src/conduit/core/log';
import type { UsageRecord } from '../../src/protocol/usage';
import { getTestPostgres } from '../support/postgres';
import { AGENT_KEYS, makeRecords, PROJECT_KEYS, writeJournal } from './support/records';
import { openTestStore, type TestStore } from './support/store';

/** What the target holds of the test's projects. */
interface RemoteRows {
  usage: string[];
  decisions: string[];
  projects: { id: string; user_id: string; workspace_key: string }[];
  agents: { id: string; project_id: string; external_id: string | null }[];
  hourlyRollup: number;
}

/** A sync target the test can take offline and read back. */
interface Remote {
  userId: string;
  target: SyncTarget;
  offline(): Promise<void>;
  online(): Promise<void>;
  rows(): Promise<RemoteRows>;
  /** Empties what the test pushed there. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** Forwards TCP connections to a port; stop() refuses new ones and cuts the open ones. */
class SwitchableProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  constructor(private readonly targetPort: number) {}

  async start(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function postgresRemote(): Promise<Remote> {
  const cluster = await getTestPostgres();
  const url = new URL(await cluster.newDatabase());
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  await applyMigrations(fromPgClient(admin), { includeShim: true });
  const userId = randomUUID();
  await admin.query(`insert into auth.users (id, email) values ($1, 'outbox-test@example.com')`, [userId]);
  const proxy = new SwitchableProxy(Number(url.port));
  await proxy.start();
  const viaProxy = new URL(url);
  viaProxy.port = String(proxy.port);
  const target = new PgSyncTarget({ connectionString: viaProxy.toString(), asUser: userId, connectTimeoutMs: 2_000 });
  return {
    userId,
    target,
    offline: () => proxy.stop(),
    online: () => proxy.start(),
    async rows() {
      const q = async <T>(sql: string) => (await admin.query(sql)).rows as T[];
      return {
        usage: (await q<{ request_id: string }>(`select request_id from public.usage_tracking`)).map((r) => r.request_id),
        decisions: (await q<{ request_id: string }>(`select request_id from public.routing_decisions`)).map((r) => r.request_id),
        projects: await q(`select id::text, user_id::text, workspace_key from public.projects order by workspace_key`),
        agents: await q(`select id::text, project_id::text, external_id from public.agents`),
        hourlyRollup: Number((await q<{ n: string }>(`select coalesce(sum(request_count), 0) as n from public.usage_hourly_rollup`))[0].n),
      };
    },
    async clear() {
      await admin.query(`truncate public.usage_tracking, public.routing_decisions, public.agents, public.projects cascade`);
    },
    async close() {
      await target.close();
      await proxy.stop();
      await admin.end();
    },
  };
}

async function supabaseRemote(env: { url: string; anonKey: string; email: string; password: string }): Promise<Remote> {
  const project = { url: env.url, anonKey: env.anonKey };
  const session = await signInWithPassword(project, env.email, env.password);
  const live = new SupabaseSyncTarget(env.url, env.anonKey, session.accessToken);
  let down = true;
  const target: SyncTarget = {
    // Offline: as if the network were gone (Supabase cannot be stopped from here).
    upsert: (table: SyncTable, rows, onConflict) => (down ? Promise.reject(new Error('fetch failed (offline)')) : live.upsert(table, rows, onConflict)),
  };
  const client = createNodeSupabaseClient(env.url, env.anonKey, { accessToken: async () => session.accessToken });
  const projectIds = PROJECT_KEYS.map((k) => remoteProjectId(session.userId, k));
  const select = async <T>(table: string, columns: string, column: string, values: string[]): Promise<T[]> => {
    const out: T[] = [];
    for (let from = 0; ; from += 1000) {
      const { data, error } = await client.from(table).select(columns).in(column, values).range(from, from + 999);
      if (error) throw new Error(error.message);
      out.push(...(data as T[]));
      if (!data || data.length < 1000) return out;
    }
  };
  return {
    userId: session.userId,
    target,
    offline: async () => { down = true; },
    online: async () => { down = false; },
    async rows() {
      const hourly = await select<{ request_count: number }>('usage_hourly_rollup', 'request_count', 'project_id', projectIds);
      return {
        usage: (await select<{ request_id: string }>('usage_tracking', 'request_id', 'project_id', projectIds)).map((r) => r.request_id),
        decisions: (await select<{ request_id: string }>('routing_decisions', 'request_id', 'project_id', projectIds)).map((r) => r.request_id),
        projects: (await select<{ id: string; user_id: string; workspace_key: string }>('projects', 'id, user_id, workspace_key', 'id', projectIds))
          .sort((a, b) => (a.workspace_key < b.workspace_key ? -1 : 1)),
        agents: await select('agents', 'id, project_id, external_id', 'project_id', projectIds),
        hourlyRollup: hourly.reduce((n, r) => n + Number(r.request_count), 0),
      };
    },
    async clear() {
      const { error } = await client.from('projects').delete().in('id', projectIds);
      if (error) throw new Error(error.message);
    },
    async close() {
      await live.close();
    },
  };
}

function outboxSuite(name: string, makeRemote: () => Promise<Remote>): void {
  describe(name, () => {
    let store: TestStore;
    let remote: Remote;
    let config: SyncTargetConfig;

    before(async function () {
      this.timeout(120_000);
      store = await openTestStore();
      remote = await makeRemote();
      config = { key: `test|${remote.userId}`, userId: remote.userId, label: name, target: remote.target };
    });
    beforeEach(async () => {
      await store.reset();
      await remote.clear();
    });
    after(async () => {
      await remote?.close();
      await store?.close();
    });

    const engineWith = () => store.engine({ outbox: { batchSize: 200, minBackoffMs: 30, maxBackoffMs: 300, debounceMs: 5 } });
    const expectedRows = (records: UsageRecord[]) => records.filter((r) => r.context.projectId).map((r) => r.id).sort();
    async function assertExactlyOnce(records: UsageRecord[]): Promise<void> {
      const rows = await remote.rows();
      const expected = expectedRows(records);
      assert.equal(rows.usage.length, expected.length, 'usage rows on the target');
      assert.deepEqual([...rows.usage].sort(), expected, 'each usage row once');
      assert.deepEqual([...rows.decisions].sort(), expected, 'each routing decision once');
      assert.equal(rows.hourlyRollup, expected.length, "the target's own rollup counts each row once");
      assert.deepEqual(rows.projects.map((p) => p.workspace_key), [...PROJECT_KEYS].sort());
      for (const p of rows.projects) {
        assert.equal(p.user_id, remote.userId, "the target user's projects");
        assert.equal(p.id, remoteProjectId(remote.userId, p.workspace_key));
      }
      assert.equal(rows.agents.length, PROJECT_KEYS.length * AGENT_KEYS.length);
      for (const a of rows.agents) assert.equal(a.id, remoteAgentId(a.project_id, a.external_id, ''));
    }

    it('keeps rows while the target is unreachable, then delivers every row exactly once', async () => {
      const { engine, journalDir } = await engineWith();
      const records = makeRecords({ count: 700, seed: 31, noProject: 0.15 });
      writeJournal(journalDir, records);
      await engine.ingester.ingestAvailable();

      await remote.offline();
      const failed = once(engine.outbox, 'failed');
      engine.setSyncTarget(config);
      await failed;
      const offline = await engine.syncStatus();
      assert.equal(offline.mode, 'supabase');
      assert.ok(offline.lastError, 'the error is reported');
      assert.equal(offline.lastSuccessAt, null);
      const waitingBefore = offline.waiting!;
      assert.ok(waitingBefore >= 2 * 700, `rows wait (${waitingBefore})`);

      // More usage arrives while offline: it waits too.
      const more = makeRecords({ count: 300, seed: 32, idPrefix: 'later' });
      writeJournal(journalDir, more);
      await engine.ingester.ingestAvailable();
      const failedAgain = once(engine.outbox, 'failed');
      await failedAgain;
      assert.ok((await engine.syncStatus()).waiting! >= waitingBefore + 2 * 300);

      // Back: the next retry delivers everything.
      const synced = once(engine.outbox, 'synced');
      await remote.online();
      await synced;
      await assertExactlyOnce([...records, ...more]);
      const status = await engine.syncStatus();
      assert.equal(status.waiting, 0);
      assert.equal(status.lastError, null);
      assert.ok(status.lastSuccessAt);
      assert.ok(status.pushed >= 2 * 1000 * 0.85);
    });

    it('repeats a push cut short (a crash between push and cursor) without doubles, and the cursor survives a restart', async () => {
      const { engine, journalDir } = await engineWith();
      const records = makeRecords({ count: 500, seed: 33 });
      writeJournal(journalDir, records);
      await engine.ingester.ingestAvailable();

      // The first outbox dies after the target accepted part of a chunk: usage rows went in,
      // their decisions did not, and the cursor was not moved.
      let accepted = 0;
      const dying: SyncTarget = {
        async upsert(table, rows, onConflict) {
          if (table === 'routing_decisions' && accepted > 0) throw new Error('killed');
          await remote.target.upsert(table, rows, onConflict);
          if (table === 'usage_tracking') accepted += rows.length;
        },
      };
      await remote.online();
      const first = new Outbox(engine.db, { log: silentLogger, batchSize: 200, minBackoffMs: 60_000 });
      first.setTarget({ ...config, target: dying });
      await once(first, 'failed');
      await first.close();
      assert.ok(accepted > 0 && (await remote.rows()).decisions.length < (await remote.rows()).usage.length, 'cut mid-chunk');

      // A new outbox (the restarted gateway) starts from the stored cursor.
      const second = new Outbox(engine.db, { log: silentLogger, batchSize: 200 });
      second.setTarget(config);
      await second.pushNow();
      await second.close();
      await assertExactlyOnce(records);

      // A third finds nothing left: the cursor is in the store.
      const third = new Outbox(engine.db, { log: silentLogger, batchSize: 200 });
      third.setTarget(config);
      assert.equal((await third.status()).waiting, 0);
      assert.equal(await third.pushNow(), 0);
      await third.close();
    });

    it("puts a second device's usage into the same projects (ids derived from the user and the workspace)", async () => {
      await remote.online();
      const { engine, journalDir } = await engineWith();
      const first = makeRecords({ count: 200, seed: 34, idPrefix: 'device-a' });
      writeJournal(journalDir, first);
      await engine.ingester.ingestAvailable();
      engine.setSyncTarget(config);
      await engine.outbox.pushNow();

      // Another store (its own local ids for the same workspaces), the same user.
      await store.reset();
      const { engine: other, journalDir: otherJournal } = await engineWith();
      const second = makeRecords({ count: 200, seed: 35, idPrefix: 'device-b' });
      writeJournal(otherJournal, second);
      await other.ingester.ingestAvailable();
      other.setSyncTarget(config);
      await other.outbox.pushNow();
      await assertExactlyOnce([...first, ...second]);
    });
  });
}

describe('ledger: outbox', () => {
  outboxSuite('to PostgreSQL 15 with the Supabase schema (PgSyncTarget)', postgresRemote);

  const { SUPABASE_URL: url, SUPABASE_ANON_KEY: anonKey, SUPABASE_TEST_EMAIL: email, SUPABASE_TEST_PASSWORD: password } = process.env;
  if (url && anonKey && email && password) {
    outboxSuite(`to Supabase at ${new URL(url).host} (SupabaseSyncTarget)`, () => supabaseRemote({ url, anonKey, email, password }));
  } else {
    // Nothing to run against here: say so, and run nothing.
    console.log('  note: the outbox suite against Supabase needs SUPABASE_URL, SUPABASE_ANON_KEY, SUPABASE_TEST_EMAIL and SUPABASE_TEST_PASSWORD; not set, so it does not run');
  }
});
