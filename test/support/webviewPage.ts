/**
 * One webview bundle (dist/webview/<name>.js) in headless Chromium, as VS Code would show
 * it: the page webviewHtml() builds, served from a loopback HTTP server with the same
 * Content-Security-Policy (header and meta, a fresh nonce per page), the --vscode-* theme
 * variables and theme class on <body>, and a stand-in for acquireVsCodeApi that
 *  - records every message the webview posts (structured-clone-like: JSON round trip),
 *  - keeps getState/setState in sessionStorage, so the state survives a reload,
 *  - may be called once per page, as in VS Code.
 * Tests post host messages with post(data) (a MessageEvent on window, as VS Code does).
 * Any CSP violation, console error, uncaught exception or dialog is recorded in problems;
 * assertClean() fails the test on any.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { WebviewName } from '../../src/protocol/webviewMessages';
import { contentSecurityPolicy, webviewHtml } from '../../src/extension/views/webviewHtml';

const repoRoot = path.resolve(__dirname, '../..');
const distDir = path.join(repoRoot, 'dist/webview');
export const screenshotDir = path.join(repoRoot, '.test-output/webview');
export const readmeScreenshotDir = path.join(repoRoot, 'media/screenshots');

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export type ThemeName = 'light' | 'dark';

const FONT = {
  '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-font-weight': 'normal',
  '--vscode-editor-font-family': '"Droid Sans Mono", "monospace", monospace',
};

/** VS Code's Light+ (light) and Dark+ (dark) colours of the variables the views and @vscode-elements read. */
export const THEMES: Record<ThemeName, { className: string; vars: Record<string, string> }> = {
  light: {
    className: 'vscode-light',
    vars: {
      ...FONT,
      '--vscode-foreground': '#616161', '--vscode-descriptionForeground': '#717171', '--vscode-errorForeground': '#a1260d',
      '--vscode-disabledForeground': '#61616180', '--vscode-focusBorder': '#0090f1',
      '--vscode-editor-background': '#ffffff', '--vscode-editor-foreground': '#000000',
      '--vscode-sideBar-background': '#f3f3f3', '--vscode-sideBar-foreground': '#616161',
      '--vscode-sideBarSectionHeader-foreground': '#616161', '--vscode-sideBarSectionHeader-border': '#61616130',
      '--vscode-widget-border': '#d4d4d4', '--vscode-widget-shadow': '#00000029', '--vscode-panel-border': '#80808059',
      '--vscode-panel-background': '#ffffff', '--vscode-panelTitle-activeBorder': '#424242',
      '--vscode-panelTitle-activeForeground': '#424242', '--vscode-panelTitle-inactiveForeground': '#424242bf',
      '--vscode-button-background': '#007acc', '--vscode-button-foreground': '#ffffff', '--vscode-button-hoverBackground': '#0062a3',
      '--vscode-button-border': 'transparent', '--vscode-button-secondaryBackground': '#5f6a79',
      '--vscode-button-secondaryForeground': '#ffffff', '--vscode-button-secondaryHoverBackground': '#4c5561',
      '--vscode-input-background': '#ffffff', '--vscode-input-foreground': '#616161', '--vscode-input-border': '#cecece',
      '--vscode-input-placeholderForeground': '#767676',
      '--vscode-dropdown-background': '#ffffff', '--vscode-dropdown-foreground': '#616161', '--vscode-dropdown-border': '#cecece',
      '--vscode-list-activeSelectionBackground': '#0060c0', '--vscode-list-activeSelectionForeground': '#ffffff',
      '--vscode-list-hoverBackground': '#e8e8e8', '--vscode-list-hoverForeground': '#616161', '--vscode-list-focusBackground': '#d6ebff',
      '--vscode-list-focusOutline': '#0090f1', '--vscode-list-highlightForeground': '#0066bf', '--vscode-list-focusHighlightForeground': '#bbe7ff',
      '--vscode-checkbox-background': '#ffffff', '--vscode-checkbox-border': '#919191', '--vscode-checkbox-foreground': '#616161',
      '--vscode-settings-checkboxBackground': '#ffffff', '--vscode-settings-checkboxBorder': '#919191', '--vscode-settings-checkboxForeground': '#616161',
      '--vscode-settings-dropdownBackground': '#ffffff', '--vscode-settings-dropdownBorder': '#cecece',
      '--vscode-settings-dropdownForeground': '#616161', '--vscode-settings-dropdownListBorder': '#c8c8c8',
      '--vscode-settings-textInputBackground': '#ffffff', '--vscode-settings-textInputForeground': '#616161',
      '--vscode-settings-textInputBorder': '#cecece', '--vscode-settings-headerBorder': '#80808059',
      '--vscode-textLink-foreground': '#006ab1', '--vscode-textLink-activeForeground': '#006ab1',
      '--vscode-textBlockQuote-background': '#7f7f7f1a',
      '--vscode-badge-background': '#c4c4c4', '--vscode-badge-foreground': '#333333',
      '--vscode-charts-foreground': '#616161', '--vscode-charts-lines': '#61616180', '--vscode-charts-red': '#e51400',
      '--vscode-charts-blue': '#1a85ff', '--vscode-charts-yellow': '#bf8803', '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#388a34', '--vscode-charts-purple': '#652d90',
      '--vscode-inputValidation-errorBackground': '#f2dede', '--vscode-inputValidation-errorBorder': '#be1100',
      '--vscode-inputValidation-infoBackground': '#d6ecf2', '--vscode-inputValidation-infoBorder': '#007acc',
      '--vscode-progressBar-background': '#0e70c0', '--vscode-scrollbar-shadow': '#dddddd', '--vscode-toolbar-hoverOutline': 'transparent',
      '--vscode-testing-iconPassed': '#388a34', '--vscode-editorWarning-foreground': '#bf8803',
    },
  },
  dark: {
    className: 'vscode-dark',
    vars: {
      ...FONT,
      '--vscode-foreground': '#cccccc', '--vscode-descriptionForeground': '#ccccccb3', '--vscode-errorForeground': '#f48771',
      '--vscode-disabledForeground': '#cccccc80', '--vscode-focusBorder': '#007fd4',
      '--vscode-editor-background': '#1e1e1e', '--vscode-editor-foreground': '#d4d4d4',
      '--vscode-sideBar-background': '#252526', '--vscode-sideBar-foreground': '#cccccc',
      '--vscode-sideBarSectionHeader-foreground': '#cccccc', '--vscode-sideBarSectionHeader-border': '#cccccc33',
      '--vscode-widget-border': '#454545', '--vscode-widget-shadow': '#0000005c', '--vscode-panel-border': '#80808059',
      '--vscode-panel-background': '#1e1e1e', '--vscode-panelTitle-activeBorder': '#e7e7e7',
      '--vscode-panelTitle-activeForeground': '#e7e7e7', '--vscode-panelTitle-inactiveForeground': '#e7e7e799',
      '--vscode-button-background': '#0e639c', '--vscode-button-foreground': '#ffffff', '--vscode-button-hoverBackground': '#1177bb',
      '--vscode-button-border': 'transparent', '--vscode-button-secondaryBackground': '#3a3d41',
      '--vscode-button-secondaryForeground': '#ffffff', '--vscode-button-secondaryHoverBackground': '#45494e',
      '--vscode-input-background': '#3c3c3c', '--vscode-input-foreground': '#cccccc', '--vscode-input-border': '#3c3c3c',
      '--vscode-input-placeholderForeground': '#a6a6a6',
      '--vscode-dropdown-background': '#3c3c3c', '--vscode-dropdown-foreground': '#f0f0f0', '--vscode-dropdown-border': '#3c3c3c',
      '--vscode-list-activeSelectionBackground': '#04395e', '--vscode-list-activeSelectionForeground': '#ffffff',
      '--vscode-list-hoverBackground': '#2a2d2e', '--vscode-list-hoverForeground': '#cccccc', '--vscode-list-focusBackground': '#062f4a',
      '--vscode-list-focusOutline': '#007fd4', '--vscode-list-highlightForeground': '#2aaaff', '--vscode-list-focusHighlightForeground': '#2aaaff',
      '--vscode-checkbox-background': '#3c3c3c', '--vscode-checkbox-border': '#6b6b6b', '--vscode-checkbox-foreground': '#f0f0f0',
      '--vscode-settings-checkboxBackground': '#3c3c3c', '--vscode-settings-checkboxBorder': '#6b6b6b', '--vscode-settings-checkboxForeground': '#f0f0f0',
      '--vscode-settings-dropdownBackground': '#3c3c3c', '--vscode-settings-dropdownBorder': '#3c3c3c',
      '--vscode-settings-dropdownForeground': '#f0f0f0', '--vscode-settings-dropdownListBorder': '#454545',
      '--vscode-settings-textInputBackground': '#292929', '--vscode-settings-textInputForeground': '#cccccc',
      '--vscode-settings-textInputBorder': '#3c3c3c', '--vscode-settings-headerBorder': '#80808059',
      '--vscode-textLink-foreground': '#3794ff', '--vscode-textLink-activeForeground': '#3794ff',
      '--vscode-textBlockQuote-background': '#7f7f7f1a',
      '--vscode-badge-background': '#4d4d4d', '--vscode-badge-foreground': '#ffffff',
      '--vscode-charts-foreground': '#cccccc', '--vscode-charts-lines': '#cccccc80', '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-blue': '#3794ff', '--vscode-charts-yellow': '#cca700', '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#89d185', '--vscode-charts-purple': '#b180d7',
      '--vscode-inputValidation-errorBackground': '#5a1d1d', '--vscode-inputValidation-errorBorder': '#be1100',
      '--vscode-inputValidation-infoBackground': '#063b49', '--vscode-inputValidation-infoBorder': '#007acc',
      '--vscode-progressBar-background': '#0e70c0', '--vscode-scrollbar-shadow': '#000000', '--vscode-toolbar-hoverOutline': 'transparent',
      '--vscode-testing-iconPassed': '#73c991', '--vscode-editorWarning-foreground': '#cca700',
    },
  },
};

