/**
 * The period picker: calendar ranges counted like budgets (Today, This week, This month),
 * rolling ones (Last 24 hours, 7 or 30 days) and a custom range of days (two date inputs and
 * Apply). It only reports a choice; the view asks the host for it.
 */
import type { AnalyticsPeriod, AnalyticsRangeKind } from '../../../src/protocol/webviewMessages.js';
import { h } from '../shared/dom.js';

type VscodeSelect = HTMLElementTagNameMap['vscode-single-select'];

export const PICKER_RANGES: { range: AnalyticsRangeKind; label: string }[] = [
  { range: 'today', label: 'Today' },
  { range: 'this-week', label: 'This week' },
  { range: 'this-month', label: 'This month' },
  { range: '24h', label: 'Last 24 hours' },
  { range: '7d', label: 'Last 7 days' },
  { range: '30d', label: 'Last 30 days' },
  { range: 'custom', label: 'Custom range…' },
];

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** YYYY-MM-DD of a local date. */
export function isoDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export class RangePicker {
  readonly el: HTMLElement;
  readonly select: VscodeSelect;
  private readonly custom: HTMLElement;
  private readonly from: HTMLInputElement;
  private readonly to: HTMLInputElement;
  private readonly apply: HTMLButtonElement;

  constructor(private period: AnalyticsPeriod, private readonly onChoose: (period: AnalyticsPeriod) => void) {
    this.select = h('vscode-single-select', { attrs: { 'data-testid': 'range', 'aria-label': 'Period' } });
    this.select.append(...PICKER_RANGES.map((r) => h('vscode-option', { attrs: { value: r.range, selected: r.range === period.range } }, r.label)));
    const today = isoDay(new Date());
    const monthStart = `${today.slice(0, 8)}01`;
    this.from = h('input', { class: 'date', attrs: { type: 'date', 'data-testid': 'range-from', 'aria-label': 'First day', max: today, value: period.from ?? monthStart } });
    this.to = h('input', { class: 'date', attrs: { type: 'date', 'data-testid': 'range-to', 'aria-label': 'Last day (included)', max: today, value: period.to ?? today } });
    this.apply = h('button', { class: 'button-secondary', attrs: { type: 'button', 'data-testid': 'range-apply' }, on: { click: () => this.applyCustom() } }, 'Apply');
    this.custom = h('div', { class: 'custom-range', attrs: { 'data-testid': 'custom-range' } }, this.from, h('span', { class: 'muted' }, '–'), this.to, this.apply);
    for (const input of [this.from, this.to]) input.addEventListener('input', () => this.check());
    this.el = h('div', { class: 'range-picker' }, this.select, this.custom);
    this.select.addEventListener('change', () => {
      const next = this.select.value as AnalyticsRangeKind;
      if (next === 'custom') {
        this.custom.hidden = false;
        this.check();
        return;
      }
      this.custom.hidden = true;
      if (next === this.period.range) return;
      this.period = { range: next };
      this.onChoose(this.period);
    });
    this.set(period);
  }

  /** Shows a period chosen elsewhere (restored state). */
  set(period: AnalyticsPeriod): void {
    this.period = period;
    for (const option of this.select.querySelectorAll('vscode-option')) option.selected = option.value === period.range;
    this.select.value = period.range;
    this.custom.hidden = period.range !== 'custom';
    if (period.from) this.from.value = period.from;
    if (period.to) this.to.value = period.to;
  }

  private check(): boolean {
    const ok = DAY.test(this.from.value) && DAY.test(this.to.value) && this.from.value <= this.to.value;
    this.apply.disabled = !ok;
    return ok;
  }

  private applyCustom(): void {
    if (!this.check()) return;
    this.period = { range: 'custom', from: this.from.value, to: this.to.value };
    this.onChoose(this.period);
  }
}
