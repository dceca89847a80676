// Times, percentages and labels as the views show them; money and counts: src/protocol/format.ts.
import { formatCount } from '../../../src/protocol/format.js';

/** 60000 → "60k", 75500 → "75.5k", 1500000 → "1.5M" (a long-context rule reads ">60k tokens"). */
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

/** A change against the previous period: "+12%", "-3.4%", "no change"; null when there is nothing to compare. */
export function formatChange(current: number | null, previous: number | null): string | null {
  if (current === null || previous === null || !Number.isFinite(current) || !Number.isFinite(previous) || previous === 0) return null;
  const ratio = (current - previous) / previous;
  if (Math.abs(ratio) < 0.0005) return 'no change';
  const pct = Math.abs(ratio) >= 0.1 ? Math.round(ratio * 100).toString() : (ratio * 100).toFixed(1);
  return `${ratio > 0 ? '+' : ''}${pct}%`;
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
