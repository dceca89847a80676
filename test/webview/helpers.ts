// Small waits and reads on a webview page (Playwright waits for conditions; nothing sleeps).
import type { Locator } from 'playwright-core';
import { WebviewHarness, type WebviewPage } from '../support/webviewPage';

export const byTestId = (view: WebviewPage, id: string): Locator => view.page.locator(`[data-testid="${id}"]`);

/** Waits until the element's trimmed text equals (string) or matches (RegExp) the expectation. */
export async function waitForText(view: WebviewPage, testid: string, expected: string | RegExp, timeout = 10_000): Promise<void> {
  const source = typeof expected === 'string' ? { text: expected } : { re: expected.source, flags: expected.flags };
  try {
    await view.page.waitForFunction(({ id, source: s }) => {
      const text = (document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '').trim();
      return s.text !== undefined ? text === s.text : new RegExp(s.re!, s.flags).test(text);
    }, { id: testid, source: source as { text?: string; re?: string; flags?: string } }, { timeout });
  } catch (err) {
    const actual = await view.page.locator(`[data-testid="${testid}"]`).first().textContent().catch(() => null);
    throw new Error(`[data-testid=${testid}] text ${JSON.stringify(actual?.trim())} never became ${String(expected)}: ${(err as Error).message.split('\n')[0]}`);
  }
}

export async function textOf(view: WebviewPage, testid: string): Promise<string> {
  return ((await byTestId(view, testid).first().textContent()) ?? '').trim();
}

/** Opens a vscode-single-select and picks the option with this label, as a person would. */
export async function chooseOption(view: WebviewPage, testid: string, label: string): Promise<void> {
  const select = byTestId(view, testid);
  await select.click();
  await select.getByRole('option', { name: label, exact: true }).click();
}

/** The labels a vscode-single-select offers (its slotted vscode-option elements). */
export async function optionLabels(view: WebviewPage, testid: string): Promise<string[]> {
  return byTestId(view, testid).locator('vscode-option').evaluateAll((options) => options.map((o) => (o.textContent ?? '').trim()));
}

export async function selectValue(view: WebviewPage, testid: string): Promise<string> {
  return byTestId(view, testid).evaluate((el) => (el as HTMLElement & { value: string }).value);
}

/** Waits until a form control (select, text field) has this value. */
export async function waitForValue(view: WebviewPage, testid: string, value: string): Promise<void> {
  await view.page.waitForFunction(({ id, v }) => (document.querySelector(`[data-testid="${id}"]`) as (HTMLElement & { value?: string }) | null)?.value === v, { id: testid, v: value });
}

/** Types into a vscode-textfield (its input lives in the shadow root). */
export async function typeInto(view: WebviewPage, testid: string, text: string): Promise<void> {
  await byTestId(view, testid).locator('input').fill(text);
}

/** Counts of elements that must never come from data: the page has 2 scripts of its own and no images. */
export async function injectedElements(view: WebviewPage): Promise<{ img: number; script: number; iframe: number }> {
  return view.page.evaluate(() => ({
    img: document.querySelectorAll('img').length,
    script: document.querySelectorAll('script').length,
    iframe: document.querySelectorAll('iframe').length,
  }));
}

/** Waits until a canvas has been drawn on (enough non-transparent pixels). */
export async function waitForPaintedCanvas(view: WebviewPage, selector: string, minPainted = 200): Promise<void> {
  await view.page.waitForFunction(({ sel, min }) => {
    const canvas = document.querySelector<HTMLCanvasElement>(sel);
    if (!canvas || !canvas.width || !canvas.height || !canvas.checkVisibility()) return false;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4 * 7) if (data[i] > 0) painted += 1;
    return painted >= min;
  }, { sel: selector, min: minPainted });
}

/**
 * One headless Chromium for a test file. Pages opened through the returned `open` are
 * checked after each test (no CSP violation, console error or dialog) and closed.
 */
export function useWebviewHarness(): { open: WebviewHarness['open'] } {
  let harness: WebviewHarness | undefined;
  let current: WebviewPage | undefined;
  before(async () => {
    harness = await WebviewHarness.start();
  });
  after(async () => {
    await harness?.close();
  });
  afterEach(async () => {
    current?.assertClean();
    await current?.close();
    current = undefined;
  });
  return {
    open: async (...args) => (current = await harness!.open(...args)),
  };
}
