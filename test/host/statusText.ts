// The status bar item's text as the host suites read it: "$(arrow-swap) Conduit: sonnet-5-5 ·
// default · $0.02 today · $0.05 this month", each figure against its budget when one is set
// ("$7.13 / $40 today"), "+?" after one with requests of unknown price. Money as the views
// write it (formatMoney): cents from $0.01 up, two significant digits below a cent.
import assert from 'node:assert/strict';

/** One figure with its optional budget and unknown-price mark; group 1 is the amount. */
const FIGURE = String.raw`\$([\d,]+\.\d+)(?: \/ \$[\d,.]+)?(?:\+\?)?`;
/** The end of the text once the store answered: today's and this month's figures. */
export const CALENDAR_SPEND = new RegExp(`· ${FIGURE} today · ${FIGURE} this month$`);
/** The most a shown figure is off the exact amount (rounded to cents). */
export const SHOWN_ROUNDING = 0.005;

/** Today's amount the text shows, as a number. */
export function todayCostOf(text: string): number {
  const m = CALENDAR_SPEND.exec(text);
  assert.ok(m, `no today's cost in the status bar text ${JSON.stringify(text)}`);
  return Number(m[1].replace(/,/g, ''));
}

/** Today's figure as shown ("$0.02", "$7.13 / $40"), for a match that waits until it changes. */
export function todayFigureOf(text: string): string | null {
  const m = new RegExp(`· (${FIGURE.replace('(', '(?:')}) today · `).exec(text);
  return m ? m[1] : null;
}

/** The text once it shows a today's figure other than `before` (any when null), after the routed model and its source. */
export function statusTextAfter(before: string | null, model = 'sonnet-5-5'): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\$\\(arrow-swap\\) Conduit: ${esc(model)} · \\S+ · ${before ? `(?!${esc(before)} today)` : ''}${FIGURE} today · ${FIGURE} this month$`);
}