const TITLES: Record<WebviewName, string> = { modelConfig: 'Model Configuration', analytics: 'Usage Analytics', sidebar: 'Conduit' };

export interface OpenOptions {
  theme?: ThemeName;
  /** What the host would pass to webviewHtml({initialState}). */
  initialState?: unknown;
  viewport?: { width: number; height: number };
  /** The host's side: called for every message the webview posts (after it is recorded). */
  respond?: (message: Record<string, unknown>, page: WebviewPage) => void | Promise<void>;
}

interface PageSpec {
  view: WebviewName;
  initialState: unknown;
}

/** Run in the page before any of its scripts (not subject to the page's CSP, like VS Code's own frame script). */
function initScript(theme: { className: string; vars: Record<string, string> }): string {
  return `(() => {
  const theme = ${JSON.stringify(theme)};
  const STATE_KEY = '__conduitWebviewState';
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
    acquired = true;
    return Object.freeze({
      postMessage(message) { window.__conduitPosted(JSON.parse(JSON.stringify(message))); },
      getState() { const s = sessionStorage.getItem(STATE_KEY); return s === null ? undefined : JSON.parse(s); },
      setState(state) { sessionStorage.setItem(STATE_KEY, JSON.stringify(state)); return state; },
    });
  };
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__conduitProblem('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber + ' ' + (e.sample || ''));
  });
  const applyTheme = () => {
    const body = document.body;
    if (!body) return false;
    for (const [name, value] of Object.entries(theme.vars)) body.style.setProperty(name, value);
    body.classList.add(theme.className);
    body.setAttribute('data-vscode-theme-kind', theme.className);
    return true;
  };
  if (!applyTheme()) {
    const observer = new MutationObserver(() => { if (applyTheme()) observer.disconnect(); });
    observer.observe(document, { childList: true, subtree: true });
  }
})();`;
}

