/**
 * Projects and their agents, as src/protocol/projects.ts documents them:
 *
 *   GET    /v1/conduit/projects/:key                 → ProjectInfo (404 when unknown)
 *   PUT    /v1/conduit/projects/:key                 {name?, modelConfig?, dailyBudgetUsd?, monthlyBudgetUsd?, budget?, previousKeys?} → ProjectInfo (created when new)
 *   GET    /v1/conduit/projects/:key/agents          → AgentInfo[] (404 for an unknown project)
 *   POST   /v1/conduit/projects/:key/agents          AgentInput → AgentInfo (201; 409 for a name the project has)
 *   PUT    /v1/conduit/projects/:key/agents/:agentId Partial<AgentInput> → AgentInfo
 *   DELETE /v1/conduit/projects/:key/agents/:agentId → 204
 *
 * `:key` is the project's workspace key (SYNAPSE_PROJECT_ID), percent-encoded, or one of
 * its earlier keys; `previousKeys` (at most 10) are earlier keys of the same folder, whose
 * projects are renamed to `:key` or merged into it, history included (projectStore.ts); `:agentId`
 * the id AgentInfo gives (SYNAPSE_AGENT_ID). A saved model configuration reaches the
 * routing of the next request at once (LedgerService.routingContext), and so does a saved
 * budget (`budget`: src/protocol/budgets.ts; the answer waits for the budget tracker). Answers 400 naming
 * the field for a bad body, 405 for other verbs, and 503 with Retry-After while the usage
 * store opens. The token check happens before (server.ts).
 */
import * as v from 'valibot';
import { parseProjectModelConfig } from '../../protocol/modelConfig';
import { expectNoControlCharacters } from '../../protocol/controlCharacters';
import { expectModelId } from '../../protocol/modelId';
import type { AgentInput } from '../../protocol/projects';
import { check, withoutControlCharacters } from '../../protocol/route';
import { ROUTES } from '../../protocol/routes';
import { ValidationError, describe, rejectUnknownKeys } from '../../protocol/validate';
import type { Logger } from '../core/log';
import { ProjectStoreError, type BudgetLimitsPatch, type ProjectOp, type ProjectUpdate } from '../ledger/store/modelSettings';
import { parseBudgetPolicyPatch, type BudgetPolicyPatch } from '../../protocol/budgets';
import { LedgerUnavailableError, type LedgerService } from '../ledger/service';
import { GatewayError } from './errors';
import { serve, storeOf, type ServedRoute } from './routeTable';

export interface ProjectsRouteDeps {
  ledger?: LedgerService | null;
  log: Logger;
  /** Reads the budget policies again after a change (the next request sees it). */
  budgets?: { reloadPolicies(): Promise<void> } | null;
  /** Why no configured provider can serve a model reference, or null (core/knownModels.ts); absent: not checked. */
  modelProblem?: (ref: string) => string | null;
}

const MAX_BODY_BYTES = 256 * 1024;
/** As long as a session context's projectId / agentId may be. */
const MAX_KEY_LENGTH = 200;

const PROJECT_KEYS = ['name', 'modelConfig', 'dailyBudgetUsd', 'monthlyBudgetUsd', 'budget', 'previousKeys'] as const;
const MAX_PREVIOUS_KEYS = 10;
const AGENT_KEYS = ['name', 'personaType', 'useProjectModel', 'customModelId', 'dailyBudgetUsd', 'monthlyBudgetUsd', 'budget'] as const;

/**
 * A project key or agent id in the path: refused with a 400 naming it (a key the store
 * cannot hold is the client's mistake to be told, not an unknown route).
 */
const pathKey = v.pipe(
  v.string(),
  v.minLength(1, 'is empty'),
  v.maxLength(MAX_KEY_LENGTH, `longer than ${MAX_KEY_LENGTH} characters`),
  withoutControlCharacters,
);
const keyOf = (value: string) => check(pathKey, value, 'project key');
const agentIdOf = (value: string) => check(pathKey, value, 'agent id');

export function projectsRoutes(deps: ProjectsRouteDeps): ServedRoute[] {
  const run = (op: ProjectOp) => runOp(op, deps);
  const write = { maxBodyBytes: MAX_BODY_BYTES };
  return [
    serve(ROUTES.project, ({ params }) => run({ op: 'getProject', key: keyOf(params.key) })),
    serve(ROUTES.saveProject, ({ params, body }) => run({ op: 'putProject', key: keyOf(params.key), update: parseProjectUpdate(body) }), write),
    serve(ROUTES.agents, ({ params }) => run({ op: 'listAgents', key: keyOf(params.key) })),
    serve(ROUTES.createAgent, ({ params, body }) => {
      const key = keyOf(params.key);
      return run({ op: 'createAgent', key, input: parseAgentInput(body), ...budgetLimitsOf(body) });
    }, { ...write, status: 201 }),
    serve(ROUTES.saveAgent, ({ params, body }) => {
      const key = keyOf(params.key);
      const agentId = agentIdOf(params.agentId);
      return run({ op: 'updateAgent', key, agentId, patch: parseAgentPatch(body), ...budgetLimitsOf(body) });
    }, write),
    serve(ROUTES.deleteAgent, async ({ params }) => {
      await run({ op: 'deleteAgent', key: keyOf(params.key), agentId: agentIdOf(params.agentId) });
      return null;
    }, { status: 204 }),
  ];
}

