// The model configuration webview with what the host reads from a real gateway (its price
// table, config.json, its home and its usage store): one naming of models everywhere, prices
// in the pickers, the gateway's own plugins folder, and what an agent spent.
import assert from 'node:assert/strict';
import path from 'node:path';
import { DEFAULT_RULES } from '../../src/conduit/routing/rules';
import { loadModelConfigExtras } from '../../src/extension/views/modelConfigData';
import type { BudgetsResponse } from '../../src/protocol/budgets';
import type { ModelConfigViewInit, PricedModelOption } from '../../src/protocol/webviewMessages';
import type { AgentInfo, ProjectInfo } from '../../src/protocol/projects';
import type { WebviewPage } from '../support/webviewPage';
import { HOSTILE } from './fixtures';
import { byTestId, injectedElements, optionLabels, textOf, useWebviewHarness, waitForText } from './helpers';
import { startRealGateway, type RealGateway } from './realGateway';

const KEY = 'ws-model-config-real';
const OWN_MODEL = 'acme-finetune-7';

describe('webview: model configuration with a real gateway', function () {
  this.timeout(120_000);
  const pages = useWebviewHarness();
  let gw: RealGateway;
  let agentId = '';

  before(async () => {
    // config.json prices a model of its own (a non-whole price) and names another provider's model (no price) as a fallback.
    gw = await startRealGateway({ config: { prices: { [OWN_MODEL]: { input: 0.8, output: 4 } }, routing: { fallbackModels: ['proxy/claude-sonnet-4-6'] }, providers: { proxy: { baseUrl: 'http://127.0.0.1:9' } } } });
    await gw.api.call('PUT', `/v1/conduit/projects/${KEY}`, { name: 'synapse-app' });
    agentId = (await gw.api.call<AgentInfo>('POST', `/v1/conduit/projects/${KEY}/agents`, { name: HOSTILE, personaType: 'reviewer', useProjectModel: true, customModelId: null })).id;
    await gw.api.call('PUT', `/v1/conduit/projects/${KEY}/agents/${agentId}`, { budget: { dailyUsd: 5, monthlyUsd: 50 } });
    await gw.send({ projectId: KEY, agentId }, 2);
    await gw.send({ projectId: KEY }, 1); // the project's own request: not the agent's
  });
  after(async () => { await gw?.close(); });

  /** The init the host builds for the project (agentId null) or the agent, from the gateway. */
  async function init(forAgent: boolean): Promise<ModelConfigViewInit> {
    const project = await gw.api.call<ProjectInfo>('GET', `/v1/conduit/projects/${KEY}`);
    const { models } = await gw.api.call<{ models: PricedModelOption[] }>('GET', '/v1/conduit/models');
    const extras = await loadModelConfigExtras(gw.api, KEY, forAgent ? agentId : null);
    if (!forAgent) return { target: { kind: 'project', project }, models, inheritedRules: DEFAULT_RULES, ...extras };
    const agent = (await gw.api.call<AgentInfo[]>('GET', `/v1/conduit/projects/${KEY}/agents`)).find((a) => a.id === agentId)!;
    return { target: { kind: 'agent', project, agent }, models, inheritedRules: DEFAULT_RULES, ...extras };
  }

  async function open(value: ModelConfigViewInit): Promise<WebviewPage> {
    const v = await pages.open('modelConfig', { respond: async (m, page) => { if (m.type === 'ready') await page.post({ type: 'init', ...value }); } });
    await waitForText(v, 'save', 'Save Configuration');
    return v;
  }

  /** The price as a person reads it, written here on its own: whole dollars bare, else cents. */
  const usd = (n: number) => (Number.isInteger(n) ? `$${n}` : `$${n.toFixed(2)}`);

  it('names every model the same way, "name · id", and offers each with its price per million tokens from the gateway', async () => {
    const value = await init(false);
    const v = await open(value);
    const labels = await optionLabels(v, 'defaultModel');
    assert.equal(labels[0], 'None: the model Claude Code asks for');
    const expected = (value.models as PricedModelOption[]).map((m) => `${m.name === m.id ? m.id : `${m.name} · ${m.id}`} · ${m.price ? `${usd(m.price.input)} / ${usd(m.price.output)} per M` : 'price unknown'}`);
    assert.deepEqual(labels.slice(1), expected);
    assert.ok(labels.some((l) => /^Claude [^·]+ · claude-sonnet-4-5 · \$3 \/ \$15 per M$/.test(l)), labels.join('\n'));
    assert.ok(labels.includes(`${OWN_MODEL} · $0.80 / $4 per M`), 'config.json\'s own price');
    assert.ok(labels.includes('proxy/claude-sonnet-4-6 · price unknown'), 'a model of another provider has no known price');
    // The same names in every picker and in the preview.
    assert.deepEqual((await optionLabels(v, 'softLimitModel')).slice(1), expected);
    const preview = await byTestId(v, 'previewList').locator('.model').allTextContents();
    const names = new Set(value.models.map((m) => (m.name === m.id ? m.id : `${m.name} · ${m.id}`)));
    for (const line of preview) for (const name of line.split(', then ')) assert.ok(names.has(name) || name === 'the model Claude Code asks for', `"${name}" in the preview is not named as the pickers name it`);
  });

  it('names the plugins folder of the gateway\'s own home', async () => {
    const v = await open(await init(false));
    assert.equal(await textOf(v, 'pluginsDir'), path.join(gw.t.home, 'plugins'));
    assert.ok(!(await byTestId(v, 'rulesEditor').textContent())!.includes('~/.conduit'));
  });

  it('an agent\'s page says what that agent spent today and this month, against its budgets, its hostile name as text', async () => {
    const value = await init(true);
    const { statuses } = await gw.api.call<BudgetsResponse>('GET', `/v1/conduit/budgets?project=${KEY}`);
    const mine = (period: string) => statuses.find((s) => s.scope === 'agent' && s.agentId === agentId && s.period === period)!;
    const v = await open(value);
    const cents = (x: number) => `$${x.toFixed(2)}`;
    await waitForText(v, 'spendSummary',
      `${HOSTILE} spent ${cents(mine('daily').spentUsd)} / $5 today and ${cents(mine('monthly').spentUsd)} / $50 this month (calendar, ${value.spend!.timeZone}).`);
    assert.equal(value.spend!.today.requests, 2, 'the agent\'s two requests, not the project\'s third');
    assert.ok(mine('daily').spentUsd > 0);
    assert.deepEqual(await injectedElements(v), { img: 0, script: 2, iframe: 0 });
  });

  it('the project\'s page says what the project spent, its agents included, without budgets plainly', async () => {
    const value = await init(false);
    assert.equal(value.spend!.today.requests, 3);
    const cents = (x: number) => `$${x.toFixed(2)}`;
    const v = await open(value);
    await waitForText(v, 'spendSummary', `This project spent (its agents included) ${cents(value.spend!.today.cost!)} today and ${cents(value.spend!.month.cost!)} this month (calendar, ${value.spend!.timeZone}).`);
  });
});
