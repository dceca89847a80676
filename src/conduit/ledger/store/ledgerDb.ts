// The embedded store's connection as the ledger uses it: statements, and transactions
// that nothing else interleaves with. PGlite is one connection; its transaction() holds
// the instance's transaction lock, and query()/exec() outside it wait for that lock, so an
// analytics query never runs inside an ingestion transaction.
import type { PGliteInterface, Transaction } from '@electric-sql/pglite';
import type { SqlClient } from './sqlClient';

export interface LedgerDb extends SqlClient {
  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T>;
}

function wrap(db: Pick<PGliteInterface, 'query' | 'exec'> | Transaction): SqlClient {
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

export function ledgerDbFromPglite(db: PGliteInterface): LedgerDb {
  const plain = wrap(db);
  return {
    query: plain.query,
    exec: plain.exec,
    transaction: (work) => db.transaction((tx) => work(wrap(tx))),
  };
}