/** An operation on the store, once its models are known to be served; its answer typed by its route. */
async function runOp(op: ProjectOp, deps: ProjectsRouteDeps): Promise<never> {
  if (deps.modelProblem) checkModelsKnown(op, deps.modelProblem);
  const ledger = storeOf(deps.ledger);
  try {
    const value = await ledger.projects(op);
    if (op.op !== 'getProject' && op.op !== 'listAgents' && deps.budgets) {
      await deps.budgets.reloadPolicies().catch((err: Error) => deps.log.warn(`budgets: the policies could not be read again: ${err.message}`));
    }
    return value as never;
  } catch (err) {
    if (err instanceof LedgerUnavailableError) throw err;
    if (err instanceof ProjectStoreError) {
      if (err.kind === 'not_found') throw new GatewayError('not_found_error', err.message);
      throw new GatewayError('invalid_request_error', err.message, err.kind === 'conflict' ? 409 : 400);
    }
    deps.log.error(`projects ${op.op}: ${(err as Error)?.stack ?? String(err)}`);
    throw new GatewayError('api_error', `the usage store could not ${op.op === 'getProject' || op.op === 'listAgents' ? 'read' : 'save'} it: ${(err as Error)?.message ?? String(err)}`);
  }
}

/**
 * Refuses, naming the field, a saved model no configured provider can serve (a typo saved
 * from the configuration view would otherwise fail every request of the project).
 */
function checkModelsKnown(op: ProjectOp, problemOf: (ref: string) => string | null): void {
  const check = (ref: string | null | undefined, field: string) => {
    const problem = ref ? problemOf(ref) : null;
    if (problem) throw new ValidationError(field, problem);
  };
  if (op.op === 'putProject') {
    const config = op.update.modelConfig;
    check(config?.defaultModel, 'modelConfig.defaultModel');
    for (const key of ['longContextModel', 'backgroundModel', 'webSearchModel', 'reasoningModel'] as const) check(config?.rules?.[key], `modelConfig.rules.${key}`);
    config?.rules?.fallbackModels?.forEach((ref, i) => check(ref, `modelConfig.rules.fallbackModels[${i}]`));
    check(op.update.budgetLimits?.softLimitModel, 'budget.softLimitModel');
  } else if (op.op === 'createAgent') {
    check(op.input.customModelId, 'customModelId');
    check(op.budgetLimits?.softLimitModel, 'budget.softLimitModel');
  } else if (op.op === 'updateAgent') {
    check(op.patch.customModelId, 'customModelId');
    check(op.budgetLimits?.softLimitModel, 'budget.softLimitModel');
  }
}

function text(o: Record<string, unknown>, key: string, max: number): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ValidationError(key, `expected a string, got ${describe(v)}`);
  const t = v.trim();
  if (t.length === 0) throw new ValidationError(key, 'must not be empty');
  if (t.length > max) throw new ValidationError(key, `longer than ${max} characters`);
  return expectNoControlCharacters(t, key);
}

function budget(o: Record<string, unknown>, key: string): number | null | undefined {
  const v = o[key];
  if (v === undefined || v === null) return v;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ValidationError(key, `expected null or a number of US dollars ≥ 0, got ${describe(v)}`);
  }
  return v;
}

function customModelId(o: Record<string, unknown>): string | null | undefined {
  const v = o.customModelId;
  if (v === null || v === undefined) return v;
  if (typeof v !== 'string') throw new ValidationError('customModelId', `expected a model id or null, got ${describe(v)}`);
  const t = v.trim();
  return t === '' ? null : expectModelId(t, 'customModelId');
}

/**
 * The body's `budget` (a BudgetPolicyPatch, or null to clear the policy) with the older
 * dailyBudgetUsd / monthlyBudgetUsd fields: the amounts go into those two fields, the
 * limits are returned apart.
 */
function budgetPolicyOf(o: Record<string, unknown>, amounts: { dailyBudgetUsd?: number | null; monthlyBudgetUsd?: number | null }): BudgetLimitsPatch | undefined {
  if (o.budget === undefined) return undefined;
  const patch: BudgetPolicyPatch = o.budget === null
    ? { dailyUsd: null, monthlyUsd: null, softLimitPercent: null, softLimitModel: null, hardLimitPercent: null }
    : parseBudgetPolicyPatch(o.budget, 'budget');
  for (const [field, legacy] of [['dailyUsd', 'dailyBudgetUsd'], ['monthlyUsd', 'monthlyBudgetUsd']] as const) {
    const v = patch[field];
    if (v === undefined) continue;
    if (amounts[legacy] !== undefined && amounts[legacy] !== v) {
      throw new ValidationError(legacy, `differs from budget.${field} (send one of them)`);
    }
    amounts[legacy] = v;
  }
  const limits: BudgetLimitsPatch = {};
  if (patch.softLimitPercent !== undefined) limits.softLimitPercent = patch.softLimitPercent;
  if (patch.softLimitModel !== undefined) limits.softLimitModel = patch.softLimitModel;
  if (patch.hardLimitPercent !== undefined) limits.hardLimitPercent = patch.hardLimitPercent;
  return limits;
}

