/**
 * The usage measures, defined once for every view and report (analytics, sidebar, status
 * bar, `conduit usage`, usage reports): the four token counts the provider reports, and
 * their total as ccusage counts it (every token the model processed, cache included).
 *
 * The router's token count (RoutingDecision.tokenCount) is none of these: it is the
 * gateway's estimate of the prompt, made before the request is sent, to pick a model. It
 * is shown only under ROUTING_ESTIMATE_LABEL, never as a request's tokens.
 */

/** The four token counts of a request or of a sum of requests. */
export interface TokenMeasures {
  inputTokens: number;
  outputTokens: number;
  /** Cache writes, all durations. */
  cacheCreationTokens: number;
  cacheReadTokens: number;
}

/** The four token measures' names, in the order every table shows them. */
export const TOKEN_MEASURES = ['inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens'] as const satisfies readonly (keyof TokenMeasures)[];

/** Total tokens: input + output + cache write + cache read. */
export function totalTokens(t: TokenMeasures): number {
  return t.inputTokens + t.outputTokens + t.cacheCreationTokens + t.cacheReadTokens;
}

/** How each measure is named wherever it is shown. */
export const MEASURE_LABELS = {
  inputTokens: 'Input tokens',
  outputTokens: 'Output tokens',
  cacheCreationTokens: 'Cache write tokens',
  cacheReadTokens: 'Cache read tokens',
  totalTokens: 'Total tokens',
} as const satisfies Record<keyof TokenMeasures | 'totalTokens', string>;

/** The label of RoutingDecision.tokenCount: an estimate, not a measure. */
export const ROUTING_ESTIMATE_LABEL = 'Estimated input tokens (routing)';

/**
 * The cost source of a request the gateway refused (a budget's hard limit): the provider
 * was never called, so its cost is 0, a known price, not an unknown one.
 */
export const REFUSED_COST_SOURCE = 'refused';

/** A request's record as far as being refused is concerned (UsageRecord, a stored row). */
export function isRefused(cost: { costSource: string }): boolean {
  return cost.costSource === REFUSED_COST_SOURCE;
}
