// A first start unpacks the build's store snapshot (dist/store-snapshot.tar.gz, made by
// `node esbuild.mjs`) instead of running initdb and every migration; a migration newer than
// the snapshot still applies on top, and a snapshot that no longer matches the migrations
// is left alone. Real PGlite on disk.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger, type Logger } from '../../src/conduit/core/log';
import { LedgerEngine, READY_MARKER } from '../../src/conduit/ledger/store/engine';
import { defaultSnapshotPath } from '../../src/conduit/ledger/store/storeSnapshot';

const SUPABASE = path.resolve(__dirname, '../../supabase');

describe('ledger: a first start from the build\'s store snapshot', function () {
  this.timeout(120_000);
  let home: string;
  const lines: string[] = [];
  const log: Logger = { ...silentLogger, info: (m) => lines.push(m), warn: (m) => lines.push(m) };

  before(() => {
    assert.ok(defaultSnapshotPath(), 'dist/store-snapshot.tar.gz exists (run node esbuild.mjs)');
    home = mkdtempSync(path.join(os.tmpdir(), 'conduit-store-snapshot-'));
  });
  after(() => rmSync(home, { recursive: true, force: true }));
  beforeEach(() => { lines.length = 0; });

  /** A copy of the repository's supabase folder, with `extra` migrations added. */
  function migrationsWith(name: string, extra: Record<string, string>): string {
    const dir = path.join(home, name);
    cpSync(SUPABASE, dir, { recursive: true });
    for (const [file, sql] of Object.entries(extra)) writeFileSync(path.join(dir, 'migrations', file), sql);
    return dir;
  }

  it('creates the store from the snapshot: no initdb, no migration run, the store works', async () => {
    const dataDir = path.join(home, 'plain', 'pglite');
    const engine = await LedgerEngine.open({ dataDir, journalDir: path.join(home, 'plain', 'journal'), log, migrationsDir: SUPABASE });
    try {
      assert.ok(lines.some((l) => /^ledger: created the store from the build's snapshot \(\d+ files in \d+ ms\)$/.test(l)), lines.join('\n'));
      assert.ok(!lines.some((l) => /applied migrations|initdb/.test(l)), lines.join('\n'));
      assert.ok(existsSync(path.join(dataDir, READY_MARKER)));
      const { rows } = await engine.db.query<{ n: number }>(`select count(*)::int as n from public.conduit_schema_migrations`);
      assert.equal(rows[0].n, readdirSync(path.join(SUPABASE, 'migrations')).filter((f) => f.endsWith('.sql')).length);
      await engine.db.query(`insert into public.projects (user_id, name, workspace_key) values ($1, 'from snapshot', 'file:///snap')`, [engine.localUserId]);
      const { rows: projects } = await engine.db.query<{ name: string }>(`select name from public.projects`);
      assert.deepEqual(projects.map((p) => p.name), ['from snapshot']);
      assert.match(engine.localUserId, /^[0-9a-f-]{36}$/);
    } finally {
      await engine.close({ finalIngestMs: 0 });
    }
  });

  it('applies a migration newer than the snapshot on top of it', async () => {
    const migrationsDir = migrationsWith('newer', { '29991231000001_after_the_snapshot.sql': 'create table public.after_the_snapshot (id int primary key);' });
    const dataDir = path.join(home, 'newer', 'pglite');
    const engine = await LedgerEngine.open({ dataDir, journalDir: path.join(home, 'newer', 'journal'), log, migrationsDir });
    try {
      assert.ok(lines.some((l) => /created the store from the build's snapshot/.test(l)), lines.join('\n'));
      assert.ok(lines.includes('ledger: applied migrations 29991231000001_after_the_snapshot.sql'), lines.join('\n'));
      const { rows } = await engine.db.query<{ n: number }>(`select count(*)::int as n from public.after_the_snapshot`);
      assert.equal(rows[0].n, 0);
    } finally {
      await engine.close({ finalIngestMs: 0 });
    }
  });

  it('leaves a snapshot alone whose migration was edited since (initdb and every migration instead)', async () => {
    const migrationsDir = migrationsWith('edited', {});
    const first = readdirSync(path.join(migrationsDir, 'migrations')).filter((f) => f.endsWith('.sql')).sort()[0];
    writeFileSync(path.join(migrationsDir, 'migrations', first), `-- edited after the snapshot\n${readFileSync(path.join(SUPABASE, 'migrations', first), 'utf8')}`);
    const dataDir = path.join(home, 'edited', 'pglite');
    const engine = await LedgerEngine.open({ dataDir, journalDir: path.join(home, 'edited', 'journal'), log, migrationsDir });
    try {
      assert.ok(lines.some((l) => l.includes(`is not used: it holds migration ${first} as it was before an edit`)), lines.join('\n'));
      assert.ok(lines.some((l) => l.startsWith('ledger: applied migrations ') && l.includes(first)), lines.join('\n'));
    } finally {
      await engine.close({ finalIngestMs: 0 });
    }
  });
});
