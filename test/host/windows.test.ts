// Two VS Code windows on one gateway (code-server + Chromium; each browser page has its own
// extension host): the window that started the gateway closes while an agent session runs in
// the other; the gateway stays, and the session finishes without a retry. When the last
// window closes, the gateway VS Code started stops too.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SessionSummary } from '../../src/protocol/usage';
import type { LeasesStatus } from '../../src/protocol/leases';
import { messagePosts, readNumber, useHostSuite } from '../support/hostSuite';

const UPSTREAM_KEY = 'sk-test-host-windows';
const STATUS_ITEM = 'Conduit gateway';
const RUNNING = /^Conduit gateway running(, |$)/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** The extension host processes of this CONDUIT_HOME: one per open window. */
function extensionHosts(conduitHome: string): number[] {
  return processesWith(conduitHome, '--type=extensionHost');
}

/** Live processes whose command line holds `arg` and whose environment has this CONDUIT_HOME. */
function processesWith(conduitHome: string, arg: string): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(arg)
        && readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`CONDUIT_HOME=${conduitHome}`)
        && alive(pid);
    } catch {
      return false;
    }
  });
}

/** The conduit-claude processes (agent sessions) running with this CONDUIT_HOME. */
function sessionWrappers(conduitHome: string): number[] {
  return processesWith(conduitHome, 'conduit-claude.js');
}

/** Re-checks `check` every 100 ms until it holds (for what sends no event: a process ending). */
async function until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Synapse Conduit in two VS Code windows (code-server + Chromium)', function () {
  const suite = useHostSuite({ upstreamKey: UPSTREAM_KEY, screenshotPrefix: 'windows-' });

  it('closing the window that started the gateway keeps it for a session in another window, which finishes without a retry', async function () {
    this.timeout(300_000);
    const first = suite.product;
    await first.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING }, 60_000);
    const gatewayPid = readNumber(path.join(suite.conduitHome, 'gateway.pid'));
    assert.ok(gatewayPid && alive(gatewayPid), 'the first window started a gateway');
    const [firstHost, ...more] = extensionHosts(suite.conduitHome);
    assert.ok(firstHost, 'the first window has an extension host');
    assert.deepEqual(more, []);

    const second = await suite.product.openWindow();
    await second.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING }, 60_000);
    const secondHosts = extensionHosts(suite.conduitHome).filter((pid) => pid !== firstHost);
    assert.equal(secondHosts.length, 1, 'the second window has its own extension host');
    assert.equal(readNumber(path.join(suite.conduitHome, 'gateway.pid')), gatewayPid, 'the second window attached to the same gateway');

    // A session in the second window, its answer held mid-stream until the first window is gone.
    let release!: () => void;
    const answerHeld = new Promise<void>((resolve) => { release = resolve; });
    suite.fake.enqueue({ kind: 'message', text: 'still streaming after the first window closed', pause: { afterEvents: 3, until: answerHeld } });
    const before = messagePosts(suite.fake.requests).length;
    await second.runCommand('Conduit: Run Agent Session');
    await second.answerInput('What should the agent do?', { value: 'say hi' });
    const [post] = (await suite.fake.waitForRequests(before + 1, 90_000)).slice(before);
    const session = post.headers['x-claude-code-session-id'];
    assert.equal(typeof session, 'string');
    const secondBarSeen = (await second.statusBarHistory(STATUS_ITEM)).length;

    await first.page.close({ runBeforeUnload: true });
    await until(() => !alive(firstHost), `the end of the first window's extension host (pid ${firstHost})`, 60_000);
    // Still serving, held by the second window and the session; the first window's lease is gone.
    const left = await suite.api<LeasesStatus>('GET', '/v1/conduit/leases')
      .catch((err: Error) => assert.fail(`the gateway no longer answers once the window that started it closed: ${err.message}`));
    assert.deepEqual(left.body.leases.map((l) => l.client).sort(), ['conduit-claude', 'vscode-window'], JSON.stringify(left.body));
    assert.ok(alive(gatewayPid), 'the gateway outlives the window that started it');

    release();
    const text = await second.waitForTerminalText(new RegExp(`● session ${session}[^]*(✓ done|✗)`), 90_000);
    const mine = text.slice(text.lastIndexOf(`● session ${session}`));
    assert.match(mine, /✓ done in \d+\.\d s · 1 turn/, `the session finished: ${mine}`);
    assert.match(mine, /still streaming after the first window closed/);

    // One request reached the stand-in and the gateway recorded one, complete: nothing was retried.
    const posts = messagePosts(suite.fake.requests).filter((p) => p.headers['x-claude-code-session-id'] === session);
    assert.equal(posts.length, 1, 'one request for the session');
    const recorded = await suite.api<SessionSummary>('GET', `/v1/conduit/sessions/${session}`);
    assert.equal(recorded.status, 200);
    assert.equal(recorded.body.requests, 1, `the gateway saw one request: ${JSON.stringify(recorded.body)}`);
    assert.equal(readNumber(path.join(suite.conduitHome, 'gateway.pid')), gatewayPid, 'the same gateway throughout');
    const secondBar = (await second.statusBarHistory(STATUS_ITEM)).slice(secondBarSeen);
    assert.ok(secondBar.every((e) => RUNNING.test(e.ariaLabel)), `the second window never lost the gateway: ${secondBar.map((e) => e.ariaLabel).join(' → ')}`);

    // The gateway counts its clients: once the session's conduit-claude has ended, the second window's lease is the one left.
    await until(() => sessionWrappers(suite.conduitHome).length === 0, 'the end of the session', 15_000);
    const leases = await suite.api<LeasesStatus>('GET', '/v1/conduit/leases');
    assert.equal(leases.status, 200);
    assert.equal(leases.body.startedBy, 'vscode');
    assert.deepEqual(leases.body.leases.map((l) => l.client), ['vscode-window']);
    await second.screenshot('1-session-finished-after-first-window-closed');

    // The last window closes: no client is left, and the gateway VS Code started stops.
    await second.close();
    await until(() => !alive(secondHosts[0]), "the end of the second window's extension host", 60_000);
    await until(() => !alive(gatewayPid), 'the gateway to stop once no window holds it', 60_000);
  });
});
