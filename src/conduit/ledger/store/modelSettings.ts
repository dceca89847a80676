// The stored model settings the gateway routes by, and the projects API's operations on
// the store (carried to the ledger's worker thread as plain data). No PGlite here: this
// module is loaded on the gateway's thread.
//
// A project's model configuration counts as stored once it was saved through the API
// (PUT /v1/conduit/projects/:key with modelConfig); an agent's model settings once the
// agent was created through the API or its useProjectModel/customModelId were saved.
// Projects and agents that ingestion made from a request's context carry only the
// columns' defaults: for them the session header's configuration stays in force.
import type { AgentModelConfig, ProjectModelConfig } from '../../../protocol/modelConfig';
import type { AgentInfo, AgentInput, ProjectInfo } from '../../../protocol/projects';
import type { BudgetPolicy } from '../../../protocol/budgets';
import type { SessionContext } from '../../../protocol/sessionContext';

export interface ProjectUpdate {
  name?: string;
  modelConfig?: ProjectModelConfig;
  dailyBudgetUsd?: number | null;
  monthlyBudgetUsd?: number | null;
  /** The budget policy's limits (its amounts are the two fields above). */
  budgetLimits?: BudgetLimitsPatch;
  /** Earlier keys of the project: their projects are renamed to, or merged into, this one (projectStore.ts). */
  previousKeys?: string[];
}

/** The fields of a budget policy beside its amounts; only those given change. */
export type BudgetLimitsPatch = Partial<Pick<BudgetPolicy, 'softLimitPercent' | 'softLimitModel' | 'hardLimitPercent'>>;

/** The projects API's operations; `key` is the project's workspace key. Inputs are validated already. */
export type ProjectOp =
  | { op: 'getProject'; key: string }
  | { op: 'putProject'; key: string; update: ProjectUpdate }
  | { op: 'listAgents'; key: string }
  | { op: 'createAgent'; key: string; input: AgentInput; budgetLimits?: BudgetLimitsPatch }
  | { op: 'updateAgent'; key: string; agentId: string; patch: Partial<AgentInput>; budgetLimits?: BudgetLimitsPatch }
  | { op: 'deleteAgent'; key: string; agentId: string };

export interface ProjectOpValues {
  getProject: ProjectInfo;
  putProject: ProjectInfo;
  listAgents: AgentInfo[];
  createAgent: AgentInfo;
  updateAgent: AgentInfo;
  deleteAgent: null;
}

/** What the store answers to an operation: its value and, after a change, the project's stored settings. */
export interface ProjectOpReply<K extends ProjectOp['op'] = ProjectOp['op']> {
  value: ProjectOpValues[K];
  settings?: StoredProjectSettings;
}

export interface StoredAgentSettings {
  /** agents.id */
  id: string;
  /** agents.external_id: the id a session carried when ingestion made the agent. */
  externalId: string | null;
  modelConfig: AgentModelConfig;
}

export interface StoredProjectSettings {
  /** projects.id */
  id: string;
  workspaceKey: string;
  /** null: never saved (the session header's configuration applies). */
  modelConfig: ProjectModelConfig | null;
  /** The project's agents whose model settings were saved. */
  agents: StoredAgentSettings[];
  /** Order of the change in the store (a later reply never loses to an earlier one). */
  version: number;
}

export interface ModelSettingsSnapshot {
  version: number;
  projects: StoredProjectSettings[];
}

/** The kinds of refusal the projects API answers with 404, 409 and 400. */
export type ProjectStoreErrorKind = 'not_found' | 'conflict' | 'invalid';

export class ProjectStoreError extends Error {
  constructor(readonly kind: ProjectStoreErrorKind, message: string) {
    super(message);
    this.name = 'ProjectStoreError';
  }
}

interface Entry {
  version: number;
  config: ProjectModelConfig | null;
  agents: Map<string, AgentModelConfig>;
}

/**
 * The stored settings in the gateway's memory: filled when the store opens, updated by
 * every change made through the projects API, read once per request (Map lookups; the
 * context with the stored settings applied is kept per decoded header object).
 */
export class ModelSettingsCache {
  /** Workspace key and project id → the project's settings. */
  private readonly byRef = new Map<string, Entry>();
  private readonly keysOf = new Map<string, string[]>();
  private generation = 0;
  private readonly memo = new WeakMap<SessionContext, { generation: number; ctx: SessionContext }>();

  /** Replaces everything with what the store holds (a project changed since keeps its newer settings). */
  load(snapshot: ModelSettingsSnapshot): void {
    const newer = new Map<string, StoredProjectSettings>();
    for (const [id, keys] of this.keysOf) {
      const e = this.byRef.get(keys[0]);
      if (e && e.version > snapshot.version) newer.set(id, this.toSettings(id, keys, e));
    }
    this.byRef.clear();
    this.keysOf.clear();
    for (const p of snapshot.projects) if (!newer.has(p.id)) this.put(p);
    for (const p of newer.values()) this.put(p);
    this.generation++;
  }

  /** One project's settings after a change (ignored when older than what is held). */
  apply(settings: StoredProjectSettings): void {
    const keys = this.keysOf.get(settings.id);
    const held = keys ? this.byRef.get(keys[0]) : undefined;
    if (held && held.version > settings.version) return;
    this.put(settings);
    this.generation++;
  }

  /** The context to route by: the session's, with the stored project and agent settings in place of its own. */
  forContext(ctx: SessionContext): SessionContext {
    if (!ctx.projectId || this.byRef.size === 0) return ctx;
    const entry = this.byRef.get(ctx.projectId);
    if (!entry) return ctx;
    const memo = this.memo.get(ctx);
    if (memo && memo.generation === this.generation) return memo.ctx;
    const agent = ctx.agentId ? entry.agents.get(ctx.agentId) ?? entry.agents.get(ctx.agentId.toLowerCase()) : undefined;
    let out = ctx;
    if (entry.config || agent) {
      out = { ...ctx };
      if (entry.config) out.projectModelConfig = entry.config;
      if (agent) out.agentModelConfig = agent;
    }
    this.memo.set(ctx, { generation: this.generation, ctx: out });
    return out;
  }

  private put(s: StoredProjectSettings): void {
    for (const k of this.keysOf.get(s.id) ?? []) this.byRef.delete(k);
    this.keysOf.delete(s.id);
    if (!s.modelConfig && !s.agents.length) return;
    const agents = new Map<string, AgentModelConfig>();
    for (const a of s.agents) {
      agents.set(a.id, a.modelConfig);
      if (a.externalId) agents.set(a.externalId, a.modelConfig);
    }
    const entry: Entry = { version: s.version, config: s.modelConfig, agents };
    const keys = [s.workspaceKey, s.id];
    for (const k of keys) this.byRef.set(k, entry);
    this.keysOf.set(s.id, keys);
  }

  private toSettings(id: string, keys: string[], e: Entry): StoredProjectSettings {
    const agents: StoredAgentSettings[] = [];
    for (const [ref, modelConfig] of e.agents) agents.push({ id: ref, externalId: null, modelConfig });
    return { id, workspaceKey: keys[0], modelConfig: e.config, agents, version: e.version };
  }
}
