// The projects API (/v1/conduit/projects/...) over HTTP on an in-process gateway whose
// store is the shared test PGlite: CRUD and its refusals, usage attached to the projects
// and agents it made, and routing by the saved model settings from the next request on; a
// project given a new key (previousKeys) keeps its history, here and on a sync target.
// Then the same through the ledger's worker thread, with the settings loaded at open.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { silentLogger } from '../../src/conduit/core/log';
import { applyMigrations } from '../../src/conduit/ledger/store/migrations';
import { remoteProjectId } from '../../src/conduit/ledger/sync/outbox';
import { PgSyncTarget } from '../../src/conduit/ledger/sync/pgSyncTarget';
import { fromPgClient } from '../../src/conduit/ledger/store/sqlClient';
import { getTestPostgres } from '../support/postgres';
import { startGateway, type RunningGateway } from '../../src/conduit/gateway';
import type { LedgerEngine } from '../../src/conduit/ledger/store/engine';
import { EngineLedger } from '../../src/conduit/ledger/process/engineLedger';
import { WorkerLedger } from '../../src/conduit/ledger/process/workerLedger';
import type { AgentInfo, ProjectInfo } from '../../src/protocol/projects';
import { EMPTY_BUDGET_POLICY } from '../../src/protocol/budgets';
import { CONTEXT_HEADER, encodeSessionContext, type SessionContext } from '../../src/protocol/sessionContext';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fakeAnthropic';
import { openTestStore, type TestStore } from './support/store';

const HEADER_PROJECT_CONFIG = { enabled: true, defaultModel: 'claude-sonnet-5-5' };

