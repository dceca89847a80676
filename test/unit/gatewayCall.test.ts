// A typed call through a carrier (src/conduit/client/call.ts's RouteCarrier, what the
// extension's GatewayApi is): the carrier is given the route itself, the path built from the
// input, the body and the options; the answer comes back checked against the route's
// schema. And which routes tell the views that a project changed (changesProjects.ts).
import assert from 'node:assert/strict';
import { call, type CallOptions, type RouteCarrier } from '../../src/conduit/client/call';
import { changesProjects } from '../../src/extension/gateway/changesProjects';
import type { AnyRoute } from '../../src/protocol/route';
import { ROUTES } from '../../src/protocol/routes';
import { ValidationError } from '../../src/protocol/validate';

interface Sent { route: AnyRoute; path: string; body: unknown; options: CallOptions }

function carrier(answer: unknown): RouteCarrier & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    async send(route, path, body, options) {
      sent.push({ route, path, body, options });
      return answer;
    },
  };
}

const RULES = {
  longContextThreshold: 1, longContextModel: null, backgroundModel: null, webSearchModel: null, reasoningModel: null,
  reasoningKeywords: [], reasoningBudgetThreshold: null, reasoningEfforts: [], fallbackModels: [], pluginsEnabled: true, defaultModel: null,
};

describe('unit: a typed call through a carrier', () => {
  it('hands the carrier the route, the path its input builds, the body and the options', async () => {
    const agent = { id: 'a1', name: 'Reviewer' };
    const via = carrier(agent);
    const answer = await call(via, ROUTES.saveAgent, { params: { key: 'my project', agentId: 'a/1' }, body: { name: 'Reviewer' } }, { waitForStoreMs: 5_000 });
    assert.deepEqual(answer, agent);
    assert.equal(via.sent.length, 1);
    const [s] = via.sent;
    assert.equal(s.route, ROUTES.saveAgent);
    assert.equal(s.path, '/v1/conduit/projects/my%20project/agents/a%2F1');
    assert.deepEqual(s.body, { name: 'Reviewer' });
    assert.deepEqual(s.options, { waitForStoreMs: 5_000 });
  });

  it('a query goes in the path; a route without a body sends none', async () => {
    const via = carrier({ statuses: [] });
    await call(via, ROUTES.budgets, { query: { project: 'a&b' } });
    assert.equal(via.sent[0].path, '/v1/conduit/budgets?project=a%26b');
    assert.equal(via.sent[0].body, undefined);
  });

  it('an answer that is not the route\'s shape is refused, naming the route and the offending field', async () => {
    assert.deepEqual(await call(carrier(RULES), ROUTES.rules, {}), RULES);
    await assert.rejects(call(carrier({ ...RULES, pluginsEnabled: 'yes' }), ROUTES.rules, {}), (err: unknown) =>
      err instanceof ValidationError && err.message === 'GET /v1/conduit/rules.pluginsEnabled: expected true or false, got the string "yes"');
  });
});

describe('unit: which calls change a project (the views read projects, agents and budgets again)', () => {
  it('saving a project (its budget too) and creating, saving or deleting an agent do', () => {
    for (const r of [ROUTES.saveProject, ROUTES.createAgent, ROUTES.saveAgent, ROUTES.deleteAgent]) assert.equal(changesProjects(r), true, `${r.method} ${r.path}`);
  });

  it('reading them does not, nor does a call of another part of the API', () => {
    for (const r of [ROUTES.project, ROUTES.agents, ROUTES.budgets, ROUTES.ackBudgetAlert, ROUTES.price, ROUTES.linkWorkspace, ROUTES.status]) {
      assert.equal(changesProjects(r), false, `${r.method} ${r.path}`);
    }
  });

  it('every route that writes under the projects routes is one of them (a new one is not forgotten)', () => {
    const writes = Object.values(ROUTES).filter((r: AnyRoute) => r.method !== 'GET' && r.path.startsWith(`${ROUTES.project.path.replace('/:key', '')}/`));
    assert.ok(writes.length >= 4);
    for (const r of writes) assert.equal(changesProjects(r), true, `${r.method} ${r.path}`);
  });
});
