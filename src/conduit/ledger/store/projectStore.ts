// The projects API on the store (run by LedgerEngine, in the ledger's worker thread for
// the gateway): projects by the local user's workspace key, their agents, and the model
// settings saved through the API (conduit_local.saved_project_config / saved_agent_model,
// see localSchema.ts). Every change is one transaction, which also reads the project's
// stored settings for the gateway's routing cache (modelSettings.ts).
import { parseProjectModelConfig, type ProjectModelConfig } from '../../../protocol/modelConfig';
import { DEFAULT_PROJECT_MODEL_CONFIG, agentModelConfig, type AgentInfo, type ProjectInfo } from '../../../protocol/projects';
import { projectNameOf } from './ingest';
import type { LedgerDb } from './ledgerDb';
import {
  ProjectStoreError, type BudgetLimitsPatch, type ModelSettingsSnapshot, type ProjectOp, type ProjectOpReply, type ProjectUpdate,
  type StoredAgentSettings, type StoredProjectSettings,
} from './modelSettings';
import type { SqlClient } from './sqlClient';
import { policyOf } from './budgetStore';
import { moveLink } from './workspaceLinks';
import { EMPTY_BUDGET_POLICY } from '../../../protocol/budgets';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ProjectStoreHooks {
  /** The next change's order (called inside its transaction). */
  nextVersion(): number;
  /** An agent was deleted: ingestion must not attach usage to it any more. */
  agentDeleted(id: string, externalId: string | null): void;
  /**
   * A project was merged into another and deleted (called inside the transaction, before it
   * commits): ingestion must resolve its keys again (they are the other's aliases now).
   */
  projectDeleted?(id: string): void;
}

interface ProjectRow {
  id: string;
  workspace_key: string;
  name: string;
  model_config: unknown;
  daily_budget_usd: string | number | null;
  monthly_budget_usd: string | number | null;
  budget_soft_limit_percent: number | null;
  budget_soft_limit_model: string | null;
  budget_hard_limit_percent: number | null;
}

interface AgentRow {
  id: string;
  project_id: string;
  external_id: string | null;
  name: string;
  persona_type: string | null;
  use_project_model: boolean;
  custom_model_id: string | null;
  daily_budget_usd: string | number | null;
  monthly_budget_usd: string | number | null;
  budget_soft_limit_percent: number | null;
  budget_soft_limit_model: string | null;
  budget_hard_limit_percent: number | null;
}

const LIMIT_COLUMNS = `budget_soft_limit_percent::float8 as budget_soft_limit_percent, budget_soft_limit_model,
  budget_hard_limit_percent::float8 as budget_hard_limit_percent`;
const PROJECT_COLUMNS = `id::text, workspace_key, name, model_config, daily_budget_usd::float8 as daily_budget_usd, monthly_budget_usd::float8 as monthly_budget_usd,
  ${LIMIT_COLUMNS}`;
const AGENT_COLUMNS = `id::text, project_id::text, external_id, name, persona_type, use_project_model, custom_model_id,
  daily_budget_usd::float8 as daily_budget_usd, monthly_budget_usd::float8 as monthly_budget_usd, ${LIMIT_COLUMNS}`;

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

/** A stored model_config, or the default when it is not a valid one (written elsewhere). */
function modelConfigOf(value: unknown): ProjectModelConfig {
  try {
    return parseProjectModelConfig(value);
  } catch {
    return DEFAULT_PROJECT_MODEL_CONFIG;
  }
}

function projectInfo(r: ProjectRow): ProjectInfo {
  return {
    id: r.id, workspaceKey: r.workspace_key, name: r.name, modelConfig: modelConfigOf(r.model_config),
    dailyBudgetUsd: num(r.daily_budget_usd), monthlyBudgetUsd: num(r.monthly_budget_usd), budget: policyOf(r),
  };
}

/** The agent as the API shows it: its id is the one sessions carry (the external id of an agent ingestion made). */
function agentInfo(r: AgentRow): AgentInfo {
  return {
    id: r.external_id ?? r.id, projectId: r.project_id, name: r.name, personaType: r.persona_type ?? '',
    useProjectModel: r.use_project_model, customModelId: r.custom_model_id,
    dailyBudgetUsd: num(r.daily_budget_usd), monthlyBudgetUsd: num(r.monthly_budget_usd), budget: policyOf(r),
  };
}

