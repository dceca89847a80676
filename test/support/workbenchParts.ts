/**
 * Parts of the workbench the host suites (test/host) reach into beyond ProductWindow's
 * helpers: the extension's webviews (nested iframes) and code-server's save dialog.
 */
import type { FrameLocator, Page } from 'playwright-core';

/**
 * The webview of the visible editor panel: VS Code's host frame, then #active-frame with the
 * extension's HTML (the sidebar's view has purpose=webviewView and is left out).
 */
export function editorWebview(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready:not([src*="purpose=webviewView"]) >> visible=true').frameLocator('#active-frame');
}

/**
 * Answers a save dialog titled `title` with `file` (an absolute path). code-server's save
 * dialog is its simple file dialog, a quick input holding the proposed path: it fills in the
 * folder first and then the proposed name (ending in `proposedSuffix`), so the answer is typed
 * only after that, else the dialog's own late fill would replace it.
 */
export async function answerSaveDialog(page: Page, title: string, file: string, proposedSuffix: string, timeoutMs = 30_000): Promise<void> {
  const dialog = page.locator('.quick-input-widget', { hasText: title });
  await dialog.waitFor({ state: 'visible', timeout: timeoutMs });
  const input = dialog.locator('input.input');
  await input.evaluate((el, suffix) => new Promise<void>((resolve) => {
    const box = el as HTMLInputElement;
    const check = () => (box.value.endsWith(suffix) ? resolve() : requestAnimationFrame(check));
    check();
  }), proposedSuffix);
  await input.fill(file);
  await input.press('Enter');
  await dialog.waitFor({ state: 'hidden', timeout: timeoutMs });
}
