// The packaged extension in a real VS Code (code-server 4.100.3) driven through Chromium, in
// one code-server for the whole file, in order: it installs from the .vsix and activates;
// the gateway starts on its own and the status bar says so; agent sessions (the `conduit`
// task type) run the REAL claude CLI through the gateway to the Anthropic stand-in, and the
// status bar then shows the routed model and the cost; the gateway is stopped, attached to,
// started and restarted from the command palette; killed with SIGKILL, it is restarted by
// the supervisor. Each step leaves a screenshot in .test-output/host/.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, watch } from 'node:fs';
import path from 'node:path';
import type { RecordedRequest } from '../support/fakeAnthropic';
import { runConduit, type StatusBarItemState } from '../support/codeServer';
import { messagePosts, readNumber, useHostSuite } from '../support/hostSuite';
import { CALENDAR_SPEND, SHOWN_ROUNDING, statusTextAfter, todayCostOf, todayFigureOf } from './statusText';

/** The key the gateway holds for the stand-in (which refuses every other). */
const UPSTREAM_KEY = 'sk-test-host-upstream';
/** The model the project's default configuration routes to ({ enabled: true, defaultModel }). */
const ROUTED_MODEL = 'claude-sonnet-5-5';
/** The status bar item's aria-label: "Conduit gateway <health>[, last routed to <model>]". */
const STATUS_ITEM = 'Conduit gateway';
const RUNNING = /^Conduit gateway running(, |$)/;
/** "Conduit 0.1.0 is running on 127.0.0.1:PORT (pid N[, started outside this window])" (the version once known). */
const RUNNING_TOAST = /Conduit (?:\S+ )?is running on 127\.0\.0\.1:(\d+) \(pid (\d+)(, started outside this window)?\)/;

/** Every file under `dir`, relative and with forward slashes. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const rel = prefix ? `${prefix}/${name}` : name;
    return statSync(path.join(dir, name)).isDirectory() ? filesUnder(path.join(dir, name), rel) : [rel];
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try { // a zombie is not alive
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

/** Resolves with check()'s value once it is not null, re-checking on each change in `dir` (fs.watch). */
function whenInDir<T>(dir: string, check: () => T | null, what: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const first = check();
    if (first !== null) return resolve(first);
    const finish = (value: T | null, err?: Error) => {
      watcher.close();
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value as T);
    };
    const watcher = watch(dir, () => {
      const v = check();
      if (v !== null) finish(v);
    });
    const timer = setTimeout(() => finish(null, new Error(`waited ${timeoutMs} ms for ${what}`)), timeoutMs);
    const again = check(); // it may have happened between the first check and the watch
    if (again !== null) finish(again);
  });
}

/** Pids of the processes whose parent is `pid`, recursively (Linux /proc). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch { /* exited meanwhile */ }
  }
  const out: number[] = [];
  for (let queue = [pid]; queue.length;) {
    for (const child of children.get(queue.shift()!) ?? []) { out.push(child); queue.push(child); }
  }
  return out;
}

/** The conduit-claude processes (agent sessions) running with this CONDUIT_HOME. */
function sessionWrappers(conduitHome: string): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('conduit-claude.js')
        && readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`CONDUIT_HOME=${conduitHome}`)
        && alive(pid);
    } catch {
      return false;
    }
  });
}

/** Re-checks `check` every 100 ms until it holds (for what sends no event: a process ending). */
async function until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Today's cost in the status bar text ("... · $0.02 today · $0.05 this month"). */
function statusBarCost(item: StatusBarItemState): number {
  return todayCostOf(item.text);
}

