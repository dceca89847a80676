// How the gateway reaches the team functions of the Supabase schema
// (supabase/migrations/20261129000002_project_members.sql): as the signed-in person, so
// row-level security and the functions' own checks decide what they may see and do.
//
// Two implementations with one JSON shape, PostgREST's: SupabaseTeamBackend (supabase-js,
// the real thing) and PgTeamBackend (pgTeamBackend.ts: node-postgres as role authenticated
// with the person's JWT claims, as PostgREST runs a request; for tests on a real
// PostgreSQL, since no PostgREST runs here). A function returning a set answers an array of objects, one
// returning a row answers an object, one returning a scalar answers the value.
import type { SupabaseClient } from '@supabase/supabase-js';

export type TeamFunction =
  | 'list_team_projects' | 'list_project_members' | 'get_team_usage' | 'accept_pending_invitations'
  | 'invite_project_member' | 'accept_project_invitation' | 'revoke_project_invitation'
  | 'remove_project_member' | 'leave_project';

/** What each function returns, which decides its JSON shape. */
export const TEAM_FUNCTION_SHAPE: Record<TeamFunction, 'set' | 'row' | 'scalar'> = {
  list_team_projects: 'set',
  list_project_members: 'set',
  get_team_usage: 'set',
  accept_pending_invitations: 'set',
  invite_project_member: 'row',
  accept_project_invitation: 'row',
  revoke_project_invitation: 'row',
  remove_project_member: 'scalar',
  leave_project: 'scalar',
};

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonRow = Record<string, Json>;

export interface TeamBackend {
  /** Calls a function with named arguments (p_...), as the signed-in person. */
  rpc(fn: TeamFunction, args: Record<string, string | null>): Promise<Json>;
  /** The invitations of a project the person can see (row-level security filters), oldest first. */
  invitations(projectId: string): Promise<JsonRow[]>;
  /** A refreshed access token of the same person. */
  setAccessToken(accessToken: string): void;
  close(): Promise<void>;
}

export type TeamErrorKind = 'not_signed_in' | 'forbidden' | 'not_found' | 'invalid' | 'conflict' | 'unavailable';

/** A refusal or failure with its kind, which the HTTP route turns into a status. */
export class TeamError extends Error {
  constructor(readonly kind: TeamErrorKind, message: string) {
    super(message);
    this.name = 'TeamError';
  }
}

/**
 * The error of a call, by its SQLSTATE (the functions raise 42501, 22023, P0002, P0001) or
 * PostgREST's own code. Messages of the functions are written for people and kept.
 */
export function teamErrorOf(fn: string, code: string | undefined, message: string): TeamError {
  switch (code) {
    case '42501': return new TeamError('forbidden', message);
    case 'P0002': return new TeamError('not_found', message);
    case '22023': case '22P02': return new TeamError('invalid', message);
    case 'P0001': return new TeamError('conflict', message);
    // PostgREST: no such function (the schema lacks the team migration).
    case 'PGRST202': case '42883':
      return new TeamError('unavailable', `Supabase has no function ${fn}: apply supabase/migrations/20261129000002_project_members.sql to the Supabase project (${message})`);
    // PostgREST: the JWT expired or is invalid.
    case 'PGRST301': case 'PGRST303':
      return new TeamError('not_signed_in', `the Supabase session is no longer valid (${message}); sign in again`);
    default:
      return new TeamError('unavailable', `Supabase did not answer ${fn}: ${message}`);
  }
}

export class SupabaseTeamBackend implements TeamBackend {
  private client: SupabaseClient | null = null;

  constructor(private readonly url: string, private readonly anonKey: string, private token: string) {}

  setAccessToken(accessToken: string): void {
    this.token = accessToken;
  }

  private async connect(): Promise<SupabaseClient> {
    if (this.client) return this.client;
    // supabase-js is evaluated on the first team call only, not at the gateway's start.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createNodeSupabaseClient } = require('../client/supabaseClient') as typeof import('../client/supabaseClient');
    const client = createNodeSupabaseClient(this.url, this.anonKey, {
      accessToken: async () => this.token,
      global: { headers: { 'x-client-info': 'synapse-conduit-team' } },
    });
    this.client = client;
    return client;
  }

  async rpc(fn: TeamFunction, args: Record<string, string | null>): Promise<Json> {
    const client = await this.connect();
    const { data, error } = await client.rpc(fn, args);
    if (error) throw teamErrorOf(fn, error.code, [error.message, error.details, error.hint].filter(Boolean).join('; '));
    return data as Json;
  }

  async invitations(projectId: string): Promise<JsonRow[]> {
    const client = await this.connect();
    const { data, error } = await client.from('project_invitations').select('*').eq('project_id', projectId).order('created_at');
    if (error) throw teamErrorOf('project_invitations', error.code, error.message);
    return (data ?? []) as JsonRow[];
  }

  async close(): Promise<void> {
    await this.client?.removeAllChannels().catch(() => undefined);
  }
}
