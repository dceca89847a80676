// Reads the gateway's journal (CONDUIT_HOME/journal/YYYY-MM-DD.ndjson) from a byte offset:
// complete lines only, each parsed and checked into the rows the ledger stores.
//
// A line without its newline is never consumed: either the journal is writing it right
// now, or the gateway died while writing it (a torn tail). A torn tail is followed, after
// a restart, by the next record appended to the same file: that line then holds the torn
// bytes and a whole record behind them. The record is recovered from the first position
// where a whole record parses; the torn bytes are reported as rejected.
import { open, readdir, stat } from 'node:fs/promises';
import type { UsageRecord } from '../../../protocol/usage';
import type { TokenMeasures } from '../../../protocol/measures';
import { ROUTING_SOURCES } from '../../../protocol/routing';
import { storableText } from '../../usage/storableText';

export const JOURNAL_FILE = /^\d{4}-\d{2}-\d{2}\.ndjson$/;

/** One usage record, checked and shaped for usage_tracking and routing_decisions. */
export interface LedgerRecord extends TokenMeasures {
  requestId: string;
  projectRef: string | null;
  agentRef: string | null;
  agentType: string | null;
  sessionId: string | null;
  claudeSessionId: string | null;
  model: string;
  requestedModel: string | null;
  provider: string | null;
  routingSource: string;
  routingRule: string | null;
  tokenCount: number | null;
  fallbacks: string[] | null;
  decidedAt: string | null;
  /** The output tokens are the gateway's estimate (the client left before the provider's final count). */
  outputEstimated: boolean;
  cacheCreation5mTokens: number;
  cacheCreation1hTokens: number;
  cost: number | null;
  costSource: string | null;
  priceVersion: string | null;
  status: number | null;
  error: string | null;
  stream: boolean | null;
  durationMs: number | null;
  firstByteMs: number | null;
  device: string | null;
  startedAt: string | null;
  endedAt: string;
}

/**
 * What a line that is not a usable record still tells of its request, as far as it does:
 * it is counted as unrecorded (a billed request missing from the figures) with its cost.
 */
export interface RejectFacts {
  requestId: string | null;
  cost: number | null;
  endedAt: string | null;
  projectRef: string | null;
  agentRef: string | null;
  sessionRef: string | null;
}

export interface LineReject extends RejectFacts {
  error: string;
  text: string;
}

export interface JournalLine {
  /** Byte offset of the line's first byte, and of the byte after its newline. */
  start: number;
  end: number;
  record?: LedgerRecord;
  /** Set when the line (or a torn prefix of it) is not a usable record. */
  reject?: LineReject;
}

export interface JournalChunk {
  lines: JournalLine[];
  /** Offset after the last complete line read (the new checkpoint once they are stored). */
  end: number;
  /** The file's size when read. */
  size: number;
}

/** The journal files in name order, which is date order. */
export async function journalFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => JOURNAL_FILE.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/**
 * Complete lines of `file` from `offset`, reading about `maxBytes` (more when one line is
 * longer). Returns no lines when only an unfinished line follows the offset.
 */
export async function readJournalChunk(file: string, offset: number, maxBytes = 4 << 20): Promise<JournalChunk> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    let want = Math.min(maxBytes, size - offset);
    for (;;) {
      if (want <= 0) return { lines: [], end: offset, size };
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buf, 0, want, offset);
      const data = buf.subarray(0, bytesRead);
      const lastNewline = data.lastIndexOf(0x0a);
      if (lastNewline < 0) {
        if (offset + bytesRead >= size) return { lines: [], end: offset, size };
        want = Math.min(want * 2, size - offset); // one line longer than maxBytes
        continue;
      }
      return { lines: parseLines(data.subarray(0, lastNewline + 1), offset), end: offset + lastNewline + 1, size };
    }
  } finally {
    await handle.close();
  }
}

function parseLines(data: Buffer, base: number): JournalLine[] {
  const lines: JournalLine[] = [];
  let start = 0;
  while (start < data.length) {
    const nl = data.indexOf(0x0a, start);
    const end = nl + 1;
    const text = data.toString('utf8', start, nl).replace(/\r$/, '');
    if (text.trim() !== '') lines.push({ start: base + start, end: base + end, ...parseLine(text) });
    start = end;
  }
  return lines;
}

