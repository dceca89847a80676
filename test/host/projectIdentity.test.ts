// One project wherever claude runs (code-server + Chromium): the workspace folder is a
// repository whose remote names the project (src/conduit/client/projectIdentity.ts). A task of
// tasks.json, and conduit-claude typed into a terminal of the folder (no SYNAPSE_PROJECT_ID),
// both run the REAL claude through the gateway to the Anthropic stand-in and record into the
// same project, the one the remote names. Then history recorded under a random key, as older
// versions kept in VS Code's workspace state, shows under that project once the extension
// starts again with that key in its state.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { EXTENSION_ID } from '../support/codeServer';
import { CLAUDE, messagePosts, useHostSuite } from '../support/hostSuite';
import type { ProjectInfo } from '../../src/protocol/projects';

const UPSTREAM_KEY = 'sk-test-host-identity';
/** The folder's origin, written as people do; the project's key is its normalised form. */
const REMOTE = 'git@GitHub.com:acme/identity-host.git';
const PROJECT_KEY = 'github.com/acme/identity-host';

/** A repository as `git init` leaves it, with the remote: what projectIdentity.ts reads. */
const GIT_FILES: Record<string, string> = {
  '.git/HEAD': 'ref: refs/heads/main\n',
  '.git/config': `[core]\n\trepositoryformatversion = 0\n\tbare = false\n[remote "origin"]\n\turl = ${REMOTE}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n`,
  '.git/objects/info/.keep': '',
  '.git/refs/heads/.keep': '',
};

interface RecentRequest { projectId: string | null; sessionId: string | null }

