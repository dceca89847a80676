/**
 * The packaged extension in a real VS Code: code-server with a fresh profile, driven by
 * Debian's Chromium through playwright-core (or desktop VS Code's own window, see
 * desktopVscode.ts). For the host suites (test/host).
 *
 * Per run: the .vsix is packaged once into a temp folder. Per call of openProductInBrowser:
 * a fresh user-data dir, extensions dir and workspace folder, one code-server on a free
 * loopback port and one headless Chromium page on it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type * as CodeServerHelpers from '../../scripts/code-server.mjs' with { 'resolution-mode': 'import' };
import { desktopExecutable, desktopRequested, installVsixDesktop, launchDesktop, type LaunchedWorkbench } from './desktopVscode';

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

/** One workbench window: its page and what drives it. */
export interface ProductWindow {
  page: Page;
  /** F1, the command's title, Enter; resolves once the palette has closed or moved on to the command's own input. */
  runCommand(title: string): Promise<void>;
  /**
   * Answers the input box or quick pick that shows `prompt` (as its message or placeholder):
   * types `value` when given, then clicks the item labelled `pick`, or presses Enter.
   */
  answerInput(prompt: string, answer?: { value?: string; pick?: string; timeoutMs?: number }): Promise<void>;
  /** The notification toast that contains `text`, once visible and done moving in. */
  notification(text: string | RegExp, timeoutMs?: number): Promise<Locator>;
  /** Clears every notification and waits until no toast is left. */
  clearNotifications(): Promise<void>;
  /**
   * The status bar item whose aria-label starts with `ariaLabelPrefix`, as its text was set:
   * icons back in their `$(name)` / `$(name~spin)` form, e.g. "$(arrow-swap) Conduit · $0.0000".
   * Null when there is no such item.
   */
  statusBarItem(ariaLabelPrefix: string): Promise<StatusBarItemState | null>;
  /** Waits (on every animation frame) until that item's aria-label and text match; returns it. */
  waitForStatusBarItem(ariaLabelPrefix: string, match: { ariaLabel?: RegExp; text?: RegExp }, timeoutMs?: number): Promise<StatusBarItemState>;
  /** Every state that item has shown since the page loaded, oldest first (recorded in the page by a MutationObserver). */
  statusBarHistory(ariaLabelPrefix: string): Promise<StatusBarItemState[]>;
  /** The text of the visible terminal(s) (xterm.js DOM renderer: set terminal.integrated.gpuAcceleration "off"). */
  terminalText(): Promise<string>;
  /** Waits (on every animation frame) until the visible terminal's text matches; returns that text. */
  waitForTerminalText(match: RegExp, timeoutMs?: number): Promise<string>;
  /** Saves .test-output/host/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
}

export interface ProductInBrowser extends ProductWindow {
  /** code-server's root URL, or "desktop:<executable>" for desktop VS Code. */
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
  /** The extension's own log (its "Conduit" output channel) so far, for failure messages. */
  extensionLog(): string;
  /** code-server's (or desktop VS Code's) output so far, for failure messages. */
  serverOutput(): string;
  close(): Promise<void>;
  /**
   * Opens a second window on the same workbench: with code-server, another browser page,
   * which gets its own extension host (as a second VS Code window would). Its close() closes
   * that page the way a person closes a tab (beforeunload runs).
   */
  openWindow(): Promise<ProductWindow & { close(): Promise<void> }>;
}

export interface StatusBarItemState {
  ariaLabel: string;
  /** The text with its icons as `$(name)`, as the extension set it. */
  text: string;
}

export interface ProductOptions {
  /** Extra environment of code-server and so of the extension host (CONDUIT_HOME, ...). */
  env?: NodeJS.ProcessEnv;
  /** Extra User settings. */
  settings?: Record<string, unknown>;
  /** Files to put in the workspace folder before it opens (relative path → content), e.g. ".vscode/tasks.json". */
  workspaceFiles?: Record<string, string>;
  /** Symbolic links to put in the workspace folder (relative path → target), e.g. "node_modules/.bin/claude". */
  workspaceLinks?: Record<string, string>;
}

