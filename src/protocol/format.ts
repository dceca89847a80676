/**
 * Money and counts as people read them, one rule for the extension, the CLI and the
 * webviews alike: a reader compares dollars, so cents from $0.01 up with thousands
 * separators ("$1,931.20"); only an amount below a cent needs more decimals to say anything
 * ("$0.0042"). Token counts are read at a glance: "32.5M", "840k".
 *
 * Two places write a fixed number of decimals instead, on purpose, through the same
 * function: a session's cost in the terminal and the CLI's ledger lines ('ledger': four
 * decimals, the figure the usage store has to a hundredth of a cent), and a chart's cost
 * axis (as many decimals as its tick step needs, so no two ticks read alike).
 */

/** 'display': the rule above; 'ledger': always four decimals; { decimals }: always that many. */
export type UsdPrecision = 'display' | 'ledger' | { decimals: number };

const LEDGER_DECIMALS = 4;
const cents = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const fixedFormats = new Map<number, Intl.NumberFormat>();

function fixed(decimals: number): Intl.NumberFormat {
  let f = fixedFormats.get(decimals);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    fixedFormats.set(decimals, f);
  }
  return f;
}

/**
 * "$1,931.20", "$0.46", "$0.0042", "$0.00"; an unknown cost is an em dash, never "$0".
 * Below a cent ('display'): two significant digits (at most 6 decimals), so a tiny cost
 * never reads $0.00.
 */
export function formatUsd(cost: number | null | undefined, precision: UsdPrecision = 'display'): string {
  if (cost === null || cost === undefined || !Number.isFinite(cost)) return '—';
  const sign = cost < 0 ? '-' : '';
  const abs = Math.abs(cost);
  if (precision !== 'display') {
    const decimals = precision === 'ledger' ? LEDGER_DECIMALS : precision.decimals;
    // A negative amount that rounds to zero is written as zero, not "-$0.0000".
    const text = fixed(decimals).format(abs);
    return `${/[1-9]/.test(text) ? sign : ''}$${text}`;
  }
  if (abs === 0) return '$0.00';
  if (abs >= 0.01) return `${sign}$${cents.format(abs)}`;
  if (abs < 0.0000005) return `${sign === '-' ? '>-' : '<'}$0.000001`;
  const decimals = Math.min(6, Math.max(3, 1 - Math.floor(Math.log10(abs))));
  // Trailing zeros say nothing ("$0.0050" → "$0.005"); a cent's worth of digits always stays.
  return `${sign}$${abs.toFixed(decimals).replace(/(\.\d\d\d*?)0+$/, '$1')}`;
}

/**
 * An amount of USD as the usage store and reports keep it: rounded to a millionth of a
 * dollar, so sums of many float costs compare equal wherever they are added up.
 */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

/**
 * Spend against a budget, as the status bar, the sidebar and the model configuration say it:
 * "$7.13 / $40" (a budget of whole dollars without cents), the spend alone without a budget.
 * No cost known yet counts as $0.00 here: the caller marks requests of unknown price.
 */
export function formatSpendOfBudget(cost: number | null, budgetUsd: number | null): string {
  const spent = formatUsd(cost ?? 0);
  if (budgetUsd === null || !Number.isFinite(budgetUsd)) return spent;
  return `${spent} / ${formatUsdAmount(budgetUsd)}`;
}

/** An amount as set (a budget, a list price): "$40", "$1,500" for whole dollars, cents otherwise ("$12.50"). */
export function formatUsdAmount(usd: number): string {
  return Number.isInteger(usd) ? `$${usd.toLocaleString('en-US')}` : formatUsd(usd);
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A whole count written out with thousands separators ("12,345 requests"), where every unit matters. */
export function formatInteger(n: number): string {
  return Number.isFinite(n) ? integer.format(n) : '—';
}

/** A count and what it counts, written out: "1 request", "12,345 sessions" (English plurals in s only). */
export function plural(n: number, word: string): string {
  return `${formatInteger(n)} ${word}${n === 1 ? '' : 's'}`;
}

/** 999 → "999", 12_345 → "12.3k", 32_512_000 → "32.5M", 1.2e9 → "1.2B" (text and axis ticks alike). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  const sign = n < 0 ? '-' : '';
  if (abs < 1000) return `${sign}${integer.format(abs)}`;
  const units: [number, string][] = [[1e3, 'k'], [1e6, 'M'], [1e9, 'B']];
  for (const [size, unit] of units) {
    const value = abs / size;
    const rounded = value >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
    // 999_950 rounds to 1000k: written in the next unit up instead.
    if (rounded < 1000 || unit === 'B') return `${sign}${rounded}${unit}`;
  }
  return `${sign}${integer.format(abs)}`;
}

/** A Claude model id as a narrow column or a status line writes it: "claude-sonnet-4-5-20250929" → "sonnet-4-5". */
export function shortModel(model: string): string {
  return model.replace(/^claude-/, '').replace(/-\d{8}$/, '');
}