/** The limits after a patch. */
function limitsAfter(r: AgentRow | ProjectRow | null, patch: BudgetLimitsPatch | undefined): [number | null, string | null, number | null] {
  const held = r ? policyOf(r) : EMPTY_BUDGET_POLICY;
  return [
    patch?.softLimitPercent !== undefined ? patch.softLimitPercent : held.softLimitPercent,
    patch?.softLimitModel !== undefined ? patch.softLimitModel : held.softLimitModel,
    patch?.hardLimitPercent !== undefined ? patch.hardLimitPercent : held.hardLimitPercent,
  ];
}

/** The project a key names: its workspace key, else one of its earlier keys (key_aliases). */
async function findProject(db: SqlClient, userId: string, key: string): Promise<ProjectRow | null> {
  const { rows } = await db.query<ProjectRow>(
    `select ${PROJECT_COLUMNS} from public.projects
     where user_id = $1 and (workspace_key = $2 or key_aliases @> array[$2]::text[])
     order by (workspace_key = $2) desc limit 1`, [userId, key]);
  return rows[0] ?? null;
}

async function requireProject(db: SqlClient, userId: string, key: string): Promise<ProjectRow> {
  const p = await findProject(db, userId, key);
  if (!p) throw new ProjectStoreError('not_found', `no project with the workspace key ${JSON.stringify(key)}`);
  return p;
}

async function requireAgent(db: SqlClient, project: ProjectRow, agentId: string): Promise<AgentRow> {
  const { rows } = await db.query<AgentRow>(
    `select ${AGENT_COLUMNS} from public.agents
     where project_id = $1 and (external_id = $2 or id = $3::uuid)
     order by (external_id = $2) desc nulls last limit 1`,
    [project.id, agentId, UUID.test(agentId) ? agentId : null]);
  if (!rows[0]) throw new ProjectStoreError('not_found', `project ${JSON.stringify(project.name)} has no agent ${JSON.stringify(agentId)}`);
  return rows[0];
}

async function refuseDuplicateName(db: SqlClient, project: ProjectRow, name: string, except: string | null): Promise<void> {
  const { rows } = await db.query(
    `select 1 from public.agents where project_id = $1 and name = $2 and ($3::uuid is null or id <> $3::uuid) limit 1`,
    [project.id, name, except]);
  if (rows.length) throw new ProjectStoreError('conflict', `project ${JSON.stringify(project.name)} already has an agent named ${JSON.stringify(name)}`);
}

async function projectSettings(db: SqlClient, projectId: string, version: number): Promise<StoredProjectSettings> {
  const { rows: [p] } = await db.query<{ id: string; workspace_key: string; model_config: unknown; saved: boolean }>(
    `select p.id::text, p.workspace_key, p.model_config, (s.project_id is not null) as saved
     from public.projects p left join conduit_local.saved_project_config s on s.project_id = p.id
     where p.id = $1`, [projectId]);
  const { rows: agents } = await db.query<{ id: string; external_id: string | null; use_project_model: boolean; custom_model_id: string | null }>(
    `select a.id::text, a.external_id, a.use_project_model, a.custom_model_id
     from public.agents a join conduit_local.saved_agent_model s on s.agent_id = a.id
     where a.project_id = $1`, [projectId]);
  return {
    id: p.id, workspaceKey: p.workspace_key, modelConfig: p.saved ? modelConfigOf(p.model_config) : null,
    agents: agents.map(storedAgent), version,
  };
}

function storedAgent(a: { id: string; external_id: string | null; use_project_model: boolean; custom_model_id: string | null }): StoredAgentSettings {
  return { id: a.id, externalId: a.external_id, modelConfig: agentModelConfig({ useProjectModel: a.use_project_model, customModelId: a.custom_model_id }) };
}