/** One journal line: a record, or a reject (with a record recovered behind torn bytes). */
export function parseLine(text: string): Pick<JournalLine, 'record' | 'reject'> {
  const whole = tryRecord(text);
  if (whole.record) return { record: whole.record };
  // Torn bytes of an earlier write, then a whole record: every record line starts with
  // '{"' (JSON.stringify of an object); try each such position after the first.
  for (let i = text.indexOf('{"', 1); i > 0; i = text.indexOf('{"', i + 1)) {
    const tail = tryRecord(text.slice(i));
    if (tail.record) {
      const torn = text.slice(0, i);
      return { record: tail.record, reject: { error: 'torn line (an unfinished earlier write) before a whole record', text: torn, ...tornFacts(torn) } };
    }
  }
  return { reject: { error: whole.error ?? 'not a usage record', text, ...(whole.facts ?? tornFacts(text)) } };
}

function tryRecord(text: string): { record?: LedgerRecord; error?: string; facts?: RejectFacts } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `not JSON: ${(err as Error).message}` };
  }
  try {
    return { record: toLedgerRecord(value) };
  } catch (err) {
    return { error: (err as Error).message, facts: factsOf(value) };
  }
}

const NO_FACTS: RejectFacts = { requestId: null, cost: null, endedAt: null, projectRef: null, agentRef: null, sessionRef: null };

/** Each field of a parsed value that is not a usable record, where it has the right type. */
function factsOf(value: unknown): RejectFacts {
  if (typeof value !== 'object' || value === null) return NO_FACTS;
  const r = value as Record<string, unknown>;
  const member = (v: unknown, key: string) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined);
  const text = (v: unknown) => (typeof v === 'string' && v ? storableText(v.slice(0, 200)) : null);
  const usd = member(r.cost, 'cost');
  const ended = typeof r.endedAt === 'string' ? Date.parse(r.endedAt) : NaN;
  return {
    requestId: text(r.id),
    cost: typeof usd === 'number' && Number.isFinite(usd) && usd >= 0 && usd <= MAX_COST ? usd : null,
    endedAt: Number.isNaN(ended) ? null : new Date(ended).toISOString(),
    projectRef: text(member(r.context, 'projectId')),
    agentRef: text(member(r.context, 'agentId')),
    // The session's one id (sessionIdOf, src/protocol/session.ts): claude's, else Conduit's.
    sessionRef: text(member(r.context, 'claudeSessionId')) ?? text(member(r.context, 'sessionId')),
  };
}

/** A torn line: every record line starts with its id, which may have been written before the tear. */
function tornFacts(text: string): RejectFacts {
  const id = /^\{"id":"([^"\\]{1,200})"/.exec(text)?.[1];
  return id ? { ...NO_FACTS, requestId: storableText(id) } : NO_FACTS;
}

/** The facts of a record the store refused. */
export function factsOfRecord(r: LedgerRecord): RejectFacts {
  return { requestId: r.requestId, cost: r.cost, endedAt: r.endedAt, projectRef: r.projectRef, agentRef: r.agentRef, sessionRef: r.claudeSessionId ?? r.sessionId };
}

const SOURCES = new Set<string>(ROUTING_SOURCES);
const MAX_INT = 2_147_483_647;
/** usage_tracking.cost is numeric(10, 6). */
const MAX_COST = 9999.999999;

class RecordError extends Error {}

/** A text field the store can hold (cut to `max`, which can split a surrogate pair: made storable after). */
function str(v: unknown, what: string, max = 500): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new RecordError(`${what}: expected a string`);
  return storableText(v.length > max ? v.slice(0, max) : v);
}

function requiredStr(v: unknown, what: string, max = 500): string {
  const s = str(v, what, max);
  if (!s) throw new RecordError(`${what}: required`);
  return s;
}

function count(v: unknown, what: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RecordError(`${what}: expected a count ≥ 0`);
  return Math.min(Math.round(v), MAX_INT);
}

function optionalInt(v: unknown, what: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RecordError(`${what}: expected a number`);
  return Math.max(-MAX_INT, Math.min(Math.round(v), MAX_INT));
}

