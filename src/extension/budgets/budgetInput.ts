/**
 * What "Conduit: Set Budget" reads from input boxes and shows in its menu, without
 * 'vscode' so it is tested on its own. Amounts accept "5", "5.50", "$5.50" and "1,000";
 * an empty answer clears the field.
 */
import { MAX_BUDGET_USD, MAX_LIMIT_PERCENT, type BudgetPolicy, type BudgetPolicyPatch, type BudgetStatus } from '../../protocol/budgets';
import { formatUsd, formatUsdAmount } from '../../protocol/format';

export type BudgetField = keyof BudgetPolicy;

/** null: cleared; a number; or an error message for the input box. */
export function parseUsdInput(text: string): { value: number | null } | { error: string } {
  const t = text.trim().replace(/^\$\s*/, '').replace(/,/g, '');
  if (t === '') return { value: null };
  if (!/^\d+(\.\d+)?$/.test(t)) return { error: 'A dollar amount such as 5 or 12.50 (empty: no budget)' };
  const n = Number(t);
  if (n > MAX_BUDGET_USD) return { error: `At most ${formatUsdAmount(MAX_BUDGET_USD)}` };
  return { value: n };
}

export function parsePercentInput(text: string): { value: number | null } | { error: string } {
  const t = text.trim().replace(/\s*%$/, '');
  if (t === '') return { value: null };
  if (!/^\d+(\.\d+)?$/.test(t)) return { error: 'A percentage such as 80 (empty: off)' };
  const n = Number(t);
  if (n <= 0 || n > MAX_LIMIT_PERCENT) return { error: `Above 0 and at most ${MAX_LIMIT_PERCENT}` };
  return { value: n };
}

export function formatBudgetUsd(usd: number | null): string {
  if (usd === null) return 'none';
  return formatUsd(usd);
}

/** The patch for one field's answer, refusing a soft limit at or above the hard one. */
export function patchFor(field: BudgetField, value: number | string | null, policy: BudgetPolicy): BudgetPolicyPatch | { error: string } {
  const next = { ...policy, [field]: value } as BudgetPolicy;
  if (next.softLimitPercent !== null && next.hardLimitPercent !== null && next.softLimitPercent >= next.hardLimitPercent) {
    return { error: `The soft limit (${next.softLimitPercent}%) must be below the hard limit (${next.hardLimitPercent}%): requests are refused from the hard limit on.` };
  }
  return { [field]: value } as BudgetPolicyPatch;
}

export interface MenuLine {
  field: BudgetField | 'clear';
  label: string;
  description: string;
  detail?: string;
}

/** The menu of the command: each field with its value, and what it does now. */
export function budgetMenu(policy: BudgetPolicy, statuses: BudgetStatus[]): MenuLine[] {
  const spent = (period: 'daily' | 'monthly') => {
    const s = statuses.find((x) => x.period === period);
    return s ? `spent ${formatBudgetUsd(s.spentUsd)} (${Math.round(s.percent)}%)${s.forecastUsd !== null ? `, heading for ${formatBudgetUsd(s.forecastUsd)}` : ''}` : undefined;
  };
  const lines: MenuLine[] = [
    { field: 'dailyUsd', label: 'Daily budget', description: formatBudgetUsd(policy.dailyUsd), detail: spent('daily') },
    { field: 'monthlyUsd', label: 'Monthly budget', description: formatBudgetUsd(policy.monthlyUsd), detail: spent('monthly') },
    {
      field: 'softLimitPercent', label: 'Soft limit',
      description: policy.softLimitPercent === null ? 'off' : `${policy.softLimitPercent}% → ${policy.softLimitModel ?? 'the cheapest configured model'}`,
      detail: 'Past it, requests go to a cheaper model',
    },
    { field: 'softLimitModel', label: 'Cheaper model for the soft limit', description: policy.softLimitModel ?? 'the cheapest configured model' },
    {
      field: 'hardLimitPercent', label: 'Hard limit',
      description: policy.hardLimitPercent === null ? 'off' : `${policy.hardLimitPercent}%`,
      detail: 'Past it, requests are refused with a message claude shows',
    },
  ];
  if (policy.dailyUsd !== null || policy.monthlyUsd !== null || policy.softLimitPercent !== null || policy.hardLimitPercent !== null) {
    lines.push({ field: 'clear', label: 'Remove this budget', description: 'clears every field' });
  }
  return lines;
}
