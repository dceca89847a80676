/**
 * Publishes routing decisions and usage to subscribers of GET /v1/conduit/events (the
 * wrapper, the extension), and keeps each session's recent records for the wrapper's
 * final flush and the status line.
 */
import type { GatewayEvent, RequestContext, SessionSummary, UsageRecord } from '../../protocol/usage';

export interface EventFilter {
  sessionId?: string;
  projectId?: string;
  claudeSessionId?: string;
}

type Listener = (event: GatewayEvent) => void;

/** A subscriber of the event stream (GET /v1/conduit/events). */
export interface EventStream {
  readonly filter: EventFilter;
  /** Sends events as Server-Sent Events frames: the same bytes for every stream that wants them. */
  send(frames: Buffer): void;
  /** Ends the stream: the gateway shuts down. */
  end(): void;
}

/** An event as a Server-Sent Events frame. */
export function eventFrame(event: GatewayEvent): Buffer {
  return Buffer.from(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`, 'utf8');
}

export function eventContext(e: GatewayEvent): RequestContext {
  if (e.type === 'budget') return { projectId: e.alert.status.projectKey };
  if (e.type === 'ingested') return {};
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

export class EventHub {
  private readonly listeners = new Set<Listener>();
  private readonly streams = new Set<EventStream>();
  /** Published in this turn of the event loop, not yet sent to the streams. */
  private pending: GatewayEvent[] = [];
  // Map keeps insertion order: the oldest session is evicted first.
  private readonly sessions = new Map<string, SessionSummary>();

  constructor(readonly maxStreams = maxEventStreams()) {}

  /** Ends every event stream now: they never end by themselves, and would hold up close. */
  shutdown(): void {
    this.flush();
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
    if (this.streams.size === 0) return;
    // Streams get the events of one turn of the event loop in one write: under load that
    // is many events per write, and a socket write costs far more than the bytes it carries.
    this.pending.push(event);
    if (this.pending.length === 1) setImmediate(() => this.flush());
  }

  /** Sends the pending events to the streams that want them, each serialized once. */
  private flush(): void {
    const events = this.pending;
    this.pending = [];
    const frames: (Buffer | undefined)[] = [];
    // Streams that want the same events get the same bytes, joined once.
    const joined = new Map<string, Buffer>();
    // (A stream may remove itself while sending: a Set's iteration allows that.)
    for (const s of this.streams) {
      const wanted = events.flatMap((e, i) => (matchesFilter(e, s.filter) ? [i] : []));
      if (wanted.length === 0) continue;
      const key = wanted.join(',');
      let bytes = joined.get(key);
      if (!bytes) {
        const parts = wanted.map((i) => (frames[i] ??= eventFrame(events[i])));
        bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts);
        joined.set(key, bytes);
      }
      try {
        s.send(bytes);
      } catch {
        // A broken stream must not stop the others.
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
