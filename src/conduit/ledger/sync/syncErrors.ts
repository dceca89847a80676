// What a sync target's failure means to the outbox. One kind gets its own handling: the
// target refused the rows under row-level security or a privilege check (SQLSTATE 42501,
// insufficient_privilege). For the rows of a workspace linked to a shared project that is
// what Supabase answers once the person is no longer a member (removed by the owner, or
// left from another machine): the outbox then marks the link broken and sends the
// workspace's rows to the person's own project (outbox.ts). Everything else (the network,
// a timeout, 5xx, an expired token, a constraint) is a failure to retry with backoff.
//
// Where the codes come from:
// - PostgreSQL through node-postgres (PgSyncTarget): the error's `code` is the SQLSTATE.
// - Supabase through PostgREST (SupabaseSyncTarget): the response body's `code` is the
//   SQLSTATE of the database error, and PostgREST answers 42501 with HTTP 403 for a
//   signed-in caller (401 for an anonymous one: a missing or rejected token, which is not
//   a refusal of the rows). PostgREST's own failures have codes PGRSTnnn; a request that
//   never got an answer has no code and status 0.

/** SQLSTATE insufficient_privilege: "new row violates row-level security policy …", "permission denied for table …". */
export const INSUFFICIENT_PRIVILEGE = '42501';

/** A target's failure with what the server said: SQLSTATE (or PostgREST code) and HTTP status when there was one. */
export class SyncTargetError extends Error {
  constructor(message: string, readonly code: string | null, readonly status: number | null) {
    super(message);
    this.name = 'SyncTargetError';
  }
}

function codeOf(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code ? code : null;
}

function statusOf(err: unknown): number | null {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : null;
}

/**
 * True when the target refused the rows for want of the right to write them (SQLSTATE
 * 42501), as a signed-in caller: a pg error with that code, or PostgREST's 403 carrying it.
 * False for everything else, among them network errors (codes such as ECONNREFUSED, or
 * no code), 5xx, PostgREST's 401 (no valid session) and other SQLSTATEs.
 */
export function isRowRefusal(err: unknown): boolean {
  if (codeOf(err) !== INSUFFICIENT_PRIVILEGE) return false;
  const status = statusOf(err);
  // node-postgres errors have no HTTP status; PostgREST's refusal of a signed-in caller is 403.
  return status === null || status === 403;
}
