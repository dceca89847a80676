/**
 * The model configuration form as data: a draft made from the stored configuration, its
 * validation, the configuration a save sends, and the routing rules the preview shows.
 * No DOM here.
 */
import type { ProjectModelConfig, RoutingRulesConfig } from '../../../src/protocol/modelConfig.js';
import type { AgentModelSelection, InheritedRules, ModelOption } from '../../../src/protocol/webviewMessages.js';
import { listPriceOf, type PricedModelOption } from '../../../src/protocol/webviewMessages.js';
import type { ModelListPrice } from '../../../src/protocol/webviewMessages.js';
import { formatUsdAmount } from '../../../src/protocol/format.js';
import { modelNameOf } from '../../../src/protocol/modelNames.js';

/** A rule's model select: keep the gateway's setting, switch the rule off, or a model. */
export const INHERIT = '@inherit';
export const OFF = '@off';
export type RuleChoice = string;

export const RULE_MODEL_KEYS = ['longContextModel', 'backgroundModel', 'reasoningModel', 'webSearchModel'] as const;
export type RuleModelKey = (typeof RULE_MODEL_KEYS)[number];

export const MIN_THRESHOLD = 1000;
export const MAX_THRESHOLD = 10_000_000;
export const MAX_FALLBACKS = 10;

export interface ProjectDraft {
  enabled: boolean;
  /** '' = none: the model Claude Code asks for. */
  defaultModel: string;
  /** As typed; '' = the gateway's threshold. */
  threshold: string;
  longContextModel: RuleChoice;
  backgroundModel: RuleChoice;
  reasoningModel: RuleChoice;
  webSearchModel: RuleChoice;
  fallbackModels: string[];
  /** The list is the project's own (stored, or edited here); otherwise the gateway's applies. */
  fallbackOwn: boolean;
  /** null = the gateway's setting. */
  pluginsEnabled: boolean | null;
}

export interface AgentDraft {
  useProjectModel: boolean;
  /** The agent's own model; kept while "Use Project Defaults" is on so switching back restores it. */
  customModelId: string;
}

/** Field → message. Keys: defaultModel, threshold, fallback (the list), fallback.<i>, agentModel. */
export type FieldErrors = Record<string, string>;

export function projectDraftFrom(config: ProjectModelConfig): ProjectDraft {
  const rules = config.rules ?? {};
  const choice = (key: RuleModelKey): RuleChoice => {
    const v = rules[key];
    return v === undefined ? INHERIT : v === null ? OFF : v;
  };
  return {
    enabled: config.enabled,
    defaultModel: config.defaultModel ?? '',
    threshold: rules.longContextThreshold === undefined ? '' : String(rules.longContextThreshold),
    longContextModel: choice('longContextModel'),
    backgroundModel: choice('backgroundModel'),
    reasoningModel: choice('reasoningModel'),
    webSearchModel: choice('webSearchModel'),
    fallbackModels: [...(rules.fallbackModels ?? [])],
    fallbackOwn: rules.fallbackModels !== undefined,
    pluginsEnabled: rules.pluginsEnabled ?? null,
  };
}

export function agentDraftFrom(agent: { useProjectModel: boolean; customModelId: string | null }, fallbackModel: string): AgentDraft {
  return { useProjectModel: agent.useProjectModel, customModelId: agent.customModelId ?? fallbackModel };
}

export function validateThreshold(text: string): string | null {
  const t = text.trim();
  if (t === '') return null;
  if (!/^\d+$/.test(t)) return `Enter a whole number of tokens (at least ${MIN_THRESHOLD.toLocaleString('en-US')}).`;
  const n = Number(t);
  if (n < MIN_THRESHOLD) return `The threshold must be at least ${MIN_THRESHOLD.toLocaleString('en-US')} tokens.`;
  if (n > MAX_THRESHOLD) return `The threshold must be at most ${MAX_THRESHOLD.toLocaleString('en-US')} tokens.`;
  return null;
}

export function validateFallbacks(list: string[]): FieldErrors {
  const errors: FieldErrors = {};
  const seen = new Map<string, number>();
  list.forEach((raw, i) => {
    const id = raw.trim();
    if (id === '') errors[`fallback.${i}`] = 'Enter a model id, or remove this entry.';
    else if (/\s/.test(id)) errors[`fallback.${i}`] = 'A model id has no spaces.';
    else if (seen.has(id)) errors[`fallback.${i}`] = `"${id}" is already fallback ${seen.get(id)! + 1}.`;
    else seen.set(id, i);
  });
  if (list.length > MAX_FALLBACKS) errors.fallback = `At most ${MAX_FALLBACKS} fallback models.`;
  return errors;
}

export function validateProjectDraft(draft: ProjectDraft): FieldErrors {
  // In the order of the form: the first key is where focus goes when a save is refused.
  const errors: FieldErrors = {};
  const threshold = validateThreshold(draft.threshold);
  if (threshold) errors.threshold = threshold;
  return { ...errors, ...validateFallbacks(draft.fallbackModels) };
}

export function validateAgentDraft(draft: AgentDraft): FieldErrors {
  return !draft.useProjectModel && !draft.customModelId.trim() ? { agentModel: 'Choose a model for this agent.' } : {};
}

/**
 * The configuration a save stores: the draft over the stored configuration, so settings
 * this form does not edit (reasoning keywords, budgets, efforts) are kept as they are.
 */