/** Every saved setting of the local user's projects: what the gateway loads when the store opens. */
export async function loadModelSettings(db: SqlClient, userId: string, version: number): Promise<ModelSettingsSnapshot> {
  const { rows: projects } = await db.query<{ id: string; workspace_key: string; model_config: unknown; saved: boolean }>(
    `select p.id::text, p.workspace_key, p.model_config, (s.project_id is not null) as saved
     from public.projects p left join conduit_local.saved_project_config s on s.project_id = p.id
     where p.user_id = $1
       and (s.project_id is not null
            or exists (select 1 from public.agents a join conduit_local.saved_agent_model m on m.agent_id = a.id where a.project_id = p.id))`,
    [userId]);
  const { rows: agents } = await db.query<{ id: string; project_id: string; external_id: string | null; use_project_model: boolean; custom_model_id: string | null }>(
    `select a.id::text, a.project_id::text, a.external_id, a.use_project_model, a.custom_model_id
     from public.agents a
     join conduit_local.saved_agent_model m on m.agent_id = a.id
     join public.projects p on p.id = a.project_id
     where p.user_id = $1`, [userId]);
  const byProject = new Map<string, StoredProjectSettings>();
  for (const p of projects) {
    byProject.set(p.id, { id: p.id, workspaceKey: p.workspace_key, modelConfig: p.saved ? modelConfigOf(p.model_config) : null, agents: [], version });
  }
  for (const a of agents) byProject.get(a.project_id)?.agents.push(storedAgent(a));
  return { version, projects: [...byProject.values()] };
}

export async function runProjectOp(db: LedgerDb, userId: string, op: ProjectOp, hooks: ProjectStoreHooks): Promise<ProjectOpReply> {
  switch (op.op) {
    case 'getProject':
      return { value: projectInfo(await requireProject(db, userId, op.key)) };
    case 'listAgents': {
      const project = await requireProject(db, userId, op.key);
      const { rows } = await db.query<AgentRow>(
        `select ${AGENT_COLUMNS} from public.agents where project_id = $1 order by created_at, name`, [project.id]);
      return { value: rows.map(agentInfo) };
    }
    case 'putProject':
      return db.transaction((tx) => putProject(tx, userId, op.key, op.update, hooks));
    case 'createAgent':
      return db.transaction(async (tx) => {
        const project = await requireProject(tx, userId, op.key);
        const input = op.input;
        await refuseDuplicateName(tx, project, input.name, null);
        const { rows: [row] } = await tx.query<AgentRow>(
          `insert into public.agents (project_id, name, persona_type, use_project_model, custom_model_id, model_config, daily_budget_usd, monthly_budget_usd,
             budget_soft_limit_percent, budget_soft_limit_model, budget_hard_limit_percent)
           values ($1, $2, $3, $4, $5, $6::jsonb, $7::numeric, $8::numeric, $9::numeric, $10, $11::numeric)
           returning ${AGENT_COLUMNS}`,
          [project.id, input.name, input.personaType, input.useProjectModel, input.customModelId,
            JSON.stringify(agentModelConfig(input)), input.dailyBudgetUsd ?? null, input.monthlyBudgetUsd ?? null,
            ...limitsAfter(null, op.budgetLimits)]);
        await tx.query(`insert into conduit_local.saved_agent_model (agent_id) values ($1) on conflict do nothing`, [row.id]);
        return { value: agentInfo(row), settings: await projectSettings(tx, project.id, hooks.nextVersion()) };
      });
    case 'updateAgent':
      return db.transaction(async (tx) => {
        const project = await requireProject(tx, userId, op.key);
        const agent = await requireAgent(tx, project, op.agentId);
        const current = agentInfo(agent);
        const { budget: _budget, ...patch } = op.patch;
        const next: AgentInfo = { ...current, ...patch, id: current.id, projectId: current.projectId };
        if (!next.useProjectModel && !next.customModelId) {
          throw new ProjectStoreError('invalid', 'customModelId: required when useProjectModel is false');
        }
        if (next.name !== agent.name) await refuseDuplicateName(tx, project, next.name, agent.id);
        const { rows: [row] } = await tx.query<AgentRow>(
          `update public.agents set name = $2, persona_type = $3, use_project_model = $4, custom_model_id = $5,
             model_config = $6::jsonb, daily_budget_usd = $7::numeric, monthly_budget_usd = $8::numeric,
             budget_soft_limit_percent = $9::numeric, budget_soft_limit_model = $10, budget_hard_limit_percent = $11::numeric
           where id = $1
           returning ${AGENT_COLUMNS}`,
          [agent.id, next.name, next.personaType === '' && agent.persona_type === null ? null : next.personaType,
            next.useProjectModel, next.customModelId, JSON.stringify(agentModelConfig(next)),
            next.dailyBudgetUsd ?? null, next.monthlyBudgetUsd ?? null, ...limitsAfter(agent, op.budgetLimits)]);
        if (op.patch.useProjectModel !== undefined || op.patch.customModelId !== undefined) {
          await tx.query(`insert into conduit_local.saved_agent_model (agent_id) values ($1) on conflict do nothing`, [agent.id]);
        }
        return { value: agentInfo(row), settings: await projectSettings(tx, project.id, hooks.nextVersion()) };
      });
    case 'deleteAgent': {
      const reply = await db.transaction(async (tx) => {
        const project = await requireProject(tx, userId, op.key);
        const agent = await requireAgent(tx, project, op.agentId);
        await tx.query(`delete from public.agents where id = $1`, [agent.id]);
        return { agent, reply: { value: null, settings: await projectSettings(tx, project.id, hooks.nextVersion()) } satisfies ProjectOpReply };
      });
      hooks.agentDeleted(reply.agent.id, reply.agent.external_id);
      return reply.reply;
    }
  }
}

