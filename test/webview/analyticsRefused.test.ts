// The usage analytics webview counts requests a budget refused apart from those without a
// known price: they cost 0 (the provider was never called), a known figure.
import assert from 'node:assert/strict';
import type { WebviewPage } from '../support/webviewPage';
import { analyticsData, usageRecord } from './fixtures';
import { byTestId, textOf, waitForText, useWebviewHarness } from './helpers';

describe('webview: usage analytics, refused requests', function () {
  const pages = useWebviewHarness();

  async function open(): Promise<WebviewPage> {
    return pages.open('analytics', {
      respond: async (message, page) => {
        if (message.type !== 'requestAnalytics') return;
        const data = analyticsData('this-month');
        data.summary.refusedRequests = 3;
        await page.post({ type: 'analytics', id: message.id, data });
      },
    });
  }

  it('says how many a budget refused beside those without a known price, and lists a live refusal as refused (counted once the store has it)', async () => {
    const v = await open();
    await waitForText(v, 'health-extra', '3 requests to a model without a price · 3 refused by a budget');
    const refused = usageRecord({ cost: 0, source: 'budget' });
    refused.cost = { cost: 0, costSource: 'refused', priceVersion: null };
    refused.status = 402;
    refused.usage = null;
    await v.post({ type: 'usageEvent', record: refused, agentName: 'Reviewer' });
    await byTestId(v, 'tab-3').click();
    const first = byTestId(v, 'recent').locator('tr').first();
    await first.locator('[data-field="agent"]', { hasText: 'Reviewer' }).waitFor();
    assert.match(await first.locator('[data-field="model"]').innerText(), /\(over budget, not sent\)$/);
    assert.equal(await textOf(v, 'health-extra'), '3 requests to a model without a price · 3 refused by a budget', 'the count is the store\'s');
    assert.equal(await textOf(v, 'totalCost-value'), '$12.51', 'a refusal costs nothing');
  });
});
