/**
 * Budget arithmetic, pure: calendar periods in an IANA time zone (DST and month ends
 * included), percent and state of a budget, the burn-rate forecast, which threshold
 * alerts are due, the stricter of several budgets, and the texts people read.
 * Semantics are documented in src/protocol/budgets.ts.
 */
import {
  BUDGET_THRESHOLDS, FORECAST_MIN_ELAPSED_FRACTION, FORECAST_MIN_SPENT_FRACTION,
  type BudgetPeriod, type BudgetScope, type BudgetState, type BudgetThreshold,
} from '../../protocol/budgets';
import { formatUsd } from '../../protocol/format';

export interface Period {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
}

const HOUR = 3_600_000;

export { isValidTimeZone, localTimeZone } from '../core/timeZone';

const partFormatters = new Map<string, Intl.DateTimeFormat>();

function partFormatter(zone: string): Intl.DateTimeFormat {
  let f = partFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23',
    });
    partFormatters.set(zone, f);
  }
  return f;
}

/** The wall-clock date and time of an instant in a zone. */
export function zonedParts(t: number, zone: string): { year: number; month: number; day: number; hour: number; minute: number } {
  const out = { year: 0, month: 0, day: 0, hour: 0, minute: 0 };
  for (const p of partFormatter(zone).formatToParts(t)) {
    if (p.type === 'year' || p.type === 'month' || p.type === 'day' || p.type === 'hour' || p.type === 'minute') out[p.type] = Number(p.value);
  }
  return out;
}

const dateKey = (y: number, m: number, d: number) => y * 10_000 + m * 100 + d;

function localDateKey(t: number, zone: string): number {
  const p = zonedParts(t, zone);
  return dateKey(p.year, p.month, p.day);
}

/**
 * The first instant whose local date in `zone` is the calendar date (year, month, day)
 * or later: local midnight, or the end of a DST gap that swallowed midnight. month is
 * 1-12; out-of-range days and months roll over as Date.UTC does.
 */
