// The routes of the API table (src/protocol/routes.ts) the gateway dispatches from it, over
// real HTTP with the typed client call (src/conduit/client/call.ts): the routing rules
// config.json merged, an analytics view's queries in one answer (each as its own route
// answers it, on a real store), and refusals that name the offending value.
import assert from 'node:assert/strict';
import { GatewayHttpError, call } from '../../src/conduit/client/call';
import { ROUTES } from '../../src/protocol/routes';
import { CONTEXT_HEADER, encodeSessionContext } from '../../src/protocol/sessionContext';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { EventSubscriber, smallRequest } from './helpers';

describe('gateway: routes dispatched from the typed route table', function () {
  this.timeout(120_000);
  let t: TestGateway;
  let gw: { port: number; token: string };

  before(async () => {
    t = await startTestGateway({ config: { routing: { longContextThreshold: 1234, backgroundModel: null, fallbackModels: ['claude-sonnet-4-6'] } } });
    gw = { port: Number(new URL(t.url).port), token: t.token };
    await t.gateway.budgets.whenReady();
  });

  after(async () => {
    await t?.close();
  });

  it('GET /v1/conduit/rules answers the rules config.json merged over the defaults', async () => {
    const rules = await call(gw, ROUTES.rules, {});
    assert.equal(rules.longContextThreshold, 1234);
    assert.equal(rules.backgroundModel, null);
    assert.deepEqual(rules.fallbackModels, ['claude-sonnet-4-6']);
    // What config.json leaves alone keeps the gateway's default.
    assert.equal(rules.reasoningModel, 'claude-opus-5-5');
  });

  it('the analytics view answers each query as its own route does, in one round trip', async () => {
    const project = 'route-table-project';
    const events = await EventSubscriber.open(t.url, t.token);
    try {
      t.fake.enqueue({ kind: 'message', usage: { input_tokens: 1000, output_tokens: 200 } });
      const res = await t.messages(smallRequest(), { [CONTEXT_HEADER]: encodeSessionContext({ projectId: project, sessionId: 'route-table-session' }) });
      assert.equal(res.status, 200, await res.clone().text());
      await res.arrayBuffer();
      await events.next((e) => e.type === 'ingested', 60_000);
    } finally {
      events.close();
    }
    const query = { project, range: '24h', tz: 'UTC' };
    const view = await call(gw, ROUTES.analyticsView, { query: { ...query, bucket: 'hour' } });
    const summary = await call(gw, ROUTES.analyticsSummary, { query });
    assert.equal(view.summary.requests, 1);
    // The same answer but for the moment "now" was (a rolling range ends at it).
    assert.deepEqual({ ...view.summary, scope: null }, { ...summary, scope: null });
    assert.equal(view.summary.scope.label, summary.scope.label);
    assert.equal(view.timeseries.bucket, 'hour');
    assert.deepEqual(view.models.models.map((m) => m.requests), [1]);
    assert.equal(view.sessions.sessions.length, 1);
    assert.equal(view.recent.requests.length, 1);
    assert.deepEqual(Object.keys(view.daily).sort(), ['agent', 'model'], 'a project\'s view has no breakdown by project');
    const everyProject = await call(gw, ROUTES.analyticsView, { query: { range: '24h', tz: 'UTC' } });
    assert.deepEqual(Object.keys(everyProject.daily).sort(), ['agent', 'model', 'project']);
  });

  it('refuses a bad parameter as the queries do (400, naming it)', async () => {
    await assert.rejects(call(gw, ROUTES.analyticsView, { query: { range: 'fortnight' } }), (err: unknown) => {
      assert.ok(err instanceof GatewayHttpError);
      assert.equal(err.status, 400);
      assert.match(err.message, /^range: expected one of/);
      return true;
    });
    await assert.rejects(call(gw, ROUTES.analyticsView, { query: { bucket: 'week' as 'day' } }), (err: unknown) => {
      assert.ok(err instanceof GatewayHttpError);
      assert.equal(err.status, 400);
      assert.match(err.message, /^query\.bucket: expected hour or day, got the string "week"/);
      return true;
    });
  });

  it('an unknown session is a 404 with its reason', async () => {
    await assert.rejects(call(gw, ROUTES.session, { params: { id: 'no-such-session' } }), (err: unknown) => {
      assert.ok(err instanceof GatewayHttpError);
      assert.equal(err.status, 404);
      assert.match(err.message, /no requests recorded for session no-such-session/);
      return true;
    });
  });
});
