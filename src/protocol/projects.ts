/**
 * Projects and agents as the gateway's local API serves them (backed by the ledger) and
 * as the extension and the webviews use them. A project is a folder (a VS Code workspace
 * folder, or the one claude runs in from a terminal), known by a workspace key derived from
 * it (src/conduit/client/projectIdentity.ts: the repository's remote and the folder's path in
 * it, its real path, or the committed conduit.projectId setting), which its sessions carry
 * as SYNAPSE_PROJECT_ID. Earlier keys (the random ones older versions kept in VS Code's
 * workspace state) still name the project they were given to (`previousKeys`).
 *
 *   GET    /v1/conduit/projects/:key                 → ProjectInfo (404 when unknown)
 *   PUT    /v1/conduit/projects/:key                 {name?, modelConfig?, dailyBudgetUsd?, monthlyBudgetUsd?, budget?, previousKeys?} → ProjectInfo (created when new)
 *   GET    /v1/conduit/projects/:key/agents          → AgentInfo[]
 *   POST   /v1/conduit/projects/:key/agents          AgentInput → AgentInfo
 *   PUT    /v1/conduit/projects/:key/agents/:agentId Partial<AgentInput> → AgentInfo
 *   DELETE /v1/conduit/projects/:key/agents/:agentId → 204
 */
import type { BudgetPolicy } from './budgets';
import type { AgentModelConfig, ProjectModelConfig } from './modelConfig';

export interface ProjectInfo {
  id: string;
  workspaceKey: string;
  name: string;
  modelConfig: ProjectModelConfig;
  dailyBudgetUsd: number | null;
  monthlyBudgetUsd: number | null;
  /** The whole budget policy (dailyUsd/monthlyUsd equal the two fields above). Always sent by the gateway. */
  budget?: BudgetPolicy;
}

export interface AgentInput {
  name: string;
  /** The agent's persona type (SYNAPSE_AGENT_TYPE), e.g. "code-reviewer". */
  personaType: string;
  /** Use the project's model settings (stored as the agents table's use_project_model). */
  useProjectModel: boolean;
  /** The agent's own model when it does not use the project's (custom_model_id). */
  customModelId: string | null;
  dailyBudgetUsd?: number | null;
  monthlyBudgetUsd?: number | null;
  /** The whole budget policy (dailyUsd/monthlyUsd equal the two fields above). Always sent by the gateway. */
  budget?: BudgetPolicy;
}

export interface AgentInfo extends AgentInput {
  id: string;
  projectId: string;
}

/** The model configuration a project has before anyone saved one: routing on, Sonnet by default. */
export const DEFAULT_PROJECT_MODEL_CONFIG: ProjectModelConfig = { enabled: true, defaultModel: 'claude-sonnet-5-5' };

export function agentModelConfig(agent: Pick<AgentInput, 'useProjectModel' | 'customModelId'>): AgentModelConfig {
  return agent.useProjectModel || !agent.customModelId
    ? { useProjectDefaults: true, overrideModel: null }
    : { useProjectDefaults: false, overrideModel: agent.customModelId };
}
