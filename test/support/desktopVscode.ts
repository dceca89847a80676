/**
 * The host suites on desktop VS Code instead of code-server: VS Code downloaded by
 * @vscode/test-electron (or the one at VSCODE_EXECUTABLE), the packaged .vsix installed with
 * its CLI into a fresh profile, and its Electron window driven by Playwright. The workbench
 * is the same DOM as code-server's, so the suites run unchanged.
 *
 *   npm run test:host:desktop      (on Linux without a display: xvfb-run -a npm run test:host:desktop)
 *
 * Chosen by CONDUIT_HOST_VSCODE=desktop. VSCODE_VERSION picks the version to download
 * (default: stable). Not run by CI here: this machine cannot download VS Code.
 */
import { spawnSync } from 'node:child_process';
import { _electron as electron, type ElectronApplication, type Page } from 'playwright-core';

export interface LaunchedWorkbench {
  page: Page;
  /** Where the workbench is: code-server's URL, or "desktop:<executable>". */
  url: string;
  /** The server's or the app's output so far, for failure messages. */
  output(): string;
  /** Another window on the same workbench (code-server only: a second browser page). */
  openWindow?(): Promise<Page>;
  close(): Promise<void>;
}

export function desktopRequested(): boolean {
  return process.env.CONDUIT_HOST_VSCODE === 'desktop';
}

/** The desktop VS Code executable: VSCODE_EXECUTABLE, or one @vscode/test-electron downloads into .vscode-test/. */
export async function desktopExecutable(): Promise<string> {
  if (process.env.VSCODE_EXECUTABLE) return process.env.VSCODE_EXECUTABLE;
  const { downloadAndUnzipVSCode } = await import('@vscode/test-electron');
  return downloadAndUnzipVSCode({ version: process.env.VSCODE_VERSION ?? 'stable' });
}

/** Installs the .vsix with desktop VS Code's own CLI into this profile. */
export async function installVsixDesktop(executable: string, o: { vsix: string; userDataDir: string; extensionsDir: string; env: NodeJS.ProcessEnv }): Promise<void> {
  const { resolveCliArgsFromVSCodeExecutablePath } = await import('@vscode/test-electron');
  const [cli, ...args] = resolveCliArgsFromVSCodeExecutablePath(executable);
  const r = spawnSync(cli, [...args.filter((a) => !a.startsWith('--extensions-dir') && !a.startsWith('--user-data-dir')),
    '--user-data-dir', o.userDataDir, '--extensions-dir', o.extensionsDir, '--install-extension', o.vsix, '--force'], { encoding: 'utf8', env: o.env });
  if (r.status !== 0 || !/successfully installed/i.test(r.stdout + r.stderr)) {
    throw new Error(`VS Code could not install ${o.vsix} (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
}

/**
 * Starts desktop VS Code on the workspace with this profile and returns its window. The
 * init scripts must run before the workbench loads: they are added to the app's context and
 * the first window is reloaded once with them.
 */
export async function launchDesktop(executable: string, o: {
  workspace: string; userDataDir: string; extensionsDir: string; env: NodeJS.ProcessEnv; initScripts: (string | (() => void))[];
}): Promise<LaunchedWorkbench> {
  let output = '';
  const app: ElectronApplication = await electron.launch({
    executablePath: executable,
    args: [
      o.workspace, '--user-data-dir', o.userDataDir, '--extensions-dir', o.extensionsDir,
      '--new-window', '--skip-welcome', '--skip-release-notes', '--disable-updates',
      '--no-sandbox', '--disable-gpu',
    ],
    env: Object.fromEntries(Object.entries(o.env).filter(([, v]) => v !== undefined)) as Record<string, string>,
    timeout: 120_000,
  });
  app.process().stdout?.on('data', (b: Buffer) => { output += b.toString(); });
  app.process().stderr?.on('data', (b: Buffer) => { output += b.toString(); });
  for (const script of o.initScripts) await app.context().addInitScript(script);
  const page = await app.firstWindow();
  await page.setViewportSize({ width: 1280, height: 800 }).catch(() => { /* the window keeps its own size */ });
  await page.reload();
  return {
    page,
    url: `desktop:${executable}`,
    output: () => output.slice(-20_000),
    close: () => app.close(),
  };
}
