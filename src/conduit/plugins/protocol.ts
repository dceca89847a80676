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

/** What the worker is started with (workerData). */
export interface WorkerStart {
  /** The plugin files to load, in order; indexes into this list name a plugin below. */
  files: string[];
  /** Time limit of one customRouter call. */
  timeoutMs: number;
  /** A plugin whose calls time out this many times in a row is dropped. */
  maxConsecutiveTimeouts: number;
  /** Shared Int32Array buffer; see RUNNING_SLOT. */
  running: SharedArrayBuffer;
}

export interface PluginInfo { name: string; version: string | null; file: string }

export type ToWorker = { kind: 'route'; id: number; context: PluginContext };

export type FromWorker =
  /** Loading begins: the load time limit starts now (the thread's own start-up is not the plugins' doing). */
  | { kind: 'loading' }
  | { kind: 'loaded'; plugins: PluginInfo[]; errors: string[] }
  | { kind: 'routed'; id: number; model: string | null; plugin: string | null; problems: string[] }
  /** The worker dropped a plugin (it stopped answering); the gateway keeps it disabled. */
  | { kind: 'dropped'; file: string; reason: string }
  /** Something plugin code threw outside any call (a timer, an unhandled rejection). */
  | { kind: 'problem'; text: string };

/**
 * Slot in the shared buffer where the worker writes the index (in WorkerStart.files) of
 * the plugin whose code it is running, at load or in customRouter (-1: none). When the
 * thread blocks or ends, the gateway reads it to know which plugin did it.
 */
export const RUNNING_SLOT = 0;
