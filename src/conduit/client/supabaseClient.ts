// supabase-js clients for Node 20 (the gateway, and VS Code 1.100's extension host):
// supabase-js 2.109 builds a Realtime client in createClient() and refuses to on a Node
// without a global WebSocket. Conduit uses no Realtime channel, so it gets a transport
// that says so if anything ever tries to open one.
import { createClient, type SupabaseClient, type SupabaseClientOptions } from '@supabase/supabase-js';

class NoRealtimeTransport {
  constructor() {
    throw new Error('Supabase Realtime is not used by Conduit (no WebSocket transport on this Node)');
  }
}

export function createNodeSupabaseClient(url: string, key: string, options: SupabaseClientOptions<'public'> = {}): SupabaseClient {
  return createClient(url, key, {
    ...options,
    realtime: { ...options.realtime, transport: NoRealtimeTransport as unknown as NonNullable<NonNullable<SupabaseClientOptions<'public'>['realtime']>['transport']> },
  });
}
