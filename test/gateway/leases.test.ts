// The gateway's clients over real HTTP: VS Code windows and conduit-claude sessions hold
// leases; a gateway VS Code started stops once no client holds one (after the grace a
// closing window asks for), never while one does; a gateway the person started never stops
// that way. Last, the real process as the extension starts it exits when its last client leaves.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/conduit/core/log';
import { startGateway, type RunningGateway } from '../../src/conduit/gateway';
import { STARTED_BY_ENV, type LeaseInfo, type LeasesStatus, type StopWhenIdleAnswer } from '../../src/protocol/leases';
import { CONDUIT, Sandbox, ensureBuilt } from '../cli/support';
import { assertAnthropicError, rawRequest } from './helpers';

interface Api {
  url: string;
  token: string;
}

async function call<T>(api: Api, method: string, urlPath: string, body?: unknown, token: string | null = api.token): Promise<{ status: number; text: string; json: T }> {
  const r = await rawRequest(api.url, {
    method,
    path: urlPath,
    headers: { ...(token ? { 'x-conduit-token': token } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, text: r.text, json: (r.text ? JSON.parse(r.text) : null) as T };
}

const takeLease = (api: Api, id: string, client: 'vscode-window' | 'conduit-claude', ttlSeconds = 45) =>
  call<LeaseInfo>(api, 'PUT', `/v1/conduit/leases/${id}`, { client, ttlSeconds });
const releaseLease = (api: Api, id: string) => call<{ released: boolean }>(api, 'DELETE', `/v1/conduit/leases/${id}`);
const stopWhenIdle = (api: Api, graceSeconds: number) => call<StopWhenIdleAnswer>(api, 'POST', '/v1/conduit/stop-when-idle', { graceSeconds });
const leasesOf = async (api: Api) => (await call<LeasesStatus>(api, 'GET', '/v1/conduit/leases')).json;

describe('gateway clients and leases', function () {
  const homes: string[] = [];
  const gateways: RunningGateway[] = [];

  /** A gateway in this process; `idle` resolves with the reason once it asks to be stopped. */
  async function gatewayStartedBy(startedBy: 'vscode' | 'person'): Promise<{ api: Api; idle: Promise<string>; stopRequests: string[] }> {
    const home = mkdtempSync(path.join(os.tmpdir(), 'conduit-leases-'));
    homes.push(home);
    const stopRequests: string[] = [];
    let idleReason!: (reason: string) => void;
    const idle = new Promise<string>((resolve) => { idleReason = resolve; });
    const gateway = await startGateway({
      home, port: 0, log: silentLogger, ledger: false,
      env: startedBy === 'vscode' ? { [STARTED_BY_ENV]: 'vscode' } : {},
      onIdle: (reason) => { stopRequests.push(reason); idleReason(reason); },
    });
    gateways.push(gateway);
    return { api: { url: gateway.url, token: gateway.token }, idle, stopRequests };
  }

  after(async () => {
    for (const g of gateways) await g.close();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  it('the lease routes need the access token', async () => {
    const { api } = await gatewayStartedBy('vscode');
    assertAnthropicError(await rawRequest(api.url, { path: '/v1/conduit/leases' }), 401, 'authentication_error');
    const put = await call(api, 'PUT', '/v1/conduit/leases/w1', { client: 'vscode-window', ttlSeconds: 45 }, null);
    assertAnthropicError(put, 401, 'authentication_error');
    assertAnthropicError(await call(api, 'POST', '/v1/conduit/stop-when-idle', { graceSeconds: 0 }, 'wrong-token'), 401, 'authentication_error');
    assert.deepEqual((await leasesOf(api)).leases, [], 'nothing was taken');
  });

  it('takes, renews and releases leases; GET and the status list the live ones', async () => {
    const { api } = await gatewayStartedBy('vscode');
    const taken = await takeLease(api, 'window-a', 'vscode-window');
    assert.equal(taken.status, 200, taken.text);
    assert.deepEqual(taken.json, { id: 'window-a', client: 'vscode-window', expiresInSeconds: 45 });
    assert.equal((await takeLease(api, 'session-1', 'conduit-claude', 60)).status, 200);
    assert.equal((await takeLease(api, 'window-a', 'vscode-window', 90)).json.expiresInSeconds, 90, 'renewed for longer');

    const listed = await leasesOf(api);
    assert.equal(listed.startedBy, 'vscode');
    assert.deepEqual(listed.leases.map((l) => [l.id, l.client]).sort(), [['session-1', 'conduit-claude'], ['window-a', 'vscode-window']]);
    assert.equal(listed.stopsInSeconds, null, 'held: it does not stop');
    const status = await call<{ clients: LeasesStatus }>(api, 'GET', '/v1/conduit/status');
    assert.deepEqual(status.json.clients, listed);

    assert.deepEqual((await releaseLease(api, 'window-a')).json, { released: true });
    assert.deepEqual((await releaseLease(api, 'window-a')).json, { released: false }, 'already released');
    assert.deepEqual((await leasesOf(api)).leases.map((l) => l.id), ['session-1']);
  });

  it('refuses malformed lease requests with a 400 that names the problem', async () => {
    const { api } = await gatewayStartedBy('vscode');
    assert.match(assertAnthropicError(await call(api, 'PUT', '/v1/conduit/leases/w1', { client: 'browser', ttlSeconds: 45 }), 400, 'invalid_request_error').message, /body\.client/);
    assert.match(assertAnthropicError(await call(api, 'PUT', '/v1/conduit/leases/w1', { client: 'vscode-window', ttlSeconds: 86_400 }), 400).message, /body\.ttlSeconds/);
    assert.match(assertAnthropicError(await call(api, 'PUT', '/v1/conduit/leases/w1', '{"client":'), 400).message, /not valid JSON/);
    assert.match(assertAnthropicError(await call(api, 'PUT', `/v1/conduit/leases/${'x'.repeat(201)}`, { client: 'vscode-window', ttlSeconds: 45 }), 400).message, /lease id/);
    assert.match(assertAnthropicError(await call(api, 'DELETE', '/v1/conduit/leases/%E0%A4%A'), 400).message, /percent-encoding/);
    assert.match(assertAnthropicError(await call(api, 'POST', '/v1/conduit/stop-when-idle', { graceSeconds: -1 }), 400).message, /body\.graceSeconds/);
    const wrongMethod = await call(api, 'POST', '/v1/conduit/leases', { client: 'vscode-window', ttlSeconds: 45 });
    assertAnthropicError(wrongMethod, 405);
    assert.deepEqual((await leasesOf(api)).leases, []);
  });

  it('a gateway VS Code started stays while another window holds a lease, and stops once the last client leaves', async () => {
    const { api, idle, stopRequests } = await gatewayStartedBy('vscode');
    await takeLease(api, 'window-a', 'vscode-window');
    await takeLease(api, 'window-b', 'vscode-window');

    // Window A, which started it, closes.
    await releaseLease(api, 'window-a');
    assert.deepEqual((await stopWhenIdle(api, 0)).json, { willStop: true, leases: 1 });
    // With no grace, stopping would have been decided before the answer.
    assert.deepEqual(stopRequests, [], 'window B still holds it');
    assert.equal((await leasesOf(api)).stopsInSeconds, null);
    assert.equal((await call(api, 'GET', '/v1/conduit/status')).status, 200, 'it serves');

    // A session outlives window B.
    await takeLease(api, 'session-1', 'conduit-claude', 60);
    await releaseLease(api, 'window-b');
    assert.deepEqual((await stopWhenIdle(api, 0)).json, { willStop: true, leases: 1 });
    assert.deepEqual(stopRequests, [], 'the session still holds it');

    await releaseLease(api, 'session-1');
    assert.match(await idle, /no client has held the gateway for 0 s/);
    assert.equal(stopRequests.length, 1);
  });

  it('waits out the grace period a closing window asks for', async () => {
    const { api, stopRequests } = await gatewayStartedBy('vscode');
    await takeLease(api, 'window', 'vscode-window');
    await releaseLease(api, 'window');
    assert.deepEqual((await stopWhenIdle(api, 600)).json, { willStop: true, leases: 0 });
    const stopsIn = (await leasesOf(api)).stopsInSeconds;
    assert.ok(stopsIn !== null && stopsIn > 590 && stopsIn <= 600, `stops in ${stopsIn} s`);
    // The window reloads: its lease is back within the grace, and the stop is off.
    await takeLease(api, 'window-reloaded', 'vscode-window');
    assert.equal((await leasesOf(api)).stopsInSeconds, null);
    assert.deepEqual(stopRequests, []);
  });

  it('does not count an expired lease: a client that stopped renewing lets it stop', async () => {
    const { api, idle } = await gatewayStartedBy('vscode');
    await takeLease(api, 'crashed-window', 'vscode-window', 1);
    assert.deepEqual((await stopWhenIdle(api, 0)).json, { willStop: true, leases: 1 });
    assert.match(await idle, /no client/); // once the lease's second is up
    assert.deepEqual((await leasesOf(api)).leases, []);
  });

  it('never stops a gateway the person started, whoever asks', async () => {
    const { api, stopRequests } = await gatewayStartedBy('person');
    await takeLease(api, 'window', 'vscode-window');
    await releaseLease(api, 'window');
    assert.deepEqual((await stopWhenIdle(api, 0)).json, { willStop: false, leases: 0 });
    const listed = await leasesOf(api);
    assert.equal(listed.startedBy, 'person');
    assert.equal(listed.stopsInSeconds, null);
    assert.deepEqual(stopRequests, []);
  });

  describe('the gateway process as VS Code starts it', function () {
    this.timeout(60_000);
    let sb: Sandbox;
    let child: ChildProcess | undefined;
    before(() => ensureBuilt());
    beforeEach(() => { sb = new Sandbox(); });
    afterEach(async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
      await sb.cleanup();
    });

    /** `conduit start --foreground`, as the supervisor runs it; resolves once it listens. */
    async function startForeground(env: NodeJS.ProcessEnv): Promise<Api> {
      writeFileSync(path.join(sb.home, 'config.json'), JSON.stringify({ port: 0 }));
      child = spawn(process.execPath, [CONDUIT, 'start', '--foreground'], { env: sb.env({ CONDUIT_LEDGER: 'off', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const port = await new Promise<number>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString('utf8');
          const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
          if (m) resolve(Number(m[1]));
        };
        child!.stdout!.on('data', onData);
        child!.stderr!.on('data', onData);
        child!.once('exit', (code) => reject(new Error(`the gateway exited (${code}) before it listened: ${output}`)));
      });
      sb.remember(child.pid);
      return { url: `http://127.0.0.1:${port}`, token: sb.token() };
    }

    it('exits by itself, cleanly, once its last client has left', async () => {
      const api = await startForeground({ [STARTED_BY_ENV]: 'vscode' });
      const exited = once(child!, 'exit');
      await takeLease(api, 'window', 'vscode-window');
      await takeLease(api, 'session', 'conduit-claude', 60);
      await releaseLease(api, 'window');
      assert.deepEqual((await stopWhenIdle(api, 0)).json, { willStop: true, leases: 1 });
      assert.equal((await call(api, 'GET', '/v1/conduit/status')).status, 200, 'the session still holds it');
      await releaseLease(api, 'session');
      const [code, signal] = await exited;
      assert.deepEqual({ code, signal }, { code: 0, signal: null });
      assert.equal(existsSync(sb.pidFile), false, 'gateway.pid is removed');
      // Its log outlives the window that read its output: the lines are in gateway.log too.
      const log = readFileSync(path.join(sb.home, 'logs', 'gateway.log'), 'utf8');
      assert.match(log, /INFO  conduit .* listening on http:\/\/127\.0\.0\.1:\d+/);
      assert.match(log, /INFO  .*stopping/);
    });
  });
});
