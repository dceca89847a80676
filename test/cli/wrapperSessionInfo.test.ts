// conduit-claude (the built dist/conduit-claude.js) reports the prompt it passes to claude
// with claude's session id, and the analytics' sessions show it: through the real claude
// (node_modules/.bin/claude) to an in-process gateway with a real store (PGlite) and the
// stand-in provider. A gateway that cannot store the report changes nothing of claude's
// output or exit code.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { silentLogger } from '../../src/conduit/core/log';
import { startGateway, type RunningGateway } from '../../src/conduit/gateway';
import type { LedgerEngine } from '../../src/conduit/ledger/store/engine';
import { EngineLedger } from '../../src/conduit/ledger/process/engineLedger';
import { openTestStore, type TestStore } from '../ledger/support/store';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fakeAnthropic';
import { ROOT, Sandbox, WRAPPER, ensureBuilt, run } from './support';

const CLAUDE = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'claude.cmd' : 'claude');
const RUN_ID = 'run-first-prompt-1';

describe('conduit-claude: the first prompt reaches the sessions view', function () {
  this.timeout(120_000);
  let fake: FakeAnthropic;
  let store: TestStore;
  let engine: LedgerEngine;
  let sb: Sandbox;
  let gateway: RunningGateway | null = null;

  /** A gateway in this process, found by the wrapper through the sandbox's pid and port files. */
  async function serve(ledger: EngineLedger | null): Promise<void> {
    await gateway?.close();
    gateway = await startGateway({
      home: sb.home, port: 0, log: silentLogger,
      env: { CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: 'sk-test-first-prompt', CONDUIT_PLUGINS_DISABLED: '1', ...(ledger ? {} : { CONDUIT_LEDGER: 'off' }) },
      ...(ledger ? { ledger } : {}),
    });
    writeFileSync(sb.pidFile, `${process.pid}\n`);
    writeFileSync(sb.portFile, `${gateway.port}\n`);
  }

  before(async () => {
    ensureBuilt();
    fake = await startFakeAnthropic();
    store = await openTestStore();
    sb = new Sandbox();
    ({ engine } = await store.engine({ journalDir: path.join(sb.home, 'journal'), ingest: { debounceMs: 10 } }));
    engine.start();
  });
  after(async () => {
    // The sandbox's cleanup must not `conduit stop` the pid in the file: it is this process.
    if (sb) {
      rmSync(sb.pidFile, { force: true });
      rmSync(sb.portFile, { force: true });
    }
    await gateway?.close();
    await sb?.cleanup();
    await store?.close();
    await fake?.close();
  });

  it("the real claude's session lists its first prompt (whitespace collapsed) and claude's session id", async () => {
    assert.ok(existsSync(CLAUDE), `${CLAUDE} (npm install puts it there)`);
    await serve(new EngineLedger(engine));
    const env = sb.env({ CONDUIT_CLAUDE_PATH: CLAUDE, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', CONDUIT_SESSION_ID: RUN_ID, SYNAPSE_PROJECT_ID: 'first-prompt-project' });
    const w = await run(process.execPath, [WRAPPER, '-p', '  Say\n\n   hi   to the\treviewers  ', '--output-format', 'stream-json', '--verbose'], { env, cwd: sb.work, timeoutMs: 90_000 });
    assert.equal(w.code, 0, `exit ${w.code}: ${w.stderr}`);
    const lines = w.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const init = lines.find((l) => l.type === 'system' && l.subtype === 'init');
    assert.ok(init?.session_id, 'claude printed its init line');
    await engine.ingester.ingestAvailable();
    const res = await fetch(`${gateway!.url}/v1/conduit/analytics/sessions?range=today&project=first-prompt-project`, { headers: { 'x-conduit-token': gateway!.token } });
    assert.equal(res.status, 200);
    const sessions = ((await res.json()) as Record<string, any>).sessions;
    assert.equal(sessions.length, 1);
    assert.deepEqual([sessions[0].sessionId, sessions[0].claudeSessionId, sessions[0].firstPrompt], [init.session_id, init.session_id, 'Say hi to the reviewers']);
  });

  it("a report the gateway cannot store leaves claude's output and exit code as they were", async () => {
    await serve(null); // no store: the report is answered 503
    const claude = path.join(sb.root, 'claude-scripted');
    const out = [
      '{"type":"system","subtype":"init","session_id":"scripted-session-1","tools":[]}',
      '{"type":"assistant","message":{"content":[{"type":"text","text":"hello"}]}}',
      '{"type":"result","subtype":"success","session_id":"scripted-session-1","total_cost_usd":0.01}',
    ];
    writeFileSync(claude, `#!/bin/sh\nprintf '%s\\n' '${out.join("' '")}'\nexit 3\n`);
    chmodSync(claude, 0o755);
    const env = sb.env({ CONDUIT_CLAUDE_PATH: claude, CONDUIT_SESSION_ID: 'run-first-prompt-2' });
    const w = await run(process.execPath, [WRAPPER, '-p', 'hello there', '--output-format', 'stream-json'], { env, cwd: sb.work, timeoutMs: 60_000 });
    assert.equal(w.code, 3, "claude's exit code");
    assert.equal(w.stderr, '');
    const lines = w.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 3), out, "claude's lines, unchanged and in order");
    assert.equal(JSON.parse(lines[3]).type, 'conduit_session');
    assert.equal(lines.length, 4);
  });
});
