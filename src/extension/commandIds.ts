/**
 * Every command the extension contributes (package.json's contributes.commands), without
 * 'vscode' so a unit test can hold it against package.json. commands.ts's table is typed by
 * this list: a command missing from the table, or one the list does not name, does not
 * compile.
 */
export const COMMAND_IDS = [
  'conduit.startGateway',
  'conduit.stopGateway',
  'conduit.restartGateway',
  'conduit.showStatus',
  'conduit.showLogs',
  'conduit.showActions',
  'conduit.runAgentSession',
  'conduit.openClaudeTerminal',
  'conduit.installWrapper',
  'conduit.setClaudePath',
  'conduit.openWalkthrough',
  'conduit.setApiKey',
  'conduit.clearApiKey',
  'conduit.signInSupabase',
  'conduit.signOutSupabase',
  'conduit.chooseStorage',
  'conduit.showSyncStatus',
  'conduit.inviteMember',
  'conduit.showProjectMembers',
  'conduit.linkSharedProject',
  'conduit.openUsageAnalytics',
  'conduit.exportUsageReport',
  'conduit.configureProjectModel',
  'conduit.configureAgentModel',
  'conduit.createAgent',
  'conduit.renameAgent',
  'conduit.deleteAgent',
  'conduit.setBudget',
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];
