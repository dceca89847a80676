import type { BudgetAlert } from './budgets';
import type { RoutingDecision } from './routing';
import type { TokenMeasures } from './measures';

/** Token usage of one reply, as the provider reported it (message_start + message_delta). */
export interface TokenUsage extends TokenMeasures {
  cacheCreation5mTokens: number;
  cacheCreation1hTokens: number;
}

export interface CostBreakdown {
  /** USD, or null when the model has no known price (never 0 for "unknown"). */
  cost: number | null;
  /**
   * Where the price came from: "table:<version>", "config", "unknown" (no price for the
   * model), "no-usage" (failed before any usage), or "refused" (a budget refused it: cost 0).
   */
  costSource: string;
  priceVersion: string | null;
}

/** The session context a request carries (from the wrapper's SYNAPSE_* environment). */
export interface RequestContext {
  /** Conduit's id for the wrapper session (one conduit-claude run). */
  sessionId?: string;
  /** Claude Code's own session id (x-claude-code-session-id). */
  claudeSessionId?: string;
  projectId?: string;
  agentId?: string;
  agentType?: string;
}

/**
 * One request's record, appended to the journal as its reply ends and published on the
 * event stream. The ledger ingests these; `id` makes ingestion idempotent.
 */
export interface UsageRecord {
  id: string;
  context: RequestContext;
  decision: RoutingDecision;
  /** Null when the request failed before any usage was reported. */
  usage: TokenUsage | null;
  /**
   * The stream ended before its final usage (client gone, provider cut):
   * usage.outputTokens is the gateway's estimate from the content it passed on, not the
   * provider's figure.
   */
  outputEstimated?: true;
  cost: CostBreakdown;
  /** HTTP status the client received. */
  status: number;
  /** Error type when the request failed ("overloaded_error", "stream_cut", ...). */
  error?: string;
  stream: boolean;
  /** Milliseconds from request received to reply end. */
  durationMs: number;
  /** Milliseconds from request received to first byte sent to the client. */
  firstByteMs: number | null;
  startedAt: string;
  endedAt: string;
  /** Host name of the machine (for multi-device sync). */
  device: string;
}

/** The line conduit-claude adds to claude's NDJSON output for every API request. */
export interface ConduitMetadataLine {
  type: 'conduit_metadata';
  data: {
    requestId: string;
    /** The session's id (src/protocol/session.ts sessionIdOf): claude's, else Conduit's. */
    sessionId?: string;
    routingDecision: Pick<RoutingDecision, 'model' | 'source' | 'tokenCount' | 'timestamp' | 'upstream'> & { rule: string; requestedModel: string };
    projectContext?: { projectId: string; agentId?: string };
    usage?: {
      inputTokens: number;
      outputTokens: number;
      cacheCreationTokens: number;
      cacheReadTokens: number;
      cost: number | null;
    };
  };
}

/** Events on GET /v1/conduit/events. */
export type GatewayEvent =
  | { type: 'decision'; requestId: string; context: RequestContext; decision: RoutingDecision }
  | { type: 'usage'; record: UsageRecord }
  /** A budget threshold or forecast alert, once as it is raised (src/protocol/budgets.ts). */
  | { type: 'budget'; alert: BudgetAlert }
  /**
   * The usage store committed new records: its totals changed. It carries no figures (the
   * store is the one source of totals: read them from the analytics API) and names no
   * session or project, so only unfiltered streams get it.
   */
  | IngestedEvent;

/** Published after each ingestion pass (each committed batch of it) that stored new requests. */
export interface IngestedEvent {
  type: 'ingested';
  /** Requests newly stored. */
  inserted: number;
  /** When the store committed them (ISO 8601). */
  at: string;
}

/**
 * The journal's state, in /health and the gateway's status: "degraded" while records the
 * disk refused (full, read-only) wait in memory to be written, with the disk's error.
 */
export interface JournalHealth {
  state: 'ok' | 'degraded';
  /** Why the last write failed ("ENOSPC: no space left on device, write"), while degraded. */
  error: string | null;
  /** Records waiting in memory for the disk. */
  pending: number;
  /** Records lost since the gateway started: beyond what memory keeps, or unwritten at stop. */
  lost: number;
}

/**
 * Billed requests the usage store could not record (set aside in its rejects and not
 * stored since): how many, and the sum of their costs where the record still told it.
 */
export interface UnrecordedUsage {
  count: number;
  costUsd: number;
}

/** A session's requests since the gateway started, as the gateway keeps them in memory. */
export interface SessionSummary {
  records: UsageRecord[];
  requests: number;
  cost: number;
  /** Some request's cost was unknown (no price for its model). */
  costIncomplete: boolean;
  lastModel: string | null;
  lastSource: string | null;
}
