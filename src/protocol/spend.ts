/**
 * What a project, an agent or every project spent today and this month, counted as budgets
 * count them: calendar periods in the gateway's time zone (GET /v1/conduit/status
 * `timeZone`), from local midnight and from the 1st at 00:00 to now. The figures are the
 * usage store's (the analytics summary), the amounts the budgets'; the status bar, the
 * sidebar and the model configuration view all show this one shape.
 */
import type { SidebarData } from './webviewMessages';

/** One calendar period's spend, with the budget set for it. */
export interface PeriodSpend {
  /** USD of the requests with a known price; null when no request had one. */
  cost: number | null;
  requests: number;
  /** Requests whose price is unknown (not in `cost`). */
  unknownCostRequests: number;
  /** The period's budget in USD; null when none is set. */
  budgetUsd: number | null;
}

export interface CalendarSpend {
  today: PeriodSpend;
  month: PeriodSpend;
  /** The zone the periods are counted in (IANA name). */
  timeZone: string;
}

/** The local dates that bound today and this month in `timeZone` ("2026-12-03", "2026-12-01"). */
export function calendarDates(timeZone: string, now: Date = new Date()): { today: string; monthStart: string } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const month = `${part('year')}-${part('month')}`;
  return { today: `${month}-${part('day')}`, monthStart: `${month}-01` };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isUsdOrNull = (v: unknown): boolean => v === null || (typeof v === 'number' && Number.isFinite(v));

export function isPeriodSpend(v: unknown): v is PeriodSpend {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return isUsdOrNull(o.cost) && isCount(o.requests) && isCount(o.unknownCostRequests) && isUsdOrNull(o.budgetUsd);
}

export function isCalendarSpend(v: unknown): v is CalendarSpend {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return isPeriodSpend(o.today) && isPeriodSpend(o.month) && typeof o.timeZone === 'string' && o.timeZone.length <= 100;
}

/** A model's list price in USD per million tokens (the gateway's price table, config.json's prices on top). */
export interface ModelListPrice { input: number; output: number }

export function isModelListPrice(v: unknown): v is ModelListPrice {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return isCount(o.input) && isCount(o.output);
}

/**
 * What the sidebar shows besides SidebarData (src/protocol/webviewMessages.ts): whose figures
 * they are, and that scope's calendar spend against its budgets (absent until the store answered).
 */
export interface SidebarSpend {
  /** "project synapse-app" or "all projects". */
  scopeLabel: string;
  spend?: CalendarSpend;
}

export type SidebarSpendData = SidebarData & Partial<SidebarSpend>;

export function isSidebarSpend(v: unknown): v is SidebarSpend {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.scopeLabel === 'string' && o.scopeLabel.length <= 300 && (o.spend === undefined || isCalendarSpend(o.spend));
}
