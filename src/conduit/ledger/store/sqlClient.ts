// The little of a Postgres connection that the ledger needs, so the same code runs on a
// real server (node-postgres) and on the embedded store (PGlite). Type-only imports: the
// drivers are loaded by whoever opens the connection, never by this module.
import type { ClientBase } from 'pg';
import type { PGliteInterface } from '@electric-sql/pglite';

export interface SqlClient {
  /**
   * One statement, with $1.. parameters. Callers name their row type (the columns they
   * select); without one a row's columns are unknown until checked.
   */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /** Any number of statements, no parameters (simple query protocol). */
  exec(sql: string): Promise<void>;
}

/**
 * Wraps ONE node-postgres connection: a pg.Client, or a PoolClient from pool.connect().
 * A Pool is refused, since it may run each statement of a transaction on another connection.
 */
export function fromPgClient(client: ClientBase): SqlClient {
  if ('totalCount' in client && 'idleCount' in client) {
    throw new TypeError(
      'fromPgClient needs one connection (a pg.Client, or a PoolClient from pool.connect()), not a pg.Pool: ' +
        'a transaction must run on a single connection',
    );
  }
  return {
    async query<T>(sql: string, params?: unknown[]) {
      const result = params === undefined ? await client.query(sql) : await client.query(sql, params as unknown[]);
      return { rows: result.rows as T[] };
    },
    async exec(sql: string) {
      // Without values node-postgres uses the simple query protocol: several statements run.
      await client.query(sql);
    },
  };
}

/** Wraps a PGlite instance (in memory or on disk). */
export function fromPglite(db: Pick<PGliteInterface, 'query' | 'exec'>): SqlClient {
  return {
    async query<T>(sql: string, params?: unknown[]) {
      const result = await db.query<T>(sql, params as unknown[] | undefined);
      return { rows: result.rows };
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}