/**
 * Runs in the page before the workbench loads (page.addInitScript) and sets window.__hostTest:
 * find() reads a status bar item back into `$(icon) text` form; history holds every state of
 * every status bar item, recorded by a MutationObserver, so a test can see states that lasted
 * a moment (the spinner while the gateway starts); terminalText() reads the terminals on screen.
 */
function statusBarRecorder(): void {
  if (window.top !== window) return; // not in webview iframes
  type Entry = { ariaLabel: string; text: string };
  const label = (item: Element): string => {
    const root = item.querySelector('.statusbar-item-label') ?? item;
    let out = '';
    const walk = (node: Node) => {
      if (node.nodeType === Node.TEXT_NODE) { out += node.textContent ?? ''; return; }
      if (!(node instanceof Element)) return;
      if (node.classList.contains('codicon')) {
        const name = [...node.classList].find((c) => c.startsWith('codicon-') && !c.startsWith('codicon-modifier-'))?.slice('codicon-'.length) ?? '?';
        const modifier = [...node.classList].find((c) => c.startsWith('codicon-modifier-'))?.slice('codicon-modifier-'.length);
        out += `$(${name}${modifier ? `~${modifier}` : ''})`;
        return;
      }
      node.childNodes.forEach(walk);
    };
    root.childNodes.forEach(walk);
    return out.replace(/\u00a0/g, ' ').trim();
  };
  const history: Entry[] = [];
  const last = new WeakMap<Element, string>();
  const record = () => {
    document.querySelectorAll('.statusbar-item[aria-label]').forEach((item) => {
      const entry = { ariaLabel: item.getAttribute('aria-label') ?? '', text: label(item) };
      const key = `${entry.ariaLabel}\n${entry.text}`;
      if (last.get(item) === key) return;
      last.set(item, key);
      history.push(entry);
    });
  };
  (window as unknown as { __hostTest: unknown }).__hostTest = {
    history,
    /**
     * The text of the terminals on screen: xterm.js's DOM renderer keeps one div per row in
     * .xterm-rows (only the rows in view).
     */
    terminalText(): string {
      return [...document.querySelectorAll<HTMLElement>('.xterm-rows')]
        .filter((rows) => rows.offsetParent !== null)
        .map((rows) => [...rows.children].map((row) => (row.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()).join('\n').replace(/\n+$/, ''))
        .join('\n\n');
    },
    find(prefix: string): Entry | null {
      const item = [...document.querySelectorAll('.statusbar-item[aria-label]')].find((e) => (e.getAttribute('aria-label') ?? '').startsWith(prefix));
      return item ? { ariaLabel: item.getAttribute('aria-label') ?? '', text: label(item) } : null;
    },
  };
  const statusBarObserver = new MutationObserver(record);
  const watchStatusBar = () => {
    const bar = document.getElementById('workbench.parts.statusbar');
    if (!bar) return false;
    statusBarObserver.observe(bar, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['aria-label', 'class'] });
    record();
    return true;
  };
  const start = () => {
    if (watchStatusBar()) return;
    const untilStatusBar = new MutationObserver(() => { if (watchStatusBar()) untilStatusBar.disconnect(); });
    untilStatusBar.observe(document.documentElement, { subtree: true, childList: true });
  };
  if (document.documentElement) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
}

type HostTestWindow = Window & { __hostTest: { history: StatusBarItemState[]; find(prefix: string): StatusBarItemState | null; terminalText(): string } };

/**
 * Installs the packaged extension into a fresh profile and opens the workbench: code-server
 * in headless Chromium, or desktop VS Code when CONDUIT_HOST_VSCODE=desktop (desktopVscode.ts).
 */
