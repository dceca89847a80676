/**
 * One session, one id and one cost on every surface: the terminal, conduit-claude's output,
 * the analytics and the gateway's session route.
 *
 * - The id is Claude Code's own session id (the x-claude-code-session-id header claude sends,
 *   the one its stream-json output shows); Conduit's id for the conduit-claude run only where
 *   claude sent none (another client).
 * - The cost is Conduit's: the sum of the session's routed requests as the gateway priced
 *   them. claude's total_cost_usd is its own estimate at the model it asked for, shown
 *   beside it and labelled as claude's.
 */
import type { ConduitMetadataLine, RequestContext } from './usage';
import { formatUsd } from './format';

/** The id a session is known by: Claude Code's, else Conduit's; null for a request outside any. */
export function sessionIdOf(ctx: Pick<RequestContext, 'sessionId' | 'claudeSessionId'>): string | null {
  return ctx.claudeSessionId || ctx.sessionId || null;
}

/** Whether a request belongs to the session named `id`: by its one id, or by Conduit's id of one of its runs. */
export function isOfSession(ctx: Pick<RequestContext, 'sessionId' | 'claudeSessionId'>, id: string): boolean {
  return sessionIdOf(ctx) === id || ctx.sessionId === id;
}

/** "claude-opus-5-5 → claude-sonnet-5-5"; the model alone when routing kept the one asked for. */
export function modelRoute(requestedModel: string, routedModel: string): string {
  return !requestedModel || requestedModel === routedModel ? routedModel : `${requestedModel} → ${routedModel}`;
}

/** A session's requests for one (asked for, routed to) pair of models. */
export interface SessionModelUse {
  requestedModel: string;
  model: string;
  requests: number;
}

/** A session's routed requests, added up. */
export interface SessionTotals {
  requests: number;
  /** USD of the requests with a known price (0 when none had one). */
  cost: number;
  /** Requests without a known price (no price for the model, or no usage reported). */
  unknownCostRequests: number;
  /** Most requests first. */
  models: SessionModelUse[];
}

/**
 * The line conduit-claude writes after claude's last line in stream-json mode: the session's
 * id and Conduit's totals, with claude's own estimate beside them when claude reported one.
 */
export interface ConduitSessionLine {
  type: 'conduit_session';
  data: SessionTotals & {
    /** sessionIdOf: claude's session id, else Conduit's. */
    sessionId: string | null;
    /** Conduit's id for this conduit-claude run (what CONDUIT_SESSION_ID set, or a new one). */
    conduitSessionId: string;
    /** claude's total_cost_usd from its result line, or null when it printed none. */
    claudeEstimateUsd: number | null;
  };
}

/** A field read from a line as text: it came from outside and may be any JSON value. */
const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

/** Rounds a sum of costs to the micro-dollar, as the analytics API does. */
const usd = (x: number) => Math.round(x * 1e6) / 1e6;

/** Adds up a session's requests, each counted once by its request id. */
export class SessionTally {
  private readonly seen = new Set<string>();
  private cost = 0;
  private unknown = 0;
  private readonly pairs = new Map<string, SessionModelUse>();

  /** One request: false when it was counted already. */
  add(requestId: string, requestedModel: string, model: string, cost: number | null): boolean {
    if (this.seen.has(requestId)) return false;
    this.seen.add(requestId);
    if (cost === null || !Number.isFinite(cost)) this.unknown++;
    else this.cost += cost;
    const key = JSON.stringify([requestedModel, model]);
    const pair = this.pairs.get(key) ?? { requestedModel, model, requests: 0 };
    pair.requests++;
    this.pairs.set(key, pair);
    return true;
  }

  /** A conduit_metadata line's request (a request without usage has no known cost). */
  addMetadata(m: ConduitMetadataLine['data']): boolean {
    const cost = m.usage && typeof m.usage.cost === 'number' ? m.usage.cost : null;
    return this.add(text(m.requestId), text(m.routingDecision.requestedModel), text(m.routingDecision.model), cost);
  }

  get requests(): number { return this.seen.size; }

  totals(): SessionTotals {
    return {
      requests: this.seen.size,
      cost: usd(this.cost),
      unknownCostRequests: this.unknown,
      models: [...this.pairs.values()].sort((a, b) => b.requests - a.requests).map((p) => ({ ...p })),
    };
  }
}

/** Whether some request went to another model than the one claude asked for. */
export function wasRerouted(models: readonly SessionModelUse[]): boolean {
  return models.some((m) => m.requestedModel !== '' && m.requestedModel !== m.model);
}

const dollars = (x: number) => formatUsd(x, 'ledger');

/**
 * A session's cost as the terminal states it:
 *   "$0.0097"                                                   claude's estimate agrees
 *   "$0.0097 (claude's estimate at the requested model: $0.0189)"  it differs, and routing changed the model
 *   "$0.0097 (claude's estimate: $0.0189)"                      it differs on the same model
 *   "$0.0097+?"                                                 some request had no known price
 *   "$0.0189 (claude's estimate)"                               no request of the session reached Conduit
 * Four decimals; claude's part only when claude reported a cost.
 */
export function sessionCostText(totals: SessionTotals, claudeEstimateUsd: number | null): string {
  const claude = claudeEstimateUsd !== null && Number.isFinite(claudeEstimateUsd) ? claudeEstimateUsd : null;
  if (totals.requests === 0) return claude === null ? '' : `${dollars(claude)} (claude's estimate)`;
  const ours = `${dollars(totals.cost)}${totals.unknownCostRequests > 0 ? '+?' : ''}`;
  if (claude === null || dollars(claude) === dollars(totals.cost)) return ours;
  return `${ours} (claude's estimate${wasRerouted(totals.models) ? ' at the requested model' : ''}: ${dollars(claude)})`;
}
