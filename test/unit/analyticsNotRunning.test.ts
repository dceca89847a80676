// A gateway that is not up yet, as the analytics panel's host sees it: the connection its
// client makes is refused (a panel restored before the gateway started) and the panel is told
// "not running yet" instead of "connect ECONNREFUSED 127.0.0.1:…" (src/extension/views/analyticsData.ts).
import assert from 'node:assert/strict';
import net from 'node:net';
import { request } from '../../src/conduit/client/request';
import { isNotRunning } from '../../src/extension/views/analyticsData';

/** A loopback port with nothing listening on it (taken, then freed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('analytics: a gateway not running yet', () => {
  it('a refused connection of the gateway client counts as not running', async () => {
    const err = await request(await closedPort(), 'GET', '/v1/conduit/analytics/summary').then(() => null, (e: unknown) => e);
    assert.ok(err instanceof Error, 'the request failed');
    assert.match(err.message, /ECONNREFUSED/);
    assert.equal(isNotRunning(err), true);
  });

  it('the extension\'s "not running" error counts; a refusal by a running gateway does not', () => {
    class GatewayUnavailableError extends Error {}
    assert.equal(isNotRunning(new GatewayUnavailableError('The Conduit gateway is not running.')), true);
    assert.equal(isNotRunning(Object.assign(new Error('range: expected one of …'), { status: 400 })), false);
    assert.equal(isNotRunning(new Error('the usage store is opening')), false);
    assert.equal(isNotRunning(null), false);
  });
});
