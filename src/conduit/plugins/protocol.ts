/** Messages between the gateway and its plugin worker thread. */
import type { AgentModelConfig, ProjectModelConfig } from '../../protocol/modelConfig';

/** What a plugin's customRouter(context) receives. */
export interface PluginContext {
  requestedModel: string;
  tokenCount: number;
  stream: boolean;
  thinking: { type: string | null; budgetTokens: number | null };
  hasWebSearchTool: boolean;
  /** Text of the user's latest message. */
  lastUserMessage: string;
  sessionId: string | null;
  claudeSessionId: string | null;
  /** The Synapse session context (the seed's plugins read synapseContext.agentType). */
  synapseContext: {
    projectId: string | null;
    agentId: string | null;
    agentType: string | null;
    projectModelConfig: ProjectModelConfig | null;
    agentModelConfig: AgentModelConfig | null;
  };
}

export type ToWorker =
  | { kind: 'load'; dir: string; timeoutMs: number }
  | { kind: 'route'; id: number; context: PluginContext };

export type FromWorker =
  | { kind: 'loaded'; plugins: { name: string; version: string | null; file: string }[]; errors: string[] }
  | { kind: 'routed'; id: number; model: string | null; plugin: string | null; problems: string[] };

/** Slot in the shared buffer where the worker writes the index of the plugin it is running (-1: none). */
export const RUNNING_SLOT = 0;
