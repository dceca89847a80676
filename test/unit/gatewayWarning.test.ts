import assert from 'node:assert/strict';
import { gatewayWarning } from '../../src/extension/ui/gatewayWarning';

describe('gatewayWarning: the one warning of a running gateway', () => {
  it('no credentials is a warning that names both ways to get them', () => {
    const w = gatewayWarning({ credentials: { state: 'none' } });
    assert.match(w ?? '', /^no credentials: .*Conduit: Set Provider API Key.*claude \/login/);
  });

  it('a key or a client login is no warning; neither is a gateway too old to say', () => {
    assert.equal(gatewayWarning({ credentials: { state: 'api-key' } }), null);
    assert.equal(gatewayWarning({ credentials: { state: 'client-login' } }), null);
    assert.equal(gatewayWarning({ credentials: null }), null);
    assert.equal(gatewayWarning(null), null);
  });

  it('a refused config.json change names its reason; a refused start is the error state, not a warning', () => {
    const reason = '/home/me/.conduit/config.json: config.routing.defaultModel: unknown provider "nosuchprovider"';
    assert.match(gatewayWarning({ credentials: { state: 'api-key' }, configProblem: { kind: 'reload', reason } }) ?? '', /last good configuration.*unknown provider "nosuchprovider"/);
    assert.equal(gatewayWarning({ credentials: { state: 'api-key' }, configProblem: { kind: 'start', reason } }), null);
  });

  it('one warning at a time: the journal first, then config.json, then credentials', () => {
    const journal = { state: 'degraded' as const, error: 'ENOSPC', pending: 2, lost: 0 };
    assert.match(gatewayWarning({ journal, credentials: { state: 'none' }, configProblem: { kind: 'reload', reason: 'x' } }) ?? '', /^journal degraded/);
    assert.match(gatewayWarning({ credentials: { state: 'none' }, configProblem: { kind: 'reload', reason: 'x' } }) ?? '', /^config\.json not applied/);
  });
});