function api(gateway: RunningGateway) {
  return async (method: string, p: string, body?: unknown, token: string | null = gateway.token): Promise<{ status: number; body: any; headers: Headers }> => {
    const res = await fetch(`${gateway.url}/v1/conduit/projects/${p}`, {
      method,
      headers: { ...(token ? { 'x-conduit-token': token } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  };
}

/** Sends one request with this session context; returns the model the Anthropic stand-in was asked for. */
async function routedModel(gateway: RunningGateway, fake: FakeAnthropic, ctx: SessionContext): Promise<string> {
  const before = fake.requests.filter((r) => r.url.startsWith('/v1/messages')).length;
  const res = await fetch(`${gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-conduit-token': gateway.token, 'anthropic-version': '2023-06-01', [CONTEXT_HEADER]: encodeSessionContext(ctx) },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  await res.text();
  const sent = fake.requests.filter((r) => r.url.startsWith('/v1/messages'));
  assert.equal(sent.length, before + 1);
  assert.equal(res.headers.get('x-conduit-model'), sent[sent.length - 1].body.model);
  return sent[sent.length - 1].body.model;
}

const errorOf = (r: { body: any }) => r.body?.error as { type: string; message: string };

describe('ledger: projects and agents API', () => {
  let store: TestStore;
  let fake: FakeAnthropic;
  let home: string;
  let live: LedgerEngine;
  let gateway: RunningGateway;
  let call: ReturnType<typeof api>;
  const env = () => ({ CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: 'sk-test-upstream-key', CONDUIT_PLUGINS_DISABLED: '1' });

  before(async function () {
    this.timeout(120_000);
    store = await openTestStore();
    fake = await startFakeAnthropic();
    home = mkdtempSync(path.join(os.tmpdir(), 'conduit-projects-'));
    ({ engine: live } = await store.engine({ journalDir: path.join(home, 'journal'), ingest: { debounceMs: 10 } }));
    live.start();
    gateway = await startGateway({ home, port: 0, log: silentLogger, env: env(), ledger: new EngineLedger(live) });
    call = api(gateway);
  });
  after(async () => {
    await gateway?.close();
    await fake?.close();
    await store?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('creates a project on PUT, reads it, and saves its name, model configuration and budgets', async () => {
    const key = randomUUID();
    const missing = await call('GET', key);
    assert.equal(missing.status, 404);
    assert.equal(errorOf(missing).type, 'not_found_error');
    assert.match(errorOf(missing).message, /no project with the workspace key/);

    const created = await call('PUT', key, { name: 'alpha' });
    assert.equal(created.status, 200);
    const project = created.body as ProjectInfo;
    assert.deepEqual({ ...project, id: undefined }, {
      id: undefined, workspaceKey: key, name: 'alpha', modelConfig: HEADER_PROJECT_CONFIG, dailyBudgetUsd: null, monthlyBudgetUsd: null,
      budget: EMPTY_BUDGET_POLICY,
    });
    const { rows } = await store.pglite.query<{ id: string; user_id: string }>(`select id::text, user_id::text from public.projects where workspace_key = $1`, [key]);
    assert.deepEqual(rows, [{ id: project.id, user_id: live.localUserId }]);
    assert.deepEqual((await call('GET', key)).body, project);

    const modelConfig = { enabled: false, defaultModel: 'claude-haiku-4-5', rules: { fallbackModels: ['claude-sonnet-4-5'] } };
    const saved = await call('PUT', key, { modelConfig, dailyBudgetUsd: 2.5, monthlyBudgetUsd: 40 });
    assert.equal(saved.status, 200);
    assert.deepEqual(saved.body, { ...project, modelConfig, dailyBudgetUsd: 2.5, monthlyBudgetUsd: 40, budget: { ...EMPTY_BUDGET_POLICY, dailyUsd: 2.5, monthlyUsd: 40 } });
    // Fields left out are kept; null clears a budget.
    const renamed = await call('PUT', key, { name: '  beta ', dailyBudgetUsd: null });
    assert.deepEqual(renamed.body, { ...project, name: 'beta', modelConfig, dailyBudgetUsd: null, monthlyBudgetUsd: 40, budget: { ...EMPTY_BUDGET_POLICY, monthlyUsd: 40 } });
    assert.deepEqual((await call('GET', key)).body, renamed.body);
    // A key with slashes travels percent-encoded; a new project without a name is named after it.
    const pathKey = 'file:///work/gamma';
    const byPath = await call('PUT', encodeURIComponent(pathKey), {});
    assert.equal(byPath.status, 200);
    assert.equal(byPath.body.workspaceKey, pathKey);
    assert.equal(byPath.body.name, 'gamma');
  });

  it('refuses bad project bodies with 400s naming the field, other verbs with 405, and requests without the token', async () => {
    const key = randomUUID();
    const cases: [unknown, RegExp][] = [
      [{ modelConfig: {} }, /modelConfig\.enabled: required/],
      [{ modelConfig: { enabled: true, rules: { speed: 1 } } }, /modelConfig\.rules\.speed: unknown setting/],
      [{ modelConfig: { enabled: 'yes' } }, /modelConfig\.enabled: expected true or false/],
      [{ dailyBudgetUsd: -1 }, /dailyBudgetUsd: expected null or a number of US dollars ≥ 0, got number -1/],
      [{ monthlyBudgetUsd: '5' }, /monthlyBudgetUsd: expected null or a number/],
      [{ name: '   ' }, /name: must not be empty/],
      [{ name: 'x'.repeat(201) }, /name: longer than 200 characters/],
      [{ colour: 'red' }, /body\.colour: unknown setting/],
      [[1, 2], /body: expected an object, got a list/],
      ['{"name": ', /request body is not valid JSON/],
    ];
    for (const [body, message] of cases) {
      const r = await call('PUT', key, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(errorOf(r).type, 'invalid_request_error');
      assert.match(errorOf(r).message, message);
    }
    assert.equal((await call('GET', key)).status, 404, 'nothing was created by a refused PUT');
    const tooLong = await call('GET', 'k'.repeat(201));
    assert.equal(tooLong.status, 400);
    assert.match(errorOf(tooLong).message, /project key: longer than 200 characters/);
    assert.equal((await call('GET', '%E0%A4%A')).status, 400);
    const post = await call('POST', key, {});
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, PUT');
    assert.equal((await call('GET', `${key}/agents/a/b`)).status, 404);
    assert.equal((await call('GET', key, undefined, null)).status, 401);
    assert.equal((await call('PUT', key, { name: 'x' }, 'wrong-token')).status, 401);
  });

  it('creates, lists, updates and deletes agents, refusing duplicates (409), unknown ones (404) and bad input (400)', async () => {
    const key = randomUUID();
    assert.equal((await call('GET', `${key}/agents`)).status, 404);
    assert.equal((await call('POST', `${key}/agents`, { name: 'a', personaType: 'p', useProjectModel: true, customModelId: null })).status, 404);
    const project = (await call('PUT', key, { name: 'agents' })).body as ProjectInfo;
    assert.deepEqual((await call('GET', `${key}/agents`)).body, []);

    const created = await call('POST', `${key}/agents`, { name: 'reviewer', personaType: 'code-reviewer', useProjectModel: true, customModelId: null });
    assert.equal(created.status, 201);
    const reviewer = created.body as AgentInfo;
    assert.deepEqual({ ...reviewer, id: undefined }, {
      id: undefined, projectId: project.id, name: 'reviewer', personaType: 'code-reviewer', useProjectModel: true, customModelId: null,
      dailyBudgetUsd: null, monthlyBudgetUsd: null, budget: EMPTY_BUDGET_POLICY,
    });
    const { rows } = await store.pglite.query<{ id: string }>(`select id::text from public.agents where project_id = $1`, [project.id]);
    assert.deepEqual(rows, [{ id: reviewer.id }]);

    const writer = (await call('POST', `${key}/agents`, {
      name: 'writer', personaType: 'docs-writer', useProjectModel: false, customModelId: 'claude-opus-4-1', dailyBudgetUsd: 1, monthlyBudgetUsd: null,
    })).body as AgentInfo;
    assert.equal(writer.customModelId, 'claude-opus-4-1');
    assert.equal(writer.dailyBudgetUsd, 1);

    const dup = await call('POST', `${key}/agents`, { name: 'reviewer', personaType: 'other', useProjectModel: true, customModelId: null });
    assert.equal(dup.status, 409);
    assert.equal(errorOf(dup).type, 'invalid_request_error');
    assert.match(errorOf(dup).message, /already has an agent named "reviewer"/);

    const bad: [unknown, RegExp][] = [
      [{ personaType: 'p', useProjectModel: true }, /name: required/],
      [{ name: 'x'.repeat(101), personaType: 'p', useProjectModel: true }, /name: longer than 100 characters/],
      [{ name: '', personaType: 'p', useProjectModel: true }, /name: must not be empty/],
      [{ name: 'n', useProjectModel: true }, /personaType: required/],
      [{ name: 'n', personaType: 'p'.repeat(101), useProjectModel: true }, /personaType: longer than 100 characters/],
      [{ name: 'n', personaType: 'p' }, /useProjectModel: required/],
      [{ name: 'n', personaType: 'p', useProjectModel: false, customModelId: null }, /customModelId: required when useProjectModel is false/],
      [{ name: 'n', personaType: 'p', useProjectModel: false }, /customModelId: required when useProjectModel is false/],
      [{ name: 'n', personaType: 'p', useProjectModel: true, customModelId: 7 }, /customModelId: expected a model id or null/],
      [{ name: 'n', personaType: 'p', useProjectModel: true, dailyBudgetUsd: -0.5 }, /dailyBudgetUsd: expected null or a number/],
      [{ name: 'n', personaType: 'p', useProjectModel: true, extra: 1 }, /body\.extra: unknown setting/],
    ];
    for (const [body, message] of bad) {
      const r = await call('POST', `${key}/agents`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(errorOf(r).message, message);
    }

    const list = (await call('GET', `${key}/agents`)).body as AgentInfo[];
    assert.deepEqual(list.map((a) => a.name), ['reviewer', 'writer']);
    assert.deepEqual(list[0], reviewer);

    const updated = await call('PUT', `${key}/agents/${reviewer.id}`, { name: 'lead reviewer', useProjectModel: false, customModelId: 'claude-haiku-4-5' });
    assert.equal(updated.status, 200);
    assert.deepEqual(updated.body, { ...reviewer, name: 'lead reviewer', useProjectModel: false, customModelId: 'claude-haiku-4-5' });
    const clash = await call('PUT', `${key}/agents/${reviewer.id}`, { name: 'writer' });
    assert.equal(clash.status, 409);
    const unset = await call('PUT', `${key}/agents/${reviewer.id}`, { customModelId: null });
    assert.equal(unset.status, 400);
    assert.match(errorOf(unset).message, /customModelId: required when useProjectModel is false/);
    const back = await call('PUT', `${key}/agents/${reviewer.id}`, { useProjectModel: true });
    assert.equal(back.body.useProjectModel, true);
    assert.equal((await call('PUT', `${key}/agents/${randomUUID()}`, { name: 'x' })).status, 404);
    assert.equal((await call('PUT', `${key}/agents/not-an-agent`, { name: 'x' })).status, 404);
    assert.equal((await call('PUT', `${key}/agents/${writer.id}`, { name: 7 })).status, 400);
    // Another project's agent is not this project's.
    const other = randomUUID();
    await call('PUT', other, {});
    assert.equal((await call('DELETE', `${other}/agents/${writer.id}`)).status, 404);
    assert.equal((await call('POST', `${key}/agents/${writer.id}`, {})).status, 405);

    const deleted = await call('DELETE', `${key}/agents/${writer.id}`);
    assert.equal(deleted.status, 204);
    assert.equal(deleted.body, null);
    assert.equal((await call('DELETE', `${key}/agents/${writer.id}`)).status, 404);
    assert.deepEqual(((await call('GET', `${key}/agents`)).body as AgentInfo[]).map((a) => a.name), ['lead reviewer']);
  });

  it('attaches a request of the project (by its key) and agent (by its id) to those rows, not to new ones', async () => {
    const key = randomUUID();
    const project = (await call('PUT', key, { name: 'usage' })).body as ProjectInfo;
    const agent = (await call('POST', `${key}/agents`, { name: 'builder', personaType: 'builder', useProjectModel: true, customModelId: null })).body as AgentInfo;
    const ingested = once(live.ingester, 'batch');
    await routedModel(gateway, fake, { projectId: key, agentId: agent.id, agentType: 'builder', sessionId: 'usage-session' });
    await ingested;
    const { rows } = await store.pglite.query<{ project_id: string; agent_id: string; metadata: unknown }>(
      `select u.project_id::text, u.agent_id::text, u.metadata from public.usage_tracking u join public.projects p on p.id = u.project_id where p.workspace_key = $1`, [key]);
    assert.deepEqual(rows, [{ project_id: project.id, agent_id: agent.id, metadata: {} }]);
    const counts = await store.pglite.query<{ projects: number; agents: number }>(
      `select (select count(*)::int from public.projects where workspace_key = $1) as projects,
              (select count(*)::int from public.agents where project_id = $2) as agents`, [key, project.id]);
    assert.deepEqual(counts.rows[0], { projects: 1, agents: 1 });
    const recent = await (await fetch(`${gateway.url}/v1/conduit/analytics/recent?project=${key}&range=day`, { headers: { 'x-conduit-token': gateway.token } })).json() as Record<string, any>;
    assert.equal(recent.requests.length, 1);
    assert.equal(recent.requests[0].agent.name, 'builder');

    // A request of a deleted agent is kept, without an agent (none is made again under its id).
    assert.equal((await call('DELETE', `${key}/agents/${agent.id}`)).status, 204);
    const again = once(live.ingester, 'batch');
    await routedModel(gateway, fake, { projectId: key, agentId: agent.id, sessionId: 'usage-session' });
    await again;
    const after = await store.pglite.query<{ agent_id: string | null; metadata: Record<string, unknown> }>(
      `select agent_id::text, metadata from public.usage_tracking where project_id = $1 order by created_at`, [project.id]);
    assert.equal(after.rows.length, 2);
    assert.equal(after.rows[0].agent_id, null, 'the deleted agent\'s usage stays with the project');
    assert.equal(after.rows[1].agent_id, null);
    assert.equal(after.rows[1].metadata.agent, agent.id);
    assert.equal((await store.pglite.query(`select 1 from public.agents where project_id = $1`, [project.id])).rows.length, 0);
  });

  /** One request of this context, once the store has it. */
  async function recorded(ctx: SessionContext): Promise<void> {
    const ingested = once(live.ingester, 'batch');
    await routedModel(gateway, fake, ctx);
    await ingested;
  }

  async function usageOf(key: string): Promise<{ project: string; requests: number; sessions: string[] }[]> {
    const { rows } = await store.pglite.query<{ project: string; requests: number; sessions: string[] }>(
      `select p.id::text as project, count(u.id)::int as requests, array_agg(distinct u.session_id order by u.session_id) filter (where u.id is not null) as sessions
       from public.projects p left join public.usage_tracking u on u.project_id = p.id
       where p.workspace_key = $1 group by p.id`, [key]);
    return rows;
  }

  const recentCount = async (key: string): Promise<number> => {
    const r = await fetch(`${gateway.url}/v1/conduit/analytics/recent?project=${encodeURIComponent(key)}&range=day`, { headers: { 'x-conduit-token': gateway.token } });
    assert.equal(r.status, 200);
    return ((await r.json()) as { requests: unknown[] }).requests.length;
  };

  it('an old random key\'s project is renamed to the derived key, history and agents included; the old key still names it', async () => {
    const old = randomUUID();
    const derived = `github.com/acme/rename-${randomUUID().slice(0, 8)}#packages/api`;
    const before = (await call('PUT', old, { name: 'api', modelConfig: { enabled: true, defaultModel: 'claude-haiku-4-5' } })).body as ProjectInfo;
    const agent = (await call('POST', `${old}/agents`, { name: 'reviewer', personaType: 'code-reviewer', useProjectModel: true, customModelId: null })).body as AgentInfo;
    await recorded({ projectId: old, agentId: agent.id, sessionId: 'rename-1' });
    await recorded({ projectId: old, sessionId: 'rename-2' });
    // Linked to a project shared with this person (team sharing): the link follows the project.
    const shared = randomUUID();
    await live.workspaceLinks({ op: 'set', link: { workspaceKey: old, projectId: shared, userId: randomUUID(), projectName: 'team api', ownerEmail: null } });

    const put = await call('PUT', encodeURIComponent(derived), { name: 'api', previousKeys: [old] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const after = put.body as ProjectInfo;
    assert.equal(after.id, before.id, 'the same project, renamed');
    assert.equal(after.workspaceKey, derived);
    assert.equal(after.modelConfig.defaultModel, 'claude-haiku-4-5');
    assert.deepEqual(await usageOf(derived), [{ project: before.id, requests: 2, sessions: ['rename-1', 'rename-2'] }]);
    assert.deepEqual(await usageOf(old), [], 'no project keeps the old key');
    const links = await live.workspaceLinks({ op: 'list' }) as { workspaceKey: string; projectId: string }[];
    assert.deepEqual(links.filter((l) => l.projectId === shared).map((l) => l.workspaceKey), [derived]);
    // Logged again for the next push: on Supabase its project's id is derived from the key (outbox.ts).
    const { rows: logged } = await store.pglite.query<{ ids: string[] }>(
      `select ids::text[] from conduit_local.sync_log where table_name = 'usage_tracking' order by seq desc limit 1`);
    const { rows: usageIds } = await store.pglite.query<{ id: string }>(`select id::text from public.usage_tracking where project_id = $1`, [before.id]);
    assert.deepEqual([...logged[0].ids].sort(), usageIds.map((r) => r.id).sort());
    assert.equal(await recentCount(derived), 2, 'the analytics of the derived key show the history');
    assert.deepEqual(((await call('GET', `${encodeURIComponent(derived)}/agents`)).body as AgentInfo[]).map((a) => a.id), [agent.id]);
    // The old key still names it (a task started before, a terminal with the old variable).
    assert.equal(((await call('GET', old)).body as ProjectInfo).id, before.id);
    await recorded({ projectId: old, sessionId: 'rename-3' });
    assert.equal((await usageOf(derived))[0].requests, 3);
    // Said again (every start of the extension until it forgets the old key): nothing changes.
    const again = await call('PUT', encodeURIComponent(derived), { name: 'api', previousKeys: [old] });
    assert.equal((again.body as ProjectInfo).id, before.id);
    assert.equal((await usageOf(derived))[0].requests, 3);
    // The request routed by the saved configuration under its new key too.
    assert.equal(await routedModel(gateway, fake, { projectId: derived, sessionId: 'rename-4', projectModelConfig: HEADER_PROJECT_CONFIG }), 'claude-haiku-4-5');
  });

  it('an old key\'s project is merged into the derived key\'s when both have history (a terminal recorded first, two profiles)', async () => {
    const derived = `github.com/acme/merge-${randomUUID().slice(0, 8)}`;
    const [first, second] = [randomUUID(), randomUUID()];
    // The terminal's sessions, recorded under the derived key by ingestion: no saved settings.
    await recorded({ projectId: derived, agentId: 'shared-agent', sessionId: 'merge-terminal' });
    // Two VS Code profiles, each with its own random key, settings and agents.
    const firstProject = (await call('PUT', first, { name: 'shop', modelConfig: { enabled: true, defaultModel: 'claude-opus-4-1' }, dailyBudgetUsd: 5 })).body as ProjectInfo;
    const own = (await call('POST', `${first}/agents`, { name: 'planner', personaType: 'planner', useProjectModel: false, customModelId: 'claude-haiku-4-5' })).body as AgentInfo;
    await recorded({ projectId: first, agentId: own.id, sessionId: 'merge-first' });
    await recorded({ projectId: first, agentId: 'shared-agent', sessionId: 'merge-first' });
    await recorded({ projectId: second, sessionId: 'merge-second' });
    const total = 4;

    const put = await call('PUT', encodeURIComponent(derived), { name: 'shop', previousKeys: [first] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const merged = put.body as ProjectInfo;
    assert.notEqual(merged.id, firstProject.id);
    assert.equal(merged.modelConfig.defaultModel, 'claude-opus-4-1', 'the settings saved through the extension win over the ones ingestion made');
    assert.equal(merged.dailyBudgetUsd, 5);
    assert.equal((await store.pglite.query(`select 1 from public.projects where id = $1`, [firstProject.id])).rows.length, 0, 'the old project is gone');
    // The second profile's key, on its own start.
    assert.equal(((await call('PUT', encodeURIComponent(derived), { name: 'shop', previousKeys: [second] })).body as ProjectInfo).id, merged.id);
    assert.deepEqual(await usageOf(derived), [{ project: merged.id, requests: total, sessions: ['merge-first', 'merge-second', 'merge-terminal'] }]);
    assert.equal(await recentCount(derived), total);

    // One "shared-agent" (the same external id in both), and the planner moved with its id and model.
    const agents = (await call('GET', `${encodeURIComponent(derived)}/agents`)).body as AgentInfo[];
    assert.deepEqual(agents.map((a) => a.id).sort(), [own.id, 'shared-agent'].sort());
    const { rows: byAgent } = await store.pglite.query<{ agent: string | null; n: number }>(
      `select a.external_id as agent, count(*)::int as n from public.usage_tracking u left join public.agents a on a.id = u.agent_id
       where u.project_id = $1 and a.external_id is not null group by 1 order by 1`, [merged.id]);
    assert.deepEqual(byAgent, [{ agent: 'shared-agent', n: 2 }]);
    assert.equal(await routedModel(gateway, fake, { projectId: derived, agentId: own.id, sessionId: 'merge-after' }), 'claude-haiku-4-5');

    // A session still carrying an old key (its cached project is gone) records into the merged one.
    await recorded({ projectId: first, sessionId: 'merge-late' });
    await recorded({ projectId: second, sessionId: 'merge-late' });
    assert.equal((await usageOf(derived))[0].requests, total + 3);
    assert.deepEqual(await usageOf(first), []);
    assert.deepEqual(await usageOf(second), []);
  });

  it('a renamed project\'s history moves on the sync target too (real PostgreSQL as Supabase, row-level security on)', async function () {
    this.timeout(120_000);
    const url = await (await getTestPostgres()).newDatabase();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const userId = randomUUID();
    const target = new PgSyncTarget({ connectionString: url, asUser: userId, connectTimeoutMs: 5_000 });
    try {
      await applyMigrations(fromPgClient(admin), { includeShim: true });
      await admin.query(`insert into auth.users (id, email) values ($1, 'rename-sync@example.com')`, [userId]);
      const old = randomUUID();
      const derived = `github.com/acme/synced-${randomUUID().slice(0, 8)}`;
      await call('PUT', old, { name: 'synced' });
      await recorded({ projectId: old, sessionId: 'synced-1' });
      live.setSyncTarget({ key: `rename|${userId}`, userId, label: 'rename test', target });
      await live.outbox.pushNow();
      const remoteUsage = async () => (await admin.query<{ project_id: string; session_id: string }>(
        `select project_id::text, session_id from public.usage_tracking where session_id like 'synced-%' order by session_id`)).rows;
      assert.deepEqual(await remoteUsage(), [{ project_id: remoteProjectId(userId, old), session_id: 'synced-1' }]);

      await call('PUT', encodeURIComponent(derived), { name: 'synced', previousKeys: [old] });
      await live.outbox.pushNow();
      assert.deepEqual(await remoteUsage(), [{ project_id: remoteProjectId(userId, derived), session_id: 'synced-1' }], 'moved to the derived key\'s project');
      const { rows: [remoteProject] } = await admin.query<{ workspace_key: string; key_aliases: string[] }>(
        `select workspace_key, key_aliases from public.projects where id = $1`, [remoteProjectId(userId, derived)]);
      assert.deepEqual(remoteProject, { workspace_key: derived, key_aliases: [old] });
    } finally {
      live.setSyncTarget(null);
      await target.close();
      await admin.end();
    }
  });

  it('refuses previousKeys that are not a short list of keys, naming the field', async () => {
    for (const body of [{ previousKeys: 'x' }, { previousKeys: Array.from({ length: 11 }, (_, i) => `k${i}`) }, { previousKeys: [''] }, { previousKeys: ['x'.repeat(201)] }, { previousKeys: [1] }]) {
      const r = await call('PUT', 'previous-keys-refused', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(errorOf(r).message, /previousKeys/);
    }
  });

  it('routes by a project configuration saved through the API from the next request on, instead of the session header\'s', async () => {
    const key = randomUUID();
    const ctx: SessionContext = { projectId: key, sessionId: 'routing-session', projectModelConfig: HEADER_PROJECT_CONFIG };
    assert.equal(await routedModel(gateway, fake, ctx), 'claude-sonnet-5-5', 'no saved configuration: the header\'s');
    // Made by ingestion or by a PUT without modelConfig: nothing saved yet.
    await call('PUT', key, { name: 'routing' });
    assert.equal(await routedModel(gateway, fake, ctx), 'claude-sonnet-5-5');
    await call('PUT', key, { modelConfig: { enabled: true, defaultModel: 'claude-haiku-4-5' } });
    assert.equal(await routedModel(gateway, fake, ctx), 'claude-haiku-4-5');
    // Routing turned off with a default: every request goes to it.
    await call('PUT', key, { modelConfig: { enabled: false, defaultModel: 'claude-opus-4-1' } });
    assert.equal(await routedModel(gateway, fake, ctx), 'claude-opus-4-1');
    // Another project is not affected.
    assert.equal(await routedModel(gateway, fake, { ...ctx, projectId: randomUUID() }), 'claude-sonnet-5-5');
  });

  it('routes an agent saved with its own model to that model, and back to the project\'s when it follows the project', async () => {
    const key = randomUUID();
    await call('PUT', key, { modelConfig: { enabled: true, defaultModel: 'claude-haiku-4-5' } });
    const agent = (await call('POST', `${key}/agents`, { name: 'solo', personaType: 'planner', useProjectModel: false, customModelId: 'claude-opus-4-1' })).body as AgentInfo;
    const ctx: SessionContext = {
      projectId: key, agentId: agent.id, projectModelConfig: HEADER_PROJECT_CONFIG, agentModelConfig: { useProjectDefaults: true, overrideModel: null },
    };
    assert.equal(await routedModel(gateway, fake, ctx), 'claude-opus-4-1');
    await call('PUT', `${key}/agents/${agent.id}`, { useProjectModel: true });
    assert.equal(await routedModel(gateway, fake, ctx), 'claude-haiku-4-5');
    await call('PUT', `${key}/agents/${agent.id}`, { useProjectModel: false, customModelId: 'claude-sonnet-4-5' });
    assert.equal(await routedModel(gateway, fake, ctx), 'claude-sonnet-4-5');
    // Deleted: the session's own agent settings apply again.
    await call('DELETE', `${key}/agents/${agent.id}`);
    assert.equal(await routedModel(gateway, fake, { ...ctx, agentModelConfig: { useProjectDefaults: false, overrideModel: 'claude-opus-4-1' } }), 'claude-opus-4-1');
    assert.equal(await routedModel(gateway, fake, ctx), 'claude-haiku-4-5');
  });

  it('loads the saved settings when the store opens, and uses the header\'s (and answers 503) until then', async () => {
    const key = randomUUID();
    await call('PUT', key, { modelConfig: { enabled: true, defaultModel: 'claude-haiku-4-5' } });
    const agent = (await call('POST', `${key}/agents`, { name: 'opus', personaType: 'p', useProjectModel: false, customModelId: 'claude-opus-4-1' })).body as AgentInfo;
    const ctx: SessionContext = { projectId: key, projectModelConfig: HEADER_PROJECT_CONFIG };
    const homes = [mkdtempSync(path.join(os.tmpdir(), 'conduit-projects-open-')), mkdtempSync(path.join(os.tmpdir(), 'conduit-projects-opening-'))];
    const reopened = await startGateway({ home: homes[0], port: 0, log: silentLogger, env: env(), ledger: new EngineLedger(live) });
    const opening = await startGateway({ home: homes[1], port: 0, log: silentLogger, env: env(), ledger: new EngineLedger(new Promise<LedgerEngine>(() => undefined)) });
    try {
      assert.equal((await api(reopened)('GET', key)).status, 200); // waits for the settings to load
      assert.equal(await routedModel(reopened, fake, ctx), 'claude-haiku-4-5');
      assert.equal(await routedModel(reopened, fake, { ...ctx, agentId: agent.id }), 'claude-opus-4-1');

      assert.equal(await routedModel(opening, fake, ctx), 'claude-sonnet-5-5');
      const r = await api(opening)('PUT', key, { name: 'x' });
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '5');
      assert.match(errorOf(r).message, /still opening/);
    } finally {
      await reopened.close();
      await opening.close();
      for (const h of homes) rmSync(h, { recursive: true, force: true });
    }
  });
});

describe('ledger: projects API through the store\'s worker thread', () => {
  let fake: FakeAnthropic;
  let home: string;

  before(async () => {
    fake = await startFakeAnthropic();
    home = mkdtempSync(path.join(os.tmpdir(), 'conduit-projects-worker-'));
  });
  after(async () => {
    await fake?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('saves through the worker, routes by the saved settings, and loads them again when the store reopens', async function () {
    this.timeout(180_000);
    const env = { CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: 'sk-test-upstream-key', CONDUIT_PLUGINS_DISABLED: '1' };
    const open = async () => {
      const ledger = new WorkerLedger({ dataDir: path.join(home, 'data', 'pglite'), journalDir: path.join(home, 'journal'), log: silentLogger });
      const gateway = await startGateway({ home, port: 0, log: silentLogger, env, ledger });
      await ledger.whenReady();
      return gateway;
    };
    const key = randomUUID();
    const ctx: SessionContext = { projectId: key, projectModelConfig: HEADER_PROJECT_CONFIG };
    let agent: AgentInfo;
    const first = await open();
    try {
      const call = api(first);
      assert.equal((await call('GET', key)).status, 404);
      assert.equal((await call('PUT', key, { modelConfig: { enabled: true, defaultModel: 'claude-haiku-4-5' } })).status, 200);
      agent = (await call('POST', `${key}/agents`, { name: 'solo', personaType: 'p', useProjectModel: false, customModelId: 'claude-opus-4-1' })).body as AgentInfo;
      const dup = await call('POST', `${key}/agents`, { name: 'solo', personaType: 'p', useProjectModel: true, customModelId: null });
      assert.equal(dup.status, 409, 'the refusal crosses the worker boundary');
      assert.equal(await routedModel(first, fake, ctx), 'claude-haiku-4-5');
      assert.equal(await routedModel(first, fake, { ...ctx, agentId: agent.id }), 'claude-opus-4-1');
    } finally {
      await first.close();
    }
    const second = await open();
    try {
      assert.equal(await routedModel(second, fake, ctx), 'claude-haiku-4-5');
      assert.equal(await routedModel(second, fake, { ...ctx, agentId: agent.id }), 'claude-opus-4-1');
      assert.deepEqual(((await api(second)('GET', `${key}/agents`)).body as AgentInfo[]).map((a) => a.id), [agent.id]);
    } finally {
      await second.close();
    }
  });
});
