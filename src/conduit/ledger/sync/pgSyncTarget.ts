// A sync target on plain PostgreSQL through node-postgres: the outbox's tests push to a
// real server that has the Supabase schema (shim + migrations). With `asUser`, every
// upsert runs as Supabase's API would run it: role authenticated, the user's id in
// request.jwt.claims, so row-level security applies as on Supabase.
import pg from 'pg';
import type { SyncTable, SyncTarget, UpsertOptions } from './outbox';

export interface PgSyncTargetOptions {
  connectionString: string;
  /** Run as this signed-in user (role authenticated, JWT claims), as PostgREST does. */
  asUser?: string;
  connectTimeoutMs?: number;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;
const TABLES = new Set<SyncTable>(['projects', 'agents', 'usage_tracking', 'routing_decisions']);

export class PgSyncTarget implements SyncTarget {
  private client: pg.Client | null = null;

  constructor(private readonly options: PgSyncTargetOptions) {}

  async upsert(table: SyncTable, rows: Record<string, unknown>[], onConflict: string, options: UpsertOptions = {}): Promise<void> {
    if (!rows.length) return;
    if (!TABLES.has(table)) throw new Error(`not a synced table: ${table}`);
    const columns = Object.keys(rows[0]);
    const keys = onConflict.split(',').map((k) => k.trim());
    for (const c of [...columns, ...keys]) if (!IDENT.test(c)) throw new Error(`not a column name: ${c}`);
    const updates = columns.filter((c) => !keys.includes(c)).map((c) => `${c} = excluded.${c}`);
    const sql = `insert into public.${table} (${columns.join(', ')})
      select ${columns.join(', ')} from jsonb_populate_recordset(null::public.${table}, $1::jsonb)
      on conflict (${keys.join(', ')}) do ${updates.length && !options.ignoreDuplicates ? `update set ${updates.join(', ')}` : 'nothing'}`;
    await this.asCaller(async (client) => {
      await client.query(sql, [JSON.stringify(rows)]);
    });
  }

  /** Whether the user is a member (or the owner) of the project, as Supabase's is_project_member says. */
  async isProjectMember(projectId: string): Promise<boolean> {
    return this.asCaller(async (client) => {
      const { rows } = await client.query<{ member: boolean }>('select public.is_project_member($1::uuid) as member', [projectId]);
      return rows[0]?.member === true;
    });
  }

  async close(): Promise<void> {
    await this.drop();
  }

  /** Runs work in a transaction as the configured user (role authenticated, JWT claims). */
  private async asCaller<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = await this.connection();
    try {
      await client.query('begin');
      if (this.options.asUser) {
        await client.query('set local role authenticated');
        await client.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: this.options.asUser, role: 'authenticated' })]);
      }
      const value = await work(client);
      await client.query('commit');
      return value;
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      // A broken connection is not reused: the next upsert connects again.
      if (!(err as { code?: string }).code) await this.drop();
      throw err;
    }
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.options.connectionString, connectionTimeoutMillis: this.options.connectTimeoutMs ?? 5_000 });
    client.on('error', () => {
      if (this.client === client) this.client = null;
    });
    await client.connect();
    this.client = client;
    return client;
  }

  private async drop(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}
