/**
 * Budgets in VS Code: "Conduit: Set Budget" (a menu of the project's or an agent's budget
 * fields that stays open while the person edits them) and the notifications of the
 * gateway's budget alerts, with "Open Usage Analytics" and "Raise Budget" actions.
 */
import * as vscode from 'vscode';
import { call } from '../../conduit/client/call';
import { EMPTY_BUDGET_POLICY, type BudgetAlert, type BudgetPolicy, type BudgetPolicyPatch, type BudgetsResponse } from '../../protocol/budgets';
import type { AgentInfo } from '../../protocol/projects';
import { ROUTES } from '../../protocol/routes';
import { WAIT_FOR_STORE, type GatewayApi } from '../gateway/gatewayApi';
import type { Project, Projects } from '../projects';
import { BudgetAlertDispatcher, alertSeverity, notificationText } from './alertDispatcher';
import { budgetMenu, formatBudgetUsd, parsePercentInput, parseUsdInput, patchFor, type BudgetField } from './budgetInput';

/** What "Raise Budget" (or another command) passes to conduit.setBudget. */
export interface SetBudgetTarget {
  projectKey?: string;
  agentId?: string | null;
  field?: BudgetField;
}

interface Scope {
  project: Project;
  agent: AgentInfo | null;
  name: string;
}