export function startOfLocalDate(year: number, month: number, day: number, zone: string): number {
  const utcMidnight = Date.UTC(year, month - 1, day);
  const n = new Date(utcMidnight);
  const key = dateKey(n.getUTCFullYear(), n.getUTCMonth() + 1, n.getUTCDate());
  const atOrAfter = (t: number) => localDateKey(t, zone) >= key;
  // Usually midnight is the UTC midnight shifted by the zone's offset there: check it.
  const p = zonedParts(utcMidnight, zone);
  const offset = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - utcMidnight;
  const guess = utcMidnight - offset;
  if (atOrAfter(guess) && !atOrAfter(guess - 1)) return guess;
  // A DST change near midnight: search. Every zone's offset lies within -12 h and +14 h,
  // so the local date is before the target at lo and at or after it at hi.
  let lo = utcMidnight - 15 * HOUR;
  let hi = utcMidnight + 13 * HOUR;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (atOrAfter(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The calendar day or month that holds instant t, in zone. */
export function periodAt(period: BudgetPeriod, t: number, zone: string): Period {
  const p = zonedParts(t, zone);
  if (period === 'daily') {
    return { start: startOfLocalDate(p.year, p.month, p.day, zone), end: startOfLocalDate(p.year, p.month, p.day + 1, zone) };
  }
  return { start: startOfLocalDate(p.year, p.month, 1, zone), end: startOfLocalDate(p.year, p.month + 1, 1, zone) };
}

/** 100 × spent / limit; a budget of 0 counts as reached at once. */
export function percentOf(spentUsd: number, limitUsd: number): number {
  if (limitUsd <= 0) return 100;
  return (100 * spentUsd) / limitUsd;
}

export interface LimitPolicy {
  softLimitPercent: number | null;
  hardLimitPercent: number | null;
}

export function stateOf(percent: number, policy: LimitPolicy): BudgetState {
  if (policy.hardLimitPercent !== null && percent >= policy.hardLimitPercent) return 'hard';
  if (policy.softLimitPercent !== null && percent >= policy.softLimitPercent) return 'soft';
  return 'ok';
}

export interface Forecast {
  /** Spend at the period's end at the current burn rate; null while too early to tell. */
  forecastUsd: number | null;
  /** When the burn rate reaches the limit, if that is before the period ends and not yet reached. */
  crossingAt: number | null;
}

/**
 * Burn rate = spent / time elapsed since the period started; the forecast extends it to
 * the period's end. Only once FORECAST_MIN_ELAPSED_FRACTION of the period has passed and
 * FORECAST_MIN_SPENT_FRACTION of the budget is spent, so an early request does not cry wolf.
 */
export function forecastOf(spentUsd: number, limitUsd: number, period: Period, now: number): Forecast {
  const length = period.end - period.start;
  const elapsed = Math.min(Math.max(now - period.start, 0), length);
  if (limitUsd <= 0 || length <= 0 || elapsed < length * FORECAST_MIN_ELAPSED_FRACTION || spentUsd < limitUsd * FORECAST_MIN_SPENT_FRACTION) {
    return { forecastUsd: null, crossingAt: null };
  }
  const rate = spentUsd / elapsed; // USD per ms
  const forecastUsd = spentUsd + rate * (period.end - period.start - elapsed);
  let crossingAt: number | null = null;
  if (spentUsd < limitUsd) {
    const at = period.start + limitUsd / rate;
    if (at < period.end) crossingAt = Math.round(at);
  }
  return { forecastUsd: Math.round(forecastUsd * 1e6) / 1e6, crossingAt };
}

/**
 * Threshold alerts due at this percent: the highest threshold reached that was not raised
 * yet is raised; lower ones not raised yet are passed over (recorded, not shown), so one
 * large step or a budget set late gives one alert rather than three.
 */
export function dueThresholds(percent: number, raised: (threshold: BudgetThreshold) => boolean): { raise: BudgetThreshold | null; passed: BudgetThreshold[] } {
  const reached = BUDGET_THRESHOLDS.filter((t) => percent >= t && !raised(t));
  if (!reached.length) return { raise: null, passed: [] };
  const top = reached[reached.length - 1];
  // A threshold above the top one already raised makes this one old news too.
  if (BUDGET_THRESHOLDS.some((t) => t > top && raised(t))) return { raise: null, passed: reached };
  return { raise: top, passed: reached.slice(0, -1) };
}

/** One budget of one scope as the request path sees it. */
export interface EvaluatedBudget {
  scope: BudgetScope;
  /** The project's name, and the agent's for scope 'agent'. */
  projectName: string;
  agentName: string | null;
  period: BudgetPeriod;
  limitUsd: number;
  spentUsd: number;
  percent: number;
  periodEnd: number;
  softLimitPercent: number | null;
  softLimitModel: string | null;
  hardLimitPercent: number | null;
}

export type BudgetVerdict =
  | { kind: 'refuse'; budget: EvaluatedBudget }
  | { kind: 'downgrade'; budget: EvaluatedBudget; model: string }
  | null;

/**
 * The stricter of the budgets that apply to a request (the project's and the agent's,
 * daily and monthly): any hard limit reached refuses (naming the most exceeded one);
 * otherwise, of the soft limits reached, the one whose model is cheapest wins.
 * `softModel` gives a budget's target (its own, or the configuration's cheapest);
 * `price` a model's price for comparison (null when unknown: it loses to any known one).
 */
export function budgetVerdict(
  budgets: readonly EvaluatedBudget[], softModel: (b: EvaluatedBudget) => string | null, price: (model: string) => number | null,
): BudgetVerdict {
  let hard: EvaluatedBudget | null = null;
  for (const b of budgets) {
    if (b.hardLimitPercent === null || b.percent < b.hardLimitPercent) continue;
    if (!hard || b.percent / Math.max(b.hardLimitPercent, 1e-9) > hard.percent / Math.max(hard.hardLimitPercent!, 1e-9)) hard = b;
  }
  if (hard) return { kind: 'refuse', budget: hard };
  let best: { budget: EvaluatedBudget; model: string; price: number } | null = null;
  for (const b of budgets) {
    if (b.softLimitPercent === null || b.percent < b.softLimitPercent) continue;
    const model = softModel(b);
    if (!model) continue;
    const p = price(model) ?? Infinity;
    if (!best || p < best.price || (p === best.price && b.percent > best.budget.percent)) best = { budget: b, model, price: p };
  }
  return best ? { kind: 'downgrade', budget: best.budget, model: best.model } : null;
}

/** Percent for people: whole numbers, never rounded up past a limit not yet reached. */
export function formatPercent(p: number): string {
  return `${Math.floor(p + 1e-9)}%`;
}

const timeFormatters = new Map<string, Intl.DateTimeFormat>();

/** A local time for people, e.g. "Sun, Nov 30, 00:00 GMT+1". */
export function formatLocalTime(t: number, zone: string): string {
  let f = timeFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, weekday: 'short', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short',
    });
    timeFormatters.set(zone, f);
  }
  return f.format(t);
}

