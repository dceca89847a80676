// The outbox's Supabase target: upserts through PostgREST with supabase-js, as the signed-in
// user (the session the extension handed over), so Supabase's row-level security admits
// exactly that user's projects. The gateway never refreshes the session: the extension
// owns it (SecretStorage) and posts the refreshed one; two refreshers of one refresh token
// would make Supabase revoke the session. An expired token shows as the sync's last error
// until a fresh session arrives; rows wait meanwhile.
import type { SupabaseClient } from '@supabase/supabase-js';
import { createNodeSupabaseClient } from './supabaseClient';
import type { SyncTable, SyncTarget } from './outbox';

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

  async upsert(table: SyncTable, rows: Record<string, unknown>[], onConflict: string): Promise<void> {
    if (!rows.length) return;
    const { error } = await this.client.from(table).upsert(rows, { onConflict, ignoreDuplicates: false, defaultToNull: false });
    if (error) {
      const detail = [error.message, error.details, error.hint, error.code && `code ${error.code}`].filter(Boolean).join('; ');
      throw new Error(`Supabase refused the ${table} rows: ${detail}`);
    }
  }

  async close(): Promise<void> {
    await this.client.removeAllChannels().catch(() => undefined);
  }
}
