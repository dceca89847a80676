/**
 * Task type `conduit`: an agent session as a VS Code task. Provided for the project's
 * agents, and resolved from tasks.json entries such as
 *   { "type": "conduit", "prompt": "fix the failing test", "agent": "reviewer" }
 */
import * as vscode from 'vscode';
import type { ConduitMetadataLine } from '../../protocol/usage';
import type { AgentInfo } from '../../protocol/projects';
import type { Projects, Project } from '../projects';
import type { Settings } from '../settings';
import type { ClaudeFinder } from '../claude/claudeFinder';
import { AgentSessionTerminal } from './agentSession';

export const TASK_TYPE = 'conduit';

export interface ConduitTaskDefinition extends vscode.TaskDefinition {
  type: typeof TASK_TYPE;
  prompt: string;
  agent?: string;
  model?: string;
  args?: string[];
}

export function isConduitTaskDefinition(d: vscode.TaskDefinition): d is ConduitTaskDefinition {
  return d.type === TASK_TYPE && typeof d.prompt === 'string'
    && (d.agent === undefined || typeof d.agent === 'string')
    && (d.model === undefined || typeof d.model === 'string')
    && (d.args === undefined || (Array.isArray(d.args) && d.args.every((a: unknown) => typeof a === 'string')));
}

export class ConduitTaskProvider implements vscode.TaskProvider {
  constructor(
    private readonly projects: Projects,
    private readonly settings: Settings,
    private readonly extensionPath: string,
    private readonly claude: ClaudeFinder,
    private readonly onMetadata: (m: ConduitMetadataLine['data']) => void,
  ) {}

  async provideTasks(): Promise<vscode.Task[]> {
    const tasks: vscode.Task[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const project = this.projects.forFolder(folder);
      let agents: AgentInfo[] = [];
      try {
        agents = await this.projects.agents(project);
      } catch { /* gateway not running: only the generic task */ }
      tasks.push(this.build({ type: TASK_TYPE, prompt: '' }, folder, 'Run agent session'));
      for (const a of agents) tasks.push(this.build({ type: TASK_TYPE, prompt: '', agent: a.name }, folder, `Run ${a.name}`));
    }
    return tasks;
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const d = task.definition;
    if (!isConduitTaskDefinition(d)) {
      void vscode.window.showErrorMessage('A "conduit" task needs "prompt" (a string); "agent" and "model" are strings and "args" a list of strings.');
      return undefined;
    }
    const folder = typeof task.scope === 'object' ? task.scope as vscode.WorkspaceFolder : vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    return this.build(d, folder, task.name);
  }

  build(definition: ConduitTaskDefinition, folder: vscode.WorkspaceFolder, name: string): vscode.Task {
    const task = new vscode.Task(definition, folder, name, 'conduit', new vscode.CustomExecution(async (resolved) => {
      const d = resolved as ConduitTaskDefinition;
      const project = this.projects.forFolder(folder);
      // Said before asking for a prompt: a session that cannot run should not ask for one.
      const claude = await this.claude.forSession();
      if ('problem' in claude) return new MessageTerminal(claude.problem);
      const prompt = d.prompt || await vscode.window.showInputBox({ prompt: `What should ${d.agent ?? 'the agent'} do?`, ignoreFocusOut: true }) || '';
      const agent = d.agent ? await this.findAgent(project, d.agent) : undefined;
      const env = {
        ...(await this.projects.sessionEnvironment(project, agent)),
        CONDUIT_HOME: this.settings.home,
        CONDUIT_CLAUDE_PATH: claude.path,
      };
      if (!prompt) return new MessageTerminal('No prompt given: nothing to run.');
      return new AgentSessionTerminal({
        prompt, cwd: folder.uri.fsPath, env, model: d.model, args: d.args, extensionPath: this.extensionPath, onMetadata: this.onMetadata,
      });
    }));
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true };
    return task;
  }

  private async findAgent(project: Project, nameOrId: string): Promise<AgentInfo | undefined> {
    try {
      const agents = await this.projects.agents(project);
      const agent = agents.find((a) => a.id === nameOrId || a.name === nameOrId);
      if (!agent) void vscode.window.showWarningMessage(`No agent "${nameOrId}" in this project: running with the project's settings.`);
      return agent;
    } catch (err) {
      void vscode.window.showWarningMessage(`Agents are unavailable (${(err as Error).message}): running with the project's settings.`);
      return undefined;
    }
  }
}

/** A task terminal that only says something and ends. */
class MessageTerminal implements vscode.Pseudoterminal {
  private readonly writer = new vscode.EventEmitter<string>();
  private readonly closer = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.writer.event;
  readonly onDidClose = this.closer.event;
  constructor(private readonly message: string) {}
  open(): void {
    this.writer.fire(`${this.message}\r\n`);
    this.closer.fire(1);
  }
  close(): void {}
}
