// The model configuration webview (dist/webview/modelConfig.js) in headless Chromium.
import assert from 'node:assert/strict';
import { MODEL_CATEGORIES } from '../../src/conduit/routing/rules';
import type { ModelConfigInit } from '../../src/protocol/webviewMessages';
import { isModelConfigWebviewMessage } from '../../src/protocol/webviewMessages';
import { type OpenOptions, type ThemeName, type WebviewPage } from '../support/webviewPage';
import { HOSTILE, HOSTILE_SCRIPT, MODELS, agent, agentInit, project, projectInit } from './fixtures';
import { byTestId, chooseOption, injectedElements, optionLabels, selectValue, textOf, typeInto, waitForText, waitForValue, useWebviewHarness } from './helpers';
import { walkWithTab } from './keyboard';

describe('webview: model configuration', function () {
  const pages = useWebviewHarness();
  let view: WebviewPage | undefined;

  /** Opens the view; the stand-in host answers `ready` with the current `init.value`. */
  async function open(init: { value: ModelConfigInit }, options: OpenOptions = {}): Promise<WebviewPage> {
    view = await pages.open('modelConfig', {
      ...options,
      respond: async (message, page) => {
        if (message.type === 'ready') await page.post({ type: 'init', ...init.value });
      },
    });
    await waitForText(view, 'save', 'Save Configuration');
    return view;
  }

  const previewText = (v: WebviewPage) => byTestId(v, 'previewList').locator('li').evaluateAll((lis) =>
    lis.map((li) => [...li.children].map((span) => (span.textContent ?? '').trim()).join(' ')));

  it('shows the seed\'s project controls: routing switch, default model with categories, active rules', async () => {
    const v = await open({ value: projectInit() });
    assert.equal(await v.page.locator('h1').textContent(), 'Project Model Configuration');
    assert.equal(await textOf(v, 'subject'), 'synapse-app');
    assert.equal(await textOf(v, 'routing'), 'Enable Intelligent Routing');
    assert.ok(await v.page.getByText('Use Conduit to automatically select the best model based on context').isVisible());
    assert.equal(await byTestId(v, 'routing').evaluate((el) => (el as HTMLInputElement).checked), true);
    assert.deepEqual(await optionLabels(v, 'defaultModel'), [
      'None: the model Claude Code asks for', 'Claude Opus 5.5 · claude-opus-5-5', 'Claude Sonnet 5.5 · claude-sonnet-5-5', 'Claude Haiku 4.5 · claude-haiku-4-5', 'DeepSeek V4 · openrouter/deepseek-v4',
    ]);
    assert.equal(await selectValue(v, 'defaultModel'), MODEL_CATEGORIES.balanced);
    assert.equal(await v.page.locator('h2', { hasText: 'Active Routing Rules' }).isVisible(), true);
    assert.deepEqual(await previewText(v), [
      'Long context (>60k tokens) → goes to Claude Sonnet 5.5 · claude-sonnet-5-5',
      'Background tasks → goes to Claude Haiku 4.5 · claude-haiku-4-5',
      'Complex reasoning → goes to Claude Opus 5.5 · claude-opus-5-5',
      'Default → goes to Claude Sonnet 5.5 · claude-sonnet-5-5',
    ]);
    // Routing off: no preview; the content rules are disabled, the note says why.
    await byTestId(v, 'routing').click();
    await byTestId(v, 'preview').waitFor({ state: 'hidden' });
    assert.equal(await byTestId(v, 'rulesNote').isVisible(), true);
    assert.equal(await byTestId(v, 'threshold').evaluate((el) => (el as HTMLInputElement).disabled), true);
    assert.equal(await byTestId(v, 'addFallback').evaluate((el) => (el as HTMLInputElement).disabled), false);
    await waitForText(v, 'status', 'Unsaved changes');
  });

  it('saves the whole project configuration from every control, showing "Saving..." until the host answers', async () => {
    const stored = project({ modelConfig: { enabled: true, defaultModel: MODEL_CATEGORIES.balanced, rules: { reasoningKeywords: ['ultrathink'], reasoningBudgetThreshold: 40_000 } } });
    const v = await open({ value: projectInit(stored) });
    await chooseOption(v, 'defaultModel', 'Claude Opus 5.5 · claude-opus-5-5');
    await typeInto(v, 'threshold', '75000');
    await chooseOption(v, 'longContextModel', 'DeepSeek V4 · openrouter/deepseek-v4');
    await chooseOption(v, 'backgroundModel', 'Off: this rule never applies');
    await chooseOption(v, 'reasoningModel', 'Claude Opus 5.5 · claude-opus-5-5');
    await chooseOption(v, 'webSearchModel', 'Claude Haiku 4.5 · claude-haiku-4-5');
    await byTestId(v, 'plugins').click();
    await byTestId(v, 'addFallback').click();
    await typeInto(v, 'fallback-0', 'claude-haiku-4-5');
    await byTestId(v, 'addFallback').click();
    await typeInto(v, 'fallback-1', 'openrouter/deepseek-v4');
    await byTestId(v, 'addFallback').click();
    await typeInto(v, 'fallback-2', 'claude-sonnet-5-5');
    // Reorder: the last one up to the top, then remove the middle one.
    await byTestId(v, 'up-2').click();
    await byTestId(v, 'up-1').click();
    await byTestId(v, 'remove-1').click();
    assert.deepEqual(await previewText(v), [
      'Long context (>75k tokens) → goes to DeepSeek V4 · openrouter/deepseek-v4',
      'Web search → goes to Claude Haiku 4.5 · claude-haiku-4-5',
      'Complex reasoning → goes to Claude Opus 5.5 · claude-opus-5-5',
      'Default → goes to Claude Opus 5.5 · claude-opus-5-5',
      'If a model fails → goes to Claude Sonnet 5.5 · claude-sonnet-5-5, then DeepSeek V4 · openrouter/deepseek-v4',
    ]);

    const from = v.posted.length;
    await byTestId(v, 'save').click();
    const save = await v.waitForPosted<Record<string, unknown>>('save', { from });
    assert.ok(isModelConfigWebviewMessage(save), 'the save message passes the protocol guard');
    assert.equal(save.kind, 'project');
    assert.equal(save.projectKey, 'ws-7f3a');
    assert.deepEqual(save.config, {
      enabled: true,
      defaultModel: MODEL_CATEGORIES.powerful,
      rules: {
        reasoningKeywords: ['ultrathink'], // settings the form does not edit are kept
        reasoningBudgetThreshold: 40_000,
        longContextThreshold: 75_000,
        longContextModel: 'openrouter/deepseek-v4',
        backgroundModel: null,
        reasoningModel: MODEL_CATEGORIES.powerful,
        webSearchModel: MODEL_CATEGORIES.fast,
        fallbackModels: ['claude-sonnet-5-5', 'openrouter/deepseek-v4'],
        pluginsEnabled: false,
      },
    });
    await waitForText(v, 'save', 'Saving...');
    assert.equal(await byTestId(v, 'save').evaluate((el) => (el as HTMLButtonElement).disabled), true);
    // A second click while saving sends nothing.
    await byTestId(v, 'save').click({ force: true });
    assert.equal(v.messagesOfType('save').length, 1);

    await v.post({ type: 'saved', id: save.id, project: { ...stored, modelConfig: save.config } });
    await waitForText(v, 'save', 'Save Configuration');
    await waitForText(v, 'status', 'Configuration saved.');
    assert.equal(await byTestId(v, 'save').evaluate((el) => (el as HTMLButtonElement).disabled), false);
  });

  it('shows a failed save\'s message, inline when the host names the field, and lets the person save again', async () => {
    const v = await open({ value: projectInit() });
    await typeInto(v, 'threshold', '90000');
    await byTestId(v, 'save').click();
    const save = await v.waitForPosted<{ id: string }>('save');
    await v.post({ type: 'saveFailed', id: 'some-other-id', message: 'ignored' });
    await waitForText(v, 'save', 'Saving...');
    await v.post({ type: 'saveFailed', id: save.id, message: 'longer than the largest context window', field: 'modelConfig.rules.longContextThreshold' });
    await waitForText(v, 'status', 'Could not save: longer than the largest context window');
    assert.equal(await v.page.locator('[data-error-for="threshold"]').textContent(), 'longer than the largest context window');
    await waitForText(v, 'save', 'Save Configuration');
    await byTestId(v, 'save').click();
    await v.waitForPosted((m) => m.type === 'save' && m.id !== save.id);
  });

  it('a fallback model the gateway refused shows its reason at that fallback\'s field and in the status', async () => {
    const v = await open({ value: projectInit() });
    await byTestId(v, 'addFallback').click();
    await byTestId(v, 'addFallback').click();
    await typeInto(v, 'fallback-0', 'claude-haiku-4-5');
    await typeInto(v, 'fallback-1', 'gpt-9-ultra-nonexistent');
    await byTestId(v, 'save').click();
    const save = await v.waitForPosted<{ id: string }>('save');
    const reason = 'unknown model "gpt-9-ultra-nonexistent": neither the price table nor provider anthropic\'s model list knows it';
    await v.post({ type: 'saveFailed', id: save.id, message: `modelConfig.rules.fallbackModels[1]: ${reason}`, field: 'modelConfig.rules.fallbackModels[1]' });
    await waitForText(v, 'status', `Could not save: modelConfig.rules.fallbackModels[1]: ${reason}`);
    assert.equal(await v.page.locator('[data-error-for="fallback.1"]').textContent(), reason);
    assert.equal(await v.page.locator('[data-error-for="fallback.0"]').textContent(), '');
  });

  it('validates inline and blocks the save: threshold a whole number of at least 1,000, fallback ids filled and distinct', async () => {
    const v = await open({ value: projectInit() });
    const error = (key: string) => v.page.locator(`[data-error-for="${key}"]`);
    await typeInto(v, 'threshold', '500');
    await waitForText(v, 'status', 'Unsaved changes');
    assert.equal(await error('threshold').textContent(), 'The threshold must be at least 1,000 tokens.');
    assert.equal(await byTestId(v, 'threshold').evaluate((el) => (el as HTMLInputElement & { invalid: boolean }).invalid), true);
    await typeInto(v, 'threshold', '1500.5');
    assert.equal(await error('threshold').textContent(), 'Enter a whole number of tokens (at least 1,000).');
    await byTestId(v, 'addFallback').click();
    await byTestId(v, 'addFallback').click();
    await typeInto(v, 'fallback-0', 'claude-haiku-4-5');
    await typeInto(v, 'fallback-1', 'claude-haiku-4-5');
    assert.equal(await error('fallback.1').textContent(), '"claude-haiku-4-5" is already fallback 1.');
    await byTestId(v, 'addFallback').click(); // an empty entry: its error shows on save

    const from = v.posted.length;
    await byTestId(v, 'save').click();
    await waitForText(v, 'status', 'Fix the errors above before saving.');
    assert.equal(await error('fallback.2').textContent(), 'Enter a model id, or remove this entry.');
    assert.equal(await v.page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'threshold', 'focus moves to the first invalid field');
    assert.equal(v.messagesOfType('save').length, 0);
    assert.equal(await textOf(v, 'save'), 'Save Configuration');

    await typeInto(v, 'threshold', '120000');
    await typeInto(v, 'fallback-1', 'claude-opus-5-5 ');
    await byTestId(v, 'remove-2').click();
    assert.equal(await error('threshold').textContent(), '');
    await byTestId(v, 'save').click();
    const save = await v.waitForPosted<{ config: { rules: Record<string, unknown> } }>('save', { from });
    assert.equal(save.config.rules.longContextThreshold, 120_000);
    assert.deepEqual(save.config.rules.fallbackModels, ['claude-haiku-4-5', 'claude-opus-5-5']);
  });

  it('agent view: "Use Project Defaults" disables routing and hides the default model; saving posts useProjectModel/customModelId', async () => {
    const v = await open({ value: agentInit(agent({ name: 'Reviewer' }), project({ modelConfig: { enabled: true, defaultModel: MODEL_CATEGORIES.balanced, rules: { backgroundModel: null } } })) });
    assert.equal(await v.page.locator('h1').textContent(), 'Agent Model Configuration');
    assert.equal(await textOf(v, 'subject'), 'Reviewer · code-reviewer · project synapse-app');
    assert.equal(await textOf(v, 'useProjectDefaults'), 'Use Project Defaults');
    assert.ok(await v.page.getByText('Inherit model settings from the project configuration').isVisible());
    assert.equal(await byTestId(v, 'useProjectDefaults').evaluate((el) => (el as HTMLInputElement).checked), true);
    assert.equal(await byTestId(v, 'routing').evaluate((el) => (el as HTMLInputElement).disabled), true);
    assert.equal(await byTestId(v, 'defaultModel').isVisible(), false);
    assert.equal(await byTestId(v, 'rulesEditor').count(), 0, 'an agent has no rules editor');
    // The preview is the project's rules (its background rule is off).
    assert.deepEqual(await previewText(v), [
      'Long context (>60k tokens) → goes to Claude Sonnet 5.5 · claude-sonnet-5-5',
      'Complex reasoning → goes to Claude Opus 5.5 · claude-opus-5-5',
      'Default → goes to Claude Sonnet 5.5 · claude-sonnet-5-5',
    ]);

    await byTestId(v, 'useProjectDefaults').click();
    await byTestId(v, 'defaultModel').waitFor({ state: 'visible' });
    assert.equal(await selectValue(v, 'defaultModel'), MODEL_CATEGORIES.balanced, 'starts from the balanced model');
    assert.equal(await byTestId(v, 'preview').isVisible(), false);
    await waitForText(v, 'routingHint', 'This agent uses its own model for every request, so routing rules do not apply.');
    await chooseOption(v, 'defaultModel', 'Claude Haiku 4.5 · claude-haiku-4-5');
    await byTestId(v, 'save').click();
    const own = await v.waitForPosted<Record<string, unknown>>('save');
    assert.equal(isModelConfigWebviewMessage(own), true);
    assert.deepEqual({ kind: own.kind, projectKey: own.projectKey, agentId: own.agentId, config: own.config },
      { kind: 'agent', projectKey: 'ws-7f3a', agentId: agent().id, config: { useProjectModel: false, customModelId: MODEL_CATEGORIES.fast } });
    await v.post({ type: 'saved', id: own.id });
    await waitForText(v, 'status', 'Configuration saved.');

    await byTestId(v, 'useProjectDefaults').click();
    await byTestId(v, 'defaultModel').waitFor({ state: 'hidden' });
    const from = v.posted.length;
    await byTestId(v, 'save').click();
    const back = await v.waitForPosted<Record<string, unknown>>('save', { from });
    assert.deepEqual(back.config, { useProjectModel: true, customModelId: null });
  });

  it('renders names carrying HTML or script as text', async () => {
    const models = [...MODELS, { id: 'evil/model', name: HOSTILE, category: null }];
    const before = { value: projectInit(project({ name: HOSTILE_SCRIPT, modelConfig: { enabled: true, defaultModel: 'evil/model' } }), models) };
    const v = await open(before);
    assert.equal(await textOf(v, 'subject'), HOSTILE_SCRIPT);
    assert.deepEqual(await previewText(v), [
      'Long context (>60k tokens) → goes to Claude Sonnet 5.5 · claude-sonnet-5-5',
      'Background tasks → goes to Claude Haiku 4.5 · claude-haiku-4-5',
      'Complex reasoning → goes to Claude Opus 5.5 · claude-opus-5-5',
      `Default → goes to ${HOSTILE} · evil/model`,
    ]);
    assert.deepEqual((await optionLabels(v, 'defaultModel')).at(-1), `${HOSTILE} · evil/model`);
    await byTestId(v, 'defaultModel').click(); // the open list renders the names too
    await byTestId(v, 'defaultModel').getByRole('option', { name: `${HOSTILE} · evil/model` }).waitFor();
    await v.page.keyboard.press('Escape');
    // An agent whose name and stored model are hostile.
    await v.post({ type: 'init', ...agentInit(agent({ name: HOSTILE, personaType: HOSTILE_SCRIPT, useProjectModel: false, customModelId: `<b>${HOSTILE}</b>` })) });
    await waitForText(v, 'subject', `${HOSTILE} · ${HOSTILE_SCRIPT} · project synapse-app`);
    assert.equal(await byTestId(v, 'defaultModel').locator('vscode-option').last().textContent(), `<b>${HOSTILE}</b> (not offered by the configured providers)`);
    assert.deepEqual(await injectedElements(v), { img: 0, script: 2, iframe: 0 });
    assert.equal(await v.page.locator('b').count(), 0);
  });

  it('keeps an unsaved draft through a reload, and drops it when the stored configuration changed meanwhile', async () => {
    const init = { value: projectInit() };
    const v = await open(init);
    await typeInto(v, 'threshold', '70000');
    await byTestId(v, 'plugins').click();
    await waitForText(v, 'status', 'Unsaved changes');
    await v.reload();
    await waitForText(v, 'status', 'Unsaved changes');
    assert.equal(await byTestId(v, 'threshold').evaluate((el) => (el as HTMLInputElement).value), '70000');
    assert.equal(await byTestId(v, 'plugins').evaluate((el) => (el as HTMLInputElement).checked), false);
    assert.equal(v.messagesOfType('ready').length, 2);

    // Someone saved another configuration in the meantime: the view shows the stored one.
    init.value = projectInit(project({ modelConfig: { enabled: false, defaultModel: MODEL_CATEGORIES.fast } }));
    await v.reload();
    await waitForValue(v, 'defaultModel', MODEL_CATEGORIES.fast);
    assert.equal(await textOf(v, 'status'), '');
    assert.equal(await byTestId(v, 'threshold').evaluate((el) => (el as HTMLInputElement).value), '');
    assert.equal(await byTestId(v, 'routing').evaluate((el) => (el as HTMLInputElement).checked), false);
  });

  it('paints from the initial state in the page before the host answers', async () => {
    view = await pages.open('modelConfig', { initialState: agentInit() });
    await waitForText(view, 'subject', 'Reviewer · code-reviewer · project synapse-app');
    await view.waitForPosted('ready');
  });

  it('reaches every control with Tab, each with a visible focus indicator', async () => {
    const v = await open({ value: projectInit(project({ modelConfig: { enabled: true, defaultModel: MODEL_CATEGORIES.balanced, rules: { fallbackModels: ['claude-haiku-4-5', 'claude-opus-5-5'] } } })) });
    const report = await walkWithTab(v);
    assert.ok(report.expected.length >= 16, `expected the switches, selects, fields and buttons, got ${report.expected.join(', ')}`);
    assert.deepEqual(report.missing, []);
    assert.deepEqual(report.noVisibleFocus, []);
    // Space toggles a switch and Enter saves, without a mouse.
    await byTestId(v, 'plugins').focus();
    await v.page.keyboard.press('Space');
    assert.equal(await byTestId(v, 'plugins').evaluate((el) => (el as HTMLInputElement).checked), false);
    await byTestId(v, 'save').focus();
    await v.page.keyboard.press('Enter');
    const save = await v.waitForPosted<{ config: { rules: { pluginsEnabled?: boolean } } }>('save');
    assert.equal(save.config.rules.pluginsEnabled, false);
  });

  for (const theme of ['light', 'dark'] as ThemeName[]) {
    it(`screenshot: ${theme} theme`, async () => {
      const budget = { dailyUsd: 5, monthlyUsd: 100, softLimitPercent: 80, softLimitModel: null, hardLimitPercent: 100 };
      const stored = project({ budget, dailyBudgetUsd: 5, monthlyBudgetUsd: 100, modelConfig: { enabled: true, defaultModel: MODEL_CATEGORIES.balanced, rules: { longContextThreshold: 80_000, webSearchModel: MODEL_CATEGORIES.fast, fallbackModels: ['claude-opus-5-5'] } } });
      const spend = { scope: 'project', projectKey: stored.workspaceKey, agentId: null, name: stored.name, limitUsd: 5, spentUsd: 4.1, percent: 82, periodStart: '2026-11-29T00:00:00.000Z', periodEnd: '2026-11-30T00:00:00.000Z', forecastUsd: null, forecastCrossingAt: null, state: 'soft', softLimitPercent: 80, softLimitModel: null, hardLimitPercent: 100 } as const;
      const v = await open({ value: { ...projectInit(stored), budgetStatuses: [{ ...spend, period: 'daily' }] } }, { theme, viewport: { width: 900, height: 900 } });
      if (theme === 'light') await typeInto(v, 'threshold', '800'); // an inline error in one of the shots
      await v.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await v.screenshot(`modelConfig-${theme}`, { readme: theme === 'dark' });
    });
  }
});
