/**
 * Whether a model reference names a model the gateway can send somewhere: "model" (the
 * default provider) or "provider/model" with a configured provider, where the model is in
 * the price table (config.json's "prices" included) or in that provider's "models" list.
 * A typo ("gpt-9-ultra-nonexistent", "nosuchprovider/claude-x") is refused by name where it
 * is configured (config.json, the configuration view) instead of failing every request.
 * The syntax of an id is checked before, by src/protocol/modelId.ts.
 */
import type { PriceTable } from '../pricing/priceTable';
import { DEFAULT_PROVIDER } from '../http/providers';

export interface ModelCatalog {
  /** The configured providers, each with the ids it lists as its own (config.json providers.<name>.models). */
  providers: Record<string, { models?: readonly string[] }>;
  prices: PriceTable;
}

/** What is wrong with `ref`, in words that name it, or null when it is known. */
export function unknownModelProblem(ref: string, catalog: ModelCatalog): string | null {
  const slash = ref.indexOf('/');
  const providerName = slash > 0 ? ref.slice(0, slash) : DEFAULT_PROVIDER;
  const model = slash > 0 ? ref.slice(slash + 1) : ref;
  const provider = Object.hasOwn(catalog.providers, providerName) ? catalog.providers[providerName] : undefined;
  const configured = Object.keys(catalog.providers).join(', ') || 'none';
  if (!provider) {
    return slash > 0
      ? `unknown provider "${providerName}" in ${JSON.stringify(ref)} (configured providers: ${configured}; add it under "providers" in config.json)`
      : `no provider "${DEFAULT_PROVIDER}" is configured for ${JSON.stringify(ref)}`;
  }
  if (catalog.prices.lookup(model) || provider.models?.includes(model)) return null;
  return `unknown model ${JSON.stringify(ref)}: neither the price table nor provider ${providerName}'s model list knows it `
    + `(a model of another provider is written "provider/model"; list it under providers.${providerName}.models in config.json, or give it a price under "prices")`;
}
