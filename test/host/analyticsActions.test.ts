// The usage analytics panel's two actions in a real VS Code (code-server + Chromium), in one
// code-server, in order. Requests reach the gateway as an agent session's would (its context
// header naming the workspace's project and an agent), each agent with a model of its own
// that has no price. "Add a price" on the Failed & Unpriced tab asks for the input and output
// prices in two input boxes; the gateway's config.json (0600) holds them and, after its
// refresh, the panel shows that model's cost. "Export" (CSV) of the Sessions table goes
// through code-server's save dialog to a file in the workspace whose rows are the table's
// (ids, agents, models, costs), RFC 4180, with a hostile agent name and model id written
// with a leading "'"; so does the export of Recent Activity. Screenshots: .test-output/host/actions-*.png.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { projectIdentityOf } from '../../src/conduit/client/projectIdentity';
import type { AgentInfo } from '../../src/protocol/projects';
import { CONTEXT_HEADER, TOKEN_HEADER, encodeSessionContext } from '../../src/protocol/sessionContext';
import { formatUsd } from '../../src/protocol/format';
import { parseCsv } from '../support/csv';
import { escapeRegExp, readNumber, useHostSuite } from '../support/hostSuite';
import { answerSaveDialog, editorWebview } from '../support/workbenchParts';

const STATUS_ITEM = 'Conduit gateway';
const RUNNING = /^Conduit gateway running(, |$)/;
/** Generous: the embedded store's first open takes several seconds. */
const DATA_TIMEOUT = 60_000;
/** A fine-tuned model the gateway passes through and has no price for. */
const UNPRICED_MODEL = 'acme-ft-7';
/** USD per million tokens, as typed into the boxes. */
const INPUT_PRICE = 300;
const OUTPUT_PRICE = 1500;
/** Names a spreadsheet would run as formulas (with a comma and quotes for RFC 4180's quoting). */
const HOSTILE_AGENT = '=HYPERLINK("https://example.invalid","a, b")';
const HOSTILE_MODEL = '=1+cmd|x!A0';

interface SessionRow { sessionId: string; agentNames: string[]; requests: number; cost: number | null }
interface ModelRow { model: string; cost: number | null; priceKnown?: boolean }
interface RecentRow { model: string; inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number }

