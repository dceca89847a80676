// The budget section of the model configuration webview (dist/webview/modelConfig.js) in
// headless Chromium: a project's and an agent's budget, saved with the rest of the form.
import assert from 'node:assert/strict';
import path from 'node:path';
import { MODEL_CATEGORIES } from '../../src/conduit/routing/rules';
import { EMPTY_BUDGET_POLICY, parseBudgetPolicy, type BudgetPolicy, type BudgetStatus } from '../../src/protocol/budgets';
import type { ModelConfigInit } from '../../src/protocol/webviewMessages';
import { isModelConfigWebviewMessage } from '../../src/protocol/webviewMessages';
import { screenshotDir, type OpenOptions, type ThemeName, type WebviewPage } from '../support/webviewPage';
import { HOSTILE, HOSTILE_SCRIPT, MODELS, agent, agentInit, project, projectInit } from './fixtures';
import { byTestId, chooseOption, injectedElements, optionLabels, selectValue, textOf, typeInto, useWebviewHarness, waitForText } from './helpers';
import { walkWithTab } from './keyboard';

const BUDGET_CONTROLS = ['dailyUsd', 'monthlyUsd', 'softLimitPercent', 'softLimitModel', 'hardLimitPercent'];

function status(overrides: Partial<BudgetStatus> = {}): BudgetStatus {
  return {
    scope: 'project', projectKey: 'ws-7f3a', agentId: null, name: 'synapse-app', period: 'daily', limitUsd: 5, spentUsd: 4.1, percent: 82,
    periodStart: '2026-11-29T00:00:00.000Z', periodEnd: '2026-11-30T00:00:00.000Z', forecastUsd: null, forecastCrossingAt: null,
    state: 'soft', softLimitPercent: 80, softLimitModel: null, hardLimitPercent: 100, ...overrides,
  };
}

const POLICY: BudgetPolicy = { dailyUsd: 5, monthlyUsd: 100, softLimitPercent: 80, softLimitModel: MODEL_CATEGORIES.fast, hardLimitPercent: 100 };
const STATUSES = [status(), status({ period: 'monthly', limitUsd: 100, spentUsd: 31.2, percent: 31.2, forecastUsd: 96.4 })];

/** A project with this budget; statuses null: the host does not know the spend (no budgetStatuses). */
function budgetInit(budget: BudgetPolicy = POLICY, statuses: BudgetStatus[] | null = STATUSES): ModelConfigInit {
  const init = projectInit(project({ budget, dailyBudgetUsd: budget.dailyUsd, monthlyBudgetUsd: budget.monthlyUsd }));
  return statuses ? { ...init, budgetStatuses: statuses } : init;
}