/** The limits of an agent body's `budget` (its amounts are in the parsed input or patch). */
function budgetLimitsOf(o: Record<string, unknown>): { budgetLimits?: BudgetLimitsPatch } {
  const limits = budgetPolicyOf(o, { dailyBudgetUsd: budget(o, 'dailyBudgetUsd'), monthlyBudgetUsd: budget(o, 'monthlyBudgetUsd') });
  return limits ? { budgetLimits: limits } : {};
}

export function parseProjectUpdate(o: Record<string, unknown>): ProjectUpdate {
  rejectUnknownKeys(o, PROJECT_KEYS, 'body');
  const update: ProjectUpdate = {};
  const name = text(o, 'name', 200);
  if (name !== undefined) update.name = name;
  if (o.modelConfig !== undefined) update.modelConfig = parseProjectModelConfig(o.modelConfig, 'modelConfig');
  const daily = budget(o, 'dailyBudgetUsd');
  if (daily !== undefined) update.dailyBudgetUsd = daily;
  const monthly = budget(o, 'monthlyBudgetUsd');
  if (monthly !== undefined) update.monthlyBudgetUsd = monthly;
  const limits = budgetPolicyOf(o, update);
  if (limits) update.budgetLimits = limits;
  const previous = previousKeys(o);
  if (previous) update.previousKeys = previous;
  return update;
}

function previousKeys(o: Record<string, unknown>): string[] | undefined {
  const v = o.previousKeys;
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > MAX_PREVIOUS_KEYS) {
    throw new ValidationError('previousKeys', `expected a list of at most ${MAX_PREVIOUS_KEYS} project keys, got ${describe(v)}`);
  }
  return v.map((k, i) => {
    if (typeof k !== 'string' || k.length === 0 || k.length > MAX_KEY_LENGTH) {
      throw new ValidationError(`previousKeys[${i}]`, `expected a project key of 1 to ${MAX_KEY_LENGTH} characters, got ${describe(k)}`);
    }
    return expectNoControlCharacters(k, `previousKeys[${i}]`);
  });
}

export function parseAgentPatch(o: Record<string, unknown>): Partial<AgentInput> {
  rejectUnknownKeys(o, AGENT_KEYS, 'body');
  const patch: Partial<AgentInput> = {};
  const name = text(o, 'name', 100);
  if (name !== undefined) patch.name = name;
  const persona = text(o, 'personaType', 100);
  if (persona !== undefined) patch.personaType = persona;
  if (o.useProjectModel !== undefined) {
    if (typeof o.useProjectModel !== 'boolean') throw new ValidationError('useProjectModel', `expected true or false, got ${describe(o.useProjectModel)}`);
    patch.useProjectModel = o.useProjectModel;
  }
  const model = customModelId(o);
  if (model !== undefined) patch.customModelId = model;
  const daily = budget(o, 'dailyBudgetUsd');
  if (daily !== undefined) patch.dailyBudgetUsd = daily;
  const monthly = budget(o, 'monthlyBudgetUsd');
  if (monthly !== undefined) patch.monthlyBudgetUsd = monthly;
  const amounts: { dailyBudgetUsd?: number | null; monthlyBudgetUsd?: number | null } = { ...patch };
  budgetPolicyOf(o, amounts);
  if (amounts.dailyBudgetUsd !== undefined) patch.dailyBudgetUsd = amounts.dailyBudgetUsd;
  if (amounts.monthlyBudgetUsd !== undefined) patch.monthlyBudgetUsd = amounts.monthlyBudgetUsd;
  if (patch.useProjectModel === false && o.customModelId !== undefined && !patch.customModelId) {
    throw new ValidationError('customModelId', 'required when useProjectModel is false');
  }
  return patch;
}

export function parseAgentInput(o: Record<string, unknown>): AgentInput {
  const patch = parseAgentPatch(o);
  if (patch.name === undefined) throw new ValidationError('name', 'required (1 to 100 characters)');
  if (patch.personaType === undefined) throw new ValidationError('personaType', 'required (1 to 100 characters)');
  if (patch.useProjectModel === undefined) throw new ValidationError('useProjectModel', 'required (true or false)');
  const input: AgentInput = {
    name: patch.name, personaType: patch.personaType, useProjectModel: patch.useProjectModel, customModelId: patch.customModelId ?? null,
  };
  if (!input.useProjectModel && !input.customModelId) throw new ValidationError('customModelId', 'required when useProjectModel is false');
  if (patch.dailyBudgetUsd !== undefined) input.dailyBudgetUsd = patch.dailyBudgetUsd;
  if (patch.monthlyBudgetUsd !== undefined) input.monthlyBudgetUsd = patch.monthlyBudgetUsd;
  return input;
}