function whose(b: Pick<EvaluatedBudget, 'scope' | 'projectName' | 'agentName'>): string {
  return b.scope === 'agent' ? `agent '${b.agentName}' of project '${b.projectName}'` : `project '${b.projectName}'`;
}

/** The rule text of a downgrade, e.g. "daily budget 82% ≥ soft limit 80% → claude-haiku-4-5". */
export function softLimitRule(b: EvaluatedBudget, model: string): string {
  const prefix = b.scope === 'agent' ? `agent '${b.agentName}' ` : '';
  return `${prefix}${b.period} budget ${formatPercent(b.percent)} ≥ soft limit ${formatPercent(b.softLimitPercent ?? 0)} → ${model}`;
}

export function hardLimitRule(b: EvaluatedBudget): string {
  const prefix = b.scope === 'agent' ? `agent '${b.agentName}' ` : '';
  return `${prefix}${b.period} budget ${formatPercent(b.percent)} ≥ hard limit ${formatPercent(b.hardLimitPercent ?? 0)}: refused`;
}

/** What claude shows the person when a hard limit refuses the request. */
export function refusalMessage(b: EvaluatedBudget, zone: string): string {
  return `Conduit: ${whose(b)} has spent ${formatUsd(b.spentUsd)} of its ${formatUsd(b.limitUsd)} ${b.period} budget `
    + `(hard limit ${formatPercent(b.hardLimitPercent ?? 0)}). Raise it with "Conduit: Set Budget" or wait until ${formatLocalTime(b.periodEnd, zone)}.`;
}

export function thresholdMessage(b: Pick<EvaluatedBudget, 'scope' | 'projectName' | 'agentName' | 'period' | 'limitUsd' | 'spentUsd' | 'percent'>, threshold: number): string {
  const who = whose(b);
  const subject = who.charAt(0).toUpperCase() + who.slice(1);
  // The percentage once: it is the verb below 100 %; past it, "all" says less than 131 % would.
  if (threshold >= 100) return `${subject} has used all of its ${formatUsd(b.limitUsd)} ${b.period} budget (${formatUsd(b.spentUsd)} spent, ${formatPercent(b.percent)}).`;
  return `${subject} has used ${formatPercent(b.percent)} of its ${formatUsd(b.limitUsd)} ${b.period} budget (${formatUsd(b.spentUsd)} spent).`;
}

export function forecastMessage(
  b: Pick<EvaluatedBudget, 'scope' | 'projectName' | 'agentName' | 'period' | 'limitUsd' | 'spentUsd'>, forecastUsd: number, crossingAt: number, zone: string,
): string {
  const who = whose(b);
  const subject = who.charAt(0).toUpperCase() + who.slice(1);
  return `${subject} is on course to spend ${formatUsd(forecastUsd)} against its ${formatUsd(b.limitUsd)} ${b.period} budget `
    + `(${formatUsd(b.spentUsd)} so far); at this rate it crosses the budget at ${formatLocalTime(crossingAt, zone)}.`;
}
