/**
 * The routing rules in force for one request: the gateway's defaults, overridden by the
 * gateway's config.json, overridden by the project's model configuration.
 */
import type { ProjectModelConfig, RoutingRulesConfig } from '../../protocol/modelConfig';
import { MODEL_CATEGORIES } from '../../protocol/modelCategory';

export interface RoutingRules {
  longContextThreshold: number;
  longContextModel: string | null;
  backgroundModel: string | null;
  webSearchModel: string | null;
  reasoningModel: string | null;
  reasoningKeywords: string[];
  reasoningBudgetThreshold: number | null;
  reasoningEfforts: string[];
  fallbackModels: string[];
  pluginsEnabled: boolean;
  /** The default model; null keeps the model the client asked for. */
  defaultModel: string | null;
}

export { MODEL_CATEGORIES };

export const DEFAULT_RULES: Readonly<RoutingRules> = Object.freeze({
  longContextThreshold: 60_000,
  longContextModel: MODEL_CATEGORIES.balanced,
  backgroundModel: MODEL_CATEGORIES.fast,
  webSearchModel: null,
  reasoningModel: MODEL_CATEGORIES.powerful,
  // Phrases people type to ask Claude Code for more thought. Claude Code 2.x sends a
  // thinking block on every request, so its presence says nothing.
  reasoningKeywords: ['ultrathink', 'think harder', 'think very hard', 'think really hard', 'think deeply'],
  // Claude Code sends budget_tokens 31,999 on every turn; only a larger, explicit budget counts.
  reasoningBudgetThreshold: 32_000,
  // Claude Code sends output_config.effort "medium" unless the person raises it with /effort.
  reasoningEfforts: ['high', 'max'],
  fallbackModels: [],
  pluginsEnabled: true,
  defaultModel: null,
});

export function mergeRules(base: RoutingRules, overrides: RoutingRulesConfig | undefined, defaultModel?: string | null): RoutingRules {
  const merged: RoutingRules = { ...base };
  if (overrides) {
    for (const [k, v] of Object.entries(overrides) as [keyof RoutingRulesConfig, unknown][]) {
      if (v !== undefined) (merged as unknown as Record<string, unknown>)[k] = v;
    }
  }
  if (defaultModel !== undefined && defaultModel !== null) merged.defaultModel = defaultModel;
  return merged;
}

/** Rules for a request of a project (or none). Cached per project config object. */
export function rulesFor(globalRules: RoutingRules, project: ProjectModelConfig | undefined): RoutingRules {
  if (!project) return globalRules;
  return mergeRules(globalRules, project.rules, project.defaultModel);
}
