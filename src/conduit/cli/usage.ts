/**
 * `conduit usage daily|monthly|session`: token and cost reports in the terminal, from the
 * running gateway's usage report (ROUTES.usageReport), in the shape people
 * know from ccusage: one row per day, month or session with its models, input, output,
 * cache creation and cache read tokens, total tokens and cost; per-model rows with
 * --breakdown; --json for scripts.
 */
import type { ConduitPaths } from '../client/paths';
import { isValidTimeZone } from '../core/timeZone';
import { findRunningGateway } from '../client/gatewayClient';
import { fetchUsageReport, ReportError } from '../client/reportClient';
import type { ReportDimension, ReportMeasures, UsageReportRow } from '../../protocol/reports';
import { formatInteger, formatUsd, roundUsd, shortModel } from '../../protocol/format';
import { TOKEN_MEASURES } from '../../protocol/measures';
import { whenStoreOpen } from './storeWait';
import { readArgs } from './args';

export const USAGE_HELP = `usage: conduit usage [daily|monthly|session] [options]
  daily                  one row per day (the default)
  monthly                one row per month
  session                one row per conduit-claude session, with its last activity
options:
  --since DATE           from this day on (YYYYMMDD or YYYY-MM-DD; default: the first request)
  --until DATE           up to and with this day (default: today)
  --project KEY          only this project (workspace key or id)
  --agent ID             only this agent
  --tz ZONE              days and months in this IANA time zone (default: this machine's)
  --order asc|desc       oldest first (default) or newest first
  -b, --breakdown        a row per model under each period
  --json                 JSON instead of a table
Total tokens count input, output, cache creation and cache read tokens.`;

export type ReportKind = 'daily' | 'monthly' | 'session';

export interface UsageArgs {
  kind: ReportKind;
  since?: string;
  until?: string;
  project?: string;
  agent?: string;
  tz: string;
  order: 'asc' | 'desc';
  breakdown: boolean;
  json: boolean;
  help: boolean;
}

export class UsageArgError extends Error {}

/** YYYYMMDD or YYYY-MM-DD → YYYY-MM-DD, checked against the calendar. */
export function parseDay(flag: string, text: string | undefined): string {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(text ?? '');
  if (!m) throw new UsageArgError(`${flag} takes a date as YYYYMMDD or YYYY-MM-DD, got ${JSON.stringify(text ?? '')}`);
  const day = `${m[1]}-${m[2]}-${m[3]}`;
  const real = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (Number.isNaN(real.getTime()) || real.toISOString().slice(0, 10) !== day) throw new UsageArgError(`${flag}: ${day} is not a date of the calendar`);
  return day;
}

