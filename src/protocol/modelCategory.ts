/**
 * The three model categories the configuration views group models by, and the model that
 * stands for each: the routing rules' defaults (long context → balanced, background → fast,
 * reasoning → powerful) and the first choices of the default-model select.
 */
export const MODEL_CATEGORY_NAMES = ['balanced', 'fast', 'powerful'] as const;
export type ModelCategory = (typeof MODEL_CATEGORY_NAMES)[number];

/** The model of each category. */
export const MODEL_CATEGORIES = {
  powerful: 'claude-opus-5-5',
  balanced: 'claude-sonnet-5-5',
  fast: 'claude-haiku-4-5',
} as const satisfies Record<ModelCategory, string>;

/** A Claude model's category by its family (haiku, sonnet, opus); null for a model outside the three. */
export function modelCategoryOf(id: string): ModelCategory | null {
  return /haiku/.test(id) ? 'fast' : /sonnet/.test(id) ? 'balanced' : /opus/.test(id) ? 'powerful' : null;
}
