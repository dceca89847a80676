// The gateway's credentials state over real HTTP: /health (open: the state alone) and
// /v1/conduit/status say whether it has a key, forwards a client's own login, or has
// neither; a provider's 401 reaches the client in Anthropic's shape with a message that
// names both ways to fix it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/conduit/core/log';
import { startGateway, type RunningGateway } from '../../src/conduit/gateway';
import type { GatewayCredentials } from '../../src/protocol/credentials';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fakeAnthropic';
import { assertAnthropicError, rawRequest, smallRequest } from './helpers';

const PROVIDER_KEY = 'test-provider-key-accepted';
/** What claude sends when it is logged in with a Claude subscription (seen with the real claude, offline). */
const SUBSCRIPTION_LOGIN = 'Bearer test-subscription-login-token';

describe('gateway credentials: the state in /health and status, and a 401 that says how to fix it', () => {
  let fake: FakeAnthropic;
  const homes: string[] = [];
  const gateways: RunningGateway[] = [];

  before(async () => {
    fake = await startFakeAnthropic({ requireApiKey: PROVIDER_KEY });
  });

  after(async () => {
    for (const g of gateways) await g.close();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    await fake?.close();
  });

  async function gatewayWith(apiKey: string | null): Promise<RunningGateway> {
    const home = mkdtempSync(path.join(os.tmpdir(), 'conduit-credentials-'));
    homes.push(home);
    const env: NodeJS.ProcessEnv = { CONDUIT_ANTHROPIC_URL: fake.url, CONDUIT_LEDGER: 'off', ...(apiKey ? { ANTHROPIC_API_KEY: apiKey } : {}) };
    const g = await startGateway({ home, port: 0, env, log: silentLogger, ledger: false });
    gateways.push(g);
    return g;
  }

  async function health(g: RunningGateway): Promise<Record<string, unknown>> {
    const r = await rawRequest(g.url, { path: '/health' });
    assert.equal(r.status, 200);
    return JSON.parse(r.text);
  }

  async function credentials(g: RunningGateway): Promise<GatewayCredentials> {
    const r = await rawRequest(g.url, { path: '/v1/conduit/status', headers: { 'x-conduit-token': g.token } });
    assert.equal(r.status, 200);
    return JSON.parse(r.text).credentials;
  }

  function send(g: RunningGateway, headers: Record<string, string> = {}) {
    return rawRequest(g.url, {
      method: 'POST', path: '/v1/messages',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-conduit-token': g.token, ...headers },
      body: JSON.stringify(smallRequest()),
    });
  }

  function assertNamesBothWays(message: string): void {
    assert.match(message, /Conduit: Set Provider API Key/, message);
    assert.match(message, /claude \/login/, message);
  }

  it('with no key and no client login it says "none", and a request gets a 401 naming both ways', async () => {
    const g = await gatewayWith(null);
    assert.deepEqual((await health(g)).credentials, { state: 'none' });
    const c = await credentials(g);
    assert.equal(c.state, 'none');
    assert.equal(c.provider, 'anthropic');
    assert.equal(c.clientLoginSeenAt, null);
    const r = await send(g);
    const error = assertAnthropicError(r, 401, 'authentication_error');
    assertNamesBothWays(error.message);
    assert.equal((await credentials(g)).state, 'none', 'the access token alone is no login');
  });

  it('with no key, a client\'s own subscription login is forwarded and the state becomes "client-login"', async () => {
    const g = await gatewayWith(null);
    fake.reset();
    const refused = await send(g, { authorization: SUBSCRIPTION_LOGIN });
    const error = assertAnthropicError(refused, 401, 'authentication_error');
    assert.match(error.message, /refused the client's own login/);
    assertNamesBothWays(error.message);
    const afterRefusal = await credentials(g);
    assert.equal(afterRefusal.state, 'client-login');
    assert.ok(afterRefusal.clientLoginSeenAt, 'when the login came through');
    assert.match(afterRefusal.refused?.message ?? '', /invalid x-api-key/, 'the provider\'s own reason');
    const h = await health(g);
    assert.deepEqual(h.credentials, { state: 'client-login' }, 'the open route has the state and nothing else');
    for (const secret of [SUBSCRIPTION_LOGIN.slice('Bearer '.length), PROVIDER_KEY]) assert.ok(!JSON.stringify(h).includes(secret), 'no credential in /health');

    const accepted = await send(g, { authorization: `Bearer ${PROVIDER_KEY}` });
    assert.equal(accepted.status, 200, accepted.text);
    assert.equal(fake.requests.at(-1)?.headers.authorization, `Bearer ${PROVIDER_KEY}`, 'the client\'s login went to the provider');
    assert.equal((await credentials(g)).refused, null, 'a later success clears the refusal');
  });

  it('with a key it says "api-key"; a key the provider refuses comes back as a 401 naming both ways', async () => {
    const good = await gatewayWith(PROVIDER_KEY);
    assert.deepEqual((await health(good)).credentials, { state: 'api-key' });
    assert.equal((await send(good)).status, 200);
    assert.equal((await credentials(good)).refused, null);

    const bad = await gatewayWith('test-provider-key-revoked');
    assert.deepEqual((await health(bad)).credentials, { state: 'api-key' });
    const r = await send(bad);
    const error = assertAnthropicError(r, 401, 'authentication_error');
    assert.match(error.message, /provider anthropic refused the gateway's API key \(401: invalid x-api-key\)/);
    assertNamesBothWays(error.message);
    const status = await rawRequest(bad.url, { path: '/v1/conduit/status', headers: { 'x-conduit-token': bad.token } });
    assert.equal(JSON.parse(status.text).credentials.refused.message, 'invalid x-api-key');
    assert.doesNotMatch(status.text, /test-provider-key-revoked/, 'the status never shows the key');
  });
});
