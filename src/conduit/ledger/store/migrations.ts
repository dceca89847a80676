// Applies supabase/migrations/*.sql in name order to a real Postgres or to PGlite, each
// new file in its own transaction, and records it in conduit_schema_migrations with a
// checksum. Files already recorded are skipped; one edited after it was applied is an
// error (add a new migration instead). Supabase itself is migrated by the Supabase CLI.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { SqlClient } from './sqlClient';

export interface ApplyMigrationsOptions {
  /** The supabase folder, holding migrations/ and local/. Default: defaultMigrationsDir(). */
  dir?: string;
  /**
   * Run local/*.sql first: the stand-ins for Supabase's auth schema and roles. True on
   * plain Postgres and PGlite, false on Supabase. These files are written to be run again,
   * so they run on every call and are not recorded.
   */
  includeShim: boolean;
}

export interface ApplyMigrationsResult {
  /** Migrations applied by this call, in order. */
  applied: string[];
  /** Migrations found already applied. */
  skipped: string[];
  /** Shim files run by this call. */
  shim: string[];
}

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export const MIGRATIONS_TABLE = 'conduit_schema_migrations';

/** Thrown when a recorded migration's file no longer has the checksum it was applied with. */
export class MigrationChecksumError extends Error {
  constructor(
    readonly migration: string,
    readonly appliedChecksum: string,
    readonly fileChecksum: string,
  ) {
    super(
      `Migration ${migration} was already applied with checksum ${appliedChecksum}, but the file now has ` +
        `checksum ${fileChecksum}. An applied migration must not be edited: restore the file and put the ` +
        `change in a new migration.`,
    );
    this.name = 'MigrationChecksumError';
  }
}

// Serialises migration runs of several processes on one database (no-op on PGlite).
const LOCK = `select pg_advisory_xact_lock(hashtext('${MIGRATIONS_TABLE}'))`;

/**
 * The supabase folder shipped with the code: dist/supabase next to the bundle (esbuild.mjs
 * copies it there), or the repository's supabase/ when running from source.
 */
export function defaultMigrationsDir(): string {
  const candidates = [path.join(__dirname, 'supabase'), path.resolve(__dirname, '../../../../supabase')];
  for (const dir of candidates) {
    if (existsSync(path.join(dir, 'migrations'))) return dir;
  }
  throw new Error(`No supabase/migrations folder found (looked in ${candidates.join(', ')}). Was the build run?`);
}

/** The *.sql files of a folder in name order (byte order, the same on every locale). */
export function readSqlFiles(folder: string): MigrationFile[] {
  if (!existsSync(folder)) throw new Error(`Migration folder ${folder} does not exist`);
  return readdirSync(folder)
    .filter((name) => name.endsWith('.sql'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => {
      const sql = readFileSync(path.join(folder, name), 'utf8');
      return { name, sql, checksum: checksumOf(sql) };
    });
}

/** sha256 of the text with line endings normalised, so a CRLF checkout matches. */
export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n')).digest('hex');
}

export async function applyMigrations(client: SqlClient, options: ApplyMigrationsOptions): Promise<ApplyMigrationsResult> {
  const dir = options.dir ?? defaultMigrationsDir();
  const migrations = readSqlFiles(path.join(dir, 'migrations'));
  const shimFiles = options.includeShim ? readSqlFiles(path.join(dir, 'local')) : [];
  const result: ApplyMigrationsResult = { applied: [], skipped: [], shim: [] };

  await inTransaction(client, `creating ${MIGRATIONS_TABLE}`, async () => {
    await client.exec(`${LOCK};
      create table if not exists public.${MIGRATIONS_TABLE} (
        name text primary key,
        checksum text not null,
        applied_at timestamptz not null default now()
      );
      -- Like every public table: nobody but its owner reads it through the API.
      alter table public.${MIGRATIONS_TABLE} enable row level security;`);
  });

  for (const file of shimFiles) {
    await inTransaction(client, `local/${file.name}`, async () => {
      await client.exec(LOCK);
      await client.exec(file.sql);
    });
    result.shim.push(file.name);
  }

  // Refuse edited migrations before applying anything.
  const recorded = await appliedChecksums(client);
  for (const file of migrations) {
    const applied = recorded.get(file.name);
    if (applied !== undefined && applied !== file.checksum) throw new MigrationChecksumError(file.name, applied, file.checksum);
  }

  for (const file of migrations) {
    if (recorded.has(file.name)) {
      result.skipped.push(file.name);
      continue;
    }
    const appliedHere = await inTransaction(client, file.name, async () => {
      await client.exec(LOCK);
      // Another process may have applied it while we waited for the lock.
      const { rows } = await client.query<{ checksum: string }>(
        `select checksum from public.${MIGRATIONS_TABLE} where name = $1`,
        [file.name],
      );
      if (rows.length > 0) {
        if (rows[0].checksum !== file.checksum) throw new MigrationChecksumError(file.name, rows[0].checksum, file.checksum);
        return false;
      }
      await client.exec(file.sql);
      await client.query(`insert into public.${MIGRATIONS_TABLE} (name, checksum) values ($1, $2)`, [file.name, file.checksum]);
      return true;
    });
    (appliedHere ? result.applied : result.skipped).push(file.name);
  }
  return result;
}

/** Names and checksums recorded as applied. */
export async function appliedChecksums(client: SqlClient): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string; checksum: string }>(
    `select name, checksum from public.${MIGRATIONS_TABLE} order by name`,
  );
  return new Map(rows.map((r) => [r.name, r.checksum]));
}

async function inTransaction<T>(client: SqlClient, what: string, work: () => Promise<T>): Promise<T> {
  await client.exec('begin');
  let value: T;
  try {
    value = await work();
  } catch (err) {
    try {
      await client.exec('rollback');
    } catch {
      // The connection is gone; the server rolls back on its own. Report the first error.
    }
    if (err instanceof MigrationChecksumError) throw err;
    throw new Error(`Migration ${what} failed, nothing of it was applied: ${describe(err)}`, { cause: err });
  }
  await client.exec('commit');
  return value;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { detail?: string; hint?: string; where?: string };
  return [e.message, e.detail && `detail: ${e.detail}`, e.hint && `hint: ${e.hint}`, e.where && `where: ${e.where}`]
    .filter(Boolean)
    .join('; ');
}
