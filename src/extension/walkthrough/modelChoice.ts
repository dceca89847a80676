/**
 * Whether a person chose the project's default model: what checks off the walkthrough's
 * "Pick the project's default model" step. The gateway cannot say: every project it stores
 * comes back with a model configuration, the default one (Sonnet, routing on) when nobody saved
 * one. So a save of the project's model configuration is recorded in the workspace's state,
 * and a stored default model other than the built-in one counts as chosen too (saved before
 * this record existed, or from another window).
 * No vscode import at run time: the rule is unit-tested.
 */
import type * as vscode from 'vscode';
import { DEFAULT_PROJECT_MODEL_CONFIG } from '../../protocol/projects';

/** Workspace state: the keys of the projects whose model configuration was saved in this workspace. */
const CHOSEN_STATE = 'conduit.projectModelChosen';

/** Whether a project's model was chosen: its save recorded here, or a stored default model that is not the built-in one. */
export function projectModelChosen(stored: { modelConfig?: { defaultModel?: unknown } | null } | null, recorded: boolean): boolean {
  if (recorded) return true;
  const model = stored?.modelConfig?.defaultModel;
  return typeof model === 'string' && model !== '' && model !== DEFAULT_PROJECT_MODEL_CONFIG.defaultModel;
}

/** The record of saved model configurations, kept in the workspace's state. */
export class ModelChoices {
  private readonly listeners = new Set<() => void>();

  constructor(private readonly state: vscode.Memento) {}

  has(projectKey: string): boolean {
    return this.state.get<string[]>(CHOSEN_STATE, []).includes(projectKey);
  }

  /** The person saved the project's model configuration (the model configuration view). */
  async record(projectKey: string): Promise<void> {
    if (this.has(projectKey)) return;
    await this.state.update(CHOSEN_STATE, [...this.state.get<string[]>(CHOSEN_STATE, []), projectKey]);
    for (const listener of this.listeners) listener();
  }

  onDidRecord(listener: () => void): vscode.Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
}
