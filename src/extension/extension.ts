/**
 * Synapse: the VS Code side of Conduit. Activation only wires things together and
 * returns; the gateway starts in the background. One ConduitExtension owns every
 * disposable and is itself pushed into context.subscriptions.
 */
import * as vscode from 'vscode';
import { performance } from 'node:perf_hooks';
import { createCommands, registerCommands } from './commands';
import { GatewayApi } from './gateway/gatewayApi';
import { GatewaySupervisor } from './gateway/supervisor';
import { Projects } from './projects';
import { Secrets } from './secrets';
import { RESTART_KEYS, Settings } from './settings';
import { ConduitTaskProvider, TASK_TYPE } from './tasks/taskProvider';
import { StatusBar } from './ui/statusBar';
import { ContextKeys } from './ui/contextKeys';
import { StatusTotals } from './ui/statusTotals';
import { SupabaseSync } from './sync/supabaseCommands';
import { Views } from './views/panels';
import { AgentCommands } from './agents/agentCommands';
import { BudgetUi } from './budgets/budgetUi';
import { ClaudeFinder } from './claude/claudeFinder';
import { Walkthrough } from './walkthrough/walkthrough';
import { ModelChoices } from './walkthrough/modelChoice';
import { ProblemNotices } from './gateway/problemNotices';

export class ConduitExtension implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  readonly log = vscode.window.createOutputChannel('Conduit', { log: true });
  readonly settings = new Settings((m) => { this.log.warn(m); void vscode.window.showWarningMessage(m); });
  readonly secrets: Secrets;
  readonly supervisor: GatewaySupervisor;
  readonly api: GatewayApi;
  readonly statusBar: StatusBar;
  readonly projects: Projects;

  constructor(readonly context: vscode.ExtensionContext) {
    this.secrets = new Secrets(context.secrets);
    this.supervisor = new GatewaySupervisor(this.settings, context.extensionPath, this.log, async () => ({
      ...(await this.secrets.gatewayEnvironment()),
      // Custom router plugins run code: only in a trusted workspace.
      ...(vscode.workspace.isTrusted ? {} : { CONDUIT_PLUGINS_DISABLED: '1' }),
    }));
    this.api = new GatewayApi(this.supervisor, this.settings, this.log);
    this.statusBar = new StatusBar(this.settings);
    this.projects = new Projects(context.workspaceState, this.api);
    const sync = new SupabaseSync(context.secrets, this.api, this.supervisor, this.log, context.extensionPath);
    const modelChoices = new ModelChoices(context.workspaceState);
    const views = new Views(context.extensionUri, this.api, this.supervisor, this.projects, modelChoices);
    const agents = new AgentCommands({ projects: this.projects, openModelConfig: (p, agentId) => views.openModelConfig(p, agentId) });
    const budgets = new BudgetUi(this.api, this.projects, this.log);
    this.disposables.push(sync, views, budgets);
    const claude = new ClaudeFinder(this.settings, context.extensionPath, this.log);
    const tasks = new ConduitTaskProvider(this.projects, this.settings, context.extensionPath, claude, (m) => this.statusBar.onMetadata(m));
    // The problem notices subscribe before the walkthrough starts its claude search at startup.
    const problems = new ProblemNotices({ supervisor: this.supervisor, claude, settings: this.settings, log: this.log });
    const walkthrough = new Walkthrough({ claude, supervisor: this.supervisor, api: this.api, projects: this.projects, modelChoices, log: this.log, displayName: context.extension.packageJSON.displayName });

    this.disposables.push(
      this.log, this.supervisor, this.api, this.statusBar,
      new ContextKeys(this.supervisor, context.secrets),
      this.supervisor.onDidChange((s) => this.statusBar.setState(s)),
      this.api.onEvent((e) => this.statusBar.onEvent(e)),
      new StatusTotals(this.api, this.statusBar, this.projects, this.log),
      vscode.tasks.registerTaskProvider(TASK_TYPE, tasks),
      claude,
      problems,
      walkthrough,
      ...registerCommands(createCommands({
        context, supervisor: this.supervisor, settings: this.settings, projects: this.projects, secrets: this.secrets, tasks, claude, log: this.log,
        api: this.api, sync, views, agents, budgets, walkthrough,
      }), this.log),
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfigurationChanged(e)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => { if (this.supervisor.state.owned) void this.supervisor.restart(); }),
    );
    this.statusBar.setState(this.supervisor.state);
    if (this.settings.autoStart) void this.supervisor.start();
  }

  private async onConfigurationChanged(e: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!RESTART_KEYS.some((k) => e.affectsConfiguration(k)) || !this.supervisor.state.owned) return;
    const choice = await vscode.window.showInformationMessage('Conduit settings changed. Restart the gateway to apply them?', 'Restart');
    if (choice === 'Restart') await this.supervisor.restart();
  }

  dispose(): void {
    for (const d of this.disposables.reverse()) d.dispose();
  }
}

/** The window's extension, for deactivate(). */
let active: ConduitExtension | undefined;

export function activate(context: vscode.ExtensionContext): ConduitExtension {
  const started = performance.now();
  const extension = new ConduitExtension(context);
  active = extension;
  context.subscriptions.push(extension);
  // The extension's own share of activation (the gateway starts in the background).
  extension.log.info(`activated in ${(performance.now() - started).toFixed(1)} ms`);
  return extension;
}

/**
 * The window closes (or reloads): it lets go of the gateway, which other windows and
 * sessions may still use. VS Code awaits this before it disposes the subscriptions.
 */
export async function deactivate(): Promise<void> {
  const extension = active;
  active = undefined;
  await extension?.supervisor.leave();
}
