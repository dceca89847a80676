/**
 * The budget section of the model configuration form as data: the fields as typed, their
 * validation (errors block a save, hints do not), the policy a save sends, and the spend
 * line shown next to each amount. No DOM here. The rules are the gateway's
 * (src/protocol/budgets.ts): amounts from 0 to MAX_BUDGET_USD, limits above 0 and at most
 * MAX_LIMIT_PERCENT, empty = none / off.
 */
import {
  BUDGET_POLICY_KEYS, EMPTY_BUDGET_POLICY, MAX_BUDGET_USD, MAX_LIMIT_PERCENT,
  type BudgetPeriod, type BudgetPolicy, type BudgetStatus,
} from '../../../src/protocol/budgets.js';
import { formatUsd, formatUsdAmount } from '../../../src/protocol/format.js';

/** The fields as typed; '' = none (amounts), off (limits), or the cheapest configured model. */
export interface BudgetDraft {
  dailyUsd: string;
  monthlyUsd: string;
  softLimitPercent: string;
  /** A model id; '' = the cheapest model the project's configuration names. */
  softLimitModel: string;
  hardLimitPercent: string;
}

export type BudgetField = keyof BudgetDraft;

/** The form's fields in order: the first with an error is where focus goes on a refused save. */
export const BUDGET_FIELDS: readonly BudgetField[] = BUDGET_POLICY_KEYS;
export const BUDGET_AMOUNT_FIELDS = ['dailyUsd', 'monthlyUsd'] as const;
export const BUDGET_PERCENT_FIELDS = ['softLimitPercent', 'hardLimitPercent'] as const;

/** Field → message (the same keys as BudgetDraft). */
export type BudgetMessages = Partial<Record<BudgetField, string>>;

export interface BudgetValidation {
  /** Block the save. */
  errors: BudgetMessages;
  /** Say something is without effect; the save goes ahead. */
  hints: BudgetMessages;
}

type Parsed = { value: number | null } | { error: string };

const plainNumber = /^(\d+(\.\d*)?|\.\d+)$/;

/** A policy as the gateway stores it; anything malformed in it is shown as not set. */
export function budgetDraftFrom(policy: Partial<BudgetPolicy> | null | undefined): BudgetDraft {
  const p = policy ?? EMPTY_BUDGET_POLICY;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : '');
  return {
    dailyUsd: num(p.dailyUsd),
    monthlyUsd: num(p.monthlyUsd),
    softLimitPercent: num(p.softLimitPercent),
    softLimitModel: typeof p.softLimitModel === 'string' ? p.softLimitModel : '',
    hardLimitPercent: num(p.hardLimitPercent),
  };
}

/** "5", "12.50", "$12.50" and "1,000" are dollar amounts; empty is none. */
export function parseUsd(text: string, period: BudgetPeriod): Parsed {
  const t = text.trim().replace(/^\$\s*/, '').replace(/,/g, '');
  if (t === '') return { value: null };
  if (/^-\s*\$?\s*\d/.test(t)) return { error: 'A budget cannot be negative.' };
  if (!plainNumber.test(t)) return { error: `Enter an amount in US dollars, such as 5 or 12.50 (empty: no ${period} budget).` };
  const n = Number(t);
  if (n > MAX_BUDGET_USD) return { error: `A budget is at most ${formatUsdAmount(MAX_BUDGET_USD)}.` };
  return { value: n };
}

/** "80" and "80 %" are percentages; empty is off. */
export function parsePercent(text: string): Parsed {
  const t = text.trim().replace(/\s*%$/, '');
  if (t === '') return { value: null };
  if (/^-\s*\d/.test(t)) return { error: 'A limit must be above 0%.' };
  if (!plainNumber.test(t)) return { error: 'Enter a percentage of the budget, such as 80 (empty: off).' };
  const n = Number(t);
  if (n <= 0) return { error: 'A limit must be above 0%.' };
  if (n > MAX_LIMIT_PERCENT) return { error: `A limit is at most ${MAX_LIMIT_PERCENT.toLocaleString('en-US')}% of the budget.` };
  return { value: n };
}

function parseField(draft: BudgetDraft, field: Exclude<BudgetField, 'softLimitModel'>): Parsed {
  if (field === 'dailyUsd') return parseUsd(draft.dailyUsd, 'daily');
  if (field === 'monthlyUsd') return parseUsd(draft.monthlyUsd, 'monthly');
  return parsePercent(draft[field]);
}

