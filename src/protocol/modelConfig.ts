/**
 * Per-project and per-agent model configuration: what the model configuration view edits,
 * what the wrapper receives in SYNAPSE_PROJECT_MODEL_CONFIG / SYNAPSE_AGENT_MODEL_CONFIG,
 * and what the router reads.
 */
import { optionalModelIdList, optionalNullableModelId } from './modelId';
import {
  ValidationError, expectObject, optionalBoolean, optionalNumber, optionalStringArray, rejectUnknownKeys,
} from './validate';

/** Routing rules; every field optional so a project overrides only what it sets. */
export interface RoutingRulesConfig {
  /** Estimated prompt tokens above which the long-context model is used. */
  longContextThreshold?: number;
  longContextModel?: string | null;
  /** Model for Claude Code's background work (requests for a haiku-class model). */
  backgroundModel?: string | null;
  /** Model for requests that offer the server-side web search tool. */
  webSearchModel?: string | null;
  /** Model for turns that ask for deep reasoning (see docs in README: "Deep reasoning"). */
  reasoningModel?: string | null;
  /** Phrases in the user's latest message that ask for deep reasoning. */
  reasoningKeywords?: string[];
  /** A thinking budget at or above this asks for deep reasoning (Claude Code sends 31,999 on every turn). */
  reasoningBudgetThreshold?: number | null;
  /** output_config.effort levels that ask for deep reasoning (Claude Code's /effort; it sends "medium" by default). */
  reasoningEfforts?: string[];
  /** Models to try in order when the chosen one fails before its first byte (429, 529, 5xx, refused). */
  fallbackModels?: string[];
  /** Whether custom router plugins run. */
  pluginsEnabled?: boolean;
}

export interface ProjectModelConfig {
  /** Intelligent routing on; off means every request goes to defaultModel. */
  enabled: boolean;
  defaultModel?: string | null;
  rules?: RoutingRulesConfig;
}

export interface AgentModelConfig {
  useProjectDefaults: boolean;
  overrideModel?: string | null;
}

const RULE_KEYS = [
  'longContextThreshold', 'longContextModel', 'backgroundModel', 'webSearchModel', 'reasoningModel',
  'reasoningKeywords', 'reasoningBudgetThreshold', 'reasoningEfforts', 'fallbackModels', 'pluginsEnabled',
] as const;

export function parseRoutingRules(value: unknown, path: string): RoutingRulesConfig {
  const o = expectObject(value, path);
  rejectUnknownKeys(o, RULE_KEYS, path);
  const rules: RoutingRulesConfig = {};
  const set = <K extends keyof RoutingRulesConfig>(k: K, v: RoutingRulesConfig[K] | undefined) => { if (v !== undefined) rules[k] = v; };
  set('longContextThreshold', optionalNumber(o, 'longContextThreshold', path, { min: 1, integer: true }));
  set('longContextModel', optionalNullableModelId(o, 'longContextModel', path));
  set('backgroundModel', optionalNullableModelId(o, 'backgroundModel', path));
  set('webSearchModel', optionalNullableModelId(o, 'webSearchModel', path));
  set('reasoningModel', optionalNullableModelId(o, 'reasoningModel', path));
  set('reasoningKeywords', optionalStringArray(o, 'reasoningKeywords', path));
  if (o.reasoningBudgetThreshold === null) rules.reasoningBudgetThreshold = null;
  else set('reasoningBudgetThreshold', optionalNumber(o, 'reasoningBudgetThreshold', path, { min: 1, integer: true }));
  set('reasoningEfforts', optionalStringArray(o, 'reasoningEfforts', path));
  set('fallbackModels', optionalModelIdList(o, 'fallbackModels', path));
  set('pluginsEnabled', optionalBoolean(o, 'pluginsEnabled', path));
  return rules;
}

export function parseProjectModelConfig(value: unknown, path = 'projectModelConfig'): ProjectModelConfig {
  const o = expectObject(value, path);
  rejectUnknownKeys(o, ['enabled', 'defaultModel', 'rules'], path);
  const enabled = optionalBoolean(o, 'enabled', path);
  if (enabled === undefined) throw new ValidationError(`${path}.enabled`, 'required (true or false)');
  const config: ProjectModelConfig = { enabled };
  const defaultModel = optionalNullableModelId(o, 'defaultModel', path);
  if (defaultModel !== undefined) config.defaultModel = defaultModel;
  if (o.rules !== undefined) config.rules = parseRoutingRules(o.rules, `${path}.rules`);
  return config;
}

export function parseAgentModelConfig(value: unknown, path = 'agentModelConfig'): AgentModelConfig {
  const o = expectObject(value, path);
  rejectUnknownKeys(o, ['useProjectDefaults', 'overrideModel'], path);
  const useProjectDefaults = optionalBoolean(o, 'useProjectDefaults', path);
  if (useProjectDefaults === undefined) throw new ValidationError(`${path}.useProjectDefaults`, 'required (true or false)');
  const config: AgentModelConfig = { useProjectDefaults };
  const overrideModel = optionalNullableModelId(o, 'overrideModel', path);
  if (overrideModel !== undefined) config.overrideModel = overrideModel;
  if (!useProjectDefaults && !config.overrideModel) {
    throw new ValidationError(`${path}.overrideModel`, 'required when useProjectDefaults is false');
  }
  return config;
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

