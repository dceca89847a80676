// The charts' axes in headless Chromium: a cost axis never repeats a label (its decimals come
// from the scale), and the sidebar's hour labels keep apart when the view is short enough to
// scroll (its scrollbar takes width from the chart after the first layout).
import assert from 'node:assert/strict';
import type { AnalyticsData, SidebarData } from '../../src/protocol/webviewMessages';
import type { WebviewPage } from '../support/webviewPage';
import { analyticsData, sidebarData } from './fixtures';
import { byTestId, waitForPaintedCanvas, waitForText, useWebviewHarness } from './helpers';

type Label = { text: string; left: number; right: number; y: number };
type Axes = Record<string, Record<string, Label[]>>;

async function axes(v: WebviewPage): Promise<Axes> {
  return v.page.evaluate(() => {
    const charts = (window as unknown as { __conduitCharts: () => Record<string, { axes: Record<string, Label[]> }> }).__conduitCharts();
    return Object.fromEntries(Object.entries(charts).map(([name, c]) => [name, c.axes]));
  });
}

/** Space that reads as a gap between two labels: about a font size (the charts draw 12 px text). */
const GAP_PX = 12;

/** Labels of one axis that share a text, or that run together (closer than GAP_PX). */
function clashes(labels: Label[]): string[] {
  const found: string[] = [];
  const texts = labels.map((l) => l.text);
  for (const t of new Set(texts)) if (texts.filter((x) => x === t).length > 1) found.push(`"${t}" ${texts.filter((x) => x === t).length} times`);
  const row = [...labels].sort((a, b) => a.left - b.left);
  for (let i = 1; i < row.length; i++) {
    if (row[i].y === row[i - 1].y && row[i].left < row[i - 1].right + GAP_PX) found.push(`"${row[i - 1].text}" runs into "${row[i].text}"`);
  }
  return found;
}

/** A month with a few tenths of a cent a day: Chart.js steps the cost axis by $0.0025 or $0.002. */
function cheapMonth(): AnalyticsData {
  const d = analyticsData('30d');
  const daily = d.daily!.model!;
  daily.days = daily.days.map((day, i) => {
    const cost = [0.0012, 0.0034, 0.0121, 0.0007][i % 4];
    return { ...day, cost, byKey: { [daily.keys[0].key]: { cost, requests: 1, tokens: 100 } } };
  });
  daily.keys = [daily.keys[0]];
  return d;
}

describe('webview: chart axes', function () {
  const pages = useWebviewHarness();

  it('cost per day labels its cost axis with the decimals of its scale (no label twice), and its 30 days without clipping or overlap at 1024 px', async () => {
    const v = await pages.open('analytics', {
      viewport: { width: 1024, height: 700 },
      respond: async (m, page) => { if (m.type === 'requestAnalytics') await page.post({ type: 'analytics', id: m.id, data: cheapMonth() }); },
    });
    await waitForText(v, 'totalCost-value', '$12.51');
    await waitForPaintedCanvas(v, 'canvas[data-chart="daily"]');
    const { daily, modelUsage } = await axes(v);
    assert.ok(daily.y.length >= 4, `the cost axis has ticks: ${JSON.stringify(daily.y)}`);
    assert.deepEqual(clashes(daily.y), [], daily.y.map((l) => l.text).join(' '));
    assert.ok(daily.y.every((l) => /^\$0\.\d{3,4}$/.test(l.text) || l.text === '$0.00'), daily.y.map((l) => l.text).join(' '));
    assert.ok(daily.x.length >= 5, JSON.stringify(daily.x));
    assert.deepEqual(clashes(daily.x), [], JSON.stringify(daily.x));
    const width = await v.page.locator('canvas[data-chart="daily"]').evaluate((c) => c.getBoundingClientRect().width);
    assert.ok(daily.x.every((l) => l.left >= 0 && l.right <= width), `x labels inside the chart's ${width}px: ${JSON.stringify(daily.x.map((l) => [l.text, l.left, l.right]))}`);
    // The requests and tokens axes: counts as the text writes them (no axis titles to crowd the ticks).
    await byTestId(v, 'tab-0').click();
    await waitForPaintedCanvas(v, 'canvas[data-chart="modelUsage"]');
    const tokens = (await axes(v)).modelUsage.y1;
    assert.ok(tokens.some((l) => /^\d+(\.\d)?M$/.test(l.text)), tokens.map((l) => l.text).join(' '));
    assert.deepEqual(clashes(tokens), []);
    assert.ok(modelUsage);
  });

  it('the sidebar\'s cost axis never repeats a label, and its hour labels keep apart when the view scrolls', async () => {
    const data = (): SidebarData => {
      const d = sidebarData();
      // A full day of hours, each with a few tenths of a cent.
      const start = Date.parse(d.costSeries.at(-1)!.bucketStart) - 23 * 3_600_000;
      d.costSeries = Array.from({ length: 24 }, (_, i) => ({ bucketStart: new Date(start + i * 3_600_000).toISOString(), cost: [0.0012, 0.0034, 0.0021, 0.0007][i % 4] }));
      return d;
    };
    // Short enough that the view scrolls: the scrollbar appears after the chart's first layout.
    const v = await pages.open('sidebar', {
      viewport: { width: 260, height: 420 },
      respond: async (m, page) => { if (m.type === 'requestSidebarData') await page.post({ type: 'sidebarData', id: m.id, data: data() }); },
    });
    await waitForText(v, 'todayCost', '$0.46');
    await waitForPaintedCanvas(v, 'canvas[data-chart="todayCost"]', 50);
    assert.ok(await v.page.evaluate(() => document.scrollingElement!.scrollHeight > window.innerHeight), 'the view scrolls');
    // The chart has taken its size in the narrower view (a resize is one animation frame away).
    await v.page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const { todayCost } = await axes(v);
    assert.deepEqual(clashes(todayCost.y), [], todayCost.y.map((l) => l.text).join(' '));
    assert.ok(todayCost.x.length >= 2, JSON.stringify(todayCost.x));
    assert.deepEqual(clashes(todayCost.x), [], JSON.stringify(todayCost.x));
    const canvas = await v.page.locator('canvas[data-chart="todayCost"]').boundingBox();
    const inner = await v.page.evaluate(() => document.documentElement.clientWidth);
    assert.ok(canvas && canvas.x + canvas.width <= inner, `the chart fits beside the scrollbar: ${JSON.stringify(canvas)} in ${inner}px`);
    await v.screenshot('sidebar-scrolling');
  });
});
