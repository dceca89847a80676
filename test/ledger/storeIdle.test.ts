// The store costs nothing while nobody looks: the gateway's store process (on disk, in
// CONDUIT_HOME/data/pglite) ends after the idle time, a query opens it again and gets the
// right answer, records journaled meanwhile are ingested, and a crash of the store's
// process leaves the gateway serving. Real PGlite in a real child process.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger, type Logger } from '../../src/conduit/core/log';
import { startGateway, type RunningGateway } from '../../src/conduit/gateway';
import type { LedgerState } from '../../src/conduit/ledger/service';
import { STORE_IDLE_SECONDS, storeIdleSeconds, WorkerLedger } from '../../src/conduit/ledger/process/workerLedger';
import { CONTEXT_HEADER, encodeSessionContext } from '../../src/protocol/sessionContext';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fakeAnthropic';

/** Resolves when the ledger enters `state`. */
function stateReached(ledger: WorkerLedger, state: LedgerState): Promise<void> {
  if (ledger.state === state) return Promise.resolve();
  return new Promise((resolve) => {
    const on = (s: LedgerState) => { if (s === state) { ledger.off('state', on); resolve(); } };
    ledger.on('state', on);
  });
}

/** Resolves once `count` more requests have been ingested. */
function ingestedCount(ledger: WorkerLedger, count: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    const on = (b: { inserted: number }) => {
      seen += b.inserted;
      if (seen >= count) { ledger.off('ingested', on); resolve(); }
    };
    ledger.on('ingested', on);
  });
}

