/**
 * "Conduit: Invite Project Member", "Conduit: Show Project Members" and "Conduit: Link
 * Workspace to Shared Project": VS Code's input
 * box, quick pick and messages around the logic in teamFlow.ts. The gateway talks to
 * Supabase with the signed-in session (src/protocol/team.ts).
 */
import * as vscode from 'vscode';
import type { GatewayApi } from '../gateway/gatewayApi';
import type { Projects } from '../projects';
import { inviteMember, linkWorkspace, showMembers, type TeamUi } from './teamFlow';

export interface TeamCommandDeps {
  api: GatewayApi;
  projects: Projects;
  log: vscode.LogOutputChannel;
}

function ui(log: vscode.LogOutputChannel): TeamUi {
  return {
    input: (o) => Promise.resolve(vscode.window.showInputBox({ prompt: o.prompt, placeHolder: o.placeHolder, ignoreFocusOut: true, validateInput: o.validate })),
    pick: async (items, placeHolder) => (await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true }))?.value,
    confirm: async (message, action) => (await vscode.window.showWarningMessage(message, { modal: true }, action)) === action,
    info: (m) => void vscode.window.showInformationMessage(m),
    error: (m) => {
      log.warn(`team: ${m}`);
      void vscode.window.showErrorMessage(`Conduit: ${m}`);
    },
  };
}

export function registerTeamCommands(d: TeamCommandDeps): vscode.Disposable[] {
  const guarded = (f: () => Promise<unknown>) => async () => {
    try {
      await f();
    } catch (err) {
      d.log.error((err as Error).message);
      void vscode.window.showErrorMessage(`Conduit: ${(err as Error).message}`);
    }
  };
  return [
    vscode.commands.registerCommand('conduit.inviteMember', guarded(async () => {
      const project = await d.projects.pick('Invite a member to which project?');
      if (project) await inviteMember(d.api, ui(d.log), project.key, project.folder.name);
    })),
    vscode.commands.registerCommand('conduit.showProjectMembers', guarded(() => showMembers(d.api, ui(d.log)))),
    vscode.commands.registerCommand('conduit.linkSharedProject', guarded(async () => {
      const project = await d.projects.pick('Link which workspace to a shared project?');
      if (project) await linkWorkspace(d.api, ui(d.log), project.key, project.folder.name);
    })),
  ];
}