async function putProject(tx: SqlClient, userId: string, key: string, update: ProjectUpdate, hooks: ProjectStoreHooks): Promise<ProjectOpReply> {
  let adopted = false;
  for (const previous of update.previousKeys ?? []) {
    if (previous !== key && (await adoptKey(tx, userId, key, previous, hooks))) adopted = true;
  }
  let project = await findProject(tx, userId, key);
  if (!project) {
    const { rows } = await tx.query<ProjectRow>(
      `insert into public.projects (user_id, name, workspace_key) values ($1, $2, $3) returning ${PROJECT_COLUMNS}`,
      [userId, update.name ?? projectNameOf(key), key]);
    project = rows[0];
  }
  const info = projectInfo(project);
  const changed = (update.name !== undefined && update.name !== info.name)
    || (update.modelConfig !== undefined && JSON.stringify(update.modelConfig) !== JSON.stringify(project.model_config))
    || (update.dailyBudgetUsd !== undefined && update.dailyBudgetUsd !== info.dailyBudgetUsd)
    || (update.monthlyBudgetUsd !== undefined && update.monthlyBudgetUsd !== info.monthlyBudgetUsd)
    || JSON.stringify(limitsAfter(project, update.budgetLimits)) !== JSON.stringify(limitsAfter(project, undefined));
  // Unchanged rows are not written: the extension PUTs a project's name each time it shows it.
  if (changed) {
    const { rows } = await tx.query<ProjectRow>(
      `update public.projects set
         name = coalesce($2, name),
         model_config = coalesce($3::jsonb, model_config),
         daily_budget_usd = case when $4::boolean then $5::numeric else daily_budget_usd end,
         monthly_budget_usd = case when $6::boolean then $7::numeric else monthly_budget_usd end,
         budget_soft_limit_percent = $8::numeric, budget_soft_limit_model = $9, budget_hard_limit_percent = $10::numeric
       where id = $1
       returning ${PROJECT_COLUMNS}`,
      [project.id, update.name ?? null, update.modelConfig ? JSON.stringify(update.modelConfig) : null,
        update.dailyBudgetUsd !== undefined, update.dailyBudgetUsd ?? null,
        update.monthlyBudgetUsd !== undefined, update.monthlyBudgetUsd ?? null, ...limitsAfter(project, update.budgetLimits)]);
    project = rows[0];
  }
  if (update.modelConfig) {
    const { rows } = await tx.query(
      `insert into conduit_local.saved_project_config (project_id) values ($1) on conflict do nothing returning 1`, [project.id]);
    if (rows.length === 0 && !changed && !adopted) return { value: projectInfo(project) }; // saved before, unchanged
  } else if (!changed && !adopted) {
    return { value: projectInfo(project) };
  }
  return { value: projectInfo(project), settings: await projectSettings(tx, project.id, hooks.nextVersion()) };
}

/**
 * Gives the project of an earlier key (`previous`: a random key an older extension kept in
 * VS Code's workspace state) the derived key `key`, keeping its history: renamed when no
 * project has `key` yet, else merged into that one (usage, routing decisions, agents,
 * budget alerts, the saved settings when only the earlier project had some, its team link)
 * and deleted. Either way `previous` stays an alias of the project (key_aliases), so a
 * request that still carries it counts there. Returns whether anything changed.
 */
