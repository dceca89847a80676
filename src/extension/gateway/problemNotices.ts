/**
 * Notifications for what a person must fix before sessions work, each with the action
 * that fixes it:
 * - config.json refused (at start: the gateway waits for the file to change; on a change:
 *   the last good configuration stays in force): the gateway's reason, "Open config.json";
 * - no credentials: the first session of the window whose claude is not logged in, while
 *   the gateway has no key, gets one notification with "Set Provider API Key" and "Use my
 *   Claude subscription (claude /login)".
 */
import * as vscode from 'vscode';
import { conduitPaths } from '../../conduit/client/paths';
import { CLAUDE_INSTALL_COMMAND, type ClaudeLocation } from '../../conduit/client/claudeLocator';
import { isClaudeLoggedIn } from '../claude/claudeLogin';
import type { Settings } from '../settings';
import { TASK_TYPE } from '../tasks/taskProvider';
import type { ConfigProblem, GatewayState, GatewaySupervisor } from './supervisor';

export const OPEN_CONFIG = 'Open config.json';
export const SET_API_KEY = 'Set Provider API Key';
export const USE_SUBSCRIPTION = 'Use my Claude subscription (claude /login)';

export interface ProblemNoticesDeps {
  supervisor: GatewaySupervisor;
  /** Where claude is now (the ClaudeFinder's search: the setting, PATH, the usual places). */
  claude: { locate(): Promise<ClaudeLocation> };
  settings: Settings;
  log: vscode.LogOutputChannel;
}

export function configProblemMessage(p: ConfigProblem): string {
  // The reason may quote the file: "[label](command:...)" in it must not become a link a click runs.
  const reason = p.reason.replace(/\]\(/g, '] (');
  return p.kind === 'start'
    ? `Conduit's gateway did not start: ${reason}. It starts again when config.json changes.`
    : `Conduit did not apply config.json (the last good configuration stays in force): ${reason}`;
}

export const NO_CREDENTIALS_MESSAGE = 'Conduit has no credentials for this session: the gateway has no provider API key and claude is not logged in, '
  + 'so claude would stop with "Not logged in". Set an API key for the gateway, or sign in to claude with your Claude subscription.';

export class ProblemNotices implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  /** The config.json reason last shown: a health check that sees it again says nothing new. */
  private configShown: string | null = null;
  private credentialsNoticeShown = false;

  constructor(private readonly deps: ProblemNoticesDeps) {
    this.disposables.push(
      deps.supervisor.onDidChange((s) => this.onState(s)),
      vscode.tasks.onDidStartTask((e) => {
        if (e.execution.task.definition.type === TASK_TYPE) void this.onSessionStarted();
      }),
    );
  }

  private onState(s: GatewayState): void {
    const problem = s.configProblem ?? null;
    if (!problem) {
      this.configShown = null;
      return;
    }
    if (problem.reason === this.configShown) return;
    this.configShown = problem.reason;
    this.deps.log.error(configProblemMessage(problem));
    void vscode.window.showErrorMessage(configProblemMessage(problem), OPEN_CONFIG).then((choice) => {
      if (choice === OPEN_CONFIG) void this.openConfig();
    });
  }

  private async openConfig(): Promise<void> {
    const file = vscode.Uri.file(conduitPaths(this.deps.settings.home).config);
    await vscode.window.showTextDocument(file);
  }

  /** A session started: without credentials (and with a claude that has no login), say so once. */
  private async onSessionStarted(): Promise<void> {
    if (this.credentialsNoticeShown || this.deps.supervisor.state.credentials?.state !== 'none') return;
    const claude = await this.deps.claude.locate();
    // Without a claude the session never reaches the login: the not-found notification says
    // what to do first. A claude logged in of its own is served with its login: nothing is missing.
    if (!claude.found || (await isClaudeLoggedIn(claude.path)) === true) return;
    if (this.credentialsNoticeShown) return;
    this.credentialsNoticeShown = true;
    this.deps.log.warn(NO_CREDENTIALS_MESSAGE);
    const choice = await vscode.window.showWarningMessage(NO_CREDENTIALS_MESSAGE, SET_API_KEY, USE_SUBSCRIPTION);
    if (choice === SET_API_KEY) await vscode.commands.executeCommand('conduit.setApiKey');
    else if (choice === USE_SUBSCRIPTION) await this.claudeLogin();
  }

  /** A terminal running `claude /login` with the claude sessions use, or how to get one. */
  private async claudeLogin(): Promise<void> {
    const claude = await this.deps.claude.locate();
    if (!claude.found) {
      void vscode.window.showInformationMessage(`Conduit: claude was not found. Install it (${CLAUDE_INSTALL_COMMAND}) or set conduit.claude.path, then run "claude /login" in a terminal.`);
      return;
    }
    const terminal = vscode.window.createTerminal({ name: 'claude /login', shellPath: claude.path, shellArgs: ['/login'] });
    terminal.show();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