export async function openProductInBrowser(options: ProductOptions = {}): Promise<ProductInBrowser> {
  const h = await helpers();
  const vsixFile = await packagedVsix();
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'conduit-host-'));
  const userDataDir = path.join(scratch, 'user-data');
  const extensionsDir = path.join(scratch, 'extensions');
  const workspace = path.join(scratch, 'workspace');
  // code-server's heartbeat and logs go to $XDG_DATA_HOME/code-server: keep them out of ~.
  const env = { ...process.env, XDG_DATA_HOME: path.join(scratch, 'xdg-data'), ...options.env };
  const desktop = desktopRequested() ? await desktopExecutable() : null;
  let extensionDir: string | null;
  let workbench: LaunchedWorkbench;
  try {
    mkdirSync(workspace);
    for (const [file, content] of Object.entries(options.workspaceFiles ?? {})) {
      mkdirSync(path.dirname(path.join(workspace, file)), { recursive: true });
      writeFileSync(path.join(workspace, file), content);
    }
    for (const [file, target] of Object.entries(options.workspaceLinks ?? {})) {
      mkdirSync(path.dirname(path.join(workspace, file)), { recursive: true });
      symlinkSync(target, path.join(workspace, file));
    }
    if (desktop) await installVsixDesktop(desktop, { vsix: vsixFile, userDataDir, extensionsDir, env });
    else h.installVsix({ vsix: vsixFile, userDataDir, extensionsDir, env });
    extensionDir = h.installedExtensionDir(extensionsDir, EXTENSION_ID);
    if (!extensionDir) throw new Error(`${EXTENSION_ID} is not in ${extensionsDir} after installing ${vsixFile}`);
    h.writeSettings(userDataDir, options.settings);
    // tsx compiles this file with esbuild's keepNames, which wraps named functions in
    // __name(...): functions sent to the page need that helper there too.
    const initScripts = ['globalThis.__name ??= (fn) => fn;', statusBarRecorder];
    workbench = desktop
      ? await launchDesktop(desktop, { workspace, userDataDir, extensionsDir, env, initScripts })
      : await launchCodeServer(h, { workspace, userDataDir, extensionsDir, env, initScripts, logFile: path.join(scratch, 'code-server.log') });
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    throw err;
  }

  try {
    const page = await openedWorkbench(workbench.page);

    const product: ProductInBrowser = {
      ...driveWindow(page),
      url: workbench.url,
      extensionDir,
      workspace,
      activation: (extensionId = EXTENSION_ID, timeoutMs = 60_000) => activationLogLine(userDataDir, extensionId, timeoutMs),
      serverOutput: () => workbench.output(),
      extensionLog: () => conduitLogs(userDataDir).map((f) => readFileSync(f, 'utf8')).join('\n'),
      async openWindow() {
        if (!workbench.openWindow) throw new Error('a second window needs code-server (the desktop launcher opens one window)');
        const second = await openedWorkbench(await workbench.openWindow());
        return { ...driveWindow(second), close: () => second.close({ runBeforeUnload: true }) };
      },
      async close() {
        await workbench.close();
        reportActivationTimes(userDataDir);
        rmSync(scratch, { recursive: true, force: true });
      },
    };
    return product;
  } catch (err) {
    await workbench.close();
    rmSync(scratch, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n--- VS Code output ---\n${workbench.output()}`);
  }
}

/** Waits until the workbench in `page` shows its status bar. */
async function openedWorkbench(page: Page): Promise<Page> {
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('#workbench\\.parts\\.statusbar').waitFor({ timeout: 60_000 });
  mkdirSync(screenshotDir, { recursive: true });
  return page;
}

/** The helpers that drive one workbench window (its page). */
function driveWindow(page: Page): ProductWindow {
  /** The quick input row whose label is exactly `label`. */
  const listRow = (label: string) => page.locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) })
    .first();

  const ui: ProductWindow = {
    page,
    async runCommand(title) {
      // The palette lists the commands registered when it opened: wait for the extension to
      // be active first (activation()), else the command may not be listed yet.
      const input = page.locator('.quick-input-widget input.input');
      // A focus change right after F1 (a webview or the walkthrough taking the keyboard as it
      // renders) closes the palette again, and F1 inside a webview's frame goes to the webview:
      // then give the workbench the keyboard and open the palette again.
      for (let attempt = 1; ; attempt++) {
        await page.keyboard.press('F1');
        try {
          await input.waitFor({ timeout: 10_000 });
          await input.fill(`>${title}`, { timeout: 5_000 });
          break;
        } catch (err) {
          if (attempt === 3) throw err;
          await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
        }
      }
      // The row of exactly this command (fuzzy matching lists others too, maybe first).
      const row = listRow(title);
      try {
        await row.waitFor({ timeout: 10_000 });
      } catch (err) {
        await page.keyboard.press('Escape');
        throw new Error(`"${title}" is not in the command palette: ${(err as Error).message}`);
      }
      await row.click();
      // Closed, or already reused by the command for its own input box or quick pick.
      await page.waitForFunction((typed) => {
        const widget = document.querySelector<HTMLElement>('.quick-input-widget');
        const box = widget?.querySelector<HTMLInputElement>('input.input');
        return !widget || widget.style.display === 'none' || !widget.offsetParent || box?.value !== typed;
      }, `>${title}`);
    },
    async answerInput(prompt, { value, pick, timeoutMs = 30_000 } = {}) {
      // The prompt is the input box's message (text) or the quick pick's placeholder.
      const widget = page.locator('.quick-input-widget', { hasText: prompt })
        .or(page.locator('.quick-input-widget', { has: page.locator(`input.input[placeholder*=${JSON.stringify(prompt)}]`) }));
      await widget.waitFor({ state: 'visible', timeout: timeoutMs });
      const input = widget.locator('input.input');
      if (value !== undefined) await input.fill(value);
      if (pick !== undefined) {
        const row = listRow(pick);
        await row.waitFor({ timeout: timeoutMs });
        await row.click();
      } else {
        await input.press('Enter');
      }
      await page.waitForFunction((p) => {
        const w = document.querySelector<HTMLElement>('.quick-input-widget');
        if (!w || w.style.display === 'none' || !w.offsetParent) return true;
        const box = w.querySelector<HTMLInputElement>('input.input');
        return !(w.textContent ?? '').includes(p) && !(box?.placeholder ?? '').includes(p); // closed, or moved on to the next question
      }, prompt, { timeout: timeoutMs });
    },
    async notification(text, timeoutMs = 30_000) {
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
      await toast.waitFor({ timeout: timeoutMs });
      await toast.hover({ trial: true, timeout: timeoutMs }); // waits until it stops sliding in
      return toast;
    },
    async clearNotifications() {
      await ui.runCommand('Notifications: Clear All Notifications');
      await page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'detached' });
    },
    statusBarItem: (prefix) => page.evaluate((p) => (window as unknown as HostTestWindow).__hostTest.find(p), prefix),
    async waitForStatusBarItem(prefix, match, timeoutMs = 30_000) {
      try {
        const handle = await page.waitForFunction(({ p, aria, text }) => {
          const item = (window as unknown as HostTestWindow).__hostTest.find(p);
          if (!item) return false;
          if (aria && !new RegExp(aria[0], aria[1]).test(item.ariaLabel)) return false;
          if (text && !new RegExp(text[0], text[1]).test(item.text)) return false;
          return item;
        }, {
          p: prefix,
          aria: match.ariaLabel ? [match.ariaLabel.source, match.ariaLabel.flags] : null,
          text: match.text ? [match.text.source, match.text.flags] : null,
        }, { timeout: timeoutMs });
        return await handle.jsonValue() as StatusBarItemState;
      } catch (err) {
        const now = await ui.statusBarItem(prefix).catch(() => null);
        throw new Error(`the status bar item "${prefix}…" did not become ${JSON.stringify({ ariaLabel: match.ariaLabel?.toString(), text: match.text?.toString() })} within ${timeoutMs} ms; it is ${JSON.stringify(now)} (${(err as Error).message.split('\n')[0]})`);
      }
    },
    statusBarHistory: (prefix) => page.evaluate((p) => (window as unknown as HostTestWindow).__hostTest.history.filter((e) => e.ariaLabel.startsWith(p)), prefix),
    terminalText: () => page.evaluate(() => (window as unknown as HostTestWindow).__hostTest.terminalText()),
    async waitForTerminalText(match, timeoutMs = 60_000) {
      try {
        const handle = await page.waitForFunction(({ source, flags }) => {
          const text = (window as unknown as HostTestWindow).__hostTest.terminalText();
          return new RegExp(source, flags).test(text) ? text : false;
        }, { source: match.source, flags: match.flags }, { timeout: timeoutMs });
        return await handle.jsonValue() as string;
      } catch (err) {
        const now = await ui.terminalText().catch(() => '');
        throw new Error(`the terminal did not show ${match} within ${timeoutMs} ms; it shows:\n${now}\n(${(err as Error).message.split('\n')[0]})`);
      }
    },
    async screenshot(name) {
      const file = path.join(screenshotDir, `${name}.png`);
      await page.screenshot({ path: file });
      return file;
    },
  };
  return ui;
}

/** code-server on a free loopback port, and a headless Chromium page on it. */
async function launchCodeServer(h: typeof CodeServerHelpers, o: {
  workspace: string; userDataDir: string; extensionsDir: string; env: NodeJS.ProcessEnv; initScripts: (string | (() => void))[]; logFile: string;
}): Promise<LaunchedWorkbench> {
  const server = await h.startCodeServer({ folder: o.workspace, userDataDir: o.userDataDir, extensionsDir: o.extensionsDir, env: o.env, logFile: o.logFile });
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: h.chromiumPath, args: CHROMIUM_ARGS });
    const newWindow = async () => {
      const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
      for (const script of o.initScripts) await page.addInitScript(script);
      await page.goto(server.url);
      return page;
    };
    const page = await newWindow();
    return {
      page,
      url: server.url,
      output: () => server.output(),
      openWindow: newWindow,
      async close() {
        await browser?.close();
        await server.stop();
      },
    };
  } catch (err) {
    await browser?.close();
    await server.stop();
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
        // code-server's extension host writes remoteexthost.log; desktop VS Code's, exthost.log.
        for (const name of ['remoteexthost.log', 'exthost.log']) {
          const log = path.join(logsDir, session, host, name);
          const line = existsSync(log) ? readFileSync(log, 'utf8').split('\n').find((l) => l.includes(needle)) : undefined;
          if (line) return line;
        }
      }
    }
    if (Date.now() > deadline) throw new Error(`${extensionId} did not activate within ${timeoutMs} ms (no "${needle}" in ${logsDir}/*/exthost*/remoteexthost.log)`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Runs the packaged gateway CLI (dist/conduit.js of the installed extension) with `env`,
 * asynchronously: servers of the test process (the Anthropic stand-in) keep answering meanwhile.
 */
export function runConduit(extensionDir: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(extensionDir, 'dist/conduit.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => { stdout += t; });
    child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`conduit ${args.join(' ')} did not finish within ${timeoutMs} ms: ${stdout}${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.once('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

/**
 * Prints the extension's own activation times ("activated in N ms", from its Conduit log
 * channel) so each host run reports the figure. A figure, not an assertion: timings are
 * measured, never asserted.
 */
function reportActivationTimes(userDataDir: string): void {
  const found = conduitLogs(userDataDir).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/activated in ([\d.]+) ms/g)].map((m) => m[1]));
  if (found.length) console.log(`      extension activation (its own time): ${found.join(', ')} ms`);
}

/** The files of the extension's "Conduit" log channel, one per window session. */
function conduitLogs(userDataDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'Conduit.log') found.push(p);
    }
  };
  walk(path.join(userDataDir, 'logs'));
  return found;
}