async function adoptKey(tx: SqlClient, userId: string, key: string, previous: string, hooks: ProjectStoreHooks): Promise<boolean> {
  const { rows: [old] } = await tx.query<{ id: string; key_aliases: string[] }>(
    `select id::text, key_aliases from public.projects where user_id = $1 and workspace_key = $2`, [userId, previous]);
  if (!old) return false; // never used, or adopted before
  const target = await findProject(tx, userId, key);
  const aliases = [...new Set([...old.key_aliases, previous])];
  if (!target) {
    await tx.query(
      `update public.projects set workspace_key = $2, key_aliases = (select array(select distinct unnest(key_aliases || $3::text[]))) where id = $1`,
      [old.id, key, aliases]);
    // Its rows go to Supabase under a project id derived from the workspace key (outbox.ts):
    // logged again, the next push moves them (upserts by request id) to the renamed project.
    for (const table of ['agents', 'usage_tracking', 'routing_decisions']) {
      await tx.query(
        `insert into conduit_local.sync_log (table_name, ids)
         select $2, array_agg(id) from public.${table} where project_id = $1 having count(*) > 0`, [old.id, table]);
    }
    await moveLink(tx, previous, key);
    return true;
  }
  // One statement, so the (agent_id, project_id) foreign keys are checked once every row moved.
  // An agent of the earlier project with the same external id as one of the target's is
  // that agent; the others move (a name the target has gets " (2)").
  await tx.query(
    `with same as (
       select o.id as old_agent, t.id as new_agent
       from public.agents o join public.agents t on t.project_id = $2 and t.external_id = o.external_id
       where o.project_id = $1
     ), moved as (
       update public.agents a set project_id = $2,
         name = case when exists (select 1 from public.agents t where t.project_id = $2 and t.name = a.name) then a.name || ' (2)' else a.name end
       where a.project_id = $1 and a.id not in (select old_agent from same)
       returning a.id
     ), usage as (
       update public.usage_tracking u set project_id = $2, agent_id = coalesce(s.new_agent, u.agent_id)
       from public.usage_tracking u2 left join same s on s.old_agent = u2.agent_id
       where u2.id = u.id and u.project_id = $1
       returning u.id
     ), decisions as (
       update public.routing_decisions d set project_id = $2, agent_id = coalesce(s.new_agent, d.agent_id)
       from public.routing_decisions d2 left join same s on s.old_agent = d2.agent_id
       where d2.id = d.id and d.project_id = $1
       returning d.id
     ), alerts as (
       update public.budget_alerts b set project_id = $2, agent_id = coalesce(s.new_agent, b.agent_id)
       from public.budget_alerts b2 left join same s on s.old_agent = b2.agent_id
       where b2.id = b.id and b.project_id = $1
         and not exists (select 1 from public.budget_alerts t where t.project_id = $2 and t.alert_id = b.alert_id)
       returning b.id
     )
     select (select count(*) from moved) + (select count(*) from usage) + (select count(*) from decisions) + (select count(*) from alerts) as n`,
    [old.id, target.id]);
  // The settings saved through the extension were the earlier project's: they win over a
  // target that only ingestion made (a terminal's session before the extension started).
  const { rows: saved } = await tx.query(
    `select 1 from conduit_local.saved_project_config where project_id = $1
     and not exists (select 1 from conduit_local.saved_project_config where project_id = $2)`, [old.id, target.id]);
  if (saved.length) {
    await tx.query(
      `update public.projects t set model_config = o.model_config, daily_budget_usd = o.daily_budget_usd, monthly_budget_usd = o.monthly_budget_usd,
         budget_soft_limit_percent = o.budget_soft_limit_percent, budget_soft_limit_model = o.budget_soft_limit_model,
         budget_hard_limit_percent = o.budget_hard_limit_percent
       from public.projects o where o.id = $1 and t.id = $2`, [old.id, target.id]);
    await tx.query(`insert into conduit_local.saved_project_config (project_id) values ($1) on conflict do nothing`, [target.id]);
  }
  await moveLink(tx, previous, key);
  await tx.query(`delete from public.projects where id = $1`, [old.id]);
  await tx.query(
    `update public.projects set key_aliases = (select array(select distinct unnest(key_aliases || $2::text[]))) where id = $1`,
    [target.id, aliases]);
  hooks.projectDeleted?.(old.id);
  return true;
}