describe('Usage analytics panel actions in VS Code (code-server + Chromium)', function () {
  // A real browser driving a real VS Code: one more try before a UI hiccup fails the run.
  this.retries(Number(process.env.CONDUIT_HOST_RETRIES ?? 1)); // 0 while debugging a failure
  const s = useHostSuite({
    upstreamKey: 'sk-test-host-actions', screenshotPrefix: 'actions-',
    // Models the gateway takes without a price: listed as the provider's own (knownModels.ts).
    config: { providers: { anthropic: { models: [UNPRICED_MODEL, HOSTILE_MODEL] } } },
  });
  let projectKey = '';
  const view = () => editorWebview(s.product.page);
  const analytics = async <T>(query: string) => {
    const r = await s.api<T>('GET', `/v1/conduit/analytics/${query}${query.includes('?') ? '&' : '?'}range=today&project=${encodeURIComponent(projectKey)}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };

  /** One request of an agent session of `agent` (its own model, so routed to it) through the gateway. */
  async function agentRequest(agent: AgentInfo, sessionId: string): Promise<void> {
    const port = readNumber(path.join(s.conduitHome, 'gateway.port'));
    const token = readFileSync(path.join(s.conduitHome, 'token'), 'utf8').trim();
    const model = agent.customModelId!;
    const context = { sessionId, projectId: projectKey, agentId: agent.id, agentModelConfig: { useProjectDefaults: false, overrideModel: model } };
    const res = await fetch(`http://127.0.0.1:${port}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', [TOKEN_HEADER]: token, [CONTEXT_HEADER]: encodeSessionContext(context) },
      body: JSON.stringify({ model, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const answer = await res.text();
    assert.equal(res.status, 200, answer);
  }

  async function agentOf(name: string, model: string): Promise<AgentInfo> {
    const key = encodeURIComponent(projectKey);
    // (A retry finds the agent its first try made.)
    const existing = (await s.api<AgentInfo[]>('GET', `/v1/conduit/projects/${key}/agents`)).body?.find?.((a) => a.name === name);
    if (existing) return existing;
    const created = await s.api<AgentInfo>('POST', `/v1/conduit/projects/${key}/agents`, { name, personaType: 'reviewer', useProjectModel: false, customModelId: model });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body;
  }

  before(async function () {
    this.timeout(180_000);
    await s.product.activation();
    await s.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING }, 60_000);
    // The workspace's project, by the key the extension derives from its folder (projects.ts).
    projectKey = projectIdentityOf(s.product.workspace).key;
    // The store opens a few seconds after the gateway (503 with Retry-After meanwhile): a bounded poll.
    let project = await s.api('PUT', `/v1/conduit/projects/${encodeURIComponent(projectKey)}`, {});
    for (const deadline = Date.now() + DATA_TIMEOUT; project.status === 503 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      project = await s.api('PUT', `/v1/conduit/projects/${encodeURIComponent(projectKey)}`, {});
    }
    assert.equal(project.status, 200, JSON.stringify(project.body));
    const pricing = await agentOf('pricing-agent', UNPRICED_MODEL);
    const hostile = await agentOf(HOSTILE_AGENT, HOSTILE_MODEL);
    await agentRequest(pricing, 'host-actions-price');
    await agentRequest(pricing, 'host-actions-price');
    await agentRequest(hostile, 'host-actions-hostile');
    // The store ingests a moment after each reply: a bounded poll of the gateway's own answer.
    for (const deadline = Date.now() + DATA_TIMEOUT; ;) {
      const { sessions } = await analytics<{ sessions: SessionRow[] }>('sessions');
      if (sessions.filter((x) => x.sessionId.startsWith('host-actions-')).reduce((n, x) => n + x.requests, 0) >= 3) break;
      assert.ok(Date.now() < deadline, `the store did not show the 3 requests within ${DATA_TIMEOUT} ms: ${JSON.stringify(sessions)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await s.product.runCommand('Conduit: Open Usage Analytics');
    await s.product.page.locator('.tab', { hasText: 'Usage Analytics' }).waitFor();
    await view().locator('h1', { hasText: 'Usage Analytics' }).waitFor({ timeout: 30_000 });
  });

  it('"Add a price" on Failed & Unpriced asks for both prices; config.json (0600) holds them and the panel shows the model\'s cost', async function () {
    this.timeout(180_000);
    const { product } = s;
    const panel = view();
    const unpricedBefore = (await analytics<{ requests: RecentRow[] }>('recent?limit=50')).requests.filter((r) => r.model === UNPRICED_MODEL);
    assert.equal(unpricedBefore.length, 2, 'the two requests to the model without a price');
    await panel.locator('[data-testid="tab-2"]').click();
    const row = panel.locator(`[data-testid="unpriced"] tr[data-model="${UNPRICED_MODEL}"]`);
    await row.waitFor({ state: 'visible', timeout: DATA_TIMEOUT });
    assert.equal((await row.locator('[data-field="model"]').innerText()).trim(), UNPRICED_MODEL);
    assert.equal((await row.locator('[data-field="requests"]').innerText()).trim(), '2');
    await s.screenshot('1-unpriced');

    await row.locator('[data-action="addPrice"]').click();
    // A bad figure is refused in the box, with what it wants.
    const box = product.page.locator('.quick-input-widget', { hasText: 'Input price, USD per million tokens' });
    await box.waitFor();
    const input = product.page.locator('.quick-input-widget input.input');
    await input.fill('-1');
    await product.page.locator('.quick-input-widget .quick-input-message', { hasText: 'A price in USD per million tokens' }).waitFor();
    await input.fill(String(INPUT_PRICE));
    await input.press('Enter');
    await product.answerInput('Output price, USD per million tokens', { value: String(OUTPUT_PRICE) });
    await panel.locator('[data-testid="action-status"]', { hasText: `Price of ${UNPRICED_MODEL} saved.` }).waitFor({ timeout: 30_000 });

    const file = path.join(s.conduitHome, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as { port: number; providers: unknown; prices?: Record<string, { input: number; output: number }> };
    assert.deepEqual([config.port, config.providers], [0, { anthropic: { models: [UNPRICED_MODEL, HOSTILE_MODEL] } }], 'the rest of config.json is kept');
    const price = config.prices?.[UNPRICED_MODEL];
    assert.deepEqual(price && [price.input, price.output], [INPUT_PRICE, OUTPUT_PRICE], JSON.stringify(config));
    assert.equal(statSync(file).mode & 0o777, 0o600);

    // The stored requests are priced now: the gateway's cost, computed from their tokens.
    const expected = unpricedBefore.reduce((sum, r) => sum + r.inputTokens * INPUT_PRICE + r.outputTokens * OUTPUT_PRICE
      + r.cacheCreationTokens * INPUT_PRICE * 1.25 + r.cacheReadTokens * INPUT_PRICE * 0.1, 0) / 1e6;
    const model = (await analytics<{ models: ModelRow[] }>('models')).models.find((m) => m.model === UNPRICED_MODEL);
    assert.ok(model && model.cost !== null && Math.abs(model.cost - expected) < 2e-6, `the gateway's cost ${model?.cost} vs ${expected} from the tokens`);
    // After its refresh the panel shows it: gone from the unpriced ones, a cost in Models.
    await row.waitFor({ state: 'detached', timeout: DATA_TIMEOUT });
    await panel.locator('[data-testid="tab-0"]').click();
    const cost = panel.locator(`[data-testid="models"] tr[data-model="${UNPRICED_MODEL}"] [data-field="cost"]`);
    await cost.filter({ hasText: new RegExp(`^${escapeRegExp(formatUsd(model.cost))}$`) }).waitFor({ timeout: DATA_TIMEOUT });
    assert.equal(await cost.locator('[data-action="addPrice"]').count(), 0, 'no "Add a price" left for it');
    await s.screenshot('2-priced');
  });

  it('"Export" (CSV) of the Sessions table writes the rows shown, RFC 4180, with formula-like names behind a leading "\'"', async function () {
    this.timeout(180_000);
    const { product } = s;
    const panel = view();
    await panel.locator('[data-testid="tab-5"]').click();
    const rows = panel.locator('[data-testid="sessions"] tr[data-rank]');
    await panel.locator('[data-testid="sessions"] button[data-session="host-actions-hostile"]').waitFor({ state: 'visible', timeout: DATA_TIMEOUT });
    const shown = await rows.evaluateAll((trs) => trs.map((tr) => {
      const text = (field: string) => (tr.querySelector(`[data-field="${field}"]`)?.textContent ?? '').trim();
      return { sessionId: tr.querySelector('button[data-session]')?.getAttribute('data-session') ?? '', agent: text('agent'), model: text('model'), requests: text('requests'), cost: text('cost') };
    }));
    assert.deepEqual(shown.map((r) => r.sessionId).sort(), ['host-actions-hostile', 'host-actions-price']);

    const target = path.join(product.workspace, 'sessions-export.csv');
    await panel.locator('[data-testid="export-sessions-csv"]').click();
    await answerSaveDialog(product.page, 'Export sessions', target, '.csv');
    await panel.locator('[data-testid="action-status"]', { hasText: `${shown.length} rows written to ${target}` }).waitFor({ timeout: 30_000 });
    assert.ok(existsSync(target), `${target} is written`);
    const text = readFileSync(target, 'utf8');
    await s.screenshot('3-exported');

    // RFC 4180 (parseCsv refuses bare line breaks and a last line without CRLF), after Excel's byte order mark.
    assert.ok(text.startsWith('\uFEFF'), 'a byte order mark');
    const [header, ...written] = parseCsv(text.slice(1));
    assert.deepEqual(header, ['session_id', 'claude_session_id', 'agents', 'models', 'requests', 'total_tokens', 'cost_usd', 'duration_ms', 'first_at', 'last_at', 'first_prompt']);
    for (const r of written) assert.equal(r.length, header.length, JSON.stringify(r));
    const col = (name: string) => header.indexOf(name);
    // The rows the table shows, in its order.
    assert.deepEqual(written.map((r) => r[col('session_id')]), shown.map((r) => r.sessionId));
    written.forEach((r, i) => {
      const cost = r[col('cost_usd')];
      assert.equal(formatUsd(cost === '' ? null : Number(cost)), shown[i].cost, `the cost of ${shown[i].sessionId}`);
      assert.equal(r[col('requests')], shown[i].requests);
      const unquote = (cell: string) => cell.replace(/^'(?=[=+\-@])/, '');
      assert.equal(unquote(r[col('agents')]), shown[i].agent);
      assert.equal(unquote(r[col('models')]), shown[i].model);
    });
    const hostile = written.find((r) => r[col('session_id')] === 'host-actions-hostile')!;
    assert.equal(hostile[col('agents')], `'${HOSTILE_AGENT}`);
    assert.equal(hostile[col('models')], `'${HOSTILE_MODEL}`);
    assert.equal(hostile[col('cost_usd')], '', 'no price: no cost, not 0');
    // Quoted as RFC 4180 says: the comma and the doubled quotes inside one field.
    assert.ok(text.includes(`,"'${HOSTILE_AGENT.replace(/"/g, '""')}",`), text);
    const priced = written.find((r) => r[col('session_id')] === 'host-actions-price')!;
    assert.deepEqual([priced[col('agents')], priced[col('models')], priced[col('requests')]], ['pricing-agent', UNPRICED_MODEL, '2']);
    assert.ok(Number(priced[col('cost_usd')]) > 0, 'priced after "Add a price"');
  });

  it('"Export" (CSV) of Recent Activity writes its requests newest first: the times, sessions, agents, models and costs shown', async function () {
    this.timeout(180_000);
    const { product } = s;
    const panel = view();
    await panel.locator('[data-testid="tab-3"]').click();
    const rows = panel.locator('[data-testid="recent"] tr:has([data-at])');
    await rows.nth(2).waitFor({ state: 'visible', timeout: DATA_TIMEOUT });
    const shown = await rows.evaluateAll((trs) => trs.map((tr) => {
      const text = (field: string) => (tr.querySelector(`[data-field="${field}"]`)?.textContent ?? '').trim();
      const time = tr.querySelector('[data-field="time"]');
      return { at: time?.getAttribute('data-at') ?? '', opens: time?.getAttribute('title') ?? '', agent: text('agent'), model: text('model'), cost: text('cost') };
    }));
    assert.equal(shown.length, 3, JSON.stringify(shown));

    const target = path.join(product.workspace, 'recent-export.csv');
    await panel.locator('[data-testid="export-recent-csv"]').click();
    await answerSaveDialog(product.page, 'Export recent', target, '.csv');
    await panel.locator('[data-testid="action-status"]', { hasText: `3 rows written to ${target}` }).waitFor({ timeout: 30_000 });
    const text = readFileSync(target, 'utf8');
    assert.ok(text.startsWith('\uFEFF'), 'a byte order mark');
    const [header, ...written] = parseCsv(text.slice(1));
    assert.deepEqual(header, ['at', 'request_id', 'session_id', 'agent', 'model', 'source', 'total_tokens', 'cost_usd', 'refused']);
    const col = (name: string) => header.indexOf(name);
    assert.deepEqual(written.map((r) => r[col('at')]), shown.map((r) => r.at), 'the requests shown, in their order');
    written.forEach((r, i) => {
      assert.equal(shown[i].opens, `Open session ${r[col('session_id')]}`);
      assert.match(r[col('request_id')], /\S/, 'each request has its id');
      const cost = r[col('cost_usd')];
      assert.equal(formatUsd(cost === '' ? null : Number(cost)), shown[i].cost);
      assert.equal(r[col('agent')].replace(/^'(?=[=+\-@])/, ''), shown[i].agent);
      assert.equal(r[col('model')].replace(/^'(?=[=+\-@])/, ''), shown[i].model);
    });
    const hostile = written.filter((r) => r[col('session_id')] === 'host-actions-hostile');
    assert.deepEqual(hostile.map((r) => [r[col('agent')], r[col('model')], r[col('cost_usd')]]), [[`'${HOSTILE_AGENT}`, `'${HOSTILE_MODEL}`, '']]);
    assert.ok(text.includes(`,"'${HOSTILE_AGENT.replace(/"/g, '""')}",`), text);
  });
});
