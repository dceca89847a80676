/**
 * What every host suite (test/host) sets up the same way: the Anthropic stand-in, a scratch
 * CONDUIT_HOME and HOME, the packaged extension in a real VS Code with them, a screenshot of
 * each failed test, and at the end every process of this CONDUIT_HOME gone. Call inside a
 * describe(); it registers the hooks and returns accessors.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from '../../src/conduit/client/request';
import { startFakeAnthropic, type FakeAnthropic, type FakeAnthropicOptions, type RecordedRequest } from './fakeAnthropic';
import { ensureCodeServer, openProductInBrowser, screenshotDir, type ProductInBrowser, type ProductOptions } from './codeServer';

const ROOT = path.resolve(__dirname, '../..');
export const CLAUDE = path.join(ROOT, 'node_modules/.bin/claude');

export function messagePosts(requests: RecordedRequest[]): RecordedRequest[] {
  return requests.filter((r) => r.method === 'POST' && new URL(r.url, 'http://x').pathname === '/v1/messages');
}

export function readNumber(file: string): number | null {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** This process's PATH without the folders that hold a claude (node_modules/.bin when run by npm). */
function pathWithoutClaude(): string {
  return (process.env.PATH ?? '').split(path.delimiter).filter((dir) => dir && !existsSync(path.join(dir, 'claude'))).join(path.delimiter);
}

export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Processes whose environment has this CONDUIT_HOME (gateways and sessions a failure left). */
export function processesOfHome(conduitHome: string): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try {
      return pid !== process.pid && readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`CONDUIT_HOME=${conduitHome}`);
    } catch {
      return false;
    }
  });
}

export interface HostSuiteOptions {
  /** The key the gateway holds for the stand-in (which refuses every other). */
  upstreamKey: string;
  /** Prefix of this suite's screenshots, which are cleared before it runs. */
  screenshotPrefix: string;
  fake?: Omit<FakeAnthropicOptions, 'requireApiKey'>;
  product?: Omit<ProductOptions, 'env'>;
  /**
   * A newcomer's machine: no provider key in the environment (the test sets upstreamKey
   * through "Conduit: Set Provider API Key"), and claude neither in the environment
   * (CONDUIT_CLAUDE_PATH) nor on PATH but where `npm ci` leaves it, in the workspace's
   * node_modules/.bin.
   */
  newcomer?: boolean;
  /** With newcomer, false leaves claude out of the workspace too: nowhere to be found. */
  claudeInWorkspace?: boolean;
  /** More of the gateway's config.json (e.g. providers.anthropic.models), written before it starts. */
  config?: Record<string, unknown>;
}

export interface HostSuite {
  readonly product: ProductInBrowser;
  readonly fake: FakeAnthropic;
  readonly conduitHome: string;
  /** The environment `conduit` runs with outside VS Code: the same CONDUIT_HOME and stand-in. */
  readonly cliEnv: NodeJS.ProcessEnv;
  /** The gateway's local API, as the extension calls it (port file + token of CONDUIT_HOME). */
  api<T>(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: T }>;
  /**
   * Runs "Conduit: Run Agent Session" with `prompt` and waits for the session's end in the
   * terminal; returns the stand-in's requests of it and the session's text.
   */
  runAgentSession(prompt: string): Promise<{ posts: RecordedRequest[]; text: string }>;
  screenshot(name: string): Promise<string>;
}

