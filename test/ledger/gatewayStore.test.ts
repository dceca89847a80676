// The gateway with its real store: PGlite on disk in CONDUIT_HOME/data/pglite, opened in
// the ledger's child process. The gateway serves at once, requests made while the store
// opens are journaled and ingested once it is ready, and the store outlives a restart.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger, type Logger } from '../../src/conduit/core/log';
import { startGateway, type RunningGateway } from '../../src/conduit/gateway';
import { READY_MARKER } from '../../src/conduit/ledger/store/engine';
import { WorkerLedger } from '../../src/conduit/ledger/process/workerLedger';
import { CONTEXT_HEADER, encodeSessionContext } from '../../src/protocol/sessionContext';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fakeAnthropic';

describe('ledger: the gateway and its store (child process, on disk)', () => {
  let fake: FakeAnthropic;
  let home: string;
  const env = () => ({ CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: 'sk-test-upstream-key', CONDUIT_PLUGINS_DISABLED: '1' });
  const ledgerFor = () => new WorkerLedger({ dataDir: path.join(home, 'data', 'pglite'), journalDir: path.join(home, 'journal'), log: silentLogger });
  const message = (gateway: RunningGateway, i: number) => fetch(`${gateway.url}/v1/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json', 'x-conduit-token': gateway.token, 'anthropic-version': '2023-06-01',
      [CONTEXT_HEADER]: encodeSessionContext({ projectId: 'store-project', agentId: 'store-agent', sessionId: 'store-session' }),
    },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: `hello ${i}` }] }),
  });
  const analytics = (gateway: RunningGateway, q: string) => fetch(`${gateway.url}/v1/conduit/analytics/${q}?project=store-project&range=day&tz=UTC`, { headers: { 'x-conduit-token': gateway.token } });

  before(async () => {
    fake = await startFakeAnthropic();
    home = mkdtempSync(path.join(os.tmpdir(), 'conduit-gateway-store-'));
  });
  after(async () => {
    await fake?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('serves while the store opens, then ingests what was journaled meanwhile', async function () {
    this.timeout(120_000);
    const ledger = ledgerFor();
    const t0 = performance.now();
    const gateway = await startGateway({ home, port: 0, env: env(), log: silentLogger, ledger });
    try {
      assert.ok(performance.now() - t0 < 5_000, 'startGateway does not wait for the store');
      assert.equal(ledger.state, 'opening');
      let inserted = 0;
      const allIngested = new Promise<void>((resolve) => {
        ledger.on('ingested', (b: { inserted: number }) => {
          inserted += b.inserted;
          if (inserted === 3) resolve();
        });
      });
      // Proxied while the store opens (the first open of a new store takes seconds).
      for (let i = 0; i < 3; i++) {
        const res = await message(gateway, i);
        assert.equal(res.status, 200);
        await res.text();
      }
      const early = await analytics(gateway, 'summary');
      if (ledger.state === 'opening') {
        assert.equal(early.status, 503);
        assert.equal(early.headers.get('retry-after'), '5');
      }
      await early.text();
      const status = await (await fetch(`${gateway.url}/v1/conduit/status`, { headers: { 'x-conduit-token': gateway.token } })).json() as { ledger: { state: string } };
      assert.ok(['opening', 'ready'].includes(status.ledger.state));

      await ledger.whenReady();
      assert.ok(existsSync(path.join(home, 'data', 'pglite', READY_MARKER)), 'the store is marked complete');
      await allIngested;
      const summary = await (await analytics(gateway, 'summary')).json() as Record<string, any>;
      assert.equal(summary.requests, 3);
      assert.ok(summary.inputTokens > 0);
      const recent = await (await analytics(gateway, 'recent')).json() as Record<string, any>;
      assert.deepEqual(recent.requests.map((r: any) => r.agent.name), ['store-agent', 'store-agent', 'store-agent']);
    } finally {
      await gateway.close();
    }
    assert.equal(ledger.state, 'closed');
  });

  it('goes on proxying, and says why in the log and on the API, when the store cannot be opened', async function () {
    this.timeout(60_000);
    const broken = mkdtempSync(path.join(os.tmpdir(), 'conduit-broken-store-'));
    try {
      writeFileSync(path.join(broken, 'data'), 'a file where the data folder should be');
      const errors: string[] = [];
      const log: Logger = { ...silentLogger, error: (m) => errors.push(m) };
      const ledger = new WorkerLedger({ dataDir: path.join(broken, 'data', 'pglite'), journalDir: path.join(broken, 'journal'), log });
      const gateway = await startGateway({ home: broken, port: 0, env: env(), log: silentLogger, ledger });
      try {
        await assert.rejects(ledger.whenReady(), /could not be opened/);
        assert.equal(ledger.state, 'failed');
        assert.ok(errors.some((e) => /the usage store could not be opened: E[A-Z]+: .*conduit-broken-store-.*goes on proxying/.test(e)), errors.join('\n'));
        const res = await message(gateway, 0);
        assert.equal(res.status, 200);
        await res.text();
        const answer = await analytics(gateway, 'summary');
        assert.equal(answer.status, 503);
        assert.match(((await answer.json()) as any).error.message, /could not be opened: E[A-Z]+/);
      } finally {
        await gateway.close();
      }
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it('keeps the usage across a restart of the gateway (the store reopens from disk)', async function () {
    this.timeout(120_000);
    const ledger = ledgerFor();
    const gateway = await startGateway({ home, port: 0, env: env(), log: silentLogger, ledger });
    try {
      await ledger.whenReady();
      const ingested = new Promise<void>((resolve) => ledger.once('ingested', () => resolve()));
      const res = await message(gateway, 4);
      await res.text();
      await ingested;
      const summary = await (await analytics(gateway, 'summary')).json() as Record<string, any>;
      assert.equal(summary.requests, 4);
      const sessions = await (await analytics(gateway, 'sessions')).json() as Record<string, any>;
      assert.equal(sessions.sessions[0].sessionId, 'store-session');
      assert.equal(sessions.sessions[0].requests, 4);
    } finally {
      await gateway.close();
    }
  });

  it('opens a store in one gateway at a time, and takes over the lock of a gateway that died', async function () {
    this.timeout(60_000);
    const dataDir = path.join(home, 'data', 'pglite');
    // Another live process holds the store.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(`${dataDir}.lock`, `${other.pid} some-token`);
      const refused = ledgerFor();
      await assert.rejects(refused.whenReady(), new RegExp(`in use by process ${other.pid}`));
      await refused.close();
    } finally {
      other.kill('SIGKILL');
      await once(other, 'exit');
    }
    // That process is gone: its lock is stale.
    const first = ledgerFor();
    await first.whenReady();
    // A second one in this process while the first is open is refused.
    const second = ledgerFor();
    await assert.rejects(second.whenReady(), /already open in this process/);
    await second.close();
    await first.close();
    assert.ok(!existsSync(`${dataDir}.lock`), 'the lock is given back');
  });
});