export function validateBudgetDraft(draft: BudgetDraft): BudgetValidation {
  const errors: BudgetMessages = {};
  const hints: BudgetMessages = {};
  const values: Partial<Record<BudgetField, number | null>> = {};
  for (const field of [...BUDGET_AMOUNT_FIELDS, ...BUDGET_PERCENT_FIELDS]) {
    const r = parseField(draft, field);
    if ('error' in r) errors[field] = r.error;
    else values[field] = r.value;
  }
  const soft = values.softLimitPercent;
  const hard = values.hardLimitPercent;
  if (soft != null && hard != null && soft >= hard) {
    errors.softLimitPercent = `The soft limit (${soft}%) must be below the hard limit (${hard}%): from the hard limit on, requests are refused.`;
  }
  if (draft.softLimitModel.trim().length > 200) errors.softLimitModel = 'A model id is at most 200 characters.';
  // A limit is a percentage of a budget: without an amount (or while the amounts are being fixed) it does nothing.
  const noAmount = values.dailyUsd === null && values.monthlyUsd === null;
  if (noAmount) {
    if (soft != null) hints.softLimitPercent = 'No daily or monthly budget is set, so the soft limit does nothing.';
    if (hard != null) hints.hardLimitPercent = 'No daily or monthly budget is set, so the hard limit does nothing.';
  }
  // In the order of the form.
  const ordered: BudgetMessages = {};
  for (const f of BUDGET_FIELDS) if (errors[f]) ordered[f] = errors[f];
  return { errors: ordered, hints };
}

/** The whole policy a save sends (every field, null for empty); null while a field is invalid. */
export function budgetPolicyFrom(draft: BudgetDraft): BudgetPolicy | null {
  if (Object.keys(validateBudgetDraft(draft).errors).length) return null;
  const value = (field: Exclude<BudgetField, 'softLimitModel'>) => (parseField(draft, field) as { value: number | null }).value;
  return {
    dailyUsd: value('dailyUsd'),
    monthlyUsd: value('monthlyUsd'),
    softLimitPercent: value('softLimitPercent'),
    softLimitModel: draft.softLimitModel.trim() || null,
    hardLimitPercent: value('hardLimitPercent'),
  };
}

/** Whether the draft says something other than the stored policy ("5.0" for 5 is no change). */
export function budgetChanged(draft: BudgetDraft, stored: Partial<BudgetPolicy> | null | undefined): boolean {
  const policy = budgetPolicyFrom(draft);
  const base = budgetDraftFrom(stored);
  if (!policy) return JSON.stringify(draft) !== JSON.stringify(base);
  const storedPolicy = budgetPolicyFrom(base) ?? EMPTY_BUDGET_POLICY;
  return BUDGET_FIELDS.some((f) => policy[f] !== storedPolicy[f]);
}

/**
 * What the period has cost so far, next to its amount: "spent $4.10 today (82%)", with the
 * percentage of the amount in the field (so it follows the person's typing) and, once the
 * gateway can tell, where the burn rate is heading. null without a status for the period.
 */
export function spendLine(statuses: readonly BudgetStatus[] | undefined, period: BudgetPeriod, amountText: string): string | null {
  const status = statuses?.find((s) => s.period === period);
  if (!status) return null;
  const when = period === 'daily' ? 'today' : 'this month';
  const parsed = parseUsd(amountText, period);
  const limit = 'value' in parsed ? parsed.value : status.limitUsd;
  // The gateway's rule: a budget of 0 counts as 100 % at once.
  const percent = limit === null ? null : limit === 0 ? 100 : (100 * status.spentUsd) / limit;
  const share = percent === null ? '' : ` (${Math.round(percent)}%)`;
  const forecast = status.forecastUsd !== null ? `, heading for ${formatUsd(status.forecastUsd)} by the end of the ${period === 'daily' ? 'day' : 'month'}` : '';
  return `spent ${formatUsd(status.spentUsd)} ${when}${share}${forecast}`;
}

/**
 * The budget field a failed save names, from the path the host or the gateway gives
 * ("budget.hardLimitPercent", "dailyBudgetUsd"); null when it names none.
 */
export function budgetFieldOf(path: string | null | undefined): BudgetField | null {
  if (!path) return null;
  if (path.includes('dailyBudgetUsd')) return 'dailyUsd';
  if (path.includes('monthlyBudgetUsd')) return 'monthlyUsd';
  const last = path.split('.').at(-1) ?? '';
  return (BUDGET_FIELDS as readonly string[]).includes(last) && path.includes('budget') ? (last as BudgetField) : null;
}

/** A project's or agent's stored policy: `budget`, or from the older amount fields when a gateway sends only those. */
export function storedBudgetOf(info: { budget?: BudgetPolicy; dailyBudgetUsd?: number | null; monthlyBudgetUsd?: number | null }): BudgetPolicy {
  if (info.budget) return { ...EMPTY_BUDGET_POLICY, ...info.budget };
  return { ...EMPTY_BUDGET_POLICY, dailyUsd: info.dailyBudgetUsd ?? null, monthlyUsd: info.monthlyBudgetUsd ?? null };
}

/** A draft kept in the webview's state (which may come from an older version of this view). */
export function isBudgetDraft(v: unknown): v is BudgetDraft {
  return typeof v === 'object' && v !== null && BUDGET_FIELDS.every((f) => typeof (v as Record<string, unknown>)[f] === 'string');
}
