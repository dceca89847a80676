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

/** The team commands' entries of the command table (src/extension/commands.ts). */
export function teamCommands(d: TeamCommandDeps): Record<'conduit.inviteMember' | 'conduit.showProjectMembers' | 'conduit.linkSharedProject', () => Promise<void>> {
  return {
    'conduit.inviteMember': async () => {
      const project = await d.projects.pick('Invite a member to which project?');
      if (project) await inviteMember(d.api, ui(d.log), project.key, project.folder.name);
    },
    'conduit.showProjectMembers': () => showMembers(d.api, ui(d.log)),
    'conduit.linkSharedProject': async () => {
      const project = await d.projects.pick('Link which workspace to a shared project?');
      if (project) await linkWorkspace(d.api, ui(d.log), project.key, project.folder.name);
    },
  };
}
