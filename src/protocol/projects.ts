/**
 * Projects and agents as the gateway's local API serves them (backed by the ledger) and
 * as the extension and the webviews use them. A project is a VS Code workspace folder,
 * known by a stable workspace key (the SYNAPSE_PROJECT_ID its sessions carry).
 *
 *   GET    /v1/conduit/projects/:key                 → ProjectInfo (404 when unknown)
 *   PUT    /v1/conduit/projects/:key                 {name?, modelConfig?, dailyBudgetUsd?, monthlyBudgetUsd?, budget?} → ProjectInfo (created when new)
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
  /** Use the project's model settings (the seed's use_project_model). */
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

/** The model configuration a project has before anyone saved one (the seed's fallback). */
export const DEFAULT_PROJECT_MODEL_CONFIG: ProjectModelConfig = { enabled: true, defaultModel: 'claude-sonnet-5-5' };

export function agentModelConfig(agent: Pick<AgentInput, 'useProjectModel' | 'customModelId'>): AgentModelConfig {
  return agent.useProjectModel || !agent.customModelId
    ? { useProjectDefaults: true, overrideModel: null }
    : { useProjectDefaults: false, overrideModel: agent.customModelId };
}