export function projectConfigFrom(draft: ProjectDraft, stored: ProjectModelConfig): ProjectModelConfig {
  const rules: RoutingRulesConfig = { ...(stored.rules ?? {}) };
  const threshold = draft.threshold.trim();
  if (threshold === '') delete rules.longContextThreshold;
  else rules.longContextThreshold = Number(threshold);
  for (const key of RULE_MODEL_KEYS) {
    const v = draft[key];
    if (v === INHERIT) delete rules[key];
    else rules[key] = v === OFF ? null : v;
  }
  if (draft.fallbackOwn) rules.fallbackModels = draft.fallbackModels.map((m) => m.trim());
  else delete rules.fallbackModels;
  if (draft.pluginsEnabled === null) delete rules.pluginsEnabled;
  else rules.pluginsEnabled = draft.pluginsEnabled;
  const config: ProjectModelConfig = { enabled: draft.enabled, defaultModel: draft.defaultModel || null };
  if (Object.keys(rules).length) config.rules = rules;
  return config;
}

export function agentSelectionFrom(draft: AgentDraft): AgentModelSelection {
  return draft.useProjectModel
    ? { useProjectModel: true, customModelId: null }
    : { useProjectModel: false, customModelId: draft.customModelId.trim() };
}

/** The rules in force: the draft's own settings over the gateway's. */
export interface EffectiveRules {
  threshold: number;
  longContextModel: string | null;
  backgroundModel: string | null;
  reasoningModel: string | null;
  webSearchModel: string | null;
  defaultModel: string | null;
  fallbackModels: string[];
  pluginsEnabled: boolean;
}

export function effectiveRules(draft: ProjectDraft, inherited: InheritedRules): EffectiveRules {
  const pick = (key: RuleModelKey): string | null => {
    const v = draft[key];
    return v === INHERIT ? inherited[key] : v === OFF ? null : v;
  };
  const threshold = validateThreshold(draft.threshold) === null && draft.threshold.trim() !== '' ? Number(draft.threshold.trim()) : inherited.longContextThreshold;
  return {
    threshold,
    longContextModel: pick('longContextModel'),
    backgroundModel: pick('backgroundModel'),
    reasoningModel: pick('reasoningModel'),
    webSearchModel: pick('webSearchModel'),
    defaultModel: draft.defaultModel || inherited.defaultModel || null,
    fallbackModels: draft.fallbackOwn ? draft.fallbackModels.map((m) => m.trim()).filter(Boolean) : inherited.fallbackModels,
    pluginsEnabled: draft.pluginsEnabled ?? inherited.pluginsEnabled,
  };
}

export interface PreviewLine {
  condition: string;
  model: string;
}

/** The "Active Routing Rules" preview: one line per rule with a model, in the router's order. */
export function previewLines(rules: EffectiveRules, modelName: (id: string) => string, formatThreshold: (n: number) => string): PreviewLine[] {
  const lines: PreviewLine[] = [];
  if (rules.longContextModel) lines.push({ condition: `Long context (>${formatThreshold(rules.threshold)} tokens)`, model: modelName(rules.longContextModel) });
  if (rules.backgroundModel) lines.push({ condition: 'Background tasks', model: modelName(rules.backgroundModel) });
  if (rules.webSearchModel) lines.push({ condition: 'Web search', model: modelName(rules.webSearchModel) });
  if (rules.reasoningModel) lines.push({ condition: 'Complex reasoning', model: modelName(rules.reasoningModel) });
  lines.push({ condition: 'Default', model: rules.defaultModel ? modelName(rules.defaultModel) : 'the model Claude Code asks for' });
  if (rules.fallbackModels.length) lines.push({ condition: 'If a model fails', model: rules.fallbackModels.map(modelName).join(', then ') });
  return lines;
}

/** One naming everywhere: the display name with the id beside it ("Claude Sonnet 5.5 · claude-sonnet-5-5"), the id alone when it has no other name. */
export function modelDisplayName(model: Pick<ModelOption, 'id' | 'name'>): string {
  const name = modelNameOf(model.id, model.name);
  return name !== model.id ? `${name} · ${model.id}` : model.id;
}

/** "$3 / $15 per M" (input / output USD per million tokens); "price unknown" when the gateway knows none. */
export function formatListPrice(price: ModelListPrice | null): string {
  return price ? `${formatUsdAmount(price.input)} / ${formatUsdAmount(price.output)} per M` : 'price unknown';
}

/**
 * A model as a picker offers it: its name and id, and its price when the gateway sent prices
 * ("Claude Sonnet 5.5 · claude-sonnet-5-5 · $3 / $15 per M").
 */
export function modelLabel(model: ModelOption): string {
  const withPrice = (model as PricedModelOption).price !== undefined;
  return withPrice ? `${modelDisplayName(model)} · ${formatListPrice(listPriceOf(model))}` : modelDisplayName(model);
}

/** What a picker's option says below the list: its category and price in words. */
export function modelDescription(model: ModelOption): string {
  const price = listPriceOf(model);
  return [
    model.category ? `${model.category} model` : '',
    price ? `input ${formatUsdAmount(price.input)}, output ${formatUsdAmount(price.output)} per million tokens` : '',
  ].filter(Boolean).join(' · ') || model.id;
}

/** The model of a category, for an agent without a model of its own yet. */
export function preferredModel(models: ModelOption[], category: 'balanced' | 'fast' | 'powerful' = 'balanced'): string {
  return models.find((m) => m.category === category)?.id ?? models[0]?.id ?? '';
}