export class BudgetUi implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  readonly dispatcher: BudgetAlertDispatcher;

  constructor(private readonly api: GatewayApi, private readonly projects: Projects, private readonly log: vscode.LogOutputChannel) {
    this.dispatcher = new BudgetAlertDispatcher({
      source: {
        pending: async () => (await call(api, ROUTES.budgetAlerts, {}, WAIT_FOR_STORE)).alerts,
        acknowledge: async (id) => { await call(api, ROUTES.ackBudgetAlert, { params: { id } }); },
      },
      ownsProject: (key) => this.openProjects().some((p) => p.key === key),
      show: (alert) => this.notify(alert),
      onError: (m) => log.warn(m),
    });
    this.disposables.push(
      api.onEvent((e) => { if (e.type === 'budget') void this.dispatcher.receive(e.alert); }),
      api.onConnected(() => void this.dispatcher.catchUp()),
    );
  }

  private openProjects(): Project[] {
    return (vscode.workspace.workspaceFolders ?? []).map((f) => this.projects.forFolder(f));
  }

  private notify(alert: BudgetAlert): void {
    this.log.info(`budget alert ${alert.id}: ${alert.message}`);
    const show = alertSeverity(alert) === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void show(notificationText(alert), 'Open Usage Analytics', 'Raise Budget').then(async (choice) => {
      if (choice === 'Open Usage Analytics') await vscode.commands.executeCommand('conduit.openUsageAnalytics');
      if (choice === 'Raise Budget') {
        const target: SetBudgetTarget = { projectKey: alert.status.projectKey, agentId: alert.status.agentId, field: alert.status.period === 'daily' ? 'dailyUsd' : 'monthlyUsd' };
        await vscode.commands.executeCommand('conduit.setBudget', target);
      }
    });
  }

  /** conduit.setBudget: from the palette (no target) or from a notification's "Raise Budget". */
  async setBudget(target: SetBudgetTarget = {}): Promise<void> {
    const scope = await this.pickScope(target);
    if (!scope) return;
    let field = target.field;
    for (;;) {
      const { policy, statuses } = await this.load(scope);
      if (!field) {
        const lines = budgetMenu(policy, statuses);
        const pick = await vscode.window.showQuickPick(lines.map((l) => ({ ...l, description: l.description })), {
          title: `Budget of ${scope.name}`, placeHolder: 'Choose what to change (Escape when done)', matchOnDescription: true,
        });
        if (!pick) return;
        field = pick.field === 'clear' ? undefined : pick.field;
        if (pick.field === 'clear') {
          await this.save(scope, null);
          void vscode.window.showInformationMessage(`Conduit: the budget of ${scope.name} is removed.`);
          continue;
        }
      }
      const patch = await this.ask(field!, policy, scope);
      field = undefined;
      if (!patch) continue;
      await this.save(scope, patch);
      void vscode.window.showInformationMessage(`Conduit: ${describePatch(patch)} for ${scope.name}.`);
      if (target.field) return; // came from a notification: one change, then done
    }
  }

  private async pickScope(target: SetBudgetTarget): Promise<Scope | undefined> {
    const project = target.projectKey
      ? this.openProjects().find((p) => p.key === target.projectKey)
      : await this.projects.pick('Set the budget of which project?');
    if (!project) {
      if (target.projectKey) void vscode.window.showWarningMessage('Conduit: that project is not open in this window.');
      return undefined;
    }
    const agents = await this.projects.agents(project);
    if (target.agentId !== undefined) {
      if (target.agentId === null) return { project, agent: null, name: `project "${project.folder.name}"` };
      const agent = agents.find((a) => a.id === target.agentId);
      if (!agent) throw new Error('that agent no longer exists');
      return { project, agent, name: `agent "${agent.name}"` };
    }
    if (!agents.length) return { project, agent: null, name: `project "${project.folder.name}"` };
    const pick = await vscode.window.showQuickPick([
      { label: `$(folder) ${project.folder.name}`, description: 'the whole project, its agents included', agent: null as AgentInfo | null },
      ...agents.map((a) => ({ label: `$(person) ${a.name}`, description: a.personaType, agent: a as AgentInfo | null })),
    ], { placeHolder: 'A budget for the whole project or for one agent?' });
    if (!pick) return undefined;
    return { project, agent: pick.agent, name: pick.agent ? `agent "${pick.agent.name}"` : `project "${project.folder.name}"` };
  }

  private async load(scope: Scope): Promise<{ policy: BudgetPolicy; statuses: BudgetsResponse['statuses'] }> {
    let policy: BudgetPolicy;
    if (scope.agent) {
      const agent = (await this.projects.agents(scope.project)).find((a) => a.id === scope.agent!.id);
      policy = agent?.budget ?? EMPTY_BUDGET_POLICY;
    } else {
      const body = { name: scope.project.folder.name };
      policy = (await call(this.api, ROUTES.saveProject, { params: { key: scope.project.key }, body }, WAIT_FOR_STORE)).budget ?? EMPTY_BUDGET_POLICY;
    }
    const all = await call(this.api, ROUTES.budgets, { query: { project: scope.project.key } }, WAIT_FOR_STORE);
    const statuses = all.statuses.filter((s) => (scope.agent ? s.scope === 'agent' && s.agentId === scope.agent.id : s.scope === 'project'));
    return { policy, statuses };
  }

  private async save(scope: Scope, patch: BudgetPolicyPatch | null): Promise<void> {
    const key = scope.project.key;
    const body = { budget: patch };
    if (scope.agent) await call(this.api, ROUTES.saveAgent, { params: { key, agentId: scope.agent.id }, body }, WAIT_FOR_STORE);
    else await call(this.api, ROUTES.saveProject, { params: { key }, body }, WAIT_FOR_STORE);
  }

  /** Asks for one field; undefined when the person cancels or the answer is refused. */
  private async ask(field: BudgetField, policy: BudgetPolicy, scope: Scope): Promise<BudgetPolicyPatch | undefined> {
    if (field === 'softLimitModel') {
      const { models } = await call(this.api, ROUTES.models, {});
      const pick = await vscode.window.showQuickPick([
        { label: 'The cheapest configured model', description: 'of the project\'s configuration, by price', id: null as string | null },
        ...models.map((m) => ({ label: m.id, description: `${m.name} · ${m.category}`, id: m.id as string | null })),
      ], { title: `Cheaper model for ${scope.name}`, placeHolder: 'Where requests go past the soft limit' });
      return pick ? { softLimitModel: pick.id } : undefined;
    }
    const money = field === 'dailyUsd' || field === 'monthlyUsd';
    const current = policy[field] as number | null;
    const prompts: Record<string, string> = {
      dailyUsd: 'Daily budget in US dollars (a calendar day; empty: none)',
      monthlyUsd: 'Monthly budget in US dollars (a calendar month; empty: none)',
      softLimitPercent: 'Soft limit: percent of the budget past which requests go to a cheaper model (empty: off)',
      hardLimitPercent: 'Hard limit: percent of the budget past which requests are refused (empty: off)',
    };
    const parse = money ? parseUsdInput : parsePercentInput;
    const text = await vscode.window.showInputBox({
      title: `Budget of ${scope.name}`,
      prompt: prompts[field],
      value: current === null ? '' : String(current),
      ignoreFocusOut: true,
      validateInput: (v) => {
        const r = parse(v);
        if ('error' in r) return r.error;
        const p = patchFor(field, r.value, policy);
        return 'error' in p ? p.error : undefined;
      },
    });
    if (text === undefined) return undefined;
    const r = parse(text);
    if ('error' in r) return undefined;
    const p = patchFor(field, r.value, policy);
    return 'error' in p ? undefined : p;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function describePatch(patch: BudgetPolicyPatch): string {
  const [[field, value]] = Object.entries(patch) as [BudgetField, number | string | null][];
  switch (field) {
    case 'dailyUsd': return `daily budget ${value === null ? 'removed' : `set to ${formatBudgetUsd(value as number)}`}`;
    case 'monthlyUsd': return `monthly budget ${value === null ? 'removed' : `set to ${formatBudgetUsd(value as number)}`}`;
    case 'softLimitPercent': return value === null ? 'soft limit off' : `soft limit at ${value}%`;
    case 'hardLimitPercent': return value === null ? 'hard limit off' : `hard limit at ${value}%`;
    case 'softLimitModel': return `past the soft limit, requests go to ${value ?? 'the cheapest configured model'}`;
  }
}
