// Journal → usage_tracking + routing_decisions (+ projects and agents as they appear).
//
// Idempotent: rows are inserted with ON CONFLICT (request_id) DO NOTHING, so reading a
// line twice never counts it twice. Crash-safe: each batch's rows and the file's new
// checkpoint (byte offset after the batch's last line) commit in one transaction; after a
// kill the next pass starts from the last committed offset, and the lines it reads again
// are skipped by their request ids. Fast: one INSERT of up to `batchSize` records per
// transaction, their JSON (an array of row arrays) parsed once by Postgres, without the
// foreign-key checks of every row and with the triggers' work done by the batch itself
// (see WORK_OF_SKIPPED_TRIGGERS).
import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { Logger } from '../../core/log';
import type { LedgerDb } from './ledgerDb';
import type { SqlClient } from './sqlClient';
import { factsOfRecord, fileSize, journalFiles, readJournalChunk, type JournalLine, type LedgerRecord } from './journalReader';
import type { UnrecordedUsage } from '../../../protocol/usage';
import { storableText } from '../../usage/storableText';
import { NO_UNRECORDED, unrecordedUsage } from './unrecorded';
import { SingleFlight } from '../../core/singleFlight';

export interface IngestOptions {
  log: Logger;
  /** Records per INSERT and transaction. */
  batchSize?: number;
  /** Wait after a new record is announced, gathering others into the same batch. */
  debounceMs?: number;
  /** Catch-up poll, in case an announcement was missed. */
  pollMs?: number;
}

export interface IngestPassResult {
  /** Records read (including those already stored). */
  records: number;
  /** usage_tracking rows inserted (new request ids). */
  inserted: number;
  rejected: number;
}

export interface BatchCommitted {
  file: string;
  offset: number;
  records: number;
  inserted: number;
  rejected: number;
}

