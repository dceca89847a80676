/**
 * The claude CLI the extension's sessions run, found by the same search as conduit-claude's
 * (src/conduit/client/claudeLocator.ts) with what only the editor knows: the
 * conduit.claude.path setting, the workspace's folders (when trusted) and the extension's
 * own folder. The sessions get the path found as CONDUIT_CLAUDE_PATH, so conduit-claude runs
 * exactly that claude. When none is found, a notification says so and offers to set the
 * path or to read how to install claude: one at a time, however many sessions are tried
 * while it shows (each session's terminal says it too).
 */
import * as vscode from 'vscode';
import os from 'node:os';
import { CLAUDE_INSTALL_URL, claudeMissingMessage, locateClaude, type ClaudeLocation } from '../../conduit/client/claudeLocator';
import type { Settings } from '../settings';

/** Context key: true while a claude is found (the walkthrough's first step, when-clauses). */
export const CLAUDE_FOUND_CONTEXT = 'conduit.claudeFound';

const SET_PATH = 'Set Path...';
const HOW_TO_INSTALL = 'How to Install';

export class ClaudeFinder implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ClaudeLocation>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private last: ClaudeLocation | undefined;
  private notification: Thenable<unknown> | undefined;

  constructor(private readonly settings: Settings, private readonly extensionPath: string, private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('conduit.claude.path')) void this.locate();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.locate()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.locate()),
    );
  }

  /** Where claude is now (searched again each time: it may have been installed meanwhile). */
  async locate(): Promise<ClaudeLocation> {
    // The setting, else CONDUIT_CLAUDE_PATH of VS Code's own environment, as a terminal's
    // conduit-claude would read it.
    const [configured, configuredName] = this.settings.claudePath
      ? [this.settings.claudePath, 'conduit.claude.path']
      : [process.env.CONDUIT_CLAUDE_PATH, 'CONDUIT_CLAUDE_PATH'];
    const location = await locateClaude({
      configured,
      configuredName,
      env: process.env,
      homeDir: os.homedir(),
      // A workspace's own programs run only once it is trusted.
      projectDirs: vscode.workspace.isTrusted ? (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath) : [],
      ownDir: this.extensionPath,
    });
    const before = this.last;
    this.last = location;
    if (!before || JSON.stringify(before) !== JSON.stringify(location)) {
      this.log.info(location.found ? `claude: ${location.path} (${location.source})` : `claude: ${claudeMissingMessage(location)}`);
      void vscode.commands.executeCommand('setContext', CLAUDE_FOUND_CONTEXT, location.found);
      this.changed.fire(location);
    }
    return location;
  }

  /** At activation: a window without a claude says so before the first session fails. */
  async checkAtStartup(): Promise<void> {
    const location = await this.locate();
    if (!location.found) this.notifyOnce(claudeMissingMessage(location));
  }

  /**
   * The path of claude for a session, or the reason there is none: then the notification
   * is shown, unless it still is.
   */
  async forSession(): Promise<{ path: string } | { problem: string }> {
    const location = await this.locate();
    if (location.found) return { path: location.path };
    const problem = claudeMissingMessage(location);
    this.notifyOnce(problem);
    return { problem };
  }

  /** Shows the notification unless it is on screen already (until it is closed or answered). */
  notifyOnce(problem: string): void {
    if (this.notification) return;
    const shown = vscode.window.showWarningMessage(`Conduit: ${problem}`, SET_PATH, HOW_TO_INSTALL);
    this.notification = shown;
    void shown.then(async (choice) => {
      this.notification = undefined;
      if (choice === SET_PATH) await this.askForPath();
      else if (choice === HOW_TO_INSTALL) await vscode.env.openExternal(vscode.Uri.parse(CLAUDE_INSTALL_URL));
    });
  }

  /**
   * Lets the person pick the claude program and writes conduit.claude.path in their user
   * settings (a workspace's settings cannot choose what runs: see untrustedWorkspaces).
   */
  async askForPath(): Promise<void> {
    const picked = await vscode.window.showOpenDialog({
      title: 'The claude program', openLabel: 'Use this claude', canSelectFiles: true, canSelectFolders: false, canSelectMany: false,
    });
    if (!picked?.[0]) return;
    const file = picked[0].fsPath;
    // Checked before it is written: a folder or a file that cannot run would only fail later.
    const chosen = await locateClaude({ configured: file, configuredName: 'chosen file', env: {}, homeDir: os.homedir() });
    if (!chosen.found) {
      void vscode.window.showErrorMessage(`Conduit: ${file} cannot be run as claude (it ${chosen.configured?.problem.replace(/^which /, '') ?? 'was not found'}); the setting is unchanged.`);
      return;
    }
    await vscode.workspace.getConfiguration('conduit').update('claude.path', file, vscode.ConfigurationTarget.Global);
    const location = await this.locate();
    if (location.found) void vscode.window.showInformationMessage(`Conduit runs claude from ${location.path}.`);
    else void vscode.window.showErrorMessage(`Conduit: ${claudeMissingMessage(location)}`);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
