/**
 * Per-project and per-agent model configuration: what the model configuration view edits,
 * what the wrapper receives in SYNAPSE_PROJECT_MODEL_CONFIG / SYNAPSE_AGENT_MODEL_CONFIG,
 * and what the router reads. Each shape is a schema (its type inferred from it), so the
 * gateway's route table and config.json's schema reuse them.
 */
import * as v from 'valibot';
import { modelIdListSchema, modelIdSchema } from './modelId';
import { ValidationError, booleanSchema, numberSchema, parseWith, strictObjectOf, stringListSchema } from './validate';

const nullableModel = v.optional(v.nullable(modelIdSchema));
const wholeNumberFromOne = numberSchema({ min: 1, integer: true });

/** The entries of routing rules; every field optional so a project overrides only what it sets. */
export const routingRulesEntries = {
  /** Estimated prompt tokens above which the long-context model is used. */
  longContextThreshold: v.optional(wholeNumberFromOne),
  longContextModel: nullableModel,
  /** Model for Claude Code's background work (requests for a haiku-class model). */
  backgroundModel: nullableModel,
  /** Model for requests that offer the server-side web search tool. */
  webSearchModel: nullableModel,
  /** Model for turns that ask for deep reasoning (see docs in README: "Deep reasoning"). */
  reasoningModel: nullableModel,
  /** Phrases in the user's latest message that ask for deep reasoning. */
  reasoningKeywords: v.optional(stringListSchema),
  /** A thinking budget at or above this asks for deep reasoning (Claude Code sends 31,999 on every turn). */
  reasoningBudgetThreshold: v.optional(v.nullable(wholeNumberFromOne)),
  /** output_config.effort levels that ask for deep reasoning (Claude Code's /effort; it sends "medium" by default). */
  reasoningEfforts: v.optional(stringListSchema),
  /** Models to try in order when the chosen one fails before its first byte (429, 529, 5xx, refused). */
  fallbackModels: v.optional(modelIdListSchema),
  /** Whether custom router plugins run. */
  pluginsEnabled: v.optional(booleanSchema),
};

export const routingRulesSchema = strictObjectOf(routingRulesEntries);
export type RoutingRulesConfig = v.InferOutput<typeof routingRulesSchema>;

export const projectModelConfigSchema = strictObjectOf({
  /** Intelligent routing on; off means every request goes to defaultModel. */
  enabled: booleanSchema,
  defaultModel: nullableModel,
  rules: v.optional(routingRulesSchema),
}, { enabled: 'required (true or false)' });
export type ProjectModelConfig = v.InferOutput<typeof projectModelConfigSchema>;

export const agentModelConfigSchema = v.pipe(
  strictObjectOf({ useProjectDefaults: booleanSchema, overrideModel: nullableModel }, { useProjectDefaults: 'required (true or false)' }),
  v.forward(
    v.check((c) => c.useProjectDefaults || !!c.overrideModel, 'required when useProjectDefaults is false'),
    ['overrideModel'],
  ),
);
export type AgentModelConfig = v.InferOutput<typeof agentModelConfigSchema>;

export function parseRoutingRules(value: unknown, path: string): RoutingRulesConfig {
  return parseWith(routingRulesSchema, value, path);
}

export function parseProjectModelConfig(value: unknown, path = 'projectModelConfig'): ProjectModelConfig {
  return parseWith(projectModelConfigSchema, value, path);
}

export function parseAgentModelConfig(value: unknown, path = 'agentModelConfig'): AgentModelConfig {
  return parseWith(agentModelConfigSchema, value, path);
}

/** Parses a JSON text from an environment variable, naming the variable in any error. */
export function parseJsonVariable<T>(name: string, text: string, parse: (v: unknown, path: string) => T): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(name, `is not valid JSON (${(err as Error).message})`);
  }
  return parse(value, name);
}
