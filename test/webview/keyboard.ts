// Keyboard reach and visible focus: every enabled, visible control of a view is reached by
// Tab, and looks different while it has keyboard focus.
import type { WebviewPage } from '../support/webviewPage';

/** What counts as a control (a tab strip is one stop: its active header; arrows move inside). */
const CONTROLS = 'vscode-button, vscode-checkbox, vscode-single-select, vscode-textfield, button, a[href], input, select, textarea, vscode-tab-header';

export interface KeyboardReport {
  /** Name of every control that should be reachable. */
  expected: string[];
  reached: string[];
  missing: string[];
  /** Controls that look the same focused and unfocused. */
  noVisibleFocus: string[];
}

export async function walkWithTab(view: WebviewPage, { checkFocusRing = true } = {}): Promise<KeyboardReport> {
  const { page } = view;
  const expected = await page.evaluate((selector) => {
    const out: string[] = [];
    let i = 0;
    for (const el of document.querySelectorAll<HTMLElement>(selector)) {
      el.removeAttribute('data-kbd');
      const disabled = (el as HTMLElement & { disabled?: boolean }).disabled === true;
      const visible = el.checkVisibility({ visibilityProperty: true, opacityProperty: true });
      const tabHeaderInactive = el.tagName === 'VSCODE-TAB-HEADER' && el.tabIndex < 0;
      if (disabled || !visible || tabHeaderInactive) continue;
      el.setAttribute('data-kbd', String(i));
      const name = el.dataset.testid ?? el.dataset.focusKey ?? el.getAttribute('aria-label') ?? (el.textContent ?? '').trim().slice(0, 40);
      out.push(`${i}:${el.tagName.toLowerCase()}:${name}`);
      i += 1;
    }
    return out;
  }, CONTROLS);

  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const reached = new Map<number, Buffer | null>();
  const order: number[] = [];
  for (let press = 0; press < expected.length * 2 + 6 && reached.size < expected.length; press++) {
    await page.keyboard.press('Tab');
    const index = await page.evaluate(() => {
      const active = document.activeElement?.closest('[data-kbd]');
      return active ? Number(active.getAttribute('data-kbd')) : -1;
    });
    if (index < 0 || reached.has(index)) continue;
    order.push(index);
    reached.set(index, checkFocusRing ? await shot(view, index) : null);
  }

  const noVisibleFocus: string[] = [];
  if (checkFocusRing) {
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.mouse.move(0, 0);
    for (const [index, focused] of reached) {
      const plain = await shot(view, index);
      if (focused && plain && focused.equals(plain)) noVisibleFocus.push(expected[index]);
    }
  }
  const reachedNames = order.map((i) => expected[i]);
  return { expected, reached: reachedNames, missing: expected.filter((e) => !reachedNames.includes(e)), noVisibleFocus };
}

/** The control and a few pixels around it (focus rings sit outside the box). */
async function shot(view: WebviewPage, index: number): Promise<Buffer | null> {
  const locator = view.page.locator(`[data-kbd="${index}"]`);
  await locator.scrollIntoViewIfNeeded();
  const box = await locator.boundingBox();
  if (!box) return null;
  const pad = 4;
  return view.page.screenshot({
    clip: { x: Math.max(0, box.x - pad), y: Math.max(0, box.y - pad), width: box.width + 2 * pad, height: box.height + 2 * pad },
    animations: 'disabled',
    caret: 'hide',
  });
}
