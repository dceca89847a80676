// Views that never go stale, in headless Chromium: each view takes the host's refresh of what it
// shows (the gateway started again, Set Budget changed a budget, the store ingested requests)
// without a click, and the model configuration keeps what the person is editing meanwhile.
import assert from 'node:assert/strict';
import type { BudgetPolicy, BudgetStatus } from '../../src/protocol/budgets';
import type { ModelConfigInit, SidebarData } from '../../src/protocol/webviewMessages';
import type { WebviewPage } from '../support/webviewPage';
import { analyticsData, project, projectInit, sidebarData } from './fixtures';
import { byTestId, textOf, typeInto, useWebviewHarness, waitForText } from './helpers';

const NOT_RUNNING = 'The Conduit gateway is not running. Start it with "Conduit: Start Gateway".';

function status(overrides: Partial<BudgetStatus> = {}): BudgetStatus {
  return {
    scope: 'project', projectKey: 'ws-7f3a', agentId: null, name: 'synapse-app', period: 'daily', limitUsd: 5, spentUsd: 1, percent: 20,
    periodStart: '2026-11-29T00:00:00.000Z', periodEnd: '2026-11-30T00:00:00.000Z', forecastUsd: null, forecastCrossingAt: null,
    state: 'ok', softLimitPercent: null, softLimitModel: null, hardLimitPercent: null, ...overrides,
  };
}

function budgetInit(dailyUsd: number, spentUsd: number): ModelConfigInit {
  const budget: BudgetPolicy = { dailyUsd, monthlyUsd: null, softLimitPercent: null, softLimitModel: null, hardLimitPercent: null };
  return { ...projectInit(project({ budget, dailyBudgetUsd: dailyUsd, monthlyBudgetUsd: null })), budgetStatuses: [status({ limitUsd: dailyUsd, spentUsd, percent: (spentUsd / dailyUsd) * 100 })] };
}

describe('webview: views refresh themselves', function () {
  const pages = useWebviewHarness();
  const valueOf = (v: WebviewPage, testid: string) => byTestId(v, testid).evaluate((el) => (el as HTMLElement & { value: string }).value);

  it('analytics: "not running" gives way to the data when the host says refresh, with no Retry', async () => {
    let running = false;
    const v = await pages.open('analytics', {
      respond: async (m, page) => {
        if (m.type !== 'requestAnalytics') return;
        await page.post(running ? { type: 'analytics', id: m.id, data: analyticsData('week') } : { type: 'analyticsError', id: m.id, message: NOT_RUNNING });
      },
    });
    await waitForText(v, 'errorMessage', NOT_RUNNING);
    running = true;
    await v.post({ type: 'refresh' });
    await waitForText(v, 'totalCost-value', '$12.51');
    assert.equal(await byTestId(v, 'error').count(), 0);
    assert.equal(v.messagesOfType('requestAnalytics').length, 2);
  });

  it('sidebar: the host\'s unasked sidebarData replaces today\'s figures', async () => {
    const v = await pages.open('sidebar', {
      respond: async (m, page) => { if (m.type === 'requestSidebarData') await page.post({ type: 'sidebarData', id: m.id, data: sidebarData() }); },
    });
    await waitForText(v, 'todayCost', '$0.46');
    const later: SidebarData = { ...sidebarData(), today: { cost: 0.5, tokens: 50_000, requests: 18, costUnknownRequests: 0 } };
    await v.post({ type: 'sidebarData', data: later });
    await waitForText(v, 'todayCost', '$0.50');
    assert.equal(await textOf(v, 'todayRequests'), '18 requests');
  });

  it('model configuration: a budget set elsewhere and its new spend show at once; an edit under way and a save under way stay', async () => {
    const v = await pages.open('modelConfig', { respond: async (m, page) => { if (m.type === 'ready') await page.post({ type: 'init', ...budgetInit(5, 1) }); } });
    await waitForText(v, 'dailySpend', 'spent $1.00 today (20%)');
    assert.equal(await valueOf(v, 'dailyUsd'), '5');

    // "Conduit: Set Budget" raised the daily budget to $10; nothing was being edited here.
    await v.post({ type: 'init', ...budgetInit(10, 1) });
    await waitForText(v, 'dailySpend', 'spent $1.00 today (10%)');
    assert.equal(await valueOf(v, 'dailyUsd'), '10');
    assert.equal(await textOf(v, 'status'), '');

    // The person types a monthly budget; meanwhile requests spend more today.
    await typeInto(v, 'monthlyUsd', '120');
    await waitForText(v, 'status', 'Unsaved changes');
    await v.post({ type: 'init', ...budgetInit(10, 2) });
    await waitForText(v, 'dailySpend', 'spent $2.00 today (20%)');
    assert.equal(await valueOf(v, 'monthlyUsd'), '120', 'the unsaved edit stays');
    assert.equal(await textOf(v, 'status'), 'Unsaved changes');

    // A save under way still gets its answer when a refresh comes first.
    await byTestId(v, 'save').click();
    const save = await v.waitForPosted<{ id: string; budget: BudgetPolicy }>('save');
    assert.equal(save.budget.monthlyUsd, 120);
    await v.post({ type: 'init', ...budgetInit(10, 2.5) });
    const stored = budgetInit(10, 2.5);
    if (stored.target.kind === 'project') stored.target.project.budget = { ...stored.target.project.budget!, monthlyUsd: 120 };
    await v.post({ type: 'saved', id: save.id, project: stored.target.kind === 'project' ? stored.target.project : undefined, budgetStatuses: stored.budgetStatuses });
    await waitForText(v, 'status', 'Configuration saved.');
    assert.equal(await valueOf(v, 'monthlyUsd'), '120');
    await waitForText(v, 'dailySpend', 'spent $2.50 today (25%)');
  });
});
