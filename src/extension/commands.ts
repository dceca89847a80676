/**
 * Every action of the extension, in the command palette under "Conduit", in one table
 * (createCommands) registered in one place with one error guard (registerCommands). The
 * table is typed by COMMAND_IDS, the list package.json contributes. Commands that need a
 * running gateway say so clearly when it is not running.
 */
import * as vscode from 'vscode';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { GatewaySupervisor } from './gateway/supervisor';
import type { Projects } from './projects';
import type { Settings } from './settings';
import type { Secrets } from './secrets';
import { TASK_TYPE, type ConduitTaskProvider } from './tasks/taskProvider';
import { wrapperCommand } from './tasks/agentSession';
import { exportUsageReportCommand } from './reports/exportCommand';
import { gatewayWarning } from './ui/gatewayWarning';
import type { ClaudeFinder } from './claude/claudeFinder';
import type { GatewayApi } from './gateway/gatewayApi';
import type { SupabaseSync } from './sync/supabaseCommands';
import { teamCommands } from './sync/teamCommands';
import type { Views } from './views/panels';
import type { AgentCommands } from './agents/agentCommands';
import type { BudgetUi, SetBudgetTarget } from './budgets/budgetUi';
import type { Walkthrough } from './walkthrough/walkthrough';
import type { CommandId } from './commandIds';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  supervisor: GatewaySupervisor;
  settings: Settings;
  projects: Projects;
  secrets: Secrets;
  tasks: ConduitTaskProvider;
  claude: ClaudeFinder;
  log: vscode.LogOutputChannel;
  api: GatewayApi;
  sync: SupabaseSync;
  views: Views;
  agents: AgentCommands;
  budgets: BudgetUi;
  walkthrough: Walkthrough;
}

/**
 * A command's action, called with the arguments it was run with (none from the palette;
 * a SetBudgetTarget when a budget alert runs conduit.setBudget).
 */
export type Command = (...args: never[]) => unknown;