describe('ledger: the store closes while unused and reopens on demand (child process)', function () {
  this.timeout(180_000);
  let fake: FakeAnthropic;
  let home: string;
  let gateway: RunningGateway;
  let ledger: WorkerLedger;
  let watched = false;
  const infos: string[] = [];
  /** Store processes that have ended, and a wait for one. */
  const ended = new Set<number>();
  const processEnded = (pid: number) => new Promise<void>((resolve) => {
    if (ended.has(pid)) return resolve();
    const on = (e: { pid: number }) => { if (e.pid === pid) { ledger.off('exit', on); resolve(); } };
    ledger.on('exit', on);
  });
  const log: Logger = { ...silentLogger, info: (m) => infos.push(m), warn: (m) => infos.push(m) };
  const env = () => ({ CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: 'sk-test-upstream-key', CONDUIT_PLUGINS_DISABLED: '1' });
  const message = async (i: number) => {
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', 'x-conduit-token': gateway.token, 'anthropic-version': '2023-06-01',
        [CONTEXT_HEADER]: encodeSessionContext({ projectId: 'idle-project', agentId: 'idle-agent', sessionId: 'idle-session' }),
      },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: `hello ${i}` }] }),
    });
    assert.equal(res.status, 200);
    await res.text();
  };
  const requests = async () => {
    const res = await fetch(`${gateway.url}/v1/conduit/analytics/summary?project=idle-project&range=day&tz=UTC`, { headers: { 'x-conduit-token': gateway.token } });
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { requests: number }).requests;
  };

  before(async () => {
    fake = await startFakeAnthropic();
    home = mkdtempSync(path.join(os.tmpdir(), 'conduit-store-idle-'));
    ledger = new WorkerLedger({ dataDir: path.join(home, 'data', 'pglite'), journalDir: path.join(home, 'journal'), log, idleSeconds: 1, watched: () => watched });
    ledger.on('exit', (e: { pid: number }) => ended.add(e.pid));
    gateway = await startGateway({ home, port: 0, env: env(), log: silentLogger, ledger });
    await stateReached(ledger, 'ready');
  });
  after(async () => {
    await gateway?.close();
    await fake?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('ends the store process after the idle time; a query reopens it and answers with what was journaled meanwhile', async () => {
    const ingested = ingestedCount(ledger, 2);
    await message(0);
    await message(1);
    await ingested;
    assert.equal(await requests(), 2);

    const pid = ledger.storePid;
    assert.ok(pid, 'a store process runs');
    await stateReached(ledger, 'idle');
    await processEnded(pid);
    assert.equal(ledger.storePid, null);
    assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the store process has ended');
    assert.ok(infos.some((m) => /the usage store is closed after 1 s without use/.test(m)), infos.join('\n'));

    // Proxied while the store is closed: only the journal has it (nobody watches: no reopen yet).
    await message(2);
    assert.equal(ledger.state, 'idle');
    assert.equal(await requests(), 3, 'the query reopened the store, which ingested the journal first');
    assert.notEqual(ledger.storePid, pid);
    assert.ok(infos.some((m) => /usage store reopened in \d+ ms \(for a query\)/.test(m)), infos.join('\n'));
  });

  it('reopens the store for new journal records while someone watches the totals, and says it ingested them', async () => {
    const pid = ledger.storePid;
    await stateReached(ledger, 'idle');
    if (pid) await processEnded(pid); // a store that is closing ingests what it finds in the journal: wait until it is gone
    watched = true;
    try {
      const ingested = ingestedCount(ledger, 1);
      await message(3);
      await ingested; // without a query: the records reopened the store (which ingests before it says ready)
      await stateReached(ledger, 'ready');
      assert.ok(infos.some((m) => /usage store reopened in \d+ ms \(to ingest new journal records\)/.test(m)), infos.join('\n'));
      assert.equal(await requests(), 4);
    } finally {
      watched = false;
    }
  });

  it('budgets keep working from memory while the store is closed: past the hard limit a request is refused', async () => {
    const key = 'idle-budget-project';
    const headers = { 'content-type': 'application/json', 'x-conduit-token': gateway.token };
    const put = await fetch(`${gateway.url}/v1/conduit/projects/${encodeURIComponent(key)}`, {
      method: 'PUT', headers, body: JSON.stringify({ name: 'idle budget', budget: { dailyUsd: 0.1, hardLimitPercent: 100 } }),
    });
    assert.equal(put.status, 200, await put.text());
    const pid = ledger.storePid;
    await stateReached(ledger, 'idle');
    if (pid) await processEnded(pid);
    // One request costs about $0.32 at claude-sonnet-4-5's prices: the first spends past the $0.10.
    fake.setDefault({ kind: 'message', usage: { input_tokens: 100_000, output_tokens: 1_000 } });
    try {
      const send = () => fetch(`${gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { ...headers, 'anthropic-version': '2023-06-01', [CONTEXT_HEADER]: encodeSessionContext({ projectId: key, sessionId: 'idle-budget-session' }) },
        body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'spend' }] }),
      });
      const first = await send();
      assert.equal(first.status, 200, await first.text());
      const second = await send();
      assert.equal(second.status, 402, await second.text());
    } finally {
      fake.reset();
    }
  });

  it('a crash of the store process does not take the gateway down; the next query opens the store again', async () => {
    assert.equal(await requests(), 4); // opens it if idle; the idle time counts from here
    const pid = ledger.storePid!;
    const crashed = stateReached(ledger, 'idle');
    process.kill(pid, 'SIGKILL');
    await crashed;
    assert.ok(infos.some((m) => /the usage store stopped \(the store's process exited \(SIGKILL\)\); it is opened again when needed/.test(m)), infos.join('\n'));
    await message(4); // the gateway still proxies
    assert.equal(await requests(), 5);
    assert.notEqual(ledger.storePid, pid);
  });

  it('closes the store for good with the gateway', async () => {
    const pid = ledger.storePid ?? (await requests(), ledger.storePid!);
    const ended = once(ledger, 'exit');
    await gateway.close();
    await ended;
    assert.equal(ledger.state, 'closed');
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
  });

  it('reads CONDUIT_STORE_IDLE_SECONDS as whole seconds (0: never close), else keeps the default and says why', () => {
    assert.equal(storeIdleSeconds(undefined), STORE_IDLE_SECONDS);
    assert.equal(storeIdleSeconds('45'), 45);
    assert.equal(storeIdleSeconds('0'), 0);
    const warnings: string[] = [];
    assert.equal(storeIdleSeconds('5 minutes', { ...silentLogger, warn: (m) => warnings.push(m) }), STORE_IDLE_SECONDS);
    assert.equal(storeIdleSeconds('-3', { ...silentLogger, warn: (m) => warnings.push(m) }), STORE_IDLE_SECONDS);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /^CONDUIT_STORE_IDLE_SECONDS: expected a whole number of seconds .*got "5 minutes"; using 300$/);
  });
});
