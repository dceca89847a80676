/**
 * Messages between the gateway and its plugin worker thread. Routing calls go through the
 * typed channel (src/protocol/channel.ts); the rest are one-way messages. The thread runs
 * plugin code, which can post anything: the gateway checks every message before use.
 */
import type { RequestType } from '../../protocol/channel';
import type { AgentModelConfig, ProjectModelConfig } from '../../protocol/modelConfig';
import { isModelId } from '../../protocol/modelId';
import { isPlainObject } from '../../protocol/validate';

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
  /** The Synapse session context (existing router plugins read synapseContext.agentType). */
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

/** A routing call's answer: the model the first plugin that answered chose (null: none did), and its name. */
export interface RouteAnswer { model: string | null; plugin: string | null }

export type PluginWorkerProtocol = {
  /** Runs the plugins' customRouter in turn; the problems of the call come first as 'problem' messages. */
  route: RequestType<PluginContext, RouteAnswer>;
};

export type FromWorker =
  /** Loading begins: the load time limit starts now (the thread's own start-up is not the plugins' doing). */
  | { kind: 'loading' }
  | { kind: 'loaded'; plugins: PluginInfo[]; errors: string[] }
  /** The worker dropped a plugin (it stopped answering); the gateway keeps it disabled. */
  | { kind: 'dropped'; file: string; reason: string }
  /** Something plugin code threw (outside any call, or in one that went on to the next plugin). */
  | { kind: 'problem'; text: string };

const str = (v: unknown): v is string => typeof v === 'string';
const strOrNull = (v: unknown): v is string | null => v === null || str(v);
const isPluginInfo = (v: unknown): boolean => isPlainObject(v) && str(v.name) && strOrNull(v.version) && str(v.file);

export function isRouteAnswer(v: unknown): v is RouteAnswer {
  return isPlainObject(v) && (v.model === null || (str(v.model) && isModelId(v.model))) && strOrNull(v.plugin);
}

export function isFromWorker(m: unknown): m is FromWorker {
  if (!isPlainObject(m)) return false;
  switch (m.kind) {
    case 'loading': return true;
    case 'loaded': return Array.isArray(m.plugins) && m.plugins.every(isPluginInfo) && Array.isArray(m.errors) && m.errors.every(str);
    case 'dropped': return str(m.file) && str(m.reason);
    case 'problem': return str(m.text);
    default: return false;
  }
}

/**
 * Slot in the shared buffer where the worker writes the index (in WorkerStart.files) of
 * the plugin whose code it is running, at load or in customRouter (-1: none). When the
 * thread blocks or ends, the gateway reads it to know which plugin did it.
 */
export const RUNNING_SLOT = 0;