export function useHostSuite(o: HostSuiteOptions): HostSuite {
  let product: ProductInBrowser | undefined;
  let fake: FakeAnthropic | undefined;
  let scratch = '';
  let conduitHome = '';
  let cliEnv: NodeJS.ProcessEnv = {};

  const suite: HostSuite = {
    get product() { assert.ok(product, 'the product is not open (its before hook failed)'); return product; },
    get fake() { assert.ok(fake); return fake; },
    get conduitHome() { return conduitHome; },
    get cliEnv() { return cliEnv; },
    async api<T>(method: string, urlPath: string, body?: unknown) {
      const port = readNumber(path.join(conduitHome, 'gateway.port'));
      assert.ok(port, 'the gateway has no port file');
      const token = readFileSync(path.join(conduitHome, 'token'), 'utf8').trim();
      const r = await request(port, method, urlPath, { token, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs: 10_000 });
      return { status: r.status, body: (r.body ? JSON.parse(r.body) : null) as T };
    },
    async runAgentSession(prompt) {
      const before = messagePosts(suite.fake.requests).length;
      await suite.product.runCommand('Conduit: Run Agent Session');
      await suite.product.answerInput('What should the agent do?', { value: prompt });
      const posts = (await suite.fake.waitForRequests(before + 1, 90_000)).slice(before);
      const session = posts[0].headers['x-claude-code-session-id'];
      assert.equal(typeof session, 'string');
      const text = await suite.product.waitForTerminalText(new RegExp(`● session ${session}[^]*(✓ done|✗)`), 90_000);
      return { posts: messagePosts(suite.fake.requests).slice(before), text: text.slice(text.lastIndexOf(`● session ${session}`)) };
    },
    screenshot: (name) => suite.product.screenshot(`${o.screenshotPrefix}${name}`),
  };

  before(async function () {
    this.timeout(15 * 60_000); // a first run installs code-server (1 to 4 minutes)
    assert.ok(existsSync(CLAUDE), `${CLAUDE} is missing (npm ci installs @anthropic-ai/claude-code)`);
    await ensureCodeServer((line) => console.log(`      ${line}`));
    for (const f of existsSync(screenshotDir) ? readdirSync(screenshotDir) : []) {
      if (f.endsWith('.png') && (f.startsWith(o.screenshotPrefix) || f.startsWith(`failed-${o.screenshotPrefix}`))) rmSync(path.join(screenshotDir, f));
    }
    fake = await startFakeAnthropic({ ...o.fake, requireApiKey: o.upstreamKey });
    scratch = mkdtempSync(path.join(os.tmpdir(), `conduit-host-${o.screenshotPrefix}`));
    conduitHome = path.join(scratch, 'conduit-home');
    const home = path.join(scratch, 'home'); // claude's ~/.claude and everything else under ~
    mkdirSync(conduitHome);
    mkdirSync(home);
    // Never the default port: other test runs and other people's gateways may hold it.
    writeFileSync(path.join(conduitHome, 'config.json'), JSON.stringify({ ...o.config, port: 0 }));
    cliEnv = { CONDUIT_HOME: conduitHome, HOME: home, CONDUIT_ANTHROPIC_URL: fake.url, ...(o.newcomer ? {} : { ANTHROPIC_API_KEY: o.upstreamKey }) };
    const claudeWhere: NodeJS.ProcessEnv = o.newcomer ? { PATH: pathWithoutClaude(), CONDUIT_CLAUDE_PATH: undefined, npm_config_prefix: undefined, NPM_CONFIG_PREFIX: undefined } : { CONDUIT_CLAUDE_PATH: CLAUDE };
    product = await openProductInBrowser({
      ...o.product,
      ...(o.newcomer && o.claudeInWorkspace !== false ? { workspaceLinks: { ...o.product?.workspaceLinks, 'node_modules/.bin/claude': CLAUDE } } : {}),
      // code-server's environment is the extension host's, and so the gateway's and the agent sessions'.
      env: { ...cliEnv, ...claudeWhere, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
      settings: {
        'terminal.integrated.gpuAcceleration': 'off', // xterm.js's DOM renderer: the terminal's text is in the page
        'task.problemMatchers.neverPrompt': true,
        'workbench.startupEditor': 'none',
        ...o.product?.settings,
      },
    });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && product) {
      const file = await product.screenshot(`failed-${o.screenshotPrefix}${this.currentTest.title.replace(/\W+/g, '-')}`).catch(() => null);
      if (file) console.log(`      screenshot of the failure: ${file}`);
      const log = product.extensionLog().trim().split('\n').slice(-15).join('\n        ');
      if (log) console.log(`      the extension's log ends with:\n        ${log}`);
      // Whatever input the failed test left open would stand in the next one's way.
      for (let i = 0; i < 3; i++) await product.page.keyboard.press('Escape').catch(() => {});
    }
  });

  after(async function () {
    this.timeout(60_000);
    await product?.close(); // ends code-server and every process under it, the gateway it started included
    if (conduitHome) for (const pid of processesOfHome(conduitHome)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    await fake?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  return suite;
}