describe('webview: model configuration budget', function () {
  const pages = useWebviewHarness();

  async function open(init: { value: ModelConfigInit }, options: OpenOptions = {}): Promise<WebviewPage> {
    const v = await pages.open('modelConfig', {
      ...options,
      respond: async (message, page) => {
        if (message.type === 'ready') await page.post({ type: 'init', ...init.value });
      },
    });
    await waitForText(v, 'save', 'Save Configuration');
    return v;
  }

  const valueOf = (v: WebviewPage, testid: string) => byTestId(v, testid).evaluate((el) => (el as HTMLElement & { value: string }).value);
  const errorOf = async (v: WebviewPage, key: string) => ((await v.page.locator(`[data-error-for="${key}"]`).textContent()) ?? '').trim();
  const hintOf = async (v: WebviewPage, key: string) => ((await v.page.locator(`[data-hint-for="${key}"]`).textContent()) ?? '').trim();
  const isInvalid = (v: WebviewPage, testid: string) => byTestId(v, testid).evaluate((el) => (el as HTMLElement & { invalid: boolean }).invalid);
  const isDisabled = (v: WebviewPage, testid: string) => byTestId(v, testid).evaluate((el) => (el as HTMLElement & { disabled: boolean }).disabled);

  it('shows the stored policy, what each field does, and the period\'s spend next to each amount', async () => {
    const v = await open({ value: budgetInit() });
    const section = byTestId(v, 'budgetSection');
    assert.equal(await section.locator('h2').textContent(), 'Budget');
    assert.equal(await valueOf(v, 'dailyUsd'), '5');
    assert.equal(await valueOf(v, 'monthlyUsd'), '100');
    assert.equal(await valueOf(v, 'softLimitPercent'), '80');
    assert.equal(await selectValue(v, 'softLimitModel'), MODEL_CATEGORIES.fast);
    assert.equal(await valueOf(v, 'hardLimitPercent'), '100');
    assert.deepEqual(await optionLabels(v, 'softLimitModel'), [
      'The cheapest configured model', 'Claude Opus 5.5 · claude-opus-5-5', 'Claude Sonnet 5.5 · claude-sonnet-5-5', 'Claude Haiku 4.5 · claude-haiku-4-5', 'DeepSeek V4 · openrouter/deepseek-v4',
    ]);
    for (const line of [
      'The most to spend in a calendar day. Empty: no daily budget.',
      'The most to spend in a calendar month. Empty: no monthly budget.',
      'From this share of a budget on, requests go to the cheaper model below. Empty: off.',
      'From this share of a budget on, requests are refused with a message Claude Code shows. Empty: off.',
    ]) assert.ok(await section.getByText(line, { exact: true }).isVisible(), line);
    assert.equal(await textOf(v, 'dailySpend'), 'spent $4.10 today (82%)');
    assert.equal(await textOf(v, 'monthlySpend'), 'spent $31.20 this month (31%), heading for $96.40 by the end of the month');
    assert.equal(await textOf(v, 'status'), '', 'nothing changed yet');
    // The share follows the amount as typed.
    await typeInto(v, 'dailyUsd', '10');
    await waitForText(v, 'dailySpend', 'spent $4.10 today (41%)');
    await waitForText(v, 'status', 'Unsaved changes');
    await typeInto(v, 'dailyUsd', '5.00');
    await waitForText(v, 'status', '', 5000); // "5.00" is what is stored
  });

  it('shows no spend line when the host does not know the spend (no statuses: the gateway answered 404)', async () => {
    const v = await open({ value: budgetInit(POLICY, null) });
    assert.equal(await byTestId(v, 'dailySpend').isVisible(), false);
    assert.equal(await byTestId(v, 'monthlySpend').isVisible(), false);
    assert.equal(await valueOf(v, 'dailyUsd'), '5');
  });

  it('saves the budget typed in with the configuration: the save carries exactly the policy, and the form then shows what was stored', async () => {
    const stored = project({ budget: { ...EMPTY_BUDGET_POLICY } });
    const v = await open({ value: { ...projectInit(stored), budgetStatuses: [] } });
    assert.equal(await isDisabled(v, 'softLimitModel'), true, 'the model waits for a soft limit');
    await typeInto(v, 'dailyUsd', '$7.50');
    await typeInto(v, 'monthlyUsd', '1,200');
    await typeInto(v, 'softLimitPercent', '75 %');
    assert.equal(await isDisabled(v, 'softLimitModel'), false);
    await chooseOption(v, 'softLimitModel', 'DeepSeek V4 · openrouter/deepseek-v4');
    await typeInto(v, 'hardLimitPercent', '110');
    await waitForText(v, 'status', 'Unsaved changes');

    await byTestId(v, 'save').click();
    const save = await v.waitForPosted<Record<string, unknown>>('save');
    assert.ok(isModelConfigWebviewMessage(save), 'the save message passes the protocol guard');
    const policy = { dailyUsd: 7.5, monthlyUsd: 1200, softLimitPercent: 75, softLimitModel: 'openrouter/deepseek-v4', hardLimitPercent: 110 };
    assert.deepEqual(save.budget, policy);
    assert.deepEqual(parseBudgetPolicy(save.budget), policy);
    assert.deepEqual(save.config, stored.modelConfig, 'the model configuration goes along unchanged');

    // The host answers with what the gateway stored (here it kept another monthly amount) and the spend as it is now.
    assert.equal(await byTestId(v, 'dailySpend').isVisible(), false, 'no budget before the save, so no spend line');
    await v.post({
      type: 'saved', id: save.id, project: { ...stored, budget: { ...policy, monthlyUsd: 1000 }, dailyBudgetUsd: 7.5, monthlyBudgetUsd: 1000 },
      budgetStatuses: [status({ limitUsd: 7.5, spentUsd: 1.5, percent: 20 })],
    });
    await waitForText(v, 'status', 'Configuration saved.');
    assert.equal(await textOf(v, 'dailySpend'), 'spent $1.50 today (20%)', 'the budget set just now shows its spend');
    assert.equal(await valueOf(v, 'monthlyUsd'), '1000');
    assert.equal(await valueOf(v, 'dailyUsd'), '7.5');
    assert.equal(await selectValue(v, 'softLimitModel'), 'openrouter/deepseek-v4');

    // A save that changes only the model configuration leaves the budget out.
    await chooseOption(v, 'defaultModel', 'Claude Haiku 4.5 · claude-haiku-4-5');
    const from = v.posted.length;
    await byTestId(v, 'save').click();
    const modelOnly = await v.waitForPosted<Record<string, unknown>>('save', { from });
    assert.equal('budget' in modelOnly, false);
  });

  it('validates inline, blocks the save and focuses the first bad field', async () => {
    const v = await open({ value: budgetInit() });
    await typeInto(v, 'monthlyUsd', '2000000');
    assert.equal(await errorOf(v, 'monthlyUsd'), 'A budget is at most $1,000,000.');
    assert.equal(await isInvalid(v, 'monthlyUsd'), true);
    await typeInto(v, 'hardLimitPercent', '1001');
    assert.equal(await errorOf(v, 'hardLimitPercent'), 'A limit is at most 1,000% of the budget.');
    await typeInto(v, 'hardLimitPercent', '70');
    assert.equal(await errorOf(v, 'hardLimitPercent'), '');
    assert.equal(await errorOf(v, 'softLimitPercent'), 'The soft limit (80%) must be below the hard limit (70%): from the hard limit on, requests are refused.',
      'changing the hard limit shows the clash on the soft one');
    await typeInto(v, 'dailyUsd', '-5');
    assert.equal(await errorOf(v, 'dailyUsd'), 'A budget cannot be negative.');

    await byTestId(v, 'save').click();
    await waitForText(v, 'status', 'Fix the errors above before saving.');
    assert.equal(await v.page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'dailyUsd', 'focus moves to the first invalid field');
    assert.equal(v.messagesOfType('save').length, 0);

    await typeInto(v, 'dailyUsd', '0');
    await byTestId(v, 'save').click();
    assert.equal(await v.page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'monthlyUsd');
    await typeInto(v, 'monthlyUsd', '');
    await typeInto(v, 'softLimitPercent', 'abc');
    assert.equal(await errorOf(v, 'softLimitPercent'), 'Enter a percentage of the budget, such as 80 (empty: off).');
    await typeInto(v, 'softLimitPercent', '0');
    assert.equal(await errorOf(v, 'softLimitPercent'), 'A limit must be above 0%.');
    await typeInto(v, 'softLimitPercent', '50');
    assert.equal(await errorOf(v, 'softLimitPercent'), '');
    assert.equal(v.messagesOfType('save').length, 0);
    await byTestId(v, 'save').click();
    const save = await v.waitForPosted<{ budget: BudgetPolicy }>('save');
    assert.deepEqual(save.budget, { dailyUsd: 0, monthlyUsd: null, softLimitPercent: 50, softLimitModel: MODEL_CATEGORIES.fast, hardLimitPercent: 70 });
  });

  it('hints that a limit without any budget amount does nothing, and still saves it', async () => {
    const v = await open({ value: budgetInit() });
    await typeInto(v, 'dailyUsd', '');
    await typeInto(v, 'monthlyUsd', '');
    assert.equal(await hintOf(v, 'softLimitPercent'), 'No daily or monthly budget is set, so the soft limit does nothing.');
    assert.equal(await hintOf(v, 'hardLimitPercent'), 'No daily or monthly budget is set, so the hard limit does nothing.');
    assert.equal(await errorOf(v, 'softLimitPercent'), '');
    assert.equal(await textOf(v, 'dailySpend'), 'spent $4.10 today', 'no amount: no share of it');
    await typeInto(v, 'monthlyUsd', '20');
    assert.equal(await hintOf(v, 'softLimitPercent'), '');
    await typeInto(v, 'monthlyUsd', '');
    await byTestId(v, 'save').click();
    const save = await v.waitForPosted<{ budget: BudgetPolicy }>('save');
    assert.deepEqual(save.budget, { ...POLICY, dailyUsd: null, monthlyUsd: null });
  });

  it('agent: clearing fields posts null, the cheapest-model choice posts null, and a refused save shows the gateway\'s message on its field', async () => {
    const own = agent({ budget: { ...POLICY } });
    const init = { value: { ...agentInit(own), budgetStatuses: [status({ scope: 'agent', agentId: own.id, name: own.name })] } };
    const v = await open(init);
    assert.match(await byTestId(v, 'budgetSection').textContent() ?? '', /The project's budget applies too: the stricter limit wins\./);
    assert.equal(await textOf(v, 'dailySpend'), 'spent $4.10 today (82%)');
    assert.equal(await byTestId(v, 'monthlySpend').isVisible(), false, 'no monthly status for this agent');
    await typeInto(v, 'dailyUsd', '');
    await typeInto(v, 'hardLimitPercent', '');
    await chooseOption(v, 'softLimitModel', 'The cheapest configured model');
    await byTestId(v, 'save').click();
    const save = await v.waitForPosted<Record<string, unknown>>('save');
    assert.ok(isModelConfigWebviewMessage({ ...save }), 'the save message passes the protocol guard');
    assert.deepEqual({ kind: save.kind, agentId: save.agentId, config: save.config, budget: save.budget }, {
      kind: 'agent', agentId: own.id, config: { useProjectModel: true, customModelId: null },
      budget: { dailyUsd: null, monthlyUsd: 100, softLimitPercent: 80, softLimitModel: null, hardLimitPercent: null },
    });

    await v.post({ type: 'saveFailed', id: save.id, message: 'budget.monthlyUsd: expected null or a number of US dollars from 0 to 1000000, got -1', field: 'budget.monthlyUsd' });
    await waitForText(v, 'status', /^Could not save: budget\.monthlyUsd: expected null/);
    assert.equal(await errorOf(v, 'monthlyUsd'), 'expected null or a number of US dollars from 0 to 1000000, got -1');
    assert.equal(await isInvalid(v, 'monthlyUsd'), true);
    await typeInto(v, 'monthlyUsd', '90');
    assert.equal(await errorOf(v, 'monthlyUsd'), '', 'editing the field clears the host\'s message');
    const from = v.posted.length;
    await byTestId(v, 'save').click();
    const again = await v.waitForPosted<{ id: string; budget: BudgetPolicy }>('save', { from });
    assert.equal(again.budget.monthlyUsd, 90);
    await v.post({ type: 'saved', id: again.id, agent: { ...own, budget: again.budget } });
    await waitForText(v, 'status', 'Configuration saved.');
    assert.equal(await valueOf(v, 'dailyUsd'), '');
    assert.equal(await selectValue(v, 'softLimitModel'), '');
  });

  it('keeps an unsaved budget through a reload, and drops it when the stored budget changed meanwhile', async () => {
    const init = { value: budgetInit() };
    const v = await open(init);
    await typeInto(v, 'dailyUsd', '12');
    await waitForText(v, 'status', 'Unsaved changes');
    await v.reload();
    await waitForText(v, 'status', 'Unsaved changes');
    assert.equal(await valueOf(v, 'dailyUsd'), '12');
    // "Conduit: Set Budget" stored another budget in the meantime: the view shows it.
    init.value = budgetInit({ ...POLICY, dailyUsd: 8 });
    await v.reload();
    await v.page.waitForFunction(() => (document.querySelector('[data-testid="dailyUsd"]') as HTMLInputElement | null)?.value === '8');
    assert.equal(await textOf(v, 'status'), '');
  });

  it('renders names carrying HTML or script as text', async () => {
    const models = [...MODELS, { id: 'evil/model', name: HOSTILE, category: null }];
    const init = {
      ...projectInit(project({ name: HOSTILE_SCRIPT, budget: { ...POLICY, softLimitModel: `<b>${HOSTILE}</b>` } }), models),
      budgetStatuses: [status({ name: HOSTILE_SCRIPT, softLimitModel: HOSTILE })],
    };
    const v = await open({ value: init });
    assert.equal(await byTestId(v, 'softLimitModel').locator('vscode-option').last().textContent(), `<b>${HOSTILE}</b> (not offered by the configured providers)`);
    assert.ok((await optionLabels(v, 'softLimitModel')).includes(`${HOSTILE} · evil/model`));
    assert.equal(await textOf(v, 'dailySpend'), 'spent $4.10 today (82%)');
    await chooseOption(v, 'softLimitModel', `${HOSTILE} · evil/model`);
    await byTestId(v, 'save').click();
    const save = await v.waitForPosted<{ budget: BudgetPolicy }>('save');
    assert.equal(save.budget.softLimitModel, 'evil/model');
    assert.deepEqual(await injectedElements(v), { img: 0, script: 2, iframe: 0 });
    assert.equal(await v.page.locator('b').count(), 0);
  });

  it('reaches every budget control with Tab, each with a visible focus indicator; Enter saves', async () => {
    const v = await open({ value: budgetInit() });
    const report = await walkWithTab(v);
    for (const id of BUDGET_CONTROLS) assert.ok(report.reached.some((name) => name.endsWith(`:${id}`)), `${id} reached (${report.reached.join(', ')})`);
    assert.deepEqual(report.missing, []);
    assert.deepEqual(report.noVisibleFocus, []);
    // Keyboard only: type a new amount, then save.
    await byTestId(v, 'hardLimitPercent').locator('input').focus();
    await v.page.keyboard.press('Control+A');
    await v.page.keyboard.type('150');
    await byTestId(v, 'save').focus();
    await v.page.keyboard.press('Enter');
    const save = await v.waitForPosted<{ budget: BudgetPolicy }>('save');
    assert.equal(save.budget.hardLimitPercent, 150);
  });

  for (const theme of ['light', 'dark'] as ThemeName[]) {
    it(`screenshot: ${theme} theme`, async () => {
      const v = await open({ value: budgetInit() }, { theme, viewport: { width: 900, height: 900 } });
      if (theme === 'light') {
        await typeInto(v, 'hardLimitPercent', '75'); // an inline error in one of the shots
        await typeInto(v, 'softLimitPercent', '80');
      }
      await v.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await v.screenshot(`modelConfigBudget-${theme}`);
      await byTestId(v, 'budgetSection').screenshot({ path: path.join(screenshotDir, `modelConfigBudget-section-${theme}.png`) });
    });
  }
});