export class WebviewHarness {
  private readonly pages = new Map<string, PageSpec>();
  private readonly openPages = new Set<WebviewPage>();

  private constructor(private readonly browser: Browser, private readonly server: http.Server, readonly origin: string) {}

  static async start(): Promise<WebviewHarness> {
    for (const name of ['modelConfig', 'analytics', 'sidebar']) {
      if (!existsSync(path.join(distDir, `${name}.js`))) throw new Error(`dist/webview/${name}.js is missing: run node esbuild.mjs first`);
    }
    let harness: WebviewHarness | undefined;
    const server = http.createServer((req, res) => harness!.serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    harness = new WebviewHarness(browser, server, origin);
    return harness;
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.origin);
    const view = /^\/view\/([A-Za-z0-9-]+)$/.exec(url.pathname);
    if (view) {
      const spec = this.pages.get(view[1]);
      if (!spec) return void res.writeHead(404).end();
      const nonce = randomBytes(18).toString('base64');
      const css = path.join(distDir, `${spec.view}.css`);
      const html = webviewHtml({
        scriptUri: `${this.origin}/dist/webview/${spec.view}.js`,
        styleUri: existsSync(css) ? `${this.origin}/dist/webview/${spec.view}.css` : undefined,
        nonce,
        cspSource: this.origin,
        title: TITLES[spec.view],
        initialState: spec.initialState,
      });
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': contentSecurityPolicy(this.origin, nonce),
        'cache-control': 'no-store',
      });
      return void res.end(html);
    }
    const asset = /^\/dist\/webview\/([A-Za-z0-9_.-]+\.(js|css|map))$/.exec(url.pathname);
    if (asset && existsSync(path.join(distDir, asset[1]))) {
      const type = { js: 'text/javascript', css: 'text/css', map: 'application/json' }[asset[2] as 'js' | 'css' | 'map'];
      res.writeHead(200, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
      return void res.end(readFileSync(path.join(distDir, asset[1])));
    }
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    res.writeHead(404).end();
  }

  async open(view: WebviewName, options: OpenOptions = {}): Promise<WebviewPage> {
    const token = randomBytes(6).toString('hex');
    this.pages.set(token, { view, initialState: options.initialState ?? null });
    const context = await this.browser.newContext({
      viewport: options.viewport ?? (view === 'sidebar' ? { width: 320, height: 760 } : { width: 1100, height: 900 }),
      reducedMotion: 'reduce',
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    const page = await context.newPage();
    const webview = new WebviewPage(view, context, page, `${this.origin}/view/${token}`, options.respond);
    await context.exposeBinding('__conduitPosted', (_source, message: Record<string, unknown>) => webview.record(message));
    await context.exposeBinding('__conduitProblem', (_source, problem: string) => webview.problems.push(problem));
    await context.addInitScript({ content: initScript(THEMES[options.theme ?? 'dark']) });
    this.openPages.add(webview);
    await webview.goto();
    return webview;
  }

  async close(): Promise<void> {
    await Promise.all([...this.openPages].map((p) => p.close()));
    await this.browser.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export class WebviewPage {
  /** Every message the webview posted, in order, across reloads. */
  readonly posted: Record<string, unknown>[] = [];
  readonly problems: string[] = [];
  private readonly events = new EventEmitter();

  constructor(
    readonly view: WebviewName,
    private readonly context: BrowserContext,
    readonly page: Page,
    readonly url: string,
    /** The stand-in host's answers; set to undefined to let the webview go unanswered. */
    public responder?: OpenOptions['respond'],
  ) {
    page.on('console', (msg) => {
      if (msg.type() === 'error') this.problems.push(`console.error: ${msg.text()}`);
    });
    page.on('pageerror', (err) => this.problems.push(`uncaught: ${err.stack ?? err.message}`));
    page.on('dialog', (dialog) => {
      this.problems.push(`dialog (${dialog.type()}): ${dialog.message()}`);
      void dialog.dismiss();
    });
  }

  async record(message: Record<string, unknown>): Promise<void> {
    this.posted.push(message);
    this.events.emit('posted', message);
    if (this.responder) await this.responder(message, this);
  }

  async goto(): Promise<void> {
    await this.page.goto(this.url, { waitUntil: 'load' });
  }

  /** Reloads the page (the webview is hidden and shown again, or the window reloads). */
  async reload(): Promise<void> {
    await this.page.reload({ waitUntil: 'load' });
  }

  /** Host → webview, as VS Code delivers webview.postMessage. */
  async post(data: unknown): Promise<void> {
    await this.page.evaluate((d) => window.dispatchEvent(new MessageEvent('message', { data: d })), data);
  }

  messagesOfType<T = Record<string, unknown>>(type: string): T[] {
    return this.posted.filter((m) => m.type === type) as T[];
  }

  /** The first posted message from index `from` on that matches; waits for it when none has come yet. */
  waitForPosted<T = Record<string, unknown>>(match: string | ((m: Record<string, unknown>) => boolean), { from = 0, timeout = 10_000 } = {}): Promise<T> {
    const test = typeof match === 'string' ? (m: Record<string, unknown>) => m.type === match : match;
    const found = this.posted.slice(from).find(test);
    if (found) return Promise.resolve(found as T);
    return new Promise<T>((resolve, reject) => {
      const onPosted = (m: Record<string, unknown>) => {
        if (!test(m)) return;
        clearTimeout(timer);
        this.events.off('posted', onPosted);
        resolve(m as T);
      };
      const timer = setTimeout(() => {
        this.events.off('posted', onPosted);
        reject(new Error(`${this.view}: no posted message matched within ${timeout} ms; posted: ${JSON.stringify(this.posted.map((m) => m.type))}`));
      }, timeout);
      this.events.on('posted', onPosted);
    });
  }

  /** Switches the theme the way VS Code does: new variables and class on <body>. */
  async setTheme(name: ThemeName): Promise<void> {
    await this.page.evaluate((theme) => {
      const body = document.body;
      body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast');
      for (const [k, v] of Object.entries(theme.vars)) body.style.setProperty(k, v);
      body.classList.add(theme.className);
      body.setAttribute('data-vscode-theme-kind', theme.className);
    }, THEMES[name]);
  }

  /** What each Chart.js chart of the page shows (labels and data). */
  async charts(): Promise<Record<string, { type: string; labels: unknown[]; datasets: { label: string | null; data: unknown[]; backgroundColor: unknown; borderColor: unknown }[] }>> {
    return this.page.evaluate(() => (window as unknown as { __conduitCharts: () => never }).__conduitCharts());
  }

  /** Number of distinct non-transparent colours sampled from a canvas: 0 or 1 means blank. */
  async canvasInk(selector: string): Promise<{ width: number; height: number; painted: number }> {
    return this.page.locator(selector).evaluate((el) => {
      const canvas = el as HTMLCanvasElement;
      const ctx = canvas.getContext('2d')!;
      const { width, height } = canvas;
      if (!width || !height) return { width, height, painted: 0 };
      const pixels = ctx.getImageData(0, 0, width, height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4 * 7) if (pixels[i] > 0) painted += 1;
      return { width, height, painted };
    });
  }

  async screenshot(name: string, { readme = false } = {}): Promise<string> {
    mkdirSync(screenshotDir, { recursive: true });
    const file = path.join(screenshotDir, `${name}.png`);
    await this.page.screenshot({ path: file, fullPage: true });
    if (readme) {
      mkdirSync(readmeScreenshotDir, { recursive: true });
      copyFileSync(file, path.join(readmeScreenshotDir, `${this.view}.png`));
    }
    return file;
  }

  assertClean(): void {
    assert.deepEqual(this.problems, [], `${this.view}: problems in the page`);
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }
}
