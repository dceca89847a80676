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
  // Map keeps insertion order: the oldest session is evicted first.
  private readonly sessions = new Map<string, SessionSummary>();

  private readonly closers = new Set<() => void>();

  /** Registers what ends a subscriber's stream when the gateway shuts down. */
  onShutdown(close: () => void): () => void {
    this.closers.add(close);
    return () => this.closers.delete(close);
  }

  /** Ends every event stream now: they never end by themselves, and would hold up close. */
  shutdown(): void {
    for (const c of [...this.closers]) c();
    this.closers.clear();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number { return this.listeners.size; }

  publish(event: GatewayEvent): void {
    if (event.type === 'usage') this.remember(event.record);
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A broken subscriber must not stop the others or the request.
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
