// The outbox: pushes what the embedded store recorded to a sync target (Supabase), in the
// order it was recorded, with upserts by natural keys, so a row pushed twice (after a crash
// between the push and the cursor update, or a retry of a half-accepted batch) is stored
// once. Its state is in the store: the change log (conduit_local.sync_log, filled by
// statement-level triggers on the synced tables) and one cursor per target
// (conduit_local.sync_cursor), moved forward only after the target accepted the rows. So
// a restart resumes where the last accepted push ended, and rows recorded while offline
// wait in the log; pushes retry with exponential backoff.
//
// Ids on the target: a project's id there is derived from (the target user, the
// workspace key), an agent's from (that project id, its external id), so every device of
// one user pushes a workspace's usage into one project. Usage and decision rows keep their
// ids. Rows without a project stay local: row-level security admits a row only through
// its project's members. A workspace linked to a project shared with the target user
// (conduit_local.workspace_link) pushes its usage into that project instead, and not its
// project and agent rows; the link is read at each push, so it applies to the rows pushed
// after it was made (or removed).
//
// A broken link must not stall the one ordered log: when the shared project refuses the
// person's rows (row-level security, SQLSTATE 42501: they were removed from it or left it,
// see syncErrors.ts) and the target confirms they are no longer a member, the link is marked
// broken (kept, with the time and Supabase's answer, and named in the status) and the chunk
// is pushed again with that workspace's rows going to the person's own project, as for an
// unlinked workspace; so do its later rows. Own rows are pushed before linked ones, so a
// refusal of the linked rows is told apart from one of the whole push. Any other failure
// (network, 5xx, expired session) keeps the backoff.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../core/log';
import { SingleFlight } from '../../core/singleFlight';
import type { LedgerDb } from '../store/ledgerDb';
import { brokenLinkMessage, type BrokenLinkNotice } from '../../../protocol/team';
import { isRowRefusal } from './syncErrors';
import { brokenLinks, linkedProjects, markLinksBroken } from '../store/workspaceLinks';

export type SyncTable = 'projects' | 'agents' | 'usage_tracking' | 'routing_decisions';

export interface UpsertOptions {
  /** Leave a row that exists with the same key as it is (ON CONFLICT DO NOTHING) instead of updating it. */
  ignoreDuplicates?: boolean;
}

/**
 * Where rows go. Implementations: SupabaseSyncTarget (supabase-js), PgSyncTarget (node-postgres).
 * A refusal by row-level security must surface as an error whose `code` is the SQLSTATE
 * 42501 (and, over HTTP, `status` 403): see syncErrors.ts.
 */
export interface SyncTarget {
  /** Inserts the rows, or updates the existing ones with the same `onConflict` key (comma-separated columns). */
  upsert(table: SyncTable, rows: Record<string, unknown>[], onConflict: string, options?: UpsertOptions): Promise<void>;
  /**
   * Whether the target user is (still) a member of a project: asked after a refusal of a
   * linked workspace's rows, so that a refusal for another cause does not break the link.
   * Without it, the refusal alone decides.
   */
  isProjectMember?(projectId: string): Promise<boolean>;
  close?(): Promise<void>;
}

export interface SyncTargetConfig {
  /** Identifies the target for the cursor: e.g. the Supabase URL and the user id. */
  key: string;
  /** The target's user: projects.user_id of every pushed project. */
  userId: string;
  /** Shown in the status (never a secret). */
  label: string;
  target: SyncTarget;
}

export interface SyncStatus {
  mode: 'local' | 'supabase';
  target: string | null;
  userId: string | null;
  /** ISO time of the last push the target accepted (for this target). */
  lastSuccessAt: string | null;
  /** Rows recorded and not yet pushed (null in local mode). */
  waiting: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
  /** Rows pushed to this target so far. */
  pushed: number;
  /** When the next try is due after a failure. */
  nextRetryAt: string | null;
  /**
   * This user's workspace links that the shared project refused (removed from it, or left
   * it from another machine): their rows sync to the person's own project until the
   * workspace is linked again or unlinked. Empty in local mode.
   */
  brokenLinks: BrokenLinkNotice[];
}

