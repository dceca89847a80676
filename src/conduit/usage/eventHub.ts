/**
 * Publishes routing decisions and usage to subscribers of GET /v1/conduit/events (the
 * wrapper, the extension), and keeps each session's recent records for the wrapper's
 * final flush and the status line.
 */
import type { GatewayEvent, RequestContext, UsageRecord } from '../../protocol/usage';

export interface EventFilter {
  sessionId?: string;
  projectId?: string;
  claudeSessionId?: string;
}

type Listener = (event: GatewayEvent) => void;

/** A subscriber of the event stream (GET /v1/conduit/events). */
export interface EventStream {
  readonly filter: EventFilter;
  /** Sends one event as its Server-Sent Events frame: the same bytes for every stream. */
  send(frame: Buffer): void;
  /** Ends the stream: the gateway shuts down. */
  end(): void;
}

/** An event as a Server-Sent Events frame. */
export function eventFrame(event: GatewayEvent): Buffer {
  return Buffer.from(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`, 'utf8');
}

export function eventContext(e: GatewayEvent): RequestContext {
  if (e.type === 'budget') return { projectId: e.alert.status.projectKey };
  return e.type === 'decision' ? e.context : e.record.context;
}

export function matchesFilter(e: GatewayEvent, f: EventFilter): boolean {
  const c = eventContext(e);
  return (!f.sessionId || c.sessionId === f.sessionId)
    && (!f.projectId || c.projectId === f.projectId)
    && (!f.claudeSessionId || c.claudeSessionId === f.claudeSessionId);
}

/**
 * Event streams open at once. Each VS Code window holds one and each conduit-claude
 * session with stream-json output another; every event costs a write to each. The gateway
 * has one access token, so this bounds what all its clients together may hold.
 */
export const MAX_EVENT_STREAMS = 64;

/** MAX_EVENT_STREAMS, or CONDUIT_MAX_EVENT_STREAMS when set (a benchmark holds hundreds). */
export function maxEventStreams(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.CONDUIT_MAX_EVENT_STREAMS);
  return Number.isInteger(n) && n > 0 ? n : MAX_EVENT_STREAMS;
}

const MAX_SESSIONS = 1000;
const MAX_RECORDS_PER_SESSION = 1000;

export interface SessionSummary {
  records: UsageRecord[];
  requests: number;
  cost: number;
  /** Some request's cost was unknown (no price for its model). */
  costIncomplete: boolean;
  lastModel: string | null;
  lastSource: string | null;
}

export class EventHub {
  private readonly listeners = new Set<Listener>();
  private readonly streams = new Set<EventStream>();
  // Map keeps insertion order: the oldest session is evicted first.
  private readonly sessions = new Map<string, SessionSummary>();

  constructor(readonly maxStreams = maxEventStreams()) {}

  /** Ends every event stream now: they never end by themselves, and would hold up close. */
  shutdown(): void {
    for (const s of this.streams) s.end();
    this.streams.clear();
  }

  /** The gateway's own listeners (the ledger): not bounded, given the event itself. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds an event stream; null when maxStreams are open already. Returns its removal. */
  addStream(stream: EventStream): (() => void) | null {
    if (this.streams.size >= this.maxStreams) return null;
    this.streams.add(stream);
    return () => this.streams.delete(stream);
  }

  /** Event streams open now. */
  get subscriberCount(): number { return this.streams.size; }

  publish(event: GatewayEvent): void {
    if (event.type === 'usage') this.remember(event.record);
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A broken listener must not stop the others or the request.
      }
    }
    // Serialized once, on the first stream that wants it, whatever the number of streams.
    // (A stream may remove itself while sending: a Set's iteration allows that.)
    let frame: Buffer | undefined;
    for (const s of this.streams) {
      if (!matchesFilter(event, s.filter)) continue;
      frame ??= eventFrame(event);
      try {
        s.send(frame);
      } catch {
        // A broken stream must not stop the others or the request.
      }
    }
  }

  /** A session by Conduit's session id or by Claude Code's. */
  session(id: string): SessionSummary | undefined {
    return this.sessions.get(`c:${id}`) ?? this.sessions.get(`s:${id}`);
  }

  private remember(record: UsageRecord): void {
    const keys = [record.context.sessionId && `c:${record.context.sessionId}`, record.context.claudeSessionId && `s:${record.context.claudeSessionId}`];
    for (const key of keys) {
      if (!key) continue;
      let s = this.sessions.get(key);
      if (!s) {
        if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
        s = { records: [], requests: 0, cost: 0, costIncomplete: false, lastModel: null, lastSource: null };
        this.sessions.set(key, s);
      }
      s.records.push(record);
      if (s.records.length > MAX_RECORDS_PER_SESSION) s.records.shift();
      s.requests++;
      if (record.cost.cost === null) s.costIncomplete = record.usage !== null || s.costIncomplete;
      else s.cost += record.cost.cost;
      s.lastModel = record.decision.model;
      s.lastSource = record.decision.source;
    }
  }
}