function time(v: unknown, what: string): string | null {
  const s = str(v, what, 64);
  if (s === null) return null;
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new RecordError(`${what}: not a date`);
  return new Date(t).toISOString();
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RecordError(`${what}: expected an object`);
  return v as Record<string, unknown>;
}

/** Checks a journal value and shapes it; throws with the offending field otherwise. */
export function toLedgerRecord(value: unknown): LedgerRecord {
  const r = obj(value, 'record') as Partial<Record<keyof UsageRecord, unknown>>;
  const context = r.context === undefined ? {} : obj(r.context, 'context');
  const decision = obj(r.decision, 'decision');
  const usage = r.usage === null || r.usage === undefined ? null : obj(r.usage, 'usage');
  const cost = r.cost === undefined || r.cost === null ? {} : obj(r.cost, 'cost');
  const source = requiredStr(decision.source, 'decision.source', 40);
  if (!SOURCES.has(source)) throw new RecordError(`decision.source: unknown routing source "${source}"`);
  const endedAt = time(r.endedAt, 'endedAt');
  if (!endedAt) throw new RecordError('endedAt: required');
  let usd: number | null = null;
  if (cost.cost !== undefined && cost.cost !== null) {
    if (typeof cost.cost !== 'number' || !Number.isFinite(cost.cost) || cost.cost < 0) throw new RecordError('cost.cost: expected USD ≥ 0 or null');
    // Beyond the column's precision the figure is not a price we can trust: unknown.
    usd = cost.cost > MAX_COST ? null : cost.cost;
  }
  const fallbacks = Array.isArray(decision.fallbacks) ? decision.fallbacks.filter((f): f is string => typeof f === 'string').slice(0, 20).map(storableText) : null;
  const stream = r.stream === undefined || r.stream === null ? null : Boolean(r.stream);
  return {
    requestId: requiredStr(r.id, 'id', 200),
    projectRef: str(context.projectId, 'context.projectId', 200) || null,
    agentRef: str(context.agentId, 'context.agentId', 200) || null,
    agentType: str(context.agentType, 'context.agentType', 200),
    sessionId: str(context.sessionId, 'context.sessionId', 200) || null,
    claudeSessionId: str(context.claudeSessionId, 'context.claudeSessionId', 200) || null,
    model: requiredStr(decision.model, 'decision.model', 200),
    requestedModel: str(decision.requestedModel, 'decision.requestedModel', 200),
    provider: str(decision.provider, 'decision.provider', 200),
    routingSource: source,
    routingRule: str(decision.rule, 'decision.rule', 500),
    tokenCount: decision.tokenCount === undefined ? null : optionalInt(decision.tokenCount, 'decision.tokenCount'),
    fallbacks: fallbacks && fallbacks.length ? fallbacks : null,
    decidedAt: time(decision.timestamp, 'decision.timestamp'),
    inputTokens: usage ? count(usage.inputTokens, 'usage.inputTokens') : 0,
    outputTokens: usage ? count(usage.outputTokens, 'usage.outputTokens') : 0,
    outputEstimated: r.outputEstimated === true,
    cacheCreationTokens: usage ? count(usage.cacheCreationTokens, 'usage.cacheCreationTokens') : 0,
    cacheCreation5mTokens: usage ? count(usage.cacheCreation5mTokens, 'usage.cacheCreation5mTokens') : 0,
    cacheCreation1hTokens: usage ? count(usage.cacheCreation1hTokens, 'usage.cacheCreation1hTokens') : 0,
    cacheReadTokens: usage ? count(usage.cacheReadTokens, 'usage.cacheReadTokens') : 0,
    cost: usd,
    costSource: str(cost.costSource, 'cost.costSource', 200),
    priceVersion: str(cost.priceVersion, 'cost.priceVersion', 200),
    status: optionalInt(r.status, 'status'),
    error: str(r.error, 'error', 200),
    stream,
    durationMs: optionalInt(r.durationMs, 'durationMs'),
    firstByteMs: optionalInt(r.firstByteMs, 'firstByteMs'),
    device: str(r.device, 'device', 200),
    startedAt: time(r.startedAt, 'startedAt'),
    endedAt,
  };
}
