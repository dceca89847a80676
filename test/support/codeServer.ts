/**
 * The packaged extension in a real VS Code: code-server with a fresh profile, driven by
 * Debian's Chromium through playwright-core. For the host suites (test/host).
 *
 * Per run: the .vsix is packaged once into a temp folder. Per call of openProductInBrowser:
 * a fresh user-data dir, extensions dir and workspace folder, one code-server on a free
 * loopback port and one headless Chromium page on it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type * as CodeServerHelpers from '../../scripts/code-server.mjs' with { 'resolution-mode': 'import' };

export const EXTENSION_ID = 'synapse.synapse-conduit';
const repoRoot = path.resolve(__dirname, '../..');
/** Screenshots of the host suites, kept with the test output. */
export const screenshotDir = path.join(repoRoot, '.test-output/host');

// Launch flags verified with Debian's Chromium here (see ../shared/ENVIRONMENT.md).
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// scripts/code-server.mjs is an ES module shared with `npm start`; this file is CommonJS.
function helpers(): Promise<typeof CodeServerHelpers> {
  return import('../../scripts/code-server.mjs');
}

/**
 * Checks Chromium and installs code-server when missing (1 to 4 minutes on a fresh
 * machine, a no-op afterwards). Throws an error that says what to install.
 */
export async function ensureCodeServer(log: (line: string) => void = () => {}): Promise<void> {
  const h = await helpers();
  const missing = h.missingSystemPackages({ chromium: true, install: !h.isCodeServerInstalled() });
  if (missing.length) {
    throw new Error(
      `The host tests need code-server ${h.CODE_SERVER_VERSION} and Chromium. Missing Debian packages: ${missing.join(', ')}.\n` +
      `Install them with:\n  ${h.aptInstallCommand(missing)}\n` +
      'The suite then installs code-server itself (or beforehand: npm run setup:code-server).',
    );
  }
  await h.installCodeServer({ log });
}

let vsixDir: string | undefined;
let vsix: Promise<string> | undefined;

/**
 * The extension packaged by `vsce package` (production build) from a staged copy of the
 * working tree, once per test run; the repository's dist/ is not rebuilt.
 */
export function packagedVsix(): Promise<string> {
  vsix ??= helpers().then((h) => {
    vsixDir = mkdtempSync(path.join(os.tmpdir(), 'conduit-vsix-'));
    process.once('exit', () => rmSync(vsixDir!, { recursive: true, force: true }));
    return h.packageVsix(path.join(vsixDir, 'synapse-conduit.vsix'), { isolated: true });
  });
  return vsix;
}

export interface ProductInBrowser {
  page: Page;
  /** Root URL of code-server. */
  url: string;
  /** Where the .vsix was installed: the files the extension runs from. */
  extensionDir: string;
  /** The workspace folder that is open. */
  workspace: string;
  /**
   * Waits for the extension host's log to record the extension's activation and returns that
   * line ("ExtensionService#_doActivateExtension <id>, startup: ..., activationEvent: '...'").
   */
  activation(extensionId?: string, timeoutMs?: number): Promise<string>;
  /** F1, the command's title, Enter. */
  runCommand(title: string): Promise<void>;
  /** The notification toast that contains `text`, once visible and done moving in. */
  notification(text: string | RegExp, timeoutMs?: number): Promise<Locator>;
  /** Clears every notification and waits until no toast is left. */
  clearNotifications(): Promise<void>;
  /** Saves .test-output/host/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  /** code-server's output so far, for failure messages. */
  serverOutput(): string;
  close(): Promise<void>;
}

export interface ProductOptions {
  /** Extra environment of code-server and so of the extension host (CONDUIT_HOME, ...). */
  env?: NodeJS.ProcessEnv;
  /** Extra User settings. */
  settings?: Record<string, unknown>;
}