/** What each command does. */
export function createCommands(d: CommandDeps): Record<CommandId, Command> {
  const { supervisor, log } = d;
  return {
    'conduit.startGateway': async () => {
      await supervisor.start();
      report(supervisor);
    },
    'conduit.stopGateway': async () => {
      await supervisor.stop();
      void vscode.window.showInformationMessage('Conduit gateway stopped.');
    },
    'conduit.restartGateway': async () => {
      await supervisor.restart();
      report(supervisor);
    },
    'conduit.showStatus': () => report(supervisor),
    'conduit.showLogs': () => log.show(),
    'conduit.showActions': async () => {
      const running = supervisor.state.health === 'running';
      const items: (vscode.QuickPickItem & { command: string })[] = [
        { label: '$(run) Run Agent Session', command: 'conduit.runAgentSession' },
        { label: '$(terminal) Open Claude in Terminal', command: 'conduit.openClaudeTerminal' },
        running
          ? { label: '$(debug-restart) Restart Gateway', command: 'conduit.restartGateway' }
          : { label: '$(play) Start Gateway', command: 'conduit.startGateway' },
        ...(running ? [{ label: '$(debug-stop) Stop Gateway', command: 'conduit.stopGateway' }] : []),
        { label: '$(graph) Open Usage Analytics', command: 'conduit.openUsageAnalytics' },
        { label: '$(credit-card) Set Budget', command: 'conduit.setBudget' },
        { label: '$(export) Export Usage Report', command: 'conduit.exportUsageReport' },
        { label: '$(output) Show Logs', command: 'conduit.showLogs' },
        { label: '$(key) Set Provider API Key', command: 'conduit.setApiKey' },
      ];
      const pick = await vscode.window.showQuickPick(items, { placeHolder: 'Conduit' });
      if (pick) await vscode.commands.executeCommand(pick.command);
    },
    'conduit.runAgentSession': async () => {
      const project = await d.projects.pick('Run an agent session in which project?');
      if (!project) return;
      if ('problem' in await d.claude.forSession()) {
        // Not a question about the prompt for a session that cannot run: its terminal says why.
        await vscode.tasks.executeTask(d.tasks.build({ type: TASK_TYPE, prompt: '' }, project.folder, 'Run agent session'));
        return;
      }
      let agentName: string | undefined;
      try {
        const agents = await d.projects.agents(project);
        if (agents.length) {
          const pick = await vscode.window.showQuickPick(
            [{ label: 'Project defaults', agent: undefined as string | undefined }, ...agents.map((a) => ({ label: a.name, description: a.personaType, agent: a.name }))],
            { placeHolder: 'Which agent?' },
          );
          if (!pick) return;
          agentName = pick.agent;
        }
      } catch { /* no agents without the gateway: the project's settings apply */ }
      const prompt = await vscode.window.showInputBox({ prompt: 'What should the agent do?', ignoreFocusOut: true });
      if (!prompt) return;
      const task = d.tasks.build({ type: TASK_TYPE, prompt, ...(agentName ? { agent: agentName } : {}) }, project.folder, agentName ? `Run ${agentName}` : 'Run agent session');
      await vscode.tasks.executeTask(task);
    },
    'conduit.openClaudeTerminal': async () => {
      const project = await d.projects.pick('Open Claude for which project?');
      if (!project) return;
      // Without a claude found, conduit-claude's own search could pick one in an untrusted workspace.
      const claude = await d.claude.forSession();
      if ('problem' in claude) return;
      if (supervisor.state.health !== 'running') await supervisor.start();
      const wrapper = wrapperCommand(d.context.extensionPath);
      const terminal = vscode.window.createTerminal({
        name: `Claude · ${project.folder.name}`,
        cwd: project.folder.uri,
        shellPath: wrapper.command,
        shellArgs: wrapper.args,
        env: {
          ...wrapper.env,
          ...(await d.projects.sessionEnvironment(project)),
          CONDUIT_HOME: d.settings.home,
          CONDUIT_CLAUDE_PATH: claude.path,
        } as Record<string, string>,
        iconPath: new vscode.ThemeIcon('arrow-swap'),
      });
      terminal.show();
    },
    'conduit.setClaudePath': () => d.claude.askForPath(),
    'conduit.installWrapper': () => {
      const cli = path.join(d.context.extensionPath, 'dist', 'conduit.js');
      const r = spawnSync(process.execPath, [cli, 'install-wrapper'], {
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', CONDUIT_HOME: d.settings.home }, encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(r.stderr.trim() || `install-wrapper exited with ${r.status}`);
      log.info(r.stdout.trim());
      void vscode.window.showInformationMessage(r.stdout.trim().split('\n').join(' — '));
    },
    'conduit.setApiKey': async () => {
      const key = await vscode.window.showInputBox({
        prompt: 'Anthropic API key for the gateway (kept in VS Code\'s secret storage)', password: true, ignoreFocusOut: true,
        validateInput: (v) => (v.trim().length < 10 ? 'That does not look like an API key' : undefined),
      });
      if (!key) return;
      await d.secrets.setApiKey('anthropic', key.trim());
      const choice = await vscode.window.showInformationMessage('API key saved. Restart the gateway to use it?', 'Restart');
      if (choice === 'Restart') await supervisor.restart();
    },
    'conduit.exportUsageReport': () => exportUsageReportCommand(d),
    'conduit.clearApiKey': async () => {
      await d.secrets.deleteApiKey('anthropic');
      void vscode.window.showInformationMessage('API key removed from secret storage.');
    },
    'conduit.openWalkthrough': () => d.walkthrough.open(),
    'conduit.signInSupabase': () => d.sync.signIn(),
    'conduit.signOutSupabase': () => d.sync.signOut(),
    'conduit.chooseStorage': () => d.sync.chooseStorage(),
    'conduit.showSyncStatus': async () => { void vscode.window.showInformationMessage(`Conduit sync: ${await d.sync.status()}`); },
    ...teamCommands({ api: d.api, projects: d.projects, log }),
    'conduit.openUsageAnalytics': () => d.views.openAnalytics(),
    'conduit.configureProjectModel': async () => {
      const project = await d.projects.pick('Configure the model of which project?');
      if (project) await d.views.openModelConfig(project);
    },
    'conduit.configureAgentModel': () => d.agents.configureModel(),
    'conduit.createAgent': () => d.agents.create(),
    'conduit.renameAgent': () => d.agents.rename(),
    'conduit.deleteAgent': () => d.agents.delete(),
    'conduit.setBudget': (target?: SetBudgetTarget) => d.budgets.setBudget(target),
  };
}

/** Registers the table; a command that fails is logged and said in an error message, never thrown at VS Code. */
export function registerCommands(commands: Record<CommandId, Command>, log: vscode.LogOutputChannel): vscode.Disposable[] {
  return (Object.entries(commands) as [CommandId, Command][]).map(([id, run]) => vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      await run(...(args as never[]));
    } catch (err) {
      log.error(`${id}: ${(err as Error).message}`);
      void vscode.window.showErrorMessage(`Conduit: ${(err as Error).message}`);
    }
  }));
}

function report(supervisor: GatewaySupervisor): void {
  const s = supervisor.state;
  if (s.health === 'running') {
    const running = `Conduit ${s.version ?? ''} is running on 127.0.0.1:${s.port} (pid ${s.pid}${s.owned ? '' : ', started outside this window'})`.replace('Conduit  is', 'Conduit is');
    // Running is not enough to work: say what is missing (no credentials, a refused config.json, the journal).
    const warning = gatewayWarning(s);
    if (warning) void vscode.window.showWarningMessage(`${running}, but ${warning}`);
    else void vscode.window.showInformationMessage(running);
  } else {
    void vscode.window.showWarningMessage(`Conduit is not running${s.message ? `: ${s.message}` : ''}. Start it with "Conduit: Start Gateway".`);
  }
}
