/**
 * Picks the model for one request. Pure: the same inputs give the same decision.
 *
 * Precedence, first match wins:
 *  1. agent        the agent does not use the project's defaults → its own model
 *  2. project      routing disabled for the project → the project's default model
 *  3. plugin       a custom router plugin returned a model
 *  4. long-context estimated prompt tokens over the threshold
 *  5. background   a request for a haiku-class model (Claude Code's background work)
 *  6. web-search   the request offers the server-side web search tool
 *  7. reasoning    the user asked for deep thought: a thinking budget at or above the
 *                  threshold, a raised effort (output_config.effort "high" or "max"),
 *                  or a keyword ("ultrathink", "think harder"...) in their latest
 *                  message. Claude Code sends thinking on every request, so its mere
 *                  presence is not a signal.
 *  8. default      the project's or the gateway's default model
 *  9. passthrough  nothing configured: the model the client asked for
 * Rules 4-7 apply only when a model is configured for them.
 */
import type { RoutingSource } from '../../protocol/routing';
import type { SessionContext } from '../../protocol/sessionContext';
import type { RequestFacts } from './requestFacts';
import type { RoutingRules } from './rules';

export interface RouteChoice {
  /** A model reference: "model" or "provider/model". */
  modelRef: string;
  source: RoutingSource;
  rule: string;
}

/** Rules 1-2: decided by the session's configuration alone, before plugins. */
export function routeBySession(facts: RequestFacts, ctx: SessionContext): RouteChoice | null {
  const agent = ctx.agentModelConfig;
  if (agent && !agent.useProjectDefaults && agent.overrideModel) {
    return { modelRef: agent.overrideModel, source: 'agent', rule: `agent ${ctx.agentId ?? ''} uses its own model`.replace('  ', ' ') };
  }
  const project = ctx.projectModelConfig;
  if (project && !project.enabled) {
    return project.defaultModel
      ? { modelRef: project.defaultModel, source: 'project', rule: 'routing disabled: project default model' }
      : { modelRef: facts.requestedModel, source: 'passthrough', rule: 'routing disabled, no project default: requested model' };
  }
  return null;
}

const BACKGROUND_MODEL = /haiku/i;

/** Rules 4-9: the content rules and the default. */
export function routeByRules(facts: RequestFacts, rules: RoutingRules): RouteChoice {
  if (rules.longContextModel && facts.tokenCount > rules.longContextThreshold) {
    return {
      modelRef: rules.longContextModel, source: 'long-context',
      rule: `~${facts.tokenCount.toLocaleString('en-US')} tokens > ${rules.longContextThreshold.toLocaleString('en-US')}`,
    };
  }
  if (rules.backgroundModel && BACKGROUND_MODEL.test(facts.requestedModel)) {
    return { modelRef: rules.backgroundModel, source: 'background', rule: `background request for ${facts.requestedModel}` };
  }
  if (rules.webSearchModel && facts.hasWebSearchTool) {
    return { modelRef: rules.webSearchModel, source: 'web-search', rule: 'web search tool offered' };
  }
  if (rules.reasoningModel) {
    const why = reasoningAsked(facts, rules);
    if (why) return { modelRef: rules.reasoningModel, source: 'reasoning', rule: why };
  }
  if (rules.defaultModel) return { modelRef: rules.defaultModel, source: 'default', rule: 'default model' };
  return { modelRef: facts.requestedModel, source: 'passthrough', rule: 'requested model' };
}

function reasoningAsked(facts: RequestFacts, rules: RoutingRules): string | null {
  if (rules.reasoningBudgetThreshold !== null && facts.thinkingBudget !== null && facts.thinkingBudget >= rules.reasoningBudgetThreshold) {
    return `thinking budget ${facts.thinkingBudget} ≥ ${rules.reasoningBudgetThreshold}`;
  }
  if (facts.effort !== null && rules.reasoningEfforts.includes(facts.effort)) return `effort ${facts.effort}`;
  if (rules.reasoningKeywords.length === 0) return null;
  const text = facts.lastUserText().toLowerCase();
  if (!text) return null;
  const keyword = rules.reasoningKeywords.find((k) => text.includes(k.toLowerCase()));
  return keyword ? `asked to "${keyword}"` : null;
}
