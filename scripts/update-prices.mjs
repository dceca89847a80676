// Regenerates src/conduit/pricing/anthropic-prices.json from @pydantic/genai-prices, the
// maintained price library (see ../shared/PRICES.md), as of today. The gateway ships this
// data file rather than the library: it reads no network at run time, and config.json
// can add or override prices without a new release.
//   npm run prices             (after `npm install @pydantic/genai-prices@latest`)
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const prices = require('@pydantic/genai-prices');
const pkgJson = JSON.parse(readFileSync(path.join(path.dirname(require.resolve('@pydantic/genai-prices')), '../package.json'), 'utf8'));
const provider = prices.findProvider({ providerId: 'anthropic' });
const today = new Date().toISOString().slice(0, 10);

/** The price entry in force today: a constrained list is ordered oldest first. */
function currentPrices(p) {
  if (!Array.isArray(p)) return p;
  const inForce = p.filter((e) => !e.constraint || (e.constraint.type === 'start_date' && e.constraint.start_date <= today));
  return inForce[inForce.length - 1].prices;
}

function split(v) {
  if (v === undefined) return { base: undefined, above: undefined };
  if (typeof v === 'number') return { base: v, above: undefined };
  const tier = v.tiers?.find((t) => t.start === 200000);
  return { base: v.base, above: tier?.price };
}

const models = [];
for (const m of provider.models) {
  const p = currentPrices(m.prices);
  const fields = { input: p.input_mtok, output: p.output_mtok, cacheWrite5m: p.cache_write_mtok, cacheWrite1h: p.cache_write_1h_mtok, cacheRead: p.cache_read_mtok };
  const price = {};
  const above = {};
  for (const [k, v] of Object.entries(fields)) {
    const { base, above: a } = split(v);
    if (base !== undefined) price[k] = base;
    if (a !== undefined) above[k] = a;
  }
  // Anthropic's rule where the library has no figure: 5-minute write 1.25x, 1-hour write 2x, read 0.1x input.
  price.cacheWrite5m ??= round(price.input * 1.25);
  price.cacheWrite1h ??= round(price.input * 2);
  price.cacheRead ??= round(price.input * 0.1);
  if (Object.keys(above).length) price.above200k = above;
  models.push({ id: m.id, name: m.name, match: m.match, price });
}

function round(x) { return Math.round(x * 1e6) / 1e6; }

const out = {
  source: `@pydantic/genai-prices ${pkgJson.version} (${provider.pricing_urls.join(', ')})`,
  version: today,
  unit: 'USD per million tokens',
  models,
};
const file = path.join(path.dirname(new URL(import.meta.url).pathname), '../src/conduit/pricing/anthropic-prices.json');
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${models.length} models to ${path.relative(process.cwd(), file)} (version ${today})`);
