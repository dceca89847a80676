/**
 * What the gateway decided for one request. Shared by the gateway, the wrapper's
 * conduit_metadata lines, the extension and the webviews.
 */

/** Why a model was chosen, in precedence order (see src/conduit/routing/router.ts). */
export const ROUTING_SOURCES = [
  'agent',          // the agent has its own model and does not use the project's defaults
  'project',        // routing is disabled for the project: its default model, always
  'plugin',         // a custom router plugin picked the model
  'long-context',   // the estimated prompt is over the long-context threshold
  'background',     // a haiku-class request: Claude Code's background work
  'web-search',     // the request carries a server-side web search tool
  'reasoning',      // the user asked for deep reasoning (keywords or a large thinking budget)
  'default',        // none of the above: the configured default model
  'passthrough',    // nothing configured: the model the client asked for
  'budget',         // a budget limit changed the model (set by the budget layer)
] as const;
export type RoutingSource = (typeof ROUTING_SOURCES)[number];

export interface RoutingDecision {
  /** Model id sent upstream (without the provider prefix). */
  model: string;
  /** Name of the provider in the gateway's configuration. */
  provider: string;
  source: RoutingSource;
  /** Human-readable rule that fired, e.g. "tokens 72,000 > 60,000" or a plugin's name. */
  rule: string;
  /** Estimated prompt tokens (system, tools, messages, thinking, tool blocks). */
  tokenCount: number;
  /** The model the client asked for. */
  requestedModel: string;
  /** ISO-8601 time of the decision. */
  timestamp: string;
  /** Models tried after this one failed before its first byte (in order), when any. */
  fallbacks?: string[];
  /** The base URL the request went to when it was the person's own endpoint (their ANTHROPIC_BASE_URL), not the provider's configured one. */
  upstream?: string;
}