/** How long (and how many) ingested request ids are remembered against late announcements. */
const RECENT_MS = 10_000;
const RECENT_MAX = 50_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The columns of a batch's rows, in the order rowOf() writes them. Rows travel as one JSON
 * array of arrays: the same bytes without the 32 keys repeated in every row are about half
 * the text to serialize, hand over and parse (object rows cost more in PGlite's parameter
 * encoding and in jsonb's parser than every other step of a row but the inserts).
 */
const COLUMNS: [name: string, type: string][] = [
  ['request_id', 'text'], ['project_id', 'uuid'], ['agent_id', 'uuid'], ['session_id', 'text'],
  ['claude_session_id', 'text'], ['agent_type', 'text'], ['model', 'text'], ['requested_model', 'text'],
  ['provider', 'text'], ['routing_source', 'text'], ['routing_rule', 'text'], ['input_tokens', 'integer'],
  ['output_tokens', 'integer'], ['cache_creation_tokens', 'integer'], ['cache_creation_5m_tokens', 'integer'],
  ['cache_creation_1h_tokens', 'integer'], ['cache_read_tokens', 'integer'], ['cost', 'numeric'],
  ['cost_source', 'text'], ['price_version', 'text'], ['status', 'integer'], ['error', 'text'],
  ['stream', 'boolean'], ['duration_ms', 'integer'], ['first_byte_ms', 'integer'], ['device', 'text'],
  ['metadata', 'jsonb'], ['started_at', 'timestamptz'], ['ended_at', 'timestamptz'], ['token_count', 'integer'],
  ['decision_metadata', 'jsonb'], ['decided_at', 'timestamptz'],
];

/** Element i of a row array as its column's type (jsonb columns stay jsonb; ->> is text). */
const SELECT_COLUMNS = COLUMNS.map(([name, type], i) => (type === 'jsonb' ? `r->${i} as ${name}` : type === 'text' ? `r->>${i} as ${name}` : `(r->>${i})::${type} as ${name}`)).join(',\n    ');

/**
 * The batch path (INSERT_SQL) runs with session_replication_role = replica, where no
 * ordinary trigger fires, and does each skipped trigger's work itself; this list is the one
 * place that says how. Its keys are every insert trigger of the two tables (`table.trigger`),
 * and test/ledger/ingestTriggers.test.ts fails when a migration adds one that is not here.
 * Replica mode also skips the foreign-key checks of every row (a usage row and its decision
 * each check their project, agent and the agent's project): ensureReferences() makes them
 * once per batch, in the same transaction, on a store with one connection, so nothing can
 * delete a checked project or agent before the commit. A decision row is written only with
 * its usage row, so its references are the ones the usage row's batch was checked for.
 */
export const WORK_OF_SKIPPED_TRIGGERS: Readonly<Record<string, string>> = {
  'usage_tracking.usage_tracking_rollups_insert': 'INSERT_SQL calls public.usage_rollups_apply() over the rows it inserted (the function the trigger calls)',
  'usage_tracking.conduit_sync_log_insert': 'INSERT_SQL writes the change log (conduit_local.sync_log) of the rows it inserted',
  'routing_decisions.conduit_sync_log_insert': 'INSERT_SQL writes the change log (conduit_local.sync_log) of the rows it inserted',
  'usage_tracking.usage_tracking_fill_request_id': 'fires (ENABLE ALWAYS) and does nothing: every journal record has its request id',
};

const INSERT_SQL = `
with src as materialized (
  select
    ${SELECT_COLUMNS}
  from jsonb_array_elements($1::jsonb) as e(r)
),
u as (
  insert into public.usage_tracking (
    request_id, project_id, agent_id, session_id, claude_session_id, agent_type, model, requested_model,
    provider, routing_source, routing_rule, input_tokens, output_tokens, cache_creation_tokens,
    cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens, cost, cost_source, price_version,
    status, error, stream, duration_ms, first_byte_ms, device, metadata, started_at, ended_at, created_at)
  select
    request_id, project_id, agent_id, session_id, claude_session_id, agent_type, model, requested_model,
    provider, routing_source, routing_rule, input_tokens, output_tokens, cache_creation_tokens,
    cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens, cost, cost_source, price_version,
    status, error, stream, duration_ms, first_byte_ms, device, metadata, started_at, ended_at, ended_at
  from src
  on conflict (request_id) do nothing
  returning id, request_id, usage_tracking as row
),
d as (
  insert into public.routing_decisions (
    request_id, project_id, agent_id, session_id, requested_model, selected_model, provider,
    routing_source, rule, token_count, decision_metadata, created_at)
  select
    s.request_id, s.project_id, s.agent_id, s.session_id, s.requested_model, s.model, s.provider,
    s.routing_source, s.routing_rule, s.token_count, s.decision_metadata, coalesce(s.decided_at, s.ended_at)
  from src s join u on u.request_id = s.request_id
  on conflict (request_id) do nothing
  returning id
),
logged as (
  insert into conduit_local.sync_log (table_name, ids)
  select 'usage_tracking', array_agg(id) from u having count(*) > 0
  union all
  select 'routing_decisions', array_agg(id) from d having count(*) > 0
)
select (select count(*) from u)::int as usage, (select count(*) from d)::int as decisions,
  (select public.usage_rollups_apply(array_agg(u.row), 1) from u) is null as rolled_up`;

/**
 * The projects and agents a batch's rows name that do not exist (any longer): a cached id
 * of a project or agent deleted since. Checked once per batch instead of per row.
 */
const MISSING_REFERENCES_SQL = `
select
  array(select p from unnest($1::uuid[]) as w(p)
        where not exists (select 1 from public.projects x where x.id = w.p))::text[] as projects,
  array(select a from unnest($2::uuid[], $3::uuid[]) as w(a, p)
        where not exists (select 1 from public.agents x where x.id = w.a and x.project_id = w.p))::text[] as agents`;

const CHECKPOINT_SQL = `
insert into conduit_local.journal_checkpoint (file, byte_offset, records, updated_at)
values ($1, $2, $3, now())
on conflict (file) do update set
  byte_offset = excluded.byte_offset,
  records = conduit_local.journal_checkpoint.records + excluded.records,
  updated_at = now()`;

const REJECT_SQL = `
insert into conduit_local.ingest_rejects (file, byte_offset, request_id, error, line, cost, ended_at, project_ref, agent_ref, session_ref)
select * from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::timestamptz[], $8::text[], $9::text[], $10::text[])
on conflict (file, byte_offset) do nothing`;

/**
 * Postgres' data exceptions (class 22: a value the column or jsonb cannot take): the
 * record is at fault, not the store, even when it is the only one in its batch.
 */
function isDataException(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('22');
}

/** A display name for a project known only by its key: the last segment of a path or URI. */
export function projectNameOf(key: string): string {
  const parts = key.split(/[\\/]/).filter(Boolean);
  return (parts.length ? parts[parts.length - 1] : key).slice(0, 200);
}

export class JournalIngester extends EventEmitter {
  private readonly log: Logger;
  private readonly batchSize: number;
  private readonly debounceMs: number;
  private readonly pollMs: number;
  private readonly checkpoints = new Map<string, number>();
  private readonly projects = new Map<string, string>();
  private readonly agents = new Map<string, string>();
  /** Agents deleted through the projects API: a late request naming one is kept without an agent. */
  private readonly deletedAgents = new Set<string>();
  /** Request ids announced by the gateway and not yet seen in the journal, with when. */
  private readonly announced = new Map<string, number>();
  /**
   * Request ids read from the journal in the last RECENT_MS, oldest first: an announcement
   * that arrives after its line was already ingested (by a pass that ran meanwhile) is
   * done, and must not keep the ingester looking for it.
   */
  private readonly recent = new Map<string, number>();
  /** One pass at a time; asked for during one, another follows it (afterPass). */
  private readonly passes = new SingleFlight<IngestPassResult>(() => this.countedPass(), () => this.afterPass());
  private timer: NodeJS.Timeout | null = null;
  private poller: NodeJS.Timeout | null = null;
  private failures = 0;
  private stopped = false;
  private halted = false;
  private loaded = false;
  private unrecordedTotals: UnrecordedUsage = NO_UNRECORDED;

  constructor(
    private readonly db: LedgerDb,
    private readonly journalDir: string,
    private readonly localUserId: string,
    options: IngestOptions,
  ) {
    super();
    this.log = options.log;
    this.batchSize = options.batchSize ?? 1000;
    this.debounceMs = options.debounceMs ?? 100;
    this.pollMs = options.pollMs ?? 30_000;
  }

  /** Starts the catch-up poll; the first pass runs at once. */
  start(): void {
    this.stopped = false;
    this.halted = false;
    this.poller = setInterval(() => this.schedule(0), this.pollMs);
    this.poller.unref();
    this.schedule(0);
  }

  /** The gateway has (or is about to have) journaled these requests. */
  announce(requestIds: string[]): void {
    const now = Date.now();
    let fresh = 0;
    for (const id of requestIds) {
      if (this.recent.has(id)) continue;
      this.announced.set(id, now);
      fresh++;
    }
    if (fresh) this.schedule(this.debounceMs);
  }

  /** No more passes of its own (announcements and polls are ignored); ingestAvailable() still works. */
  stopScheduling(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.poller) clearInterval(this.poller);
    this.timer = this.poller = null;
  }

  /** Stops scheduling, ends the pass in flight after its current batch, and waits for it. */
  async stop(): Promise<void> {
    this.stopScheduling();
    this.halted = true;
    await this.passes.current?.catch(() => undefined);
  }

  /** Runs passes until the journal holds nothing new (a pass in flight is joined, then run again). */
  async ingestAvailable(): Promise<IngestPassResult> {
    const total: IngestPassResult = { records: 0, inserted: 0, rejected: 0 };
    // A pass already reading is let finish, then one runs that starts after this call.
    await this.passes.drain((r) => {
      total.records += r.records;
      total.inserted += r.inserted;
      total.rejected += r.rejected;
    });
    return total;
  }

  /** The agent with this id (and external id) was deleted: forget it, and attach no later request naming it to an agent. */
  forgetAgent(id: string, externalId: string | null): void {
    const lower = id.toLowerCase();
    this.deletedAgents.add(lower);
    if (externalId) this.deletedAgents.add(externalId.toLowerCase());
    for (const [key, value] of this.agents) if (value === lower) this.agents.delete(key);
  }

  /** The project with this id was merged into another (projectStore.ts): its keys are resolved again. */
  forgetProject(id: string): void {
    for (const [key, value] of this.projects) if (value === id) this.projects.delete(key);
    for (const key of this.agents.keys()) if (key.startsWith(`${id}\n`)) this.agents.delete(key);
  }

  /**
   * Billed requests the store could not record (unrecorded.ts), as of the last pass that
   * set a line aside (and the first pass). Emitted as 'unrecorded' when it changes.
   */
  get unrecorded(): UnrecordedUsage {
    return this.unrecordedTotals;
  }

  /** Checkpoints as stored: journal file name → byte offset. */
  checkpointOf(file: string): number {
    return this.checkpoints.get(file) ?? 0;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.passes.askAgain()) return;
    if (this.timer) {
      if (delayMs > 0) return; // already due soon
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.passes.run().catch(() => undefined);
    }, delayMs);
    this.timer.unref?.();
  }

  /** One pass, its failures counted and its result announced ('pass'). */
  private countedPass(): Promise<IngestPassResult> {
    return this.pass().then(
      (r) => {
        this.failures = 0;
        this.emit('pass', r);
        return r;
      },
      (err: Error) => {
        this.failures++;
        this.log.error(`ledger: journal ingestion failed (retrying): ${err.message}`);
        throw err;
      },
    );
  }

  private afterPass(): void {
    if (this.stopped) return;
    if (this.failures > 0) {
      this.schedule(Math.min(60_000, 1000 * 2 ** (this.failures - 1)));
      return;
    }
    if (this.passes.askedAgain) {
      this.schedule(0);
      return;
    }
    // Announced requests whose lines were not on disk yet: look again shortly. The journal
    // logs its own write errors; an id it never wrote is given up after a minute.
    const now = Date.now();
    for (const [id, at] of this.announced) if (now - at > 60_000) this.announced.delete(id);
    if (this.announced.size) this.schedule(Math.max(this.debounceMs, 50));
    else this.emit('idle');
  }

  private async loadCheckpoints(): Promise<void> {
    const { rows } = await this.db.query<{ file: string; byte_offset: string | number }>(
      `select file, byte_offset from conduit_local.journal_checkpoint`,
    );
    for (const r of rows) this.checkpoints.set(r.file, Number(r.byte_offset));
    this.loaded = true;
    await this.countUnrecorded();
  }

  private async countUnrecorded(): Promise<void> {
    this.unrecordedTotals = await unrecordedUsage(this.db);
    this.emit('unrecorded', this.unrecordedTotals);
  }

  private async pass(): Promise<IngestPassResult> {
    if (!this.loaded) await this.loadCheckpoints();
    const result: IngestPassResult = { records: 0, inserted: 0, rejected: 0 };
    try {
      await this.readFiles(result);
    } finally {
      // Counted also when the pass fails later on: the lines set aside before are committed.
      if (result.rejected) await this.countUnrecorded().catch((err: Error) => this.log.warn(`ledger: could not count unrecorded requests: ${err.message}`));
    }
    return result;
  }

  private async readFiles(result: IngestPassResult): Promise<void> {
    for (const file of await journalFiles(this.journalDir)) {
      const full = path.join(this.journalDir, file);
      let offset = this.checkpoints.get(file) ?? 0;
      const size = await fileSize(full);
      if (size < offset) {
        // Not the file we read: replaced or truncated. Read it all again (ids deduplicate).
        this.log.warn(`ledger: journal ${file} is shorter (${size} bytes) than its checkpoint (${offset}); reading it again from the start`);
        offset = 0;
      }
      while (offset < size && !this.halted) {
        const chunk = await readJournalChunk(full, offset);
        if (chunk.end === offset) break; // only an unfinished line follows
        for (let i = 0; i < chunk.lines.length; i += this.batchSize) {
          if (this.halted) return;
          const lines = chunk.lines.slice(i, i + this.batchSize);
          const end = i + this.batchSize >= chunk.lines.length ? chunk.end : lines[lines.length - 1].end;
          const r = await this.commitLines(file, lines, end);
          result.records += r.records;
          result.inserted += r.inserted;
          result.rejected += r.rejected;
        }
        offset = chunk.end;
      }
    }
  }

  private async commitLines(file: string, lines: JournalLine[], end: number): Promise<IngestPassResult> {
    const records: LedgerRecord[] = [];
    const rejects: JournalLine[] = [];
    const seen = new Set<string>();
    const now = Date.now();
    for (const [id, at] of this.recent) {
      if (now - at <= RECENT_MS && this.recent.size <= RECENT_MAX) break;
      this.recent.delete(id);
    }
    for (const line of lines) {
      if (line.reject) {
        rejects.push(line);
        const id = line.reject.requestId;
        if (id && !line.record) {
          this.announced.delete(id);
          this.recent.set(id, now);
        }
      }
      if (!line.record) continue;
      if (this.announced.size) this.announced.delete(line.record.requestId);
      this.recent.delete(line.record.requestId); // keep the map in order of reading
      this.recent.set(line.record.requestId, now);
      if (seen.has(line.record.requestId)) continue;
      seen.add(line.record.requestId);
      records.push(line.record);
    }
    let outcome: IngestPassResult;
    try {
      outcome = { records: records.length, inserted: await this.commit(file, records, rejects, end), rejected: rejects.length };
    } catch (err) {
      if (records.length === 0 || (records.length === 1 && !isDataException(err))) throw err;
      // Something in the batch is refused that the checks above let through: store the
      // records one at a time and reject only those that still fail. When all fail, and
      // not for their values, the cause is not the records: report it and keep the
      // checkpoint where it was.
      outcome = await this.commitOneByOne(file, records, rejects, lines, end, err as Error);
    }
    this.checkpoints.set(file, end);
    this.emit('batch', { file, offset: end, records: outcome.records, inserted: outcome.inserted, rejected: outcome.rejected } satisfies BatchCommitted);
    return outcome;
  }

  private async commitOneByOne(file: string, records: LedgerRecord[], rejects: JournalLine[], lines: JournalLine[], end: number, first: Error): Promise<IngestPassResult> {
    const lineOf = new Map(lines.filter((l) => l.record).map((l) => [l.record!.requestId, l]));
    const good: LedgerRecord[] = [];
    const bad: JournalLine[] = [];
    let allDataExceptions = true;
    for (const record of records) {
      try {
        await this.db.transaction(async (tx) => {
          await this.insertRecords(tx, [record]);
          throw new Rollback(); // a trial only: the batch commits below, with its checkpoint
        });
      } catch (err) {
        if (err instanceof Rollback) {
          good.push(record);
          continue;
        }
        if (!isDataException(err)) allDataExceptions = false;
        const line = lineOf.get(record.requestId)!;
        bad.push({ ...line, record: undefined, reject: { error: `refused by the store: ${(err as Error).message}`, text: JSON.stringify(record), ...factsOfRecord(record) } });
      }
    }
    if (!good.length && !allDataExceptions) throw first;
    this.log.warn(`ledger: ${bad.length} journal record(s) of ${file} refused by the store; kept in conduit_local.ingest_rejects and counted as unrecorded`);
    const inserted = await this.commit(file, good, [...rejects, ...bad], end);
    return { records: good.length, inserted, rejected: rejects.length + bad.length };
  }

  private async commit(file: string, records: LedgerRecord[], rejects: JournalLine[], end: number): Promise<number> {
    const resolved = { projects: new Map<string, string>(), agents: new Map<string, string>() };
    const inserted = await this.db.transaction(async (tx) => {
      const n = records.length ? await this.insertRecords(tx, records, resolved) : 0;
      if (rejects.length) {
        const r = rejects.map((l) => l.reject!);
        await tx.query(REJECT_SQL, [
          rejects.map(() => file),
          rejects.map((l) => l.start),
          r.map((x) => x.requestId),
          r.map((x) => storableText(x.error)),
          r.map((x) => storableText(x.text.slice(0, 100_000))),
          r.map((x) => x.cost),
          r.map((x) => x.endedAt),
          r.map((x) => x.projectRef),
          r.map((x) => x.agentRef),
          r.map((x) => x.sessionRef),
        ]);
      }
      await tx.query(CHECKPOINT_SQL, [file, end, records.length]);
      return n;
    });
    // Only what committed is remembered.
    for (const [k, v] of resolved.projects) this.projects.set(k, v);
    for (const [k, v] of resolved.agents) this.agents.set(k, v);
    return inserted;
  }

  private async insertRecords(tx: SqlClient, records: LedgerRecord[], resolved = { projects: new Map<string, string>(), agents: new Map<string, string>() }): Promise<number> {
    await this.ensureReferences(tx, records, resolved);
    const rows = records.map((r) => {
      const projectId = r.projectRef ? (this.projects.get(r.projectRef) ?? resolved.projects.get(r.projectRef) ?? null) : null;
      const agentKey = projectId && r.agentRef ? `${projectId}\n${r.agentRef}` : null;
      const agentId = agentKey ? (this.agents.get(agentKey) ?? resolved.agents.get(agentKey) ?? null) : null;
      const metadata: Record<string, unknown> = {};
      // An agent without a project cannot be attached (agents belong to projects).
      if (r.agentRef && !agentId) metadata.agent = r.agentRef;
      if (r.fallbacks) metadata.fallbacks = r.fallbacks;
      if (r.outputEstimated) metadata.outputEstimated = true;
      // In the order of COLUMNS.
      return [
        r.requestId, projectId, agentId, r.sessionId, r.claudeSessionId, r.agentType, r.model, r.requestedModel,
        r.provider, r.routingSource, r.routingRule, r.inputTokens, r.outputTokens, r.cacheCreationTokens,
        r.cacheCreation5mTokens, r.cacheCreation1hTokens, r.cacheReadTokens, r.cost, r.costSource, r.priceVersion,
        r.status, r.error, r.stream, r.durationMs, r.firstByteMs, r.device, metadata, r.startedAt, r.endedAt,
        r.tokenCount, r.fallbacks ? { fallbacks: r.fallbacks } : {}, r.decidedAt,
      ];
    });
    await tx.exec(`set local session_replication_role = replica`);
    const { rows: counts } = await tx.query<{ usage: number }>(INSERT_SQL, [JSON.stringify(rows)]);
    await tx.exec(`set local session_replication_role = origin`);
    return Number(counts[0].usage);
  }

  /**
   * Resolves the batch's projects and agents, and checks that those it names exist: the
   * foreign keys of its rows, once per batch (INSERT_SQL skips them per row). A cached id
   * whose project or agent was deleted since is forgotten and resolved again.
   */
  private async ensureReferences(tx: SqlClient, records: LedgerRecord[], resolved: { projects: Map<string, string>; agents: Map<string, string> }): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await this.resolveProjects(tx, records, resolved.projects);
      await this.resolveAgents(tx, records, resolved.projects, resolved.agents);
      const projects = new Set<string>();
      const agents = new Map<string, string>(); // agent id → its project
      for (const r of records) {
        const projectId = r.projectRef ? (this.projects.get(r.projectRef) ?? resolved.projects.get(r.projectRef)) : undefined;
        if (!projectId) continue;
        projects.add(projectId);
        const agentId = r.agentRef ? (this.agents.get(`${projectId}\n${r.agentRef}`) ?? resolved.agents.get(`${projectId}\n${r.agentRef}`)) : undefined;
        if (agentId) agents.set(agentId, projectId);
      }
      if (!projects.size) return;
      const { rows } = await tx.query<{ projects: string[]; agents: string[] }>(MISSING_REFERENCES_SQL, [[...projects], [...agents.keys()], [...agents.values()]]);
      const missingProjects = new Set(rows[0].projects);
      const missingAgents = new Set(rows[0].agents);
      if (!missingProjects.size && !missingAgents.size) return;
      // Resolved in this very transaction, and still missing: nothing to retry with.
      if (attempt > 0) throw new Error(`projects or agents vanished while recording a batch: ${[...missingProjects, ...missingAgents].join(', ')}`);
      for (const map of [this.projects, resolved.projects]) for (const [key, id] of map) if (missingProjects.has(id)) map.delete(key);
      for (const map of [this.agents, resolved.agents]) {
        for (const [key, id] of map) if (missingAgents.has(id) || missingProjects.has(key.slice(0, key.indexOf('\n')))) map.delete(key);
      }
    }
  }

  /**
   * Projects by the free string the request carried: the id of an existing project, or
   * else the local user's project with that workspace key (created on first sight).
   */
  private async resolveProjects(tx: SqlClient, records: LedgerRecord[], out: Map<string, string>): Promise<void> {
    const wanted = [...new Set(records.map((r) => r.projectRef).filter((p): p is string => !!p && !this.projects.has(p) && !out.has(p)))];
    if (!wanted.length) return;
    const byId = wanted.filter((p) => UUID.test(p));
    if (byId.length) {
      const { rows } = await tx.query<{ id: string }>(`select id::text from public.projects where id = any($1::uuid[])`, [byId]);
      for (const r of rows) out.set(byId.find((p) => p.toLowerCase() === r.id)!, r.id);
    }
    // An earlier key of a project (key_aliases: a random key an older extension kept) is that project.
    const { rows: aliased } = await tx.query<{ id: string; alias: string }>(
      `select p.id::text, a.alias from public.projects p cross join lateral unnest(p.key_aliases) as a(alias)
       where p.user_id = $1 and p.key_aliases && $2::text[] and a.alias = any($2::text[])`,
      [this.localUserId, wanted.filter((p) => !out.has(p))],
    );
    for (const r of aliased) out.set(r.alias, r.id);
    const keys = wanted.filter((p) => !out.has(p));
    if (!keys.length) return;
    await tx.query(
      `insert into public.projects (user_id, name, workspace_key)
       select $1, k.name, k.key from unnest($2::text[], $3::text[]) as k(key, name)
       on conflict (user_id, workspace_key) do nothing`,
      [this.localUserId, keys, keys.map(projectNameOf)],
    );
    const { rows } = await tx.query<{ id: string; workspace_key: string }>(
      `select id::text, workspace_key from public.projects where user_id = $1 and workspace_key = any($2::text[])`,
      [this.localUserId, keys],
    );
    for (const r of rows) out.set(r.workspace_key, r.id);
  }

  /** Agents by (project, the free string the request carried): an existing agent's id, or the external id. */
  private async resolveAgents(tx: SqlClient, records: LedgerRecord[], projects: Map<string, string>, out: Map<string, string>): Promise<void> {
    const wanted = new Map<string, { project: string; agent: string; type: string | null }>();
    for (const r of records) {
      if (!r.projectRef || !r.agentRef) continue;
      const project = this.projects.get(r.projectRef) ?? projects.get(r.projectRef);
      if (!project) continue;
      if (this.deletedAgents.size && this.deletedAgents.has(r.agentRef.toLowerCase())) continue;
      const key = `${project}\n${r.agentRef}`;
      if (!this.agents.has(key) && !out.has(key) && !wanted.has(key)) wanted.set(key, { project, agent: r.agentRef, type: r.agentType });
    }
    if (!wanted.size) return;
    const byId = [...wanted.values()].filter((w) => UUID.test(w.agent));
    if (byId.length) {
      const { rows } = await tx.query<{ id: string; project_id: string }>(
        `select id::text, project_id::text from public.agents where id = any($1::uuid[])`,
        [byId.map((w) => w.agent)],
      );
      for (const r of rows) {
        const w = byId.find((x) => x.agent.toLowerCase() === r.id && x.project === r.project_id);
        if (w) {
          out.set(`${w.project}\n${w.agent}`, r.id);
          wanted.delete(`${w.project}\n${w.agent}`);
        }
      }
    }
    if (!wanted.size) return;
    const list = [...wanted.values()];
    await tx.query(
      `insert into public.agents (project_id, name, external_id, persona_type)
       select a.project, a.name, a.external, a.persona from unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) as a(project, name, external, persona)
       on conflict (project_id, external_id) do nothing`,
      [list.map((w) => w.project), list.map((w) => w.agent.slice(0, 200)), list.map((w) => w.agent), list.map((w) => w.type)],
    );
    const { rows } = await tx.query<{ id: string; project_id: string; external_id: string }>(
      `select a.id::text, a.project_id::text, a.external_id from public.agents a
       join unnest($1::uuid[], $2::text[]) as w(project, external) on a.project_id = w.project and a.external_id = w.external`,
      [list.map((w) => w.project), list.map((w) => w.agent)],
    );
    for (const r of rows) out.set(`${r.project_id}\n${r.external_id}`, r.id);
  }
}

class Rollback extends Error {}
