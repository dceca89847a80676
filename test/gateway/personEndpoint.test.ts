// The person's own endpoint (their ANTHROPIC_BASE_URL), carried in the session context:
// the Anthropic provider's base URL for that session's requests, with the client's own
// credentials and headers and never the gateway's key; stated in the decision and in
// GET /v1/conduit/status; refused when config.json says "personEndpoint": "refuse".
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/conduit/core/config';
import type { PersonEndpointStatus } from '../../src/protocol/endpointUrl';
import { encodeSessionContext } from '../../src/protocol/sessionContext';
import type { GatewayEvent } from '../../src/protocol/usage';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fakeAnthropic';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { assertAnthropicError, rawRequest, smallRequest } from './helpers';

const PERSON_TOKEN = 'person-proxy-token-1';

const posts = (fake: FakeAnthropic) => fake.requests.filter((r) => r.method === 'POST' && r.url.startsWith('/v1/messages'));
const GATEWAY_KEY = 'sk-test-gateway-key';

describe("gateway: the person's own endpoint from the session context", () => {
  let person: FakeAnthropic;
  let t: TestGateway;
  let refusing: TestGateway;
  const events: GatewayEvent[] = [];

  before(async () => {
    person = await startFakeAnthropic({ requireApiKey: PERSON_TOKEN });
    t = await startTestGateway({ apiKey: GATEWAY_KEY });
    t.gateway.hub.subscribe((e) => { events.push(e); });
    refusing = await startTestGateway({ apiKey: GATEWAY_KEY, config: { personEndpoint: 'refuse' } });
  });
  after(async () => {
    await t?.close();
    await refusing?.close();
    await person?.close();
  });
  afterEach(() => {
    person.reset();
    t.fake.reset();
    refusing.fake.reset();
    events.length = 0;
  });

  const post = (gw: TestGateway, context: Record<string, unknown>, headers: Record<string, string> = {}) => rawRequest(gw.url, {
    method: 'POST', path: '/v1/messages', body: JSON.stringify(smallRequest()),
    headers: {
      'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-conduit-token': gw.token,
      'x-conduit-context': encodeSessionContext(context), ...headers,
    },
  });

  const status = async (gw: TestGateway) => {
    const res = await fetch(`${gw.url}/v1/conduit/status`, { headers: { 'x-conduit-token': gw.token } });
    return (await res.json()) as { personEndpoint: PersonEndpointStatus; providers: { name: string; baseUrl: string }[] };
  };

  it("goes to the person's endpoint with the client's own login and headers, never to the configured provider nor with the gateway's key", async () => {
    const res = await post(t, { sessionId: 'sess-person', anthropicBaseUrl: `${person.url}/` }, {
      authorization: `Bearer ${PERSON_TOKEN}`, 'x-company-team': 'platform',
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(t.fake.requests.length, 0, "the gateway's configured provider saw nothing");
    const [got] = person.requests.filter((r) => r.method === 'POST');
    assert.ok(got, "the person's endpoint got the request");
    assert.equal(got.headers.authorization, `Bearer ${PERSON_TOKEN}`);
    assert.equal(got.headers['x-company-team'], 'platform');
    assert.equal(got.headers['x-api-key'], undefined, "the gateway's key never goes to the person's endpoint");
    assert.equal(got.headers['x-conduit-token'], undefined);
    assert.equal(got.headers['x-conduit-context'], undefined);

    const decision = events.find((e): e is Extract<GatewayEvent, { type: 'decision' }> => e.type === 'decision');
    assert.equal(decision?.decision.upstream, person.url, 'the decision names the upstream (without the trailing slash)');
    assert.equal(decision?.decision.provider, 'anthropic');
    const usage = events.find((e): e is Extract<GatewayEvent, { type: 'usage' }> => e.type === 'usage');
    assert.equal(usage?.record.decision.upstream, person.url, 'and so does the record');

    const s = await status(t);
    assert.equal(s.personEndpoint.setting, 'use');
    assert.deepEqual(s.personEndpoint.inUse.map((e) => e.baseUrl), [person.url]);
    assert.ok(!Number.isNaN(Date.parse(s.personEndpoint.inUse[0].lastRoutedAt)));
    assert.equal(s.providers.find((p) => p.name === 'anthropic')?.baseUrl, t.fake.url, 'the configured provider is unchanged');
  });

  it("count_tokens of such a session goes to the person's endpoint too; refused, it is estimated locally and sent nowhere", async () => {
    const count = (gw: TestGateway) => rawRequest(gw.url, {
      method: 'POST', path: '/v1/messages/count_tokens', body: JSON.stringify(smallRequest()),
      headers: {
        'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-conduit-token': gw.token,
        'x-conduit-context': encodeSessionContext({ anthropicBaseUrl: person.url }), authorization: `Bearer ${PERSON_TOKEN}`,
      },
    });
    const res = await count(t);
    assert.equal(res.status, 200, res.text);
    assert.equal(person.requests.filter((r) => r.url.startsWith('/v1/messages/count_tokens')).length, 1);
    assert.equal(t.fake.requests.length, 0);

    const refused = await count(refusing);
    assert.equal(refused.status, 200, refused.text);
    assert.equal((JSON.parse(refused.text) as { conduit_estimate?: boolean }).conduit_estimate, true);
    assert.equal(person.requests.length, 1, 'nothing more reached the person');
    assert.equal(refusing.fake.requests.length, 0);
  });

  it("a fallback to another configured provider: the record names that provider and no longer the person's endpoint", async () => {
    const other = await startFakeAnthropic();
    const withFallback = await startTestGateway({
      apiKey: GATEWAY_KEY,
      config: { routing: { fallbackModels: ['other/their-model'] }, providers: { other: { baseUrl: other.url, apiKey: 'other-key', models: ['their-model'] } } },
    });
    const records: GatewayEvent[] = [];
    withFallback.gateway.hub.subscribe((e) => { records.push(e); });
    try {
      person.enqueue({ kind: 'stream-error', afterEvents: 0 });
      const res = await post(withFallback, { anthropicBaseUrl: person.url }, { authorization: `Bearer ${PERSON_TOKEN}` });
      assert.equal(res.status, 200, res.text);
      assert.equal(posts(person).length, 1, 'the person\'s endpoint was tried first');
      assert.equal(posts(other).length, 1);
      const decision = records.find((e): e is Extract<GatewayEvent, { type: 'decision' }> => e.type === 'decision')?.decision;
      assert.equal(decision?.upstream, person.url, 'the decision as made');
      const record = records.find((e): e is Extract<GatewayEvent, { type: 'usage' }> => e.type === 'usage')?.record;
      assert.equal(record?.decision.provider, 'other');
      assert.deepEqual(record?.decision.fallbacks, ['anthropic/claude-sonnet-4-5']);
      assert.equal(record && 'upstream' in record.decision, false, 'the answer did not come from the person\'s endpoint');
    } finally {
      await withFallback.close();
      await other.close();
    }
  });

  it('a session without it still goes to the configured provider with the gateway key', async () => {
    const res = await post(t, { sessionId: 'sess-plain' });
    assert.equal(res.status, 200, res.text);
    assert.equal(person.requests.length, 0);
    assert.equal(t.fake.requests.filter((r) => r.method === 'POST')[0]?.headers['x-api-key'], GATEWAY_KEY);
    const decision = events.find((e): e is Extract<GatewayEvent, { type: 'decision' }> => e.type === 'decision');
    assert.equal(decision?.decision.upstream, undefined);
  });

  it("without a login of the client's own: 401, and no request anywhere (the gateway's key is not lent to it)", async () => {
    const res = await post(t, { anthropicBaseUrl: person.url });
    assertAnthropicError(res, 401, 'authentication_error');
    assert.equal(person.requests.length, 0);
    assert.equal(t.fake.requests.length, 0);
  });

  for (const [name, url, problem] of [
    ['credentials in the URL', 'http://someone:secret@127.0.0.1:9/', /credentials/],
    ['another scheme', 'file:///etc/passwd', /not an http\(s\) URL/],
    ['a query', 'https://proxy.example/anthropic?x=1', /no query/],
    ['a control character', 'https://proxy.example/\n', /control characters/],
  ] as const) {
    it(`a base URL with ${name}: 400 naming the field, nothing forwarded`, async () => {
      const res = await post(t, { anthropicBaseUrl: url }, { authorization: `Bearer ${PERSON_TOKEN}` });
      const error = assertAnthropicError(res, 400, 'invalid_request_error');
      assert.match(error.message, /anthropicBaseUrl/);
      assert.match(error.message, problem);
      assert.equal(person.requests.length, 0);
      assert.equal(t.fake.requests.length, 0);
    });
  }

  it('config.json "personEndpoint": "refuse": the request is refused with the reason, sent nowhere; status says so', async () => {
    const res = await post(refusing, { anthropicBaseUrl: person.url }, { authorization: `Bearer ${PERSON_TOKEN}` });
    const error = assertAnthropicError(res, 400, 'invalid_request_error');
    assert.match(error.message, /"personEndpoint": "refuse"/);
    assert.ok(error.message.includes(person.url), 'the message names the endpoint');
    assert.equal(person.requests.length, 0);
    assert.equal(refusing.fake.requests.length, 0);
    const s = await status(refusing);
    assert.deepEqual(s.personEndpoint, { setting: 'refuse', inUse: [] });
  });

  it('config.json refuses other values of personEndpoint, naming the field', () => {
    assert.throws(() => parseConfig({ personEndpoint: 'maybe' }, {}), /config\.personEndpoint: expected "use" or "refuse"/);
    assert.equal(parseConfig({}, {}).personEndpoint, 'use');
  });
});