/** The options of `conduit usage`, as node:util's parseArgs reads them. */
const USAGE_OPTIONS = {
  since: { type: 'string' },
  until: { type: 'string' },
  project: { type: 'string' },
  agent: { type: 'string' },
  tz: { type: 'string' },
  timezone: { type: 'string' },
  order: { type: 'string' },
  breakdown: { type: 'boolean', short: 'b' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseUsageArgs(args: string[], localZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'): UsageArgs {
  const out: UsageArgs = { kind: 'daily', tz: localZone, order: 'asc', breakdown: false, json: false, help: false };
  let kindSeen = false;
  // In the order given, so that the first mistake is the one named.
  for (const item of readArgs(args, USAGE_OPTIONS).items) {
    if (item.kind === 'positional') {
      const a = item.value;
      if (a !== 'daily' && a !== 'monthly' && a !== 'session') throw new UsageArgError(`unknown report "${a}" (have: daily, monthly, session)`);
      if (kindSeen) throw new UsageArgError(`one report at a time (got ${out.kind} and ${a})`);
      out.kind = a;
      kindSeen = true;
      continue;
    }
    const a = item.rawName;
    if (!item.known) throw new UsageArgError(`unknown option ${a}`);
    const value = () => {
      if (item.value === undefined) throw new UsageArgError(`${a} needs a value`);
      return item.value;
    };
    switch (item.name) {
      case 'since': out.since = parseDay(a, value()); break;
      case 'until': out.until = parseDay(a, value()); break;
      case 'project': out.project = value(); break;
      case 'agent': out.agent = value(); break;
      case 'tz': case 'timezone': {
        const tz = value();
        if (!isValidTimeZone(tz)) throw new UsageArgError(`${a}: "${tz.slice(0, 64)}" is not an IANA time zone name (such as UTC, Europe/Berlin)`);
        out.tz = tz;
        break;
      }
      case 'order': {
        const o = value();
        if (o !== 'asc' && o !== 'desc') throw new UsageArgError(`--order takes asc or desc, got ${JSON.stringify(o)}`);
        out.order = o;
        break;
      }
      case 'breakdown': out.breakdown = true; break;
      case 'json': out.json = true; break;
      case 'help': out.help = true; break;
    }
  }
  if (out.since && out.until && out.since > out.until) throw new UsageArgError(`--since ${out.since} is after --until ${out.until}`);
  return out;
}

const GROUP_BY: Record<ReportKind, ReportDimension[]> = {
  daily: ['day', 'model'],
  monthly: ['month', 'model'],
  session: ['session', 'model'],
};

// ---------------------------------------------------------------------------------------
// Shaping the report's rows into periods

/** A report's measures but the failed requests, which the table does not show. */
type Sums = Omit<ReportMeasures, 'errors'>;

export interface Period extends Sums {
  key: string;
  firstAt?: string;
  lastAt?: string;
  models: string[];
  breakdown: (Sums & { model: string })[];
}

/** The measures of a report's row, without its dimensions. */
function sumsOf(m: ReportMeasures): Sums {
  return {
    requests: m.requests, inputTokens: m.inputTokens, outputTokens: m.outputTokens, cacheCreationTokens: m.cacheCreationTokens,
    cacheReadTokens: m.cacheReadTokens, totalTokens: m.totalTokens, cost: m.cost, unknownCostRequests: m.unknownCostRequests,
  };
}

function add(into: Sums, m: Sums): void {
  into.requests += m.requests;
  for (const k of TOKEN_MEASURES) into[k] += m[k];
  into.totalTokens += m.totalTokens;
  into.unknownCostRequests += m.unknownCostRequests;
  if (m.cost !== null) into.cost = roundUsd((into.cost ?? 0) + m.cost);
}

/** Rows of (period, model) → one period each with its models, in the order asked. */
export function periodsOf(kind: ReportKind, rows: UsageReportRow[], order: 'asc' | 'desc'): Period[] {
  const byKey = new Map<string, Period>();
  for (const r of rows) {
    const key = kind === 'daily' ? r.day! : kind === 'monthly' ? r.month! : (r.sessionId ?? '(no session)');
    let p = byKey.get(key);
    if (!p) {
      p = { key, models: [], breakdown: [], requests: 0, inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, totalTokens: 0, cost: null, unknownCostRequests: 0 };
      byKey.set(key, p);
    }
    add(p, sumsOf(r));
    p.breakdown.push({ model: r.model ?? '', ...sumsOf(r) });
    if (r.firstAt && (!p.firstAt || r.firstAt < p.firstAt)) p.firstAt = r.firstAt;
    if (r.lastAt && (!p.lastAt || r.lastAt > p.lastAt)) p.lastAt = r.lastAt;
  }
  const periods = [...byKey.values()];
  for (const p of periods) {
    p.breakdown.sort((a, b) => (b.cost ?? -1) - (a.cost ?? -1) || b.totalTokens - a.totalTokens || a.model.localeCompare(b.model));
    p.models = p.breakdown.map((b) => b.model);
  }
  const when = (p: Period) => (kind === 'session' ? p.lastAt ?? '' : p.key);
  periods.sort((a, b) => when(a).localeCompare(when(b)) || a.key.localeCompare(b.key));
  if (order === 'desc') periods.reverse();
  return periods;
}

// ---------------------------------------------------------------------------------------
// Output

/** The Models column wraps past this many characters. */
const MODELS_WIDTH = 34;

function costText(s: Sums): string {
  if (s.cost === null) return s.requests ? 'n/a' : formatUsd(0);
  return `${formatUsd(s.cost)}${s.unknownCostRequests ? '+?' : ''}`;
}

/** Aligned columns: text left, numbers right; a cell may hold several lines; 'rule' draws a line. */
export function renderTable(headers: string[], numeric: boolean[], rows: (string[] | 'rule')[]): string {
  const len = (text: string) => [...text].length;
  const widths = headers.map((h, i) => Math.max(len(h), ...rows.flatMap((r) => (r === 'rule' ? [0] : r[i].split('\n').map(len)))));
  const line = (cells: string[]) => cells.map((c, i) => {
    const pad = ' '.repeat(widths[i] - len(c));
    return numeric[i] ? pad + c : c + pad;
  }).join('  ').trimEnd();
  const lines = (cells: string[]) => {
    const split = cells.map((c) => c.split('\n'));
    const height = Math.max(...split.map((c) => c.length));
    return Array.from({ length: height }, (_, k) => line(split.map((c) => c[k] ?? '')));
  };
  const rule = widths.map((w) => '─'.repeat(w)).join('──');
  return [line(headers), rule, ...rows.flatMap((r) => (r === 'rule' ? [rule] : lines(r)))].join('\n');
}

/** Items joined by ", " in lines of at most `width` characters (an item longer stays whole). */
export function wrapList(items: string[], width: number): string {
  const out: string[] = [];
  let current = '';
  for (const item of items) {
    const next = current ? `${current}, ${item}` : item;
    if (current && next.length > width) {
      out.push(`${current},`);
      current = item;
    } else current = next;
  }
  if (current) out.push(current);
  return out.join('\n');
}

function localTime(iso: string, tz: string): string {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

function localDay(iso: string, tz: string): string {
  return localTime(iso, tz).slice(0, 10);
}

export function formatUsageTable(kind: ReportKind, periods: Period[], totals: ReportMeasures, context: { from: string; to: string; tz: string; project: string | null; agent: string | null; breakdown: boolean }): string {
  const first = kind === 'daily' ? 'Date' : kind === 'monthly' ? 'Month' : 'Session';
  const headers = [first, 'Models', 'Input', 'Output', 'Cache Create', 'Cache Read', 'Total Tokens', 'Cost (USD)', ...(kind === 'session' ? ['Last Activity'] : [])];
  const numeric = [false, false, true, true, true, true, true, true, false];
  const measures = (s: Sums) => [formatInteger(s.inputTokens), formatInteger(s.outputTokens), formatInteger(s.cacheCreationTokens), formatInteger(s.cacheReadTokens), formatInteger(s.totalTokens), costText(s)];
  const rows: (string[] | 'rule')[] = [];
  for (const p of periods) {
    rows.push([p.key, wrapList(p.models.map(shortModel), MODELS_WIDTH), ...measures(p), ...(kind === 'session' ? [p.lastAt ? localTime(p.lastAt, context.tz) : ''] : [])]);
    if (context.breakdown) {
      for (const b of p.breakdown) rows.push(['', `└─ ${shortModel(b.model)}`, ...measures(b), ...(kind === 'session' ? [''] : [])]);
    }
  }
  rows.push('rule');
  rows.push(['Total', '', ...measures(sumsOf(totals)), ...(kind === 'session' ? [''] : [])]);
  const scope = [context.project ? `project ${context.project}` : null, context.agent ? `agent ${context.agent}` : null].filter(Boolean).join(', ');
  const lastDay = localDay(new Date(Date.parse(context.to) - 1).toISOString(), context.tz);
  const title = `Conduit usage, ${kind === 'session' ? 'by session' : kind}: ${localDay(context.from, context.tz)} to ${lastDay} (${context.tz})${scope ? `, ${scope}` : ''}`;
  const notes: string[] = [];
  if (totals.unknownCostRequests) notes.push(`+? / n/a: ${formatInteger(totals.unknownCostRequests)} request${totals.unknownCostRequests === 1 ? '' : 's'} without a known price (failed before usage, or a model the price table does not know) are not in the costs.`);
  return [title, '', renderTable(headers, numeric.slice(0, headers.length), rows), ...(notes.length ? ['', ...notes] : [])].join('\n');
}

export function usageJson(kind: ReportKind, periods: Period[], totals: ReportMeasures, meta: { from: string; to: string; tz: string; project: { key: string; name: string } | null; agent: string | null }): Record<string, unknown> {
  const measures = (s: Sums) => ({
    requests: s.requests, inputTokens: s.inputTokens, outputTokens: s.outputTokens, cacheCreationTokens: s.cacheCreationTokens,
    cacheReadTokens: s.cacheReadTokens, totalTokens: s.totalTokens,
  });
  const entries = periods.map((p) => ({
    ...(kind === 'daily' ? { date: p.key } : kind === 'monthly' ? { month: p.key } : { sessionId: p.key, firstActivity: p.firstAt ?? null, lastActivity: p.lastAt ?? null }),
    models: p.models,
    ...measures(p),
    totalCost: p.cost,
    unknownCostRequests: p.unknownCostRequests,
    modelBreakdowns: p.breakdown.map((b) => ({ model: b.model, ...measures(b), cost: b.cost, unknownCostRequests: b.unknownCostRequests })),
  }));
  return {
    report: kind,
    from: meta.from,
    to: meta.to,
    tz: meta.tz,
    project: meta.project,
    agent: meta.agent,
    [kind === 'session' ? 'sessions' : kind]: entries,
    totals: { ...measures(sumsOf(totals)), totalCost: totals.cost, unknownCostRequests: totals.unknownCostRequests },
  };
}

/** Runs `conduit usage ...`; returns the exit code (2: bad arguments, 1: no report). */
export async function usageCommand(paths: ConduitPaths, args: string[]): Promise<number> {
  let a: UsageArgs;
  try {
    a = parseUsageArgs(args);
  } catch (err) {
    if (!(err instanceof UsageArgError)) throw err;
    console.error(`conduit usage: ${err.message}\n\n${USAGE_HELP}`);
    return 2;
  }
  if (a.help) {
    console.log(USAGE_HELP);
    return 0;
  }
  const gw = await findRunningGateway(paths);
  if (!gw) {
    console.error(`conduit usage: the gateway is not running (home ${paths.home}); start it with \`conduit start\``);
    return 1;
  }
  let report;
  try {
    report = await whenStoreOpen(() => fetchUsageReport({ port: gw.port, token: gw.token }, {
      groupBy: GROUP_BY[a.kind], tz: a.tz,
      ...(a.since ? { from: a.since } : {}),
      ...(a.until ? { to: a.until } : {}),
      ...(a.project ? { project: a.project } : {}),
      ...(a.agent ? { agent: a.agent } : {}),
    }));
  } catch (err) {
    if (!(err instanceof ReportError)) throw err;
    console.error(`conduit usage: ${err.message}`);
    return 1;
  }
  const periods = periodsOf(a.kind, report.rows, a.order);
  if (a.json) {
    console.log(JSON.stringify(usageJson(a.kind, periods, report.totals, report.meta), null, 2));
    return 0;
  }
  if (!periods.length) {
    console.log(`No usage recorded from ${localDay(report.meta.from, report.meta.tz)} to ${localDay(new Date(Date.parse(report.meta.to) - 1).toISOString(), report.meta.tz)} (${report.meta.tz})${a.project ? ` in project ${a.project}` : ''}.`);
    return 0;
  }
  console.log(formatUsageTable(a.kind, periods, report.totals, {
    from: report.meta.from, to: report.meta.to, tz: report.meta.tz, project: report.meta.project?.key ?? a.project ?? null, agent: a.agent ?? null, breakdown: a.breakdown,
  }));
  return 0;
}