describe('One project wherever claude runs (code-server + Chromium)', function () {
  this.retries(Number(process.env.CONDUIT_HOST_RETRIES ?? 1));
  const suite = useHostSuite({
    upstreamKey: UPSTREAM_KEY,
    screenshotPrefix: 'project-identity-',
    product: {
      workspaceFiles: { ...GIT_FILES, '.vscode/tasks.json': `${JSON.stringify({ version: '2.0.0', tasks: [{ type: 'conduit', prompt: 'say hi', label: 'say hi' }] }, null, 2)}\n` },
    },
  });
  const sessions: Record<'task' | 'terminal' | 'old', string> = { task: '', terminal: '', old: '' };

  /** Waits until `check` returns a value (the gateway and the store change in the background). */
  async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown = null;
    for (;;) {
      try {
        const v = await check();
        if (v) return v;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  const project = async (key: string) => {
    const r = await suite.api<ProjectInfo>('GET', `/v1/conduit/projects/${encodeURIComponent(key)}`);
    return r.status === 200 ? r.body : null;
  };

  /** The stored requests the analytics show for a project key. */
  async function recent(key: string): Promise<RecentRequest[]> {
    const r = await suite.api<{ requests: RecentRequest[] }>('GET', `/v1/conduit/analytics/recent?project=${encodeURIComponent(key)}&range=day&limit=100`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.requests;
  }

  /** The session id (claude's) of the requests the stand-in got from `before` on, once there is one. */
  async function sessionOfNextRequests(before: number): Promise<string> {
    const posts = (await suite.fake.waitForRequests(before + 1, 90_000)).slice(before);
    const session = posts[0].headers['x-claude-code-session-id'];
    assert.equal(typeof session, 'string');
    return session as string;
  }

  it('the extension names the folder\'s project by its remote', async function () {
    this.timeout(120_000);
    await suite.product.activation();
    // At start the extension creates the project under its derived key.
    const info = await until('the project of the derived key', () => project(PROJECT_KEY), 90_000);
    assert.equal(info.workspaceKey, PROJECT_KEY);
    assert.equal(info.name, 'workspace');
  });

  it('a task of tasks.json records into that project', async function () {
    this.timeout(180_000);
    const before = messagePosts(suite.fake.requests).length;
    await suite.product.runCommand('Tasks: Run Task');
    await suite.product.answerInput('Select the task to run', { value: 'say hi', pick: 'say hi' });
    sessions.task = await sessionOfNextRequests(before);
    await suite.product.waitForTerminalText(new RegExp(`● session ${sessions.task}[^]*✓ done`), 90_000);
  });

  it('conduit-claude typed into a terminal of the folder (no SYNAPSE_PROJECT_ID) records into the same project', async function () {
    this.timeout(180_000);
    const before = messagePosts(suite.fake.requests).length;
    await suite.product.runCommand('Terminal: Create New Terminal');
    const input = suite.product.page.locator('.terminal-wrapper.active .xterm-helper-textarea').last();
    await input.waitFor({ state: 'attached', timeout: 30_000 });
    await input.focus();
    // The marker's text only appears once the shell ran it ($((6*7)) as typed).
    const wrapper = path.join(suite.product.extensionDir, 'dist', 'conduit-claude.js');
    await suite.product.page.keyboard.type(`unset SYNAPSE_PROJECT_ID; "${process.execPath}" "${wrapper}" -p "say hi"; echo "terminal-done-$?-$((6*7))"`);
    await suite.product.page.keyboard.press('Enter');
    sessions.terminal = await sessionOfNextRequests(before);
    const text = await suite.product.waitForTerminalText(/terminal-done-\d+-42/, 120_000);
    assert.match(text, /terminal-done-0-42/, text);
    await suite.screenshot('1-terminal');

    // What each session carried, and where the store put it.
    for (const id of [sessions.task, sessions.terminal]) {
      const s = await suite.api<{ records: { context: { projectId?: string } }[] }>('GET', `/v1/conduit/sessions/${encodeURIComponent(id)}`);
      assert.equal(s.status, 200);
      assert.ok(s.body.records.length > 0);
      for (const r of s.body.records) assert.equal(r.context.projectId, PROJECT_KEY, `session ${id}`);
    }
    const info = await project(PROJECT_KEY);
    assert.ok(info);
    const stored = await until('both sessions in the analytics of the project', async () => {
      const rows = await recent(PROJECT_KEY);
      return [sessions.task, sessions.terminal].every((s) => rows.some((r) => r.sessionId === s)) ? rows : null;
    });
    assert.deepEqual([...new Set(stored.map((r) => r.projectId))], [info.id], 'one project');
  });

  it('history recorded under an older version\'s random key shows under the derived project once the extension starts with it', async function () {
    this.timeout(240_000);
    const oldKey = randomUUID();
    // A session of that older version: its tasks carried the random key.
    const before = messagePosts(suite.fake.requests).length;
    const exit = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(suite.product.extensionDir, 'dist', 'conduit-claude.js'), '-p', 'say hi'], {
        cwd: os.tmpdir(), stdio: 'ignore',
        env: { ...process.env, ...suite.cliEnv, CONDUIT_CLAUDE_PATH: CLAUDE, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', SYNAPSE_PROJECT_ID: oldKey },
      });
      child.once('error', reject);
      child.once('close', resolve);
    });
    assert.equal(exit, 0);
    sessions.old = await sessionOfNextRequests(before);
    const old = await until('the old key\'s project', async () => ((await recent(oldKey)).some((r) => r.sessionId === sessions.old) ? project(oldKey) : null));
    const derived = await project(PROJECT_KEY);
    assert.ok(derived);
    assert.notEqual(old.id, derived.id);

    // That version's workspace state: the folder's random key under the extension's id in
    // the workbench's IndexedDB (code-server keeps workspace state in the browser).
    await suite.product.page.evaluate(async ({ extensionId, oldKey }) => {
      const names = (await indexedDB.databases()).map((d) => d.name ?? '').filter((n) => n.startsWith('vscode-web-state-db-') && !n.endsWith('-global'));
      if (names.length !== 1) throw new Error(`expected one workspace state database, found ${JSON.stringify(names)}`);
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(names[0]);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const store = () => db.transaction('ItemTable', 'readwrite').objectStore('ItemTable');
      const current = await new Promise<string | undefined>((resolve, reject) => {
        const get = store().get(extensionId);
        get.onsuccess = () => resolve(get.result as string | undefined);
        get.onerror = () => reject(get.error);
      });
      const state = JSON.parse(current ?? '{}') as Record<string, unknown>;
      const confirmed = Object.keys(state).find((k) => k.startsWith('conduit.confirmedProjectKey:'));
      if (!confirmed) throw new Error(`the extension's workspace state has no confirmed key: ${current}`);
      state[`conduit.projectKey:${confirmed.slice('conduit.confirmedProjectKey:'.length)}`] = oldKey;
      await new Promise<void>((resolve, reject) => {
        const put = store().put(JSON.stringify(state), extensionId);
        put.onsuccess = () => resolve();
        put.onerror = () => reject(put.error);
      });
      db.close();
    }, { extensionId: EXTENSION_ID, oldKey });

    // The extension starts again (a reload is a new extension host) and finds the old key.
    await suite.product.page.reload();
    const adopted = await until('the old key naming the derived project', async () => {
      const p = await project(oldKey);
      return p?.id === derived.id ? p : null;
    }, 120_000);
    assert.equal(adopted.workspaceKey, PROJECT_KEY);
    const rows = await recent(PROJECT_KEY);
    for (const s of [sessions.task, sessions.terminal, sessions.old]) assert.ok(rows.some((r) => r.sessionId === s), `session ${s} is in the project's analytics`);
    assert.deepEqual([...new Set(rows.map((r) => r.projectId))], [derived.id]);
    await suite.screenshot('2-after-restart');
  });
});
