// Budgets through a real gateway (HTTP, the Anthropic stand-in, the ledger on the shared
// test PGlite) with a controllable clock: budgets set through the projects API, the soft
// limit's downgrade in the decision and upstream, the hard limit's refusal, the stricter
// of agent and project, alerts once per threshold across restarts and new days, the
// alerts API and its acknowledgement, and the local token on every budgets route.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/conduit/core/log';
import { startGateway, type RunningGateway } from '../../src/conduit/gateway';
import type { LedgerEngine } from '../../src/conduit/ledger/store/engine';
import { EngineLedger } from '../../src/conduit/ledger/process/engineLedger';
import { EMPTY_BUDGET_POLICY, type BudgetAlert, type BudgetAlertsResponse, type BudgetsResponse } from '../../src/protocol/budgets';
import type { AgentInfo, ProjectInfo } from '../../src/protocol/projects';
import { CONTEXT_HEADER, encodeSessionContext, type SessionContext } from '../../src/protocol/sessionContext';
import type { GatewayEvent, UsageRecord } from '../../src/protocol/usage';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fakeAnthropic';
import { openTestStore, type TestStore } from '../ledger/support/store';
import { EventSubscriber, assertAnthropicError, rawRequest } from './helpers';

/** 100,000 input tokens: $0.30 on claude-sonnet-4-5, $0.10 on claude-haiku-4-5. */
const USAGE = { input_tokens: 100_000, output_tokens: 0 };
/** 00:30 UTC: early enough in the day that no forecast is made (they are tested in test/unit). */
const T0 = Date.parse('2026-11-29T00:30:00Z');

type Budget = Extract<GatewayEvent, { type: 'budget' }>;