/** Emitted as 'linkBroken' when a shared project refused a linked workspace's rows. */
export interface LinkBrokenEvent {
  projectId: string;
  workspaceKeys: string[];
  reason: string;
}

export interface OutboxOptions {
  log: Logger;
  /** Rows per push (per table and request). */
  batchSize?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Wait after a kick, gathering more rows into the push. */
  debounceMs?: number;
  /** Look for unsynced rows this often even without a kick. */
  pollMs?: number;
}

/** uuid v5 (SHA-1, RFC 9562) in a fixed namespace: the same input gives the same id everywhere. */
export function deterministicUuid(name: string): string {
  const namespace = Buffer.from('6f3a7c52d1e04b0e9c1a5d8e2b7f4a10', 'hex');
  const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A workspace's project id on the target, for one target user. */
export function remoteProjectId(userId: string, workspaceKey: string): string {
  return deterministicUuid(`project\n${userId}\n${workspaceKey}`);
}

/** An agent's id on the target. Agents without an external id keep their local id as the key. */
export function remoteAgentId(remoteProject: string, externalId: string | null, localId: string): string {
  return deterministicUuid(`agent\n${remoteProject}\n${externalId ?? `id:${localId}`}`);
}

interface Cursor { nextSeq: number; nextPos: number }

const CONFLICT: Record<SyncTable, string> = { projects: 'id', agents: 'id', usage_tracking: 'request_id', routing_decisions: 'request_id' };

type Row = Record<string, unknown>;

/** Usage and decisions of a chunk going to one place. */
interface RowGroup {
  /** The shared project of linked workspaces, or null: the person's own projects. */
  shared: string | null;
  /** Local project ids of the rows. */
  localProjects: Set<string>;
  /**
   * Rows of workspaces whose link broke while pushing this chunk: pushed without updating
   * a row that exists (one the shared project accepted before it refused the rest stays there).
   */
  rerouted: boolean;
  usage_tracking: Row[];
  routing_decisions: Row[];
}

interface ChunkRows {
  projects: Row[];
  agents: Row[];
  /** Own rows first, then rerouted ones, then one group per shared project. */
  groups: RowGroup[];
}

/** A shared project refused a linked group's rows (internal to the outbox). */
class LinkRefused extends Error {
  constructor(readonly projectId: string, readonly localProjects: Set<string>, readonly reason: string, readonly refusal: unknown) {
    super(reason);
  }
}

export class Outbox extends EventEmitter {
  private readonly log: Logger;
  private readonly batchSize: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly debounceMs: number;
  private readonly pollMs: number;
  private config: SyncTargetConfig | null = null;
  /** One push at a time; asked for during one, another follows it (afterPush). */
  private readonly pushes = new SingleFlight<number>(() => this.push(), (result) => this.afterPush(result));
  /** The target the push in flight (or the last one) went to. */
  private pushingTo: SyncTargetConfig | null = null;
  private timer: NodeJS.Timeout | null = null;
  private poller: NodeJS.Timeout | null = null;
  private failures = 0;
  private nextRetryAt: number | null = null;
  private closed = false;

  constructor(private readonly db: LedgerDb, options: OutboxOptions) {
    super();
    this.log = options.log;
    this.batchSize = options.batchSize ?? 500;
    this.minBackoffMs = options.minBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 5 * 60_000;
    this.debounceMs = options.debounceMs ?? 200;
    this.pollMs = options.pollMs ?? 60_000;
  }

  get target(): SyncTargetConfig | null {
    return this.config;
  }

  /** Chooses where to push (null: local only). A new target starts where its cursor stands. */
  setTarget(config: SyncTargetConfig | null): void {
    const old = this.config;
    this.config = config;
    if (old && old.target !== config?.target) old.target.close?.().catch(() => undefined);
    this.failures = 0;
    this.nextRetryAt = null;
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
    if (!config || this.closed) return;
    this.poller = setInterval(() => this.schedule(0), this.pollMs);
    this.poller.unref();
    this.schedule(0, true);
  }

  /** New rows were recorded. */
  kick(): void {
    this.schedule(this.debounceMs);
  }

  /** Pushes until nothing waits; rejects with the target's error. Returns rows pushed. */
  async pushNow(): Promise<number> {
    let total = 0;
    await this.pushes.drain((n) => { total += n; });
    return total;
  }

  async status(): Promise<SyncStatus> {
    const config = this.config;
    const base: SyncStatus = {
      mode: config ? 'supabase' : 'local', target: config?.label ?? null, userId: config?.userId ?? null,
      lastSuccessAt: null, waiting: null, lastError: null, lastErrorAt: null, pushed: 0,
      nextRetryAt: this.nextRetryAt ? new Date(this.nextRetryAt).toISOString() : null,
      brokenLinks: [],
    };
    if (!config) return base;
    const broken = (await brokenLinks(this.db, config.userId)).map((l): BrokenLinkNotice => ({
      workspaceKey: l.workspaceKey, projectId: l.projectId, projectName: l.projectName,
      brokenAt: l.brokenAt ?? '', reason: l.brokenReason ?? '', message: brokenLinkMessage(l),
    }));
    const { rows } = await this.db.query<{ last_success_at: Date | null; last_error: string | null; last_error_at: Date | null; pushed: string | number; waiting: string | number }>(
      `with c as (
         select coalesce((select next_seq from conduit_local.sync_cursor where target_key = $1), 0) as next_seq,
                coalesce((select next_pos from conduit_local.sync_cursor where target_key = $1), 0) as next_pos
       )
       select sc.last_success_at, sc.last_error, sc.last_error_at, coalesce(sc.pushed, 0) as pushed,
         (select coalesce(sum(cardinality(l.ids) - case when l.seq = c.next_seq then c.next_pos else 0 end), 0)
            from conduit_local.sync_log l where l.seq >= c.next_seq) as waiting
       from c left join conduit_local.sync_cursor sc on sc.target_key = $1`,
      [config.key],
    );
    const r = rows[0];
    return {
      ...base,
      lastSuccessAt: r?.last_success_at ? new Date(r.last_success_at).toISOString() : null,
      lastError: r?.last_error ?? null,
      lastErrorAt: r?.last_error_at ? new Date(r.last_error_at).toISOString() : null,
      pushed: Number(r?.pushed ?? 0),
      waiting: Math.max(0, Number(r?.waiting ?? 0)),
      brokenLinks: broken,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.poller) clearInterval(this.poller);
    this.timer = this.poller = null;
    // A push in flight ends within its request's time; do not wait longer than a moment.
    await Promise.race([this.pushes.current?.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 3_000).unref())]);
    await this.config?.target.close?.().catch(() => undefined);
  }

  private schedule(delayMs: number, force = false): void {
    if (this.closed || !this.config) return;
    if (this.pushes.askAgain()) return;
    // While backing off after a failure, new rows wait for the retry (unless a new target).
    if (this.nextRetryAt && !force) return;
    if (this.timer) {
      if (delayMs > 0 && !force) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.run().catch(() => undefined);
    }, delayMs);
    this.timer.unref?.();
  }

  private run(): Promise<number> {
    return this.pushes.run();
  }

  /** One push to the target (none without one), its failure recorded. */
  private push(): Promise<number> {
    this.nextRetryAt = null;
    const config = this.config;
    this.pushingTo = config;
    return (config ? this.drain(config) : Promise.resolve(0)).then(
      (n) => {
        this.failures = 0;
        return n;
      },
      async (err: Error) => {
        this.failures++;
        const message = (err?.message ?? String(err)).slice(0, 1000);
        if (config) await this.recordError(config, message).catch(() => undefined);
        throw err;
      },
    );
  }

  /** A push ended: another if one was asked for meanwhile, else 'synced'; after a failure, a retry with backoff. */
  private afterPush(result: PromiseSettledResult<number>): void {
    const config = this.pushingTo;
    if (result.status === 'fulfilled') {
      if (this.pushes.askedAgain) this.schedule(0);
      else this.emit('synced');
      return;
    }
    const err = result.reason as Error;
    if (this.closed || this.config !== config) return;
    const base = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** (this.failures - 1));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.nextRetryAt = Date.now() + delay;
    this.log.warn(`ledger: sync push to ${config?.label} failed (try ${this.failures}, next in ${Math.round(delay / 1000)} s): ${err.message}`);
    this.emit('failed', err);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.nextRetryAt = null;
      this.run().catch(() => undefined);
    }, delay);
    this.timer.unref?.();
  }

  private async recordError(config: SyncTargetConfig, message: string): Promise<void> {
    await this.db.query(
      `insert into conduit_local.sync_cursor (target_key, last_error, last_error_at) values ($1, $2, now())
       on conflict (target_key) do update set last_error = excluded.last_error, last_error_at = excluded.last_error_at`,
      [config.key, message],
    );
  }

  private async cursor(key: string): Promise<Cursor> {
    const { rows } = await this.db.query<{ next_seq: string | number; next_pos: number }>(
      `select next_seq, next_pos from conduit_local.sync_cursor where target_key = $1`, [key]);
    return rows.length ? { nextSeq: Number(rows[0].next_seq), nextPos: Number(rows[0].next_pos) } : { nextSeq: 0, nextPos: 0 };
  }

  /** Pushes chunks until the log is exhausted. */
  private async drain(config: SyncTargetConfig): Promise<number> {
    let pushed = 0;
    for (;;) {
      if (this.closed || this.config !== config) return pushed;
      const n = await this.pushChunk(config);
      if (n === null) return pushed;
      pushed += n;
    }
  }

  /** One chunk of up to batchSize logged rows; null when nothing waits. */
  private async pushChunk(config: SyncTargetConfig): Promise<number | null> {
    const start = await this.cursor(config.key);
    // The next entries, each cut to the ids a chunk can take (a bulk insert logs one entry
    // with all its ids): `first` is the position in the entry the cursor points into.
    const { rows: entries } = await this.db.query<{ seq: string | number; table_name: SyncTable; ids: string[]; first: number; total: number }>(
      `select seq, table_name, first, cardinality(ids) as total, ids[first + 1 : first + $3]::text[] as ids
       from (select l.*, case when l.seq = $1 then $2::int else 0 end as first
             from conduit_local.sync_log l where l.seq >= $1 order by l.seq limit 64) e
       order by seq`,
      [start.nextSeq, start.nextPos, this.batchSize],
    );
    const taken: Record<SyncTable, Set<string>> = { projects: new Set(), agents: new Set(), usage_tracking: new Set(), routing_decisions: new Set() };
    let count = 0;
    let next: Cursor = start;
    for (const e of entries) {
      const seq = Number(e.seq);
      let pos = Number(e.first);
      for (const id of e.ids ?? []) {
        if (count >= this.batchSize) break;
        taken[e.table_name]?.add(id);
        pos++;
        count++;
      }
      next = pos >= Number(e.total) ? { nextSeq: seq + 1, nextPos: 0 } : { nextSeq: seq, nextPos: pos };
      if (count >= this.batchSize) break;
    }
    if (next.nextSeq === start.nextSeq && next.nextPos === start.nextPos) return null;

    // Local projects whose link broke on this chunk: their rows go to the person's own
    // projects. Grows with every refusal, so this ends.
    const rerouted = new Set<string>();
    let rowsPushed: number;
    for (;;) {
      const batches = await this.remoteRows(config, taken, rerouted);
      try {
        rowsPushed = await this.upload(config, batches);
        break;
      } catch (err) {
        if (!(err instanceof LinkRefused)) throw err;
        const workspaceKeys = await markLinksBroken(this.db, config.userId, err.projectId, err.reason);
        for (const id of err.localProjects) rerouted.add(id);
        this.log.warn(`ledger: the shared project ${err.projectId} refused the rows of linked workspace(s) ${workspaceKeys.join(', ') || '(none left)'}: ` +
          `link marked broken, their rows go to ${config.userId}'s own project (${err.reason})`);
        this.emit('linkBroken', { projectId: err.projectId, workspaceKeys, reason: err.reason } satisfies LinkBrokenEvent);
      }
    }
    await this.db.query(
      `insert into conduit_local.sync_cursor (target_key, next_seq, next_pos, pushed, last_success_at, last_error, last_error_at)
       values ($1, $2, $3, $4, now(), null, null)
       on conflict (target_key) do update set next_seq = excluded.next_seq, next_pos = excluded.next_pos,
         pushed = conduit_local.sync_cursor.pushed + excluded.pushed, last_success_at = now(), last_error = null, last_error_at = null`,
      [config.key, next.nextSeq, next.nextPos, count],
    );
    this.emit('pushed', { rows: count, usage: rowsPushed });
    return count;
  }

  /**
   * Pushes a chunk's rows: configuration, then own usage and decisions, then each shared
   * project's. Throws LinkRefused when a shared project refused its rows because the person
   * is no longer a member; any other error as it came. Returns the usage and decision rows.
   */
  private async upload(config: SyncTargetConfig, batches: ChunkRows): Promise<number> {
    const put = async (table: SyncTable, rows: Row[], options?: UpsertOptions) => {
      for (let i = 0; i < rows.length; i += this.batchSize) {
        await config.target.upsert(table, rows.slice(i, i + this.batchSize), CONFLICT[table], options);
      }
    };
    await put('projects', batches.projects);
    await put('agents', batches.agents);
    let rows = 0;
    for (const group of batches.groups) {
      for (const table of ['usage_tracking', 'routing_decisions'] as const) {
        try {
          await put(table, group[table], group.rerouted ? { ignoreDuplicates: true } : undefined);
        } catch (err) {
          const reason = group.shared ? await this.linkRefusal(config, group.shared, err) : null;
          if (reason && group.shared) throw new LinkRefused(group.shared, group.localProjects, reason, err);
          throw err;
        }
        rows += group[table].length;
      }
    }
    return rows;
  }

  /**
   * Why a shared project's refusal means the link is broken, or null when it does not: the
   * error is not a row-level security refusal (network, 5xx, expired session…), or the
   * target says the person is still a member, or could not say (then it is retried).
   */
  private async linkRefusal(config: SyncTargetConfig, projectId: string, err: unknown): Promise<string | null> {
    if (!isRowRefusal(err)) return null;
    let member: boolean | null = null;
    if (config.target.isProjectMember) {
      try {
        member = await config.target.isProjectMember(projectId);
      } catch {
        return null;
      }
      if (member) return null;
    }
    const said = ((err as Error)?.message ?? String(err)).replace(/\s+/g, ' ').trim().slice(0, 300);
    const code = (err as { code?: string }).code;
    const answer = said.includes(`code ${code}`) ? said : `${said} (SQLSTATE ${code})`;
    return `${member === false ? 'you are no longer a member of it' : 'row-level security refused them'}; ${answer}`;
  }

  /**
   * The rows to push, shaped for the target: ids mapped, and the projects and agents that
   * the chunk's usage refers to included, so every chunk stands on its own on the target.
   * Rows of the `rerouted` local projects go to the person's own projects whatever their links.
   */
  private async remoteRows(config: SyncTargetConfig, taken: Record<SyncTable, Set<string>>, rerouted: ReadonlySet<string>): Promise<ChunkRows> {
    const usageIds = [...taken.usage_tracking];
    const decisionIds = [...taken.routing_decisions];
    const { rows: usage } = usageIds.length
      ? await this.db.query<{ row: Record<string, unknown> }>(
        `select to_jsonb(u) - 'total_tokens' as row from public.usage_tracking u where u.id = any($1::uuid[]) and u.project_id is not null`,
        [usageIds])
      : { rows: [] };
    const { rows: decisions } = decisionIds.length
      ? await this.db.query<{ row: Record<string, unknown> }>(
        `select to_jsonb(d) as row from public.routing_decisions d where d.id = any($1::uuid[]) and d.project_id is not null`,
        [decisionIds])
      : { rows: [] };
    const projectIds = new Set(taken.projects);
    const agentIds = new Set(taken.agents);
    for (const { row } of [...usage, ...decisions]) {
      projectIds.add(row.project_id as string);
      if (row.agent_id) agentIds.add(row.agent_id as string);
    }
    const { rows: agents } = agentIds.size
      ? await this.db.query<{ row: Record<string, unknown> }>(
        `select to_jsonb(a) - 'updated_at' as row from public.agents a where a.id = any($1::uuid[])`, [[...agentIds]])
      : { rows: [] };
    for (const { row } of agents) projectIds.add(row.project_id as string);
    const { rows: projects } = projectIds.size
      ? await this.db.query<{ row: Record<string, unknown> }>(
        `select to_jsonb(p) - 'updated_at' as row from public.projects p where p.id = any($1::uuid[])`, [[...projectIds]])
      : { rows: [] };

    // Workspaces linked to a project shared with the target user (team sharing): their
    // usage goes there, their configuration (project row, agents) stays local, since only
    // the owner changes the shared project's (row-level security would refuse it).
    const linked = await linkedProjects(this.db, config.userId, projects.map(({ row }) => row.id as string).filter((id) => !rerouted.has(id)));
    const projectMap = new Map<string, string>();
    const outProjects = projects.flatMap(({ row }) => {
      const shared = linked.get(row.id as string);
      if (shared) {
        projectMap.set(row.id as string, shared);
        return [];
      }
      const id = remoteProjectId(config.userId, row.workspace_key as string);
      projectMap.set(row.id as string, id);
      return [{ ...row, id, user_id: config.userId }];
    });
    const agentMap = new Map<string, string>();
    const outAgents = agents.flatMap(({ row }) => {
      if (linked.has(row.project_id as string)) return [];
      const project = projectMap.get(row.project_id as string);
      if (!project) return [];
      const id = remoteAgentId(project, (row.external_id as string | null) ?? null, row.id as string);
      agentMap.set(row.id as string, id);
      return [{ ...row, id, project_id: project }];
    });
    // Usage and decisions carry who made them (user_id, for team sharing): everything in
    // this store is the one person's, who is the target user. Rows of a linked workspace
    // lose their agent (agents are the shared project's owner's configuration).
    const remap = (row: Record<string, unknown>) => ({
      ...row,
      project_id: projectMap.get(row.project_id as string) ?? null,
      agent_id: row.agent_id && !linked.has(row.project_id as string) ? (agentMap.get(row.agent_id as string) ?? null) : null,
      user_id: config.userId,
    });
    const own: RowGroup = { shared: null, localProjects: new Set(), rerouted: false, usage_tracking: [], routing_decisions: [] };
    const again: RowGroup = { shared: null, localProjects: new Set(), rerouted: true, usage_tracking: [], routing_decisions: [] };
    const sharedGroups = new Map<string, RowGroup>();
    const place = (table: 'usage_tracking' | 'routing_decisions', rows: { row: Row }[]) => {
      for (const { row } of rows) {
        const local = row.project_id as string;
        const out = remap(row);
        if (!out.project_id) continue;
        const shared = linked.get(local);
        let group = own;
        if (shared) {
          group = sharedGroups.get(shared) ?? { shared, localProjects: new Set(), rerouted: false, usage_tracking: [], routing_decisions: [] };
          sharedGroups.set(shared, group);
        } else if (rerouted.has(local)) {
          group = again;
        }
        group.localProjects.add(local);
        group[table].push(out);
      }
    };
    place('usage_tracking', usage);
    place('routing_decisions', decisions);
    return { projects: outProjects, agents: outAgents, groups: [own, again, ...sharedGroups.values()] };
  }
}
