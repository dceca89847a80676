// The outbox's Supabase target: upserts through PostgREST with supabase-js, as the signed-in
// user (the session the extension handed over), so Supabase's row-level security admits
// exactly that user's projects. The gateway never refreshes the session: the extension
// owns it (SecretStorage) and posts the refreshed one; two refreshers of one refresh token
// would make Supabase revoke the session. An expired token shows as the sync's last error
// until a fresh session arrives; rows wait meanwhile.
import type { SupabaseClient } from '@supabase/supabase-js';
import { createNodeSupabaseClient } from '../../client/supabaseClient';
import type { SyncTable, SyncTarget, UpsertOptions } from './outbox';
import { SyncTargetError } from './syncErrors';

export class SupabaseSyncTarget implements SyncTarget {
  private readonly client: SupabaseClient;
  private token: string;

  constructor(url: string, anonKey: string, accessToken: string) {
    this.token = accessToken;
    this.client = createNodeSupabaseClient(url, anonKey, {
      // Requests carry this token; supabase.auth is not used (no refresh, no storage).
      accessToken: async () => this.token,
      global: { headers: { 'x-client-info': 'synapse-conduit-outbox' } },
    });
  }

  /** A refreshed access token of the same user. */
  setAccessToken(accessToken: string): void {
    this.token = accessToken;
  }

  async upsert(table: SyncTable, rows: Record<string, unknown>[], onConflict: string, options: UpsertOptions = {}): Promise<void> {
    if (!rows.length) return;
    const { error, status } = await this.client.from(table).upsert(rows, { onConflict, ignoreDuplicates: options.ignoreDuplicates ?? false, defaultToNull: false });
    if (error) {
      const detail = [error.message, error.details, error.hint, error.code && `code ${error.code}`, status && `HTTP ${status}`].filter(Boolean).join('; ');
      // The code (SQLSTATE or PGRSTnnn) and status say what kind of failure it is (syncErrors.ts).
      throw new SyncTargetError(`Supabase refused the ${table} rows: ${detail}`, error.code || null, status || null);
    }
  }

  /** Whether the signed-in user is a member (or the owner) of the project: Supabase's is_project_member. */
  async isProjectMember(projectId: string): Promise<boolean> {
    const { data, error, status } = await this.client.rpc('is_project_member', { p_project_id: projectId });
    if (error) throw new SyncTargetError(`Supabase could not say whether you are a member of project ${projectId}: ${error.message}`, error.code || null, status || null);
    return data === true;
  }

  async close(): Promise<void> {
    await this.client.removeAllChannels().catch(() => undefined);
  }
}