describe('gateway: budgets', function () {
  this.timeout(60_000);
  let store: TestStore;
  let fake: FakeAnthropic;
  let home: string;
  let engine: LedgerEngine;
  let gateway: RunningGateway;
  let clock = T0;
  const subscribers: EventSubscriber[] = [];

  const env = () => ({ CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: 'sk-test-upstream-key', CONDUIT_PLUGINS_DISABLED: '1' });

  async function start(): Promise<void> {
    gateway = await startGateway({ home, port: 0, log: silentLogger, env: env(), ledger: new EngineLedger(engine), now: () => clock });
    await gateway.budgets.whenReady();
  }

  async function restart(): Promise<void> {
    await gateway.budgets.saved();
    for (const s of subscribers.splice(0)) s.close();
    await gateway.close();
    clock += 1_000; // the new gateway starts after the requests of the old one
    await start();
  }

  async function call<T = any>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${gateway.url}${p}`, {
      method,
      headers: { 'x-conduit-token': gateway.token, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  const putProject = async (key: string, body: unknown) => {
    const r = await call<ProjectInfo>('PUT', `/v1/conduit/projects/${encodeURIComponent(key)}`, body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };

  async function send(ctx: SessionContext, extra: Record<string, unknown> = {}): Promise<{ res: Response; text: string }> {
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-conduit-token': gateway.token, 'anthropic-version': '2023-06-01', [CONTEXT_HEADER]: encodeSessionContext(ctx) },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }], ...extra }),
    });
    return { res, text: await res.text() };
  }

  /** Sends n requests that succeed. */
  async function spend(ctx: SessionContext, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const { res, text } = await send(ctx);
      assert.equal(res.status, 200, text);
    }
  }

  const statuses = async (key: string) => (await call<BudgetsResponse>('GET', `/v1/conduit/budgets?project=${encodeURIComponent(key)}`)).body;
  const alerts = async (key: string) => (await call<BudgetAlertsResponse>('GET', `/v1/conduit/budgets/alerts?project=${encodeURIComponent(key)}`)).body.alerts;
  const upstreamModels = () => fake.requests.filter((r) => r.method === 'POST' && r.url.startsWith('/v1/messages')).map((r) => r.body.model as string);

  async function subscribe(key: string): Promise<EventSubscriber> {
    const s = await EventSubscriber.open(gateway.url, gateway.token, `?project=${encodeURIComponent(key)}`);
    subscribers.push(s);
    return s;
  }
  const budgetEvents = (s: EventSubscriber) => s.events.filter((e): e is Budget => e.type === 'budget').map((e) => e.alert);

  before(async function () {
    this.timeout(120_000);
    store = await openTestStore();
    fake = await startFakeAnthropic();
    home = mkdtempSync(path.join(os.tmpdir(), 'conduit-budgets-'));
    writeFileSync(path.join(home, 'config.json'), JSON.stringify({ budgetTimeZone: 'UTC' }));
    ({ engine } = await store.engine({ journalDir: path.join(home, 'journal'), ingest: { debounceMs: 10 } }));
    engine.start();
    await start();
  });
  beforeEach(() => {
    fake.reset();
    fake.setDefault({ kind: 'message', usage: USAGE });
  });
  afterEach(() => {
    for (const s of subscribers.splice(0)) s.close();
  });
  after(async () => {
    await gateway?.close();
    await fake?.close();
    await store?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('every budgets route refuses requests without the local token', async () => {
    for (const [method, p] of [['GET', '/v1/conduit/budgets'], ['GET', '/v1/conduit/budgets/alerts?project=x'], ['POST', '/v1/conduit/budgets/alerts/abc/ack']]) {
      const variants: Record<string, string>[] = [{}, { 'x-conduit-token': 'not-the-token' }, { authorization: 'Bearer not-the-token' }];
      for (const headers of variants) {
        const res = await rawRequest(gateway.url, { method, path: p, headers });
        assertAnthropicError(res, 401, 'authentication_error');
      }
    }
    // With it: answered.
    assert.equal((await call('GET', '/v1/conduit/budgets')).status, 200);
  });

  it('sets a budget through the projects API (the `budget` object and the older fields), and shows its status', async () => {
    const key = randomUUID();
    const project = await putProject(key, { name: 'setting', budget: { dailyUsd: 5, softLimitPercent: 80, softLimitModel: 'claude-haiku-4-5', hardLimitPercent: 100 } });
    assert.deepEqual(project.budget, { dailyUsd: 5, monthlyUsd: null, softLimitPercent: 80, softLimitModel: 'claude-haiku-4-5', hardLimitPercent: 100 });
    assert.equal(project.dailyBudgetUsd, 5);
    // Only the fields named change; the older field sets the same amount.
    const next = await putProject(key, { monthlyBudgetUsd: 50, budget: { softLimitModel: null } });
    assert.deepEqual(next.budget, { dailyUsd: 5, monthlyUsd: 50, softLimitPercent: 80, softLimitModel: null, hardLimitPercent: 100 });
    assert.deepEqual((await call('GET', `/v1/conduit/projects/${key}`)).body, next);

    const s = await statuses(key);
    assert.equal(s.ready, true);
    assert.equal(s.timeZone, 'UTC');
    assert.equal(s.now, new Date(clock).toISOString());
    assert.deepEqual(s.statuses.map((x) => ({ ...x })), [
      {
        scope: 'project', projectKey: key, agentId: null, name: 'setting', period: 'daily', limitUsd: 5, spentUsd: 0, percent: 0,
        periodStart: '2026-11-29T00:00:00.000Z', periodEnd: '2026-11-30T00:00:00.000Z', forecastUsd: null, forecastCrossingAt: null,
        state: 'ok', softLimitPercent: 80, softLimitModel: null, hardLimitPercent: 100,
      },
      {
        scope: 'project', projectKey: key, agentId: null, name: 'setting', period: 'monthly', limitUsd: 50, spentUsd: 0, percent: 0,
        periodStart: '2026-11-01T00:00:00.000Z', periodEnd: '2026-12-01T00:00:00.000Z', forecastUsd: null, forecastCrossingAt: null,
        state: 'ok', softLimitPercent: 80, softLimitModel: null, hardLimitPercent: 100,
      },
    ]);

    // Refusals name the field.
    for (const [body, message] of [
      [{ budget: { dailyUsd: -1 } }, /budget\.dailyUsd: expected null or a number of US dollars/],
      [{ budget: { softLimitPercent: 0 } }, /budget\.softLimitPercent: expected null or a percentage/],
      [{ budget: { weekly: 1 } }, /budget\.weekly: unknown setting/],
      [{ budget: 5 }, /budget: expected an object/],
      [{ dailyBudgetUsd: 4, budget: { dailyUsd: 5 } }, /dailyBudgetUsd: differs from budget\.dailyUsd/],
    ] as const) {
      const r = await call('PUT', `/v1/conduit/projects/${key}`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.body.error.message, message);
    }

    // budget: null clears the policy: the project has no budget status any more.
    const cleared = await putProject(key, { budget: null });
    assert.deepEqual(cleared.budget, EMPTY_BUDGET_POLICY);
    assert.deepEqual(cleared.dailyBudgetUsd, null);
    assert.deepEqual((await statuses(key)).statuses, []);
  });

  it('past the soft limit, requests go to the cheaper model: in the decision, upstream and in the cost', async () => {
    const key = randomUUID();
    await putProject(key, { name: 'soft', budget: { dailyUsd: 1, softLimitPercent: 50, softLimitModel: 'claude-haiku-4-5' } });
    const events = await subscribe(key);
    await spend({ projectId: key }, 2); // $0.60 of $1.00
    assert.deepEqual(upstreamModels(), ['claude-sonnet-4-5', 'claude-sonnet-4-5']);

    const { res, text } = await send({ projectId: key });
    assert.equal(res.status, 200, text);
    assert.equal(res.headers.get('x-conduit-route'), 'budget');
    assert.equal(res.headers.get('x-conduit-model'), 'claude-haiku-4-5');
    assert.deepEqual(upstreamModels(), ['claude-sonnet-4-5', 'claude-sonnet-4-5', 'claude-haiku-4-5']);
    const record = await events.usage(res.headers.get('x-conduit-request-id')!);
    assert.equal(record.decision.source, 'budget');
    assert.equal(record.decision.rule, 'daily budget 60% ≥ soft limit 50% → claude-haiku-4-5');
    assert.equal(record.decision.requestedModel, 'claude-sonnet-4-5');
    assert.equal(record.cost.cost, 0.1);
    const decision = await events.next((e) => e.type === 'decision' && e.requestId === record.id);
    assert.equal(decision.type === 'decision' && decision.decision.source, 'budget');
    const [daily] = (await statuses(key)).statuses;
    assert.deepEqual([daily.spentUsd, daily.percent, daily.state], [0.7, 70, 'soft']);
  });

  it('a soft limit without its own model takes the cheapest model the project configuration names', async () => {
    const key = randomUUID();
    // Names opus (default), sonnet 4.5 (background), sonnet 5.5 (long context, by default) and opus (reasoning, by default).
    await putProject(key, {
      name: 'cheapest', modelConfig: { enabled: true, defaultModel: 'claude-opus-5-5', rules: { backgroundModel: 'claude-sonnet-4-5' } },
      budget: { dailyUsd: 1, softLimitPercent: 10 },
    });
    const first = await send({ projectId: key });
    assert.equal(first.res.headers.get('x-conduit-route'), 'default');
    assert.equal(first.res.headers.get('x-conduit-model'), 'claude-opus-5-5'); // $0.40: 40 %
    const { res } = await send({ projectId: key });
    assert.equal(res.headers.get('x-conduit-route'), 'budget');
    assert.equal(res.headers.get('x-conduit-model'), 'claude-sonnet-5-5');
  });

  it('past the hard limit, requests are refused with an Anthropic-shaped 402 that names the budget; raising it lets them through', async () => {
    const key = randomUUID();
    await putProject(key, { name: 'billing', budget: { dailyUsd: 0.5, softLimitPercent: 80, softLimitModel: 'claude-haiku-4-5', hardLimitPercent: 100 } });
    const events = await subscribe(key);
    await spend({ projectId: key }, 2); // $0.30, then $0.30 on sonnet (60 % < 80 % when it was routed)
    const before = upstreamModels().length;

    for (const stream of [false, true]) {
      const { res, text } = await send({ projectId: key }, { stream });
      assert.equal(res.status, 402, text);
      assert.match(String(res.headers.get('content-type')), /^application\/json/);
      assert.deepEqual(JSON.parse(text), {
        type: 'error',
        error: {
          type: 'billing_error',
          message: 'Conduit: project \'billing\' has spent $0.60 of its $0.50 daily budget (hard limit 100%). Raise it with "Conduit: Set Budget" or wait until Mon, Nov 30, 00:00 UTC.',
        },
      });
    }
    assert.equal(upstreamModels().length, before, 'nothing reached the provider');
    const refused = await events.usageWhere((r: UsageRecord) => r.status === 402);
    assert.deepEqual([refused.error, refused.decision.source, refused.decision.rule, refused.usage],
      ['budget_exceeded', 'budget', 'daily budget 120% ≥ hard limit 100%: refused', null]);
    // The provider was never called: a known cost of 0, marked as refused (not an unknown price).
    assert.deepEqual(refused.cost, { cost: 0, costSource: 'refused', priceVersion: null });
    await engine.ingester.ingestAvailable();
    const day = (await call('GET', `/v1/conduit/analytics/summary?${new URLSearchParams({ project: key, from: '2026-11-29', to: '2026-11-30', tz: 'UTC' })}`)).body;
    assert.deepEqual([day.requests, day.refusedRequests, day.unknownCostRequests], [4, 2, 0], 'two refused, none without a known price');
    assert.equal((await statuses(key)).statuses[0].state, 'hard');

    // Raising the budget reaches the next request at once.
    await putProject(key, { budget: { dailyUsd: 10 } });
    const { res } = await send({ projectId: key });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-conduit-route'), 'passthrough');
  });

  it('the agent\'s and the project\'s budgets both apply: the stricter wins', async () => {
    const key = randomUUID();
    await putProject(key, { name: 'team', budget: { dailyUsd: 1, softLimitPercent: 50, softLimitModel: 'claude-haiku-4-5', hardLimitPercent: 100 } });
    const created = await call<AgentInfo>('POST', `/v1/conduit/projects/${key}/agents`, {
      name: 'reviewer', personaType: 'code-reviewer', useProjectModel: true, budget: { dailyUsd: 0.3, hardLimitPercent: 100 },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const reviewer = created.body;
    assert.deepEqual(reviewer.budget, { dailyUsd: 0.3, monthlyUsd: null, softLimitPercent: null, softLimitModel: null, hardLimitPercent: 100 });
    assert.equal(reviewer.dailyBudgetUsd, 0.3);

    await spend({ projectId: key, agentId: reviewer.id }, 1); // the reviewer's $0.30: its budget is spent, the project's at 30 %
    const refused = await send({ projectId: key, agentId: reviewer.id });
    assert.equal(refused.res.status, 402);
    assert.match(JSON.parse(refused.text).error.message, /^Conduit: agent 'reviewer' of project 'team' has spent \$0\.30 of its \$0\.30 daily budget \(hard limit 100%\)\./);

    // Another agent meets only the project's budget: fine at 30 %, downgraded at 60 %.
    const other = { projectId: key, agentId: 'writer-1' };
    assert.equal((await send(other)).res.headers.get('x-conduit-route'), 'passthrough');
    assert.equal((await send(other)).res.headers.get('x-conduit-route'), 'budget');

    // Agent budgets are listed beside the project's ($0.30 + $0.30 + $0.10 on haiku), and changed through the agent PUT.
    assert.deepEqual((await statuses(key)).statuses.map((s) => [s.scope, s.name, s.agentId, s.spentUsd]),
      [['project', 'team', null, 0.7], ['agent', 'reviewer', reviewer.id, 0.3]]);
    const raised = await call<AgentInfo>('PUT', `/v1/conduit/projects/${key}/agents/${reviewer.id}`, { budget: { dailyUsd: 2 } });
    assert.equal(raised.body.budget?.dailyUsd, 2);
    // Now the project's soft limit is the stricter for the reviewer...
    const events = await subscribe(key);
    const soft = await send({ projectId: key, agentId: reviewer.id });
    assert.equal(soft.res.status, 200);
    const record = await events.usage(soft.res.headers.get('x-conduit-request-id')!);
    assert.deepEqual([record.decision.source, record.decision.model, record.decision.rule],
      ['budget', 'claude-haiku-4-5', 'daily budget 70% ≥ soft limit 50% → claude-haiku-4-5']);
    // ...and its hard limit, once the project's budget is lowered.
    await putProject(key, { budget: { dailyUsd: 0.5 } });
    const stopped = await send({ projectId: key, agentId: reviewer.id });
    assert.equal(stopped.res.status, 402);
    assert.match(JSON.parse(stopped.text).error.message, /^Conduit: project 'team' has spent \$0\.80 of its \$0\.50 daily budget/);
  });

  it('alerts at 50, 80 and 100 % once per threshold and period, across restarts; acknowledged ones stay acknowledged', async () => {
    const key = randomUUID();
    await putProject(key, { name: 'alerts', budget: { dailyUsd: 1 } });
    let events = await subscribe(key);
    await spend({ projectId: key }, 1);
    assert.deepEqual(budgetEvents(events), []);
    await spend({ projectId: key }, 1); // 60 %
    const fifty = (await events.next((e) => e.type === 'budget') as Budget).alert;
    assert.deepEqual([fifty.kind, fifty.threshold, fifty.status.spentUsd, fifty.acknowledgedAt], ['threshold', 50, 0.6, null]);
    assert.equal(fifty.message, "Project 'alerts' has used 60% of its $1.00 daily budget ($0.60 spent).");
    assert.equal(fifty.id, `project:${key}:daily:2026-11-29T00%3A00%3A00.000Z:threshold-50`);

    await restart();
    events = await subscribe(key);
    // The spend of the earlier run is read from the store; the alert is still waiting.
    assert.equal((await statuses(key)).statuses[0].spentUsd, 0.6);
    assert.deepEqual((await alerts(key)).map((a: BudgetAlert) => a.id), [fifty.id]);
    await spend({ projectId: key }, 1); // 90 %: only the 80 % alert, not the 50 % one again
    const eighty = (await events.next((e) => e.type === 'budget') as Budget).alert;
    assert.equal(eighty.threshold, 80);
    assert.deepEqual(budgetEvents(events).map((a) => a.threshold), [80]);
    assert.deepEqual((await alerts(key)).map((a: BudgetAlert) => a.threshold), [50, 80]);

    // Acknowledging.
    const acked = await call<BudgetAlert>('POST', `/v1/conduit/budgets/alerts/${encodeURIComponent(fifty.id)}/ack`);
    assert.equal(acked.status, 200);
    assert.equal(acked.body.id, fifty.id);
    assert.equal(acked.body.acknowledgedAt, new Date(clock).toISOString());
    assert.equal((await call('POST', `/v1/conduit/budgets/alerts/${encodeURIComponent(fifty.id)}/ack`)).status, 200, 'twice is fine');
    assert.deepEqual((await alerts(key)).map((a: BudgetAlert) => a.threshold), [80]);
    const unknown = await call('POST', `/v1/conduit/budgets/alerts/${encodeURIComponent('project:nope:daily:x:threshold-50')}/ack`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.type, 'not_found_error');
    const wrongVerb = await call('GET', `/v1/conduit/budgets/alerts/${encodeURIComponent(fifty.id)}/ack`);
    assert.equal(wrongVerb.status, 405);

    await restart();
    assert.deepEqual((await alerts(key)).map((a: BudgetAlert) => a.threshold), [80], 'acknowledged in the store');
    events = await subscribe(key);
    await spend({ projectId: key }, 1); // 120 %
    assert.equal((await events.next((e) => e.type === 'budget') as Budget).alert.threshold, 100);

    // A new day: the same thresholds are new alerts.
    clock = Date.parse('2026-11-30T00:10:00Z');
    assert.deepEqual((await statuses(key)).statuses.map((s) => [s.spentUsd, s.periodStart]), [[0, '2026-11-30T00:00:00.000Z']]);
    await spend({ projectId: key }, 2);
    const next = (await events.next((e) => e.type === 'budget' && e.alert.status.periodStart === '2026-11-30T00:00:00.000Z') as Budget).alert;
    assert.equal(next.threshold, 50);
    assert.notEqual(next.id, fifty.id);
  });

  it('a monthly budget counts across days until the month ends', async () => {
    const key = randomUUID();
    await putProject(key, { name: 'monthly', budget: { monthlyUsd: 1, hardLimitPercent: 100 } });
    clock = Date.parse('2026-11-30T23:30:00Z');
    await spend({ projectId: key }, 3); // $0.90
    assert.deepEqual((await statuses(key)).statuses.map((s) => [s.period, s.spentUsd, s.periodEnd]), [['monthly', 0.9, '2026-12-01T00:00:00.000Z']]);
    await spend({ projectId: key }, 1);
    const refused = await send({ projectId: key });
    assert.equal(refused.res.status, 402);
    assert.match(JSON.parse(refused.text).error.message, /monthly budget \(hard limit 100%\)\. Raise it with "Conduit: Set Budget" or wait until Tue, Dec 1, 00:00 UTC\.$/);
    clock = Date.parse('2026-12-01T00:00:00Z');
    assert.equal((await send({ projectId: key })).res.status, 200);
  });
});
