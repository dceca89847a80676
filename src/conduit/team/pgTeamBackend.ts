// The team functions on plain PostgreSQL through node-postgres, run the way PostgREST runs
// a request (role authenticated, the person's JWT claims in request.jwt.claims, one
// transaction), with PostgREST's JSON shapes: the gateway's team routes are tested against
// the real schema with it. Not used by the gateway itself (SupabaseTeamBackend is).
import pg from 'pg';
import { TEAM_FUNCTION_SHAPE, TeamError, teamErrorOf, type Json, type JsonRow, type TeamBackend, type TeamFunction } from './teamBackend';

const FUNCTION_NAME = /^[a-z_]+$/;
const ARG_NAME = /^p_[a-z_]+$/;

/** The team functions on plain PostgreSQL, as PostgREST would run them for this user. */
export class PgTeamBackend implements TeamBackend {
  private client: pg.Client | null = null;
  private claims: Record<string, unknown>;

  constructor(private readonly connectionString: string, userId: string, email: string | null = null) {
    this.claims = { sub: userId, role: 'authenticated', ...(email ? { email } : {}) };
  }

  setAccessToken(): void {
    // The claims stand in for the token; a refresh changes nothing here.
  }

  rpc(fn: TeamFunction, args: Record<string, string | null>): Promise<Json> {
    if (!FUNCTION_NAME.test(fn) || !(fn in TEAM_FUNCTION_SHAPE)) throw new Error(`not a team function: ${fn}`);
    const names = Object.keys(args);
    for (const n of names) if (!ARG_NAME.test(n)) throw new Error(`not an argument name: ${n}`);
    const call = `public.${fn}(${names.map((n, i) => `${n} => $${i + 1}`).join(', ')})`;
    const shape = TEAM_FUNCTION_SHAPE[fn];
    // PostgreSQL formats the JSON, as PostgREST has it do.
    const text = shape === 'set' ? `select coalesce(jsonb_agg(to_jsonb(f)), '[]'::jsonb) as v from ${call} f`
      : shape === 'row' ? `select to_jsonb(f) as v from ${call} f`
      : `select to_jsonb(${call}) as v`;
    return this.run(fn, text, names.map((n) => args[n]));
  }

  async invitations(projectId: string): Promise<JsonRow[]> {
    return await this.run('project_invitations',
      `select coalesce(jsonb_agg(to_jsonb(i) order by i.created_at), '[]'::jsonb) as v from public.project_invitations i where i.project_id = $1`,
      [projectId]) as JsonRow[];
  }

  private async run(what: string, text: string, params: unknown[]): Promise<Json> {
    const client = await this.connection();
    try {
      await client.query('begin');
      await client.query('set local role authenticated');
      await client.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(this.claims)]);
      const { rows } = await client.query<{ v: Json }>(text, params);
      await client.query('commit');
      return rows[0]?.v ?? null;
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      const e = err as Error & { code?: string };
      if (!e.code) throw new TeamError('unavailable', `PostgreSQL did not answer ${what}: ${e.message}`);
      throw teamErrorOf(what, e.code, e.message);
    }
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('error', () => {
      if (this.client === client) this.client = null;
    });
    await client.connect();
    this.client = client;
    return client;
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}
