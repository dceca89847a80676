// What the gateway's budget tracker asks of the usage store (carried to the ledger's
// worker thread as plain data; run by src/conduit/ledger/store/budgetStore.ts). No PGlite here.
import type { BudgetAlert, BudgetPolicy } from '../../protocol/budgets';

export interface AgentBudgetEntry {
  /** The id sessions carry (SYNAPSE_AGENT_ID): the external id, or agents.id. */
  id: string;
  /** agents.id */
  uuid: string;
  name: string;
  policy: BudgetPolicy;
}

export interface ProjectBudgetEntry {
  /** projects.id */
  id: string;
  /** The workspace key (SYNAPSE_PROJECT_ID). */
  key: string;
  name: string;
  policy: BudgetPolicy;
  /** The project's agents that have a budget. */
  agents: AgentBudgetEntry[];
}

/** Every project that has a budget, or an agent with one. */
export interface BudgetPolicies {
  projects: ProjectBudgetEntry[];
}

/** Spend of one project (agentId null) or one of its agents, from the store. */
export interface SpendRow {
  projectKey: string;
  agentId: string | null;
  dailyUsd: number;
  monthlyUsd: number;
}

export interface BudgetSeed {
  policies: BudgetPolicies;
  spend: SpendRow[];
  /** Ids of the alerts raised for periods that have not ended. */
  raised: string[];
  /** Alerts not yet acknowledged (the newest, bounded). */
  unacknowledged: BudgetAlert[];
}

export type BudgetOp =
  /**
   * Ingests what the journal holds, then reads the policies, the spend of requests that
   * started in [monthStart, cutoff) (and in [dayStart, cutoff) for the daily figure), and
   * the alerts. `cutoff` is when this gateway started: its own requests it counts itself.
   */
  | { op: 'seed'; dayStart: string; monthStart: string; cutoff: string; now: string }
  | { op: 'policies' }
  /** Records raised alerts (an alert already recorded is left as it is). */
  | { op: 'saveAlerts'; alerts: BudgetAlert[] }
  /** Acknowledges an alert; null for an unknown id. */
  | { op: 'ack'; id: string; at: string };

export interface BudgetOpValues {
  seed: BudgetSeed;
  policies: BudgetPolicies;
  saveAlerts: number;
  ack: BudgetAlert | null;
}
