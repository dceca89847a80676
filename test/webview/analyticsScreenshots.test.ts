// Screenshots of the usage analytics panel for the README (media/screenshots): Dark+, Light+
// and High Contrast at 1440x900 and 1024x700. Run this file to regenerate them. At 1024x700
// the first chart must be in view without scrolling, its axis labels unclipped.
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { readmeScreenshotDir, type WebviewPage } from '../support/webviewPage';
import { analyticsData } from './fixtures';
import { HIGH_CONTRAST, applyTheme, type PanelTheme } from './analyticsThemes';
import { waitForPaintedCanvas, waitForText, useWebviewHarness } from './helpers';

const SIZES = [{ width: 1440, height: 900 }, { width: 1024, height: 700 }];
const THEMES: PanelTheme[] = ['dark', 'light', 'high-contrast'];

describe('webview: usage analytics screenshots', function () {
  const pages = useWebviewHarness();

  async function open(theme: PanelTheme, viewport: { width: number; height: number }): Promise<WebviewPage> {
    const v = await pages.open('analytics', {
      theme: theme === 'light' ? 'light' : 'dark',
      viewport,
      respond: async (m, page) => {
        if (m.type === 'requestAnalytics') await page.post({ type: 'analytics', id: m.id, data: analyticsData('this-month') });
      },
    });
    if (theme === 'high-contrast') await applyTheme(v, HIGH_CONTRAST);
    await waitForText(v, 'totalCost-sub', 'This month');
    await waitForPaintedCanvas(v, 'canvas[data-chart="daily"]');
    return v;
  }

  for (const theme of THEMES) {
    for (const size of SIZES) {
      it(`${theme} at ${size.width}x${size.height}: the first chart in view, saved to media/screenshots`, async () => {
        const v = await open(theme, size);
        if (theme === 'high-contrast') {
          // The pressed Mine button differs from Team by more than a shade: an outline of its own.
          const look = (id: string) => v.page.locator(`[data-testid="${id}"]`).evaluate((el) => { const s = getComputedStyle(el); return `${s.outlineStyle} ${s.textDecorationLine}`; });
          assert.equal(await look('view-mine'), 'solid underline');
          assert.equal(await look('view-team'), 'none none');
        }
        const box = await v.page.locator('canvas[data-chart="daily"]').boundingBox();
        assert.ok(box && box.y + box.height <= size.height, `the cost per day chart ends at ${box && box.y + box.height}, below the fold of ${size.height}`);
        const file = path.join(readmeScreenshotDir, `analytics-${theme}-${size.width}x${size.height}.png`);
        mkdirSync(readmeScreenshotDir, { recursive: true });
        // The viewport, as a person first sees the panel.
        await v.page.screenshot({ path: file });
        assert.ok(statSync(file).size < 300_000, `${path.basename(file)} is ${statSync(file).size} bytes`);
        if (theme === 'dark' && size.width === 1440) copyFileSync(file, path.join(readmeScreenshotDir, 'analytics.png'));
      });
    }
  }
});
