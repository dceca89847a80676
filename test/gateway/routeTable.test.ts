// The routes of the API table (src/protocol/routes.ts) the gateway dispatches from it, over
// real HTTP with the typed client call (src/conduit/client/call.ts): the routing rules
// config.json merged, an analytics view's queries in one answer (each as its own route
// answers it, on a real store), and refusals that name the offending value.
import assert from 'node:assert/strict';
import { GatewayHttpError, call } from '../../src/conduit/client/call';
import { ROUTES } from '../../src/protocol/routes';
import { CONTEXT_HEADER, encodeSessionContext } from '../../src/protocol/sessionContext';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { EventSubscriber, assertAnthropicError, rawRequest, smallRequest } from './helpers';

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

  const send = (method: string, path: string, body?: unknown) => rawRequest(t.url, {
    method, path, timeoutMs: 20_000,
    headers: { 'x-conduit-token': t.token, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const refusal = async (method: string, path: string, body: unknown, status: number, type: string) =>
    assertAnthropicError(await send(method, path, body), status, type).message.replace(/^\[conduit\] /, '');

  it('a path whose parameters do not pass its route\'s params schema is no route (404), whatever its method', async () => {
    for (const [method, path] of [
      ['GET', '/v1/conduit/sessions/a%20b'], // session ids are plain
      ['GET', `/v1/conduit/sessions/${'s'.repeat(201)}`],
      ['PUT', '/v1/conduit/sessions/a%2Fb/info'],
      ['POST', '/v1/conduit/sessions/a%20b'],
      ['GET', '/v1/conduit/team/projects/a%00b/members'], // no control characters in a team path
      ['DELETE', '/v1/conduit/team/links/a%0Ab'],
      ['DELETE', `/v1/conduit/team/projects/p/members/${'u'.repeat(201)}`],
    ] as const) {
      assert.equal(await refusal(method, path, method === 'PUT' ? { firstPrompt: 'x' } : undefined, 404, 'not_found_error'), `no route ${method} ${path}`);
    }
  });

  it('a path of the table with another method answers 405 naming the methods it has', async () => {
    const rules = await send('POST', '/v1/conduit/rules', {});
    assert.equal(assertAnthropicError(rules, 405, 'invalid_request_error').message, '[conduit] POST is not allowed on /v1/conduit/rules; use GET');
    assert.equal(rules.headers.allow, 'GET');
    const agents = await send('DELETE', '/v1/conduit/projects/p/agents');
    assert.equal(assertAnthropicError(agents, 405).message, '[conduit] DELETE is not allowed on /v1/conduit/projects/p/agents; use GET or POST');
    assert.equal(agents.headers.allow, 'GET, POST');
    // Not a route at all: 404.
    assert.match(await refusal('GET', '/v1/conduit/nothing-here', undefined, 404, 'not_found_error'), /^no route GET \/v1\/conduit\/nothing-here$/);
  });

  it('a parameter that is not valid percent-encoding is a 400 naming it', async () => {
    assert.equal(await refusal('DELETE', '/v1/conduit/team/links/%E0%A4%A', undefined, 400, 'invalid_request_error'), 'workspaceKey: not valid percent-encoding in the path');
  });

  it('refuses a body its route\'s schema does not take, naming the offending field (400)', async () => {
    const info = '/v1/conduit/sessions/run-schema/info';
    const invite = '/v1/conduit/team/projects/p/invitations';
    for (const [method, path, body, expected] of [
      ['PUT', info, { claudeSessionId: 'a b' }, 'body.claudeSessionId: expected 1 to 200 letters, digits, dots, dashes or underscores, got the string "a b"'],
      ['PUT', info, { firstPrompt: 42 }, 'body.firstPrompt: expected a string, got number 42'],
      ['PUT', info, { prompt: 'x' }, 'body.prompt: unknown field "prompt" (allowed: claudeSessionId, firstPrompt, conduitSessionId)'],
      ['PUT', info, '[1]', 'body: expected an object, got a list'],
      ['PUT', info, '{"firstPrompt": ', /^request body is not valid JSON: /],
      ['POST', invite, {}, 'body.email: required'],
      ['POST', invite, { email: 7 }, 'body.email: expected a string, got number 7'],
      ['POST', invite, { email: 'a@b.test', extra: 1 }, 'body.extra: unknown field "extra" (allowed: email)'],
      ['PUT', '/v1/conduit/team/links/w', { projectId: null }, 'body.projectId: expected a string, got null'],
      ['POST', '/v1/conduit/sync/session', { url: 'https://x.supabase.co', anonKey: 'k', accessToken: '  ' }, 'body.accessToken: required, a non-empty string'],
      ['POST', '/v1/conduit/sync/session', { url: 'https://x.supabase.co', anonKey: 'k', accessToken: 'a.b.c' }, 'body.refreshToken: required'],
      ['GET', '/v1/conduit/analytics/members', undefined, /^query\.project: required/],
    ] as const) {
      const said = await refusal(method, path, body, 400, 'invalid_request_error');
      if (typeof expected === 'string') assert.equal(said, expected, `${method} ${path}`);
      else assert.match(said, expected, `${method} ${path}`);
      assert.ok(!said.includes('a.b.c'), 'a session\'s field is never echoed');
    }
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
