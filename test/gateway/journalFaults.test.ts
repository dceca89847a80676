// The gateway with its journal on a disk that fills up (a 1 MB tmpfs), then frees: the
// request is answered, its record waits in memory, /health, the status route and
// `conduit status --json` say the journal is degraded and why, and once there is room the
// record is written, whole, with the next one.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { mountTmpfs, type Tmpfs } from '../support/tmpfs';
import { run } from '../cli/support';
import type { JournalHealth } from '../../src/protocol/usage';
import { readJournal, smallRequest } from './helpers';

const ROOT = path.resolve(__dirname, '../..');

describe('gateway: journal on a full disk', () => {
  let t: TestGateway;
  let disk: Tmpfs | null = null;

  before(async () => {
    t = await startTestGateway({ env: { CONDUIT_LEDGER: 'off', CONDUIT_PLUGINS_DISABLED: '1' } });
    // The journal opens its file at the first record: the tmpfs is where that file goes.
    disk = mountTmpfs(t.gateway.paths.journalDir);
  });
  after(async () => {
    // As t.close(), with the tmpfs unmounted once the gateway has closed its journal file.
    await t?.gateway.close();
    await t?.fake.close();
    disk?.unmount();
    if (t) rmSync(t.home, { recursive: true, force: true });
  });

  const get = async (route: string) => {
    const res = await fetch(`${t.url}${route}`, { headers: { 'x-conduit-token': t.token } });
    assert.equal(res.status, 200);
    return await res.json() as { status?: string; journal: JournalHealth };
  };
  const cliStatus = async () => {
    // `conduit status` finds a gateway by CONDUIT_HOME's pid and port files and its /health.
    writeFileSync(t.gateway.paths.pidFile, String(process.pid));
    writeFileSync(t.gateway.paths.portFile, String(t.gateway.port));
    const r = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/conduit/cli/main.ts'), 'status', '--json'], {
      env: { ...process.env, CONDUIT_HOME: t.home },
    });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { running: boolean; status: string; journal: JournalHealth };
  };

  it('answers while the disk is full, reports the journal degraded with the reason, and writes the record once there is room', async () => {
    disk!.fill();
    const refused = await t.messages(smallRequest());
    assert.equal(refused.status, 200);
    await refused.text();

    const health = await get('/health');
    assert.equal(health.status, 'degraded');
    assert.equal(health.journal.state, 'degraded');
    assert.match(health.journal.error ?? '', /ENOSPC/);
    assert.equal(health.journal.pending, 1);
    assert.deepEqual((await get('/v1/conduit/status')).journal, health.journal);
    const cli = await cliStatus();
    assert.equal(cli.running, true);
    assert.equal(cli.status, 'degraded');
    assert.deepEqual(cli.journal, health.journal);
    assert.deepEqual(readJournal(t.home), [], 'nothing written yet');

    disk!.free();
    const next = await t.messages(smallRequest({ stream: true }));
    assert.equal(next.status, 200);
    await next.text();
    // Both lines are in the file when the second reply has ended (the line is written before its last byte).
    assert.equal(readJournal(t.home).length, 2);
    assert.deepEqual(await get('/health').then((h) => [h.status, h.journal]), ['ok', { state: 'ok', error: null, pending: 0, lost: 0 }]);
    assert.equal((await cliStatus()).status, 'ok');
  });
});
