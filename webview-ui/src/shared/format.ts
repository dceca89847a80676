// Numbers, money and times as the views show them.

/** "$1.2345"; an unknown cost is an em dash, never "$0". */
export function formatCost(cost: number | null | undefined, decimals = 4): string {
  if (cost === null || cost === undefined || !Number.isFinite(cost)) return '—';
  const sign = cost < 0 ? '-' : '';
  return `${sign}$${Math.abs(cost).toFixed(decimals)}`;
}

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

export function formatTokens(tokens: number): string {
  return integer.format(tokens);
}

/** 60000 → "60k", 75500 → "75.5k", 1500000 → "1.5M" (the seed's ">60k tokens"). */
export function formatThreshold(n: number): string {
  if (n >= 1_000_000) return `${+(n / 1_000_000).toFixed(2)}M`;
  if (n >= 1000) return `${+(n / 1000).toFixed(1)}k`;
  return String(n);
}

export function formatPercent(ratio: number | null | undefined, decimals = 1): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—';
  return `${(ratio * 100).toFixed(decimals)}%`;
}

/** "less than a minute ago", "3 minutes ago", "1 hour ago", "2 days ago". */
export function relativeTime(iso: string, now = Date.now()): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return '';
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 60) return 'less than a minute ago';
  const unit = (n: number, name: string) => `${n} ${name}${n === 1 ? '' : 's'} ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return unit(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return unit(hours, 'hour');
  const days = Math.floor(hours / 24);
  if (days < 60) return unit(days, 'day');
  return unit(Math.floor(days / 30), 'month');
}

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayOfMonth = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A bucket label: "14:00" for hours, "Nov 27" for days. */
export function formatBucket(iso: string, bucket: 'hour' | 'day'): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return bucket === 'hour' ? timeOfDay.format(d) : dayOfMonth.format(d);
}

const hourOnly = new Intl.DateTimeFormat(undefined, { hour: 'numeric' });

/** An hour as a narrow axis labels it: "6 PM", "18 Uhr" (the tooltip and description keep minutes). */
export function formatAxisHour(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : hourOnly.format(d);
}

export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : full.format(d);
}

/** "a1b2c3d4…" for long ids in tables (the full id is in the title). */
export function shortId(id: string, length = 8): string {
  return id.length > length + 1 ? `${id.slice(0, length)}…` : id;
}

const SOURCE_LABELS: Record<string, string> = {
  agent: 'Agent model',
  project: 'Project default (routing off)',
  plugin: 'Custom plugin',
  'long-context': 'Long context',
  background: 'Background task',
  'web-search': 'Web search',
  reasoning: 'Complex reasoning',
  default: 'Default model',
  passthrough: 'Requested model',
  budget: 'Budget limit',
};

export function sourceLabel(source: string): string {
  return SOURCE_LABELS[source] ?? source;
}

// ---------------------------------------------------------------------------------------
// Money and token counts as the analytics panel writes them (issue 11): a reader compares
// dollars, so cents from $0.01 up with thousands separators ("$1,931.20"); only an amount
// below a cent needs more decimals to say anything ("$0.0042"). Token counts are read at a
// glance: "32.5M", "840k".

const dollars = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * "$1,931.20", "$0.46", "$0.0042", "$0.00"; an unknown cost is an em dash, never "$0".
 * Below a cent: two significant digits (at most 6 decimals), so a tiny cost never reads $0.00.
 */
export function formatMoney(cost: number | null | undefined): string {
  if (cost === null || cost === undefined || !Number.isFinite(cost)) return '—';
  const sign = cost < 0 ? '-' : '';
  const abs = Math.abs(cost);
  if (abs === 0) return '$0.00';
  if (abs >= 0.01) return `${sign}$${dollars.format(abs)}`;
  if (abs < 0.0000005) return `${sign === '-' ? '>-' : '<'}$0.000001`;
  const decimals = Math.min(6, Math.max(3, 1 - Math.floor(Math.log10(abs))));
  // Trailing zeros say nothing ("$0.0050" → "$0.005"); a cent's worth of digits always stays.
  return `${sign}$${abs.toFixed(decimals).replace(/(\.\d\d\d*?)0+$/, '$1')}`;
}

/** A change against the previous period: "+12%", "-3.4%", "no change"; null when there is nothing to compare. */
export function formatChange(current: number | null, previous: number | null): string | null {
  if (current === null || previous === null || !Number.isFinite(current) || !Number.isFinite(previous) || previous === 0) return null;
  const ratio = (current - previous) / previous;
  if (Math.abs(ratio) < 0.0005) return 'no change';
  const pct = Math.abs(ratio) >= 0.1 ? Math.round(ratio * 100).toString() : (ratio * 100).toFixed(1);
  return `${ratio > 0 ? '+' : ''}${pct}%`;
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

/** The four token measures (src/protocol/measures.ts), each labelled: "in 1.2M · out 300k · cache write 50k · cache read 30.1M". */
export function formatTokenSplit(t: { inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number }): string {
  return `in ${formatCount(t.inputTokens)} · out ${formatCount(t.outputTokens)} · cache write ${formatCount(t.cacheCreationTokens)} · cache read ${formatCount(t.cacheReadTokens)}`;
}

/** A duration in words short enough for a table: "45s", "12m", "3h 05m", "2d 4h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/**
 * Spend against a budget, as the status bar, the sidebar and the model configuration say it:
 * "$7.13 / $40" (a budget of whole dollars without cents), the spend alone without a budget.
 * No cost known yet counts as $0.00 here: the caller marks requests of unknown price.
 */
export function formatSpendOfBudget(cost: number | null, budgetUsd: number | null): string {
  const spent = formatMoney(cost ?? 0);
  if (budgetUsd === null || !Number.isFinite(budgetUsd)) return spent;
  const budget = Number.isInteger(budgetUsd) ? `$${budgetUsd.toLocaleString('en-US')}` : formatMoney(budgetUsd);
  return `${spent} / ${budget}`;
}