/** Installs the packaged extension into a fresh profile, starts code-server, opens the workbench in Chromium. */
export async function openProductInBrowser(options: ProductOptions = {}): Promise<ProductInBrowser> {
  const h = await helpers();
  const vsixFile = await packagedVsix();
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'conduit-host-'));
  const userDataDir = path.join(scratch, 'user-data');
  const extensionsDir = path.join(scratch, 'extensions');
  const workspace = path.join(scratch, 'workspace');
  // code-server's heartbeat and logs go to $XDG_DATA_HOME/code-server: keep them out of ~.
  const serverEnv = { ...process.env, XDG_DATA_HOME: path.join(scratch, 'xdg-data'), ...options.env };
  let extensionDir: string | null;
  let server: CodeServerHelpers.RunningCodeServer;
  try {
    mkdirSync(workspace);
    h.installVsix({ vsix: vsixFile, userDataDir, extensionsDir, env: serverEnv });
    extensionDir = h.installedExtensionDir(extensionsDir, EXTENSION_ID);
    if (!extensionDir) throw new Error(`${EXTENSION_ID} is not in ${extensionsDir} after installing ${vsixFile}`);
    h.writeSettings(userDataDir, options.settings);
    server = await h.startCodeServer({
      folder: workspace, userDataDir, extensionsDir,
      env: serverEnv,
      logFile: path.join(scratch, 'code-server.log'),
    });
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    throw err;
  }

  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: h.chromiumPath, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('#workbench\\.parts\\.statusbar').waitFor({ timeout: 60_000 });
    mkdirSync(screenshotDir, { recursive: true });

    const product: ProductInBrowser = {
      page,
      url: server.url,
      extensionDir,
      workspace,
      activation: (extensionId = EXTENSION_ID, timeoutMs = 60_000) => activationLogLine(userDataDir, extensionId, timeoutMs),
      async runCommand(title) {
        // The palette lists the commands registered when it opened: wait for the extension to
        // be active first (activation()), else the command may not be listed yet.
        const input = page.locator('.quick-input-widget input.input');
        const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
        await page.keyboard.press('F1');
        await input.waitFor();
        await input.fill(`>${title}`);
        try {
          await row.waitFor({ timeout: 10_000 });
        } catch (err) {
          await page.keyboard.press('Escape');
          throw new Error(`"${title}" is not in the command palette: ${(err as Error).message}`);
        }
        await input.press('Enter');
        await input.waitFor({ state: 'hidden' });
      },
      async notification(text, timeoutMs = 30_000) {
        const toast = page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
        await toast.waitFor({ timeout: timeoutMs });
        await toast.hover({ trial: true, timeout: timeoutMs }); // waits until it stops sliding in
        return toast;
      },
      async clearNotifications() {
        await product.runCommand('Notifications: Clear All Notifications');
        await page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'detached' });
      },
      async screenshot(name) {
        const file = path.join(screenshotDir, `${name}.png`);
        await page.screenshot({ path: file });
        return file;
      },
      serverOutput: () => server.output(),
      async close() {
        await browser?.close();
        await server.stop();
        rmSync(scratch, { recursive: true, force: true });
      },
    };
    return product;
  } catch (err) {
    await browser?.close();
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n--- code-server output ---\n${server.output()}`);
  }
}

/**
 * The remote extension host logs each activation at info level in
 * <user-data>/logs/<session>/exthost<N>/remoteexthost.log. Re-reads it until the line for
 * `extensionId` is there (a bounded poll: the log is the only signal the minimal extension gives).
 */
async function activationLogLine(userDataDir: string, extensionId: string, timeoutMs: number): Promise<string> {
  const needle = `ExtensionService#_doActivateExtension ${extensionId},`;
  const logsDir = path.join(userDataDir, 'logs');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sessions = existsSync(logsDir) ? readdirSync(logsDir, { withFileTypes: true }).filter((d) => d.isDirectory()) : [];
    for (const { name: session } of sessions) {
      for (const host of readdirSync(path.join(logsDir, session)).filter((d) => d.startsWith('exthost'))) {
        const log = path.join(logsDir, session, host, 'remoteexthost.log');
        const line = existsSync(log) ? readFileSync(log, 'utf8').split('\n').find((l) => l.includes(needle)) : undefined;
        if (line) return line;
      }
    }
    if (Date.now() > deadline) throw new Error(`${extensionId} did not activate within ${timeoutMs} ms (no "${needle}" in ${logsDir}/*/exthost*/remoteexthost.log)`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Runs the packaged gateway CLI (dist/conduit.js of the installed extension) with `env`. */
export function runConduit(extensionDir: string, args: string[], env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(extensionDir, 'dist/conduit.js'), ...args], {
    env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