describe('Synapse Conduit in VS Code (code-server + Chromium)', function () {
  // A real browser driving a real VS Code: one more try before a UI hiccup fails the run.
  this.retries(Number(process.env.CONDUIT_HOST_RETRIES ?? 1)); // 0 while debugging a failure
  const suite = useHostSuite({
    upstreamKey: UPSTREAM_KEY,
    screenshotPrefix: 'extension-',
    product: { workspaceFiles: { '.vscode/tasks.json': `${JSON.stringify({ version: '2.0.0', tasks: [{ type: 'conduit', prompt: 'say hi', label: 'say hi' }] }, null, 2)}\n` } },
  });

  const pidFile = () => path.join(suite.conduitHome, 'gateway.pid');
  const portFile = () => path.join(suite.conduitHome, 'gateway.port');

  async function conduitStatus(): Promise<{ running: boolean; pid: number | null; port: number | null }> {
    const r = await runConduit(suite.product.extensionDir, ['status', '--json'], suite.cliEnv);
    assert.ok(r.status === 0 || r.status === 3, `conduit status --json exited ${r.status}: ${r.stdout}${r.stderr}`);
    const status = JSON.parse(r.stdout) as { running: boolean; pid: number | null; port: number | null };
    return status;
  }

  /** Runs a palette command that reports the gateway and returns the toast's port and pid. */
  async function commandReportingGateway(title: string): Promise<{ port: number; pid: number; external: boolean }> {
    await suite.product.clearNotifications();
    await suite.product.runCommand(title);
    const toast = await suite.product.notification(RUNNING_TOAST, 60_000);
    const m = RUNNING_TOAST.exec(await toast.innerText());
    assert.ok(m, await toast.innerText());
    const [port, pid] = [Number(m[1]), Number(m[2])];
    return { port, pid, external: Boolean(m[3]) };
  }

  /**
   * Runs the "say hi" task of the workspace's tasks.json from "Tasks: Run Task" and waits for
   * its session to end in the terminal. Returns the requests the stand-in got and the session's text.
   */
  async function runSayHiTask(): Promise<{ posts: RecordedRequest[]; text: string }> {
    const before = messagePosts(suite.fake.requests).length;
    await suite.product.runCommand('Tasks: Run Task');
    await suite.product.answerInput('Select the task to run', { value: 'say hi', pick: 'say hi' });
    const posts = (await suite.fake.waitForRequests(before + 1, 90_000)).slice(before);
    const session = posts[0].headers['x-claude-code-session-id'];
    assert.equal(typeof session, 'string');
    const text = await suite.product.waitForTerminalText(new RegExp(`● session ${session}[^]*✓ done`), 90_000);
    return { posts, text: text.slice(text.lastIndexOf(`● session ${session}`)) };
  }

  it('installs from a .vsix that holds only the bundles, the embedded store and its snapshot, the ledger SQL and the docs', function () {
    const files = filesUnder(suite.product.extensionDir).filter((f) => f !== '.vsixmanifest');
    const unexpected = files.filter((f) =>
      !/^(package\.json|readme\.md|license(\.txt)?|changelog\.md)$/i.test(f) && // vsce renames readme.md and LICENSE.txt
      !/^dist\/.+\.js$/.test(f) &&
      !/^dist\/supabase\/.+\.sql$/.test(f) &&
      !/^dist\/(pglite\.wasm|pglite\.data|initdb\.wasm|store-snapshot\.tar\.gz|store-snapshot\.json)$/.test(f) &&
      !/^dist\/webview\/[\w-]+\.css$/.test(f) &&
      !f.startsWith('media/'));
    assert.deepEqual(unexpected, [], `files that should not ship: ${unexpected.join(', ')}`);
    for (const bundle of ['dist/extension.js', 'dist/conduit.js', 'dist/conduit-claude.js', 'dist/plugin-worker.js', 'dist/ledger-worker.js', 'dist/pglite.wasm', 'dist/pglite.data', 'dist/initdb.wasm', 'dist/store-snapshot.tar.gz', 'dist/store-snapshot.json']) {
      assert.ok(files.includes(bundle), `${bundle} is missing from the .vsix (has ${files.join(', ')})`);
    }
    assert.ok(files.some((f) => f.startsWith('dist/supabase/migrations/')), 'the ledger migrations are missing from the .vsix');
    const manifest = JSON.parse(readFileSync(path.join(suite.product.extensionDir, 'package.json'), 'utf8')) as { main: string };
    assert.equal(manifest.main, './dist/extension.js');
  });

  it('loads the workbench with the workspace open and activates on startup finished', async function () {
    this.timeout(90_000);
    const { page } = suite.product;
    await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ timeout: 30_000 });
    assert.match(await page.title(), new RegExp(path.basename(suite.product.workspace)));
    const line = await suite.product.activation('synapse.synapse-conduit', 60_000);
    assert.match(line, /activationEvent: 'onStartupFinished'/);
    await suite.screenshot('1-workbench');
  });

  it('starts the gateway on activation: the status bar goes from a spinner to "$(arrow-swap) Conduit · $0.00 today · $0.00 this month"', async function () {
    this.timeout(90_000);
    const running = await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING, text: /^\$\(arrow-swap\) Conduit · \$0\.00 today · \$0\.00 this month$/ }, 60_000);
    assert.equal(running.ariaLabel, 'Conduit gateway running');

    // Every state the item showed, recorded in the page from its first render on.
    const history = (await suite.product.statusBarHistory(STATUS_ITEM)).map((e) => `${e.ariaLabel} | ${e.text}`);
    const spinner = history.indexOf('Conduit gateway starting | $(loading~spin) Conduit');
    assert.ok(spinner >= 0, `no spinner while starting; the item showed: ${history.join(' → ')}`);
    assert.ok(history.indexOf('Conduit gateway running | $(arrow-swap) Conduit · $0.00 today · $0.00 this month') > spinner, history.join(' → '));

    // The gateway of the extension is the one `conduit` sees in the same CONDUIT_HOME.
    const pid = await whenInDir(suite.conduitHome, () => readNumber(pidFile()), 'gateway.pid', 10_000);
    const status = await conduitStatus();
    assert.equal(status.running, true);
    assert.equal(status.pid, pid);
    assert.equal(status.port, readNumber(portFile()));
    await suite.screenshot('2-gateway-running');
  });

  let costAfterFirstSession = 0;
  let costAfterSecondSession = 0;
  /** Today's figures as the status bar showed them (rounded to cents): the next session's wait is for another. */
  let figureAfterFirstSession: string | null = null;
  let figureAfterSecondSession: string | null = null;

  it('runs an agent session from the palette: the real claude CLI, through the gateway, to the stand-in', async function () {
    this.timeout(180_000);
    const shown = await suite.product.statusBarItem(STATUS_ITEM);
    const costBefore = shown && CALENDAR_SPEND.test(shown.text) ? statusBarCost(shown) : 0;
    const figureBefore = shown ? todayFigureOf(shown.text) : null;
    const before = messagePosts(suite.fake.requests).length;
    await suite.product.runCommand('Conduit: Run Agent Session');
    await suite.product.answerInput('What should the agent do?', { value: 'say hi' });

    // The stand-in gets the model the project's configuration routes to.
    const posts = (await suite.fake.waitForRequests(before + 1, 90_000)).slice(before);
    assert.equal(posts[0].body?.model, ROUTED_MODEL);
    assert.equal(posts[0].headers['x-api-key'] ?? posts[0].headers.authorization?.toString().replace(/^Bearer /, ''), UPSTREAM_KEY);
    const session = posts[0].headers['x-claude-code-session-id'];
    assert.equal(typeof session, 'string');

    // The task terminal shows this session readably, down to its end.
    const text = await suite.product.waitForTerminalText(new RegExp(`● session ${session}[^]*✓ done`), 90_000);
    const mine = text.slice(text.lastIndexOf(`● session ${session}`));
    assert.match(mine, /^hello$/m, `the assistant's text: ${mine}`);
    const routing = [...mine.matchAll(/⇄ (\S+) \((\S+?)(?::[^)]*)?\) · \d+ in \/ \d+ out · \$(\d+\.\d+)/g)];
    assert.ok(routing.length >= 1, `a routing line: ${mine}`);
    for (const [, model] of routing) assert.equal(model, ROUTED_MODEL);
    assert.match(mine, /✓ done in \d+\.\d s · 1 turn · \$\d+\.\d{4}/);
    for (const p of messagePosts(suite.fake.requests).slice(before)) assert.equal(p.body?.model, ROUTED_MODEL, 'every request of the session');

    // The status bar follows the gateway's event stream: the routed model (short name), its rule and the cost,
    // today's: what it showed before (a retry of this test runs after the first try's session) plus this session.
    const item = await suite.product.waitForStatusBarItem(STATUS_ITEM, {
      ariaLabel: new RegExp(`^Conduit gateway running, last routed to ${ROUTED_MODEL}$`),
      text: statusTextAfter(figureBefore),
    });
    costAfterFirstSession = statusBarCost(item);
    figureAfterFirstSession = todayFigureOf(item.text);
    const sessionCost = routing.reduce((sum, m) => sum + Number(m[3]), 0);
    assert.ok(sessionCost > 0, mine);
    assert.ok(Math.abs(costAfterFirstSession - costBefore - sessionCost) <= 2 * SHOWN_ROUNDING + 0.0001 * (routing.length + 1),
      `the status bar's cost ${costAfterFirstSession} is today's: ${costBefore} before and this session's requests, ${sessionCost}`);
    await suite.screenshot('3-agent-session-from-palette');
  });

  it('runs the conduit task of tasks.json from "Tasks: Run Task"; the cost adds up', async function () {
    this.timeout(180_000);
    const { posts, text } = await runSayHiTask();
    assert.equal(posts[0].body?.model, ROUTED_MODEL);
    assert.match(text, /^hello$/m);
    assert.match(text, new RegExp(`⇄ ${ROUTED_MODEL} \\(`));

    const item = await suite.product.waitForStatusBarItem(STATUS_ITEM, {
      ariaLabel: RUNNING,
      text: statusTextAfter(figureAfterFirstSession),
    });
    costAfterSecondSession = statusBarCost(item);
    figureAfterSecondSession = todayFigureOf(item.text);
    assert.ok(costAfterSecondSession > costAfterFirstSession, `today's cost grows: ${costAfterFirstSession} → ${item.text}`);
    await suite.screenshot('4-agent-session-from-tasks-json');
  });

  it('stops the gateway from the palette; the status bar and "Show Gateway Status" say so', async function () {
    this.timeout(90_000);
    const pid = readNumber(pidFile());
    assert.ok(pid);
    await suite.product.clearNotifications();
    await suite.product.runCommand('Conduit: Stop Gateway');
    await suite.product.notification('Conduit gateway stopped.');
    const item = await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: /^Conduit gateway stopped/, text: /^\$\(circle-slash\) Conduit$/ });
    assert.match(item.ariaLabel, /^Conduit gateway stopped/);
    assert.equal(alive(pid), false, `the gateway (pid ${pid}) has ended`);
    assert.equal(existsSync(pidFile()), false, 'gateway.pid is removed');
    assert.equal((await conduitStatus()).running, false);

    await suite.product.runCommand('Conduit: Show Gateway Status');
    const toast = await suite.product.notification('Conduit is not running');
    assert.match(await toast.innerText(), /Start it with .?Conduit: Start Gateway/);
    await suite.screenshot('5-gateway-stopped');
  });

  it('attaches to a gateway started outside VS Code, and restarts it as its own', async function () {
    this.timeout(120_000);
    const outside = await runConduit(suite.product.extensionDir, ['start', '--port', '0'], suite.cliEnv);
    assert.equal(outside.status, 0, `conduit start: ${outside.stdout}${outside.stderr}`);
    const outsidePid = readNumber(pidFile())!;

    const attached = await commandReportingGateway('Conduit: Start Gateway');
    assert.deepEqual(attached, { port: readNumber(portFile()), pid: outsidePid, external: true });
    await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING });
    await suite.screenshot('6-gateway-attached');

    const own = await commandReportingGateway('Conduit: Restart Gateway');
    assert.equal(own.external, false, 'restarted by this window, so its own');
    assert.notEqual(own.pid, outsidePid);
    assert.equal(alive(outsidePid), false, 'the gateway started outside was stopped');
    const status = await conduitStatus();
    assert.deepEqual({ running: status.running, pid: status.pid, port: status.port }, { running: true, pid: own.pid, port: own.port });
    await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING, text: /^\$\(arrow-swap\) / });
    await suite.screenshot('7-gateway-restarted');
  });

  it('starts the gateway from the palette after a stop; `conduit status --json` agrees', async function () {
    this.timeout(90_000);
    await suite.product.runCommand('Conduit: Stop Gateway');
    await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: /^Conduit gateway stopped/ });
    const started = await commandReportingGateway('Conduit: Start Gateway');
    assert.equal(started.external, false);
    await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING, text: /^\$\(arrow-swap\) / });
    const status = await conduitStatus();
    assert.deepEqual({ running: status.running, pid: status.pid, port: status.port }, { running: true, pid: started.pid, port: started.port });
    await suite.screenshot('8-gateway-started');
  });

  it('restarts the gateway when it is killed with SIGKILL', async function () {
    this.timeout(90_000);
    const pid = readNumber(pidFile());
    assert.ok(pid && alive(pid), 'a gateway runs');
    assert.equal((await conduitStatus()).pid, pid);
    const seen = (await suite.product.statusBarHistory(STATUS_ITEM)).length;
    await suite.product.clearNotifications();

    process.kill(pid, 'SIGKILL');
    // gateway.pid still names the dead one until the new gateway writes its own.
    const next = await whenInDir(suite.conduitHome, () => {
      const p = readNumber(pidFile());
      return p !== null && p !== pid && alive(p) ? p : null;
    }, 'a new gateway pid in gateway.pid', 60_000);
    assert.equal(alive(pid), false);

    await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING, text: /^\$\(arrow-swap\) / });
    const after = (await suite.product.statusBarHistory(STATUS_ITEM)).slice(seen).map((e) => `${e.ariaLabel} | ${e.text}`);
    assert.ok(after.some((e) => /^Conduit gateway starting\b.* \| \$\(loading~spin\) Conduit$/.test(e)), `a spinner while it restarts: ${after.join(' → ')}`);
    assert.match(after[after.length - 1], RUNNING);
    const status = await conduitStatus();
    assert.equal(status.running, true);
    assert.equal(status.pid, next);

    // The item's tooltip names the new gateway's port and lists the sessions' decisions.
    await suite.product.page.locator(`.statusbar-item[aria-label^="${STATUS_ITEM}"]`).hover();
    const tooltip = suite.product.page.locator('.monaco-hover, .workbench-hover').filter({ hasText: `running on 127.0.0.1:${status.port}` }).first();
    await tooltip.waitFor({ timeout: 30_000 });
    assert.match(await tooltip.innerText(), /sonnet\u20115\u20115/, 'the model id, with non-breaking hyphens (it never wraps)');
    await suite.screenshot('9-gateway-restarted-after-sigkill');

    // The event stream followed the new gateway: a session now still reaches the status bar.
    await suite.product.page.keyboard.press('Escape');
    const { posts } = await runSayHiTask();
    assert.equal(posts[0].body?.model, ROUTED_MODEL);
    const item = await suite.product.waitForStatusBarItem(STATUS_ITEM, {
      ariaLabel: RUNNING,
      text: statusTextAfter(figureAfterSecondSession),
    });
    assert.ok(statusBarCost(item) > costAfterSecondSession, item.text);
  });

  it('cancelling an agent session ends its whole process tree', async function () {
    this.timeout(120_000);
    // The last session's conduit-claude may still be finishing (its last metadata lines) after "✓ done".
    await until(() => sessionWrappers(suite.conduitHome).length === 0, 'the end of the earlier sessions', 15_000);
    const before = messagePosts(suite.fake.requests).length;
    suite.fake.enqueue({ kind: 'hang' }); // claude waits for an answer that never comes
    await suite.product.runCommand('Conduit: Run Agent Session');
    await suite.product.answerInput('What should the agent do?', { value: 'wait forever' });
    await suite.fake.waitForRequests(before + 1, 90_000);
    const [wrapper, ...others] = sessionWrappers(suite.conduitHome);
    assert.ok(wrapper, 'conduit-claude runs');
    assert.deepEqual(others, []);
    const tree = [wrapper, ...descendants(wrapper)];
    assert.ok(tree.length >= 2, 'conduit-claude and the claude it started');
    await suite.product.waitForTerminalText(/\$ conduit-claude -p "wait forever"/);
    await suite.screenshot('10-agent-session-waiting');

    await suite.product.runCommand('Tasks: Terminate Task');
    await suite.product.answerInput('Select a task to terminate', { pick: 'conduit: Run agent session' });
    // VS Code closes a terminated task's terminal: what is left to see is that every process ended.
    await until(() => !tree.some(alive), `the end of the session's processes ${tree.join(', ')}`, 15_000);
    await suite.screenshot('11-agent-session-cancelled');
  });
});
