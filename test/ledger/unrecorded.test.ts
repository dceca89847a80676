// Nothing billed is dropped silently by the store: text Postgres cannot take (a lone
// surrogate in a model id, NUL) is stored with U+FFFD in its place, and a record the store
// still refuses is counted as unrecorded, with its cost, in the gateway's status and the
// analytics summary.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/conduit/core/log';
import { startGateway, type RunningGateway } from '../../src/conduit/gateway';
import { EngineLedger } from '../../src/conduit/ledger/process/engineLedger';
import { WorkerLedger } from '../../src/conduit/ledger/process/workerLedger';
import { Journal } from '../../src/conduit/usage/journal';
import { CONTEXT_HEADER, encodeSessionContext } from '../../src/protocol/sessionContext';
import type { UnrecordedUsage } from '../../src/protocol/usage';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fakeAnthropic';
import { readJournal } from '../gateway/helpers';
import { journalLine, makeRecords } from './support/records';
import { openTestStore, type TestStore } from './support/store';

describe('ledger: unrecorded requests', () => {
  let store: TestStore;

  before(async function () {
    this.timeout(120_000);
    store = await openTestStore();
  });
  beforeEach(async () => {
    await store.reset();
  });
  after(async () => {
    await store?.close();
  });

  it('stores records whose text holds a lone surrogate or NUL, with U+FFFD in their place', async () => {
    const { engine, journalDir } = await store.engine();
    const [journaled, older] = makeRecords({ count: 2, seed: 11, spanMs: 60_000 });
    journaled.decision.model = 'claude-haiku-\ud800';
    journaled.decision.requestedModel = 'claude-haiku-\ud800';
    journaled.error = 'cut\u0000off';
    journaled.context.agentId = 'agent-\udc00';
    const journal = new Journal(journalDir);
    await journal.append(journaled);
    await journal.close();
    // A line journaled before text was made storable: the reader makes it storable too.
    older.decision.model = 'claude-opus-\udbff';
    older.decision.rule = `rule ${'é'.repeat(494)}😀`; // cut at 500 characters, between the emoji's two halves
    appendFileSync(journal.fileFor(older.endedAt.slice(0, 10)), journalLine(older));

    assert.deepEqual(await engine.ingester.ingestAvailable(), { records: 2, inserted: 2, rejected: 0 });
    const { rows } = await store.pglite.query<{ request_id: string; model: string; requested_model: string; error: string | null; routing_rule: string }>(
      `select request_id, model, requested_model, error, routing_rule from public.usage_tracking order by request_id`);
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    assert.equal(byId.get(journaled.id)?.model, 'claude-haiku-\uFFFD');
    assert.equal(byId.get(journaled.id)?.requested_model, 'claude-haiku-\uFFFD');
    assert.equal(byId.get(journaled.id)?.error, 'cut\uFFFDoff');
    assert.equal(byId.get(older.id)?.model, 'claude-opus-\uFFFD');
    assert.equal(byId.get(older.id)?.routing_rule, `rule ${'é'.repeat(494)}\uFFFD`);
    assert.deepEqual(engine.ingester.unrecorded, { count: 0, costUsd: 0 });
  });

  it('reports the unrecorded requests from the store\'s worker thread', async function () {
    this.timeout(120_000);
    const home = mkdtempSync(path.join(os.tmpdir(), 'conduit-unrecorded-worker-'));
    const journalDir = path.join(home, 'journal');
    const odd = { id: 'odd-2', decision: { model: 'm', source: 'nope' }, endedAt: new Date().toISOString(), cost: { cost: 0.25 } };
    mkdirSync(journalDir);
    appendFileSync(path.join(journalDir, `${odd.endedAt.slice(0, 10)}.ndjson`), `${JSON.stringify(odd)}\n`);
    const ledger = new WorkerLedger({ dataDir: null, journalDir, log: silentLogger });
    try {
      const counted = new Promise<UnrecordedUsage>((resolve) => {
        ledger.on('unrecorded', (u: UnrecordedUsage) => { if (u.count > 0) resolve(u); });
      });
      assert.deepEqual(await counted, { count: 1, costUsd: 0.25 });
      assert.deepEqual(ledger.unrecorded, { count: 1, costUsd: 0.25 });
    } finally {
      await ledger.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  describe('with the gateway', () => {
    let fake: FakeAnthropic;
    let home: string;
    let gateway: RunningGateway;
    let ledger: EngineLedger;

    before(async () => {
      fake = await startFakeAnthropic();
    });
    after(async () => {
      await fake?.close();
    });
    beforeEach(async () => {
      home = mkdtempSync(path.join(os.tmpdir(), 'conduit-unrecorded-'));
    });
    afterEach(async () => {
      await gateway?.close();
      rmSync(home, { recursive: true, force: true });
    });

    const send = async (sessionId: string, projectId = 'unrecorded-project', claudeSessionId?: string) => {
      const res = await fetch(`${gateway.url}/v1/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json', 'x-conduit-token': gateway.token, 'anthropic-version': '2023-06-01',
          [CONTEXT_HEADER]: encodeSessionContext({ projectId, sessionId }),
          ...(claudeSessionId ? { 'x-claude-code-session-id': claudeSessionId } : {}),
        },
        body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hello' }] }),
      });
      assert.equal(res.status, 200);
      await res.text();
    };
    const getJson = async <T>(route: string): Promise<T> => {
      const res = await fetch(`${gateway.url}${route}`, { headers: { 'x-conduit-token': gateway.token } });
      assert.equal(res.status, 200, await res.clone().text());
      return await res.json() as T;
    };

    it('stores a billed request whose session context holds a lone surrogate and NUL, with U+FFFD in their place', async () => {
      const { engine } = await store.engine({ journalDir: path.join(home, 'journal') });
      engine.ingester.stopScheduling(); // the test runs the passes (an announcement would start one on its own)
      ledger = new EngineLedger(engine);
      gateway = await startGateway({ home, port: 0, env: { CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: 'sk-test', CONDUIT_PLUGINS_DISABLED: '1' }, log: silentLogger, ledger });
      await ledger.whenReady();
      await gateway.budgets.whenReady(); // the budgets' seed runs a pass of its own: let it end first
      await send('session-\u0000', 'project-\ud800');
      assert.deepEqual(await engine.ingester.ingestAvailable(), { records: 1, inserted: 1, rejected: 0 });
      const { rows } = await store.pglite.query<{ session_id: string; workspace_key: string }>(
        `select u.session_id, p.workspace_key from public.usage_tracking u join public.projects p on p.id = u.project_id`);
      assert.deepEqual(rows, [{ session_id: 'session-\uFFFD', workspace_key: 'project-\uFFFD' }]);
    });

    it('counts a record the store refuses, and a line that is no record, as unrecorded with their cost in the status and the analytics summary', async function () {
      this.timeout(60_000);
      const { engine } = await store.engine({ journalDir: path.join(home, 'journal') });
      engine.ingester.stopScheduling(); // the test runs the passes (an announcement would start one on its own)
      ledger = new EngineLedger(engine);
      gateway = await startGateway({ home, port: 0, env: { CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: 'sk-test', CONDUIT_PLUGINS_DISABLED: '1' }, log: silentLogger, ledger });
      await ledger.whenReady();
      await gateway.budgets.whenReady(); // the budgets' seed runs a pass of its own: let it end first
      await send('kept-session');
      await send('refused-session', 'unrecorded-project', 'claude-refused-session');
      const refused = readJournal(home).find((r) => r.context.sessionId === 'refused-session')!;
      assert.ok(refused.cost.cost !== null && refused.cost.cost > 0, 'a priced request');
      // A line of another shape that still tells its cost.
      const [file] = readdirSync(path.join(home, 'journal'));
      const odd = { id: 'odd-1', context: { projectId: 'unrecorded-project' }, decision: { model: 'm', source: 'nope' }, endedAt: new Date().toISOString(), cost: { cost: 0.5 } };
      appendFileSync(path.join(home, 'journal', file), `${JSON.stringify(odd)}\n`);

      await store.pglite.exec(`alter table public.usage_tracking add constraint test_refuse_session check (session_id is distinct from 'refused-session')`);
      try {
        assert.deepEqual(await engine.ingester.ingestAvailable(), { records: 1, inserted: 1, rejected: 2 });
      } finally {
        await store.pglite.exec(`alter table public.usage_tracking drop constraint test_refuse_session`);
      }

      const expected: UnrecordedUsage = { count: 2, costUsd: Math.round((refused.cost.cost! + 0.5) * 1e6) / 1e6 };
      const status = await getJson<{ ledger: { unrecorded: UnrecordedUsage } }>('/v1/conduit/status');
      assert.deepEqual(status.ledger.unrecorded, expected);
      const summary = await getJson<{ requests: number; unrecorded: UnrecordedUsage }>('/v1/conduit/analytics/summary?range=day&tz=UTC');
      assert.equal(summary.requests, 1);
      assert.deepEqual(summary.unrecorded, expected);
      const project = await getJson<{ unrecorded: UnrecordedUsage }>('/v1/conduit/analytics/summary?range=day&tz=UTC&project=unrecorded-project');
      assert.deepEqual(project.unrecorded, expected);
      const session = await getJson<{ unrecorded: UnrecordedUsage }>('/v1/conduit/analytics/summary?range=day&tz=UTC&session=kept-session');
      assert.deepEqual(session.unrecorded, { count: 0, costUsd: 0 });
      // The refused record's session is known by claude's session id, as on every surface.
      const refusedSession = await getJson<{ unrecorded: UnrecordedUsage }>('/v1/conduit/analytics/summary?range=day&tz=UTC&session=claude-refused-session');
      assert.deepEqual(refusedSession.unrecorded, { count: 1, costUsd: refused.cost.cost });
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      const earlier = await getJson<{ unrecorded: UnrecordedUsage }>(`/v1/conduit/analytics/summary?from=${yesterday}&to=${yesterday}&tz=UTC`);
      assert.deepEqual(earlier.unrecorded, { count: 0, costUsd: 0 });
    });
  });
});
