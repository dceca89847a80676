// Budgets in the store (run by LedgerEngine in the ledger's worker thread): the policies
// of the local user's projects and agents, the spend that seeds the gateway's counters,
// and the alerts raised (public.budget_alerts, supabase/migrations/20261129000001_budgets.sql).
import { EMPTY_BUDGET_POLICY, hasBudget, type BudgetAlert, type BudgetPolicy } from '../../../protocol/budgets';
import type { BudgetOp, BudgetOpValues, BudgetPolicies, ProjectBudgetEntry, SpendRow } from '../../budgets/budgetOps';
import type { JournalIngester } from './ingest';
import type { SqlClient } from './sqlClient';

/** How many unacknowledged alerts the gateway keeps (the newest). */
const MAX_UNACKNOWLEDGED = 500;

export interface PolicyColumns {
  daily_budget_usd: number | string | null;
  monthly_budget_usd: number | string | null;
  budget_soft_limit_percent: number | string | null;
  budget_soft_limit_model: string | null;
  budget_hard_limit_percent: number | string | null;
}

/** The policy columns of projects or agents (alias a table as `t`). */
export function policyColumns(t: string): string {
  return `${t}.daily_budget_usd::float8 as daily_budget_usd, ${t}.monthly_budget_usd::float8 as monthly_budget_usd,
  ${t}.budget_soft_limit_percent::float8 as budget_soft_limit_percent, ${t}.budget_soft_limit_model,
  ${t}.budget_hard_limit_percent::float8 as budget_hard_limit_percent`;
}

const num = (v: number | string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));

export function policyOf(r: PolicyColumns): BudgetPolicy {
  return {
    ...EMPTY_BUDGET_POLICY,
    dailyUsd: num(r.daily_budget_usd),
    monthlyUsd: num(r.monthly_budget_usd),
    softLimitPercent: num(r.budget_soft_limit_percent),
    softLimitModel: r.budget_soft_limit_model ?? null,
    hardLimitPercent: num(r.budget_hard_limit_percent),
  };
}

export async function loadBudgetPolicies(db: SqlClient, userId: string): Promise<BudgetPolicies> {
  const { rows: projects } = await db.query<PolicyColumns & { id: string; workspace_key: string; name: string }>(
    `select p.id::text, p.workspace_key, p.name, ${policyColumns('p')}
     from public.projects p
     where p.user_id = $1
       and (p.daily_budget_usd is not null or p.monthly_budget_usd is not null
            or exists (select 1 from public.agents a where a.project_id = p.id
                       and (a.daily_budget_usd is not null or a.monthly_budget_usd is not null)))`,
    [userId]);
  if (!projects.length) return { projects: [] };
  const { rows: agents } = await db.query<PolicyColumns & { id: string; external_id: string | null; project_id: string; name: string }>(
    `select a.id::text, a.external_id, a.project_id::text, a.name, ${policyColumns('a')}
     from public.agents a
     where a.project_id = any($1::uuid[]) and (a.daily_budget_usd is not null or a.monthly_budget_usd is not null)`,
    [projects.map((p) => p.id)]);
  const byId = new Map<string, ProjectBudgetEntry>();
  for (const p of projects) byId.set(p.id, { id: p.id, key: p.workspace_key, name: p.name, policy: policyOf(p), agents: [] });
  for (const a of agents) {
    const policy = policyOf(a);
    if (hasBudget(policy)) byId.get(a.project_id)?.agents.push({ id: a.external_id ?? a.id, uuid: a.id, name: a.name, policy });
  }
  return { projects: [...byId.values()] };
}

interface AlertRow {
  alert_id: string;
  kind: string;
  threshold: number | null;
  status: BudgetAlert['status'];
  message: string;
  created_at: Date | string;
  acknowledged_at: Date | string | null;
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

function alertOf(r: AlertRow): BudgetAlert {
  return {
    id: r.alert_id, kind: r.kind === 'forecast' ? 'forecast' : 'threshold', threshold: r.threshold as BudgetAlert['threshold'],
    status: r.status, message: r.message, createdAt: iso(r.created_at)!, acknowledgedAt: iso(r.acknowledged_at),
  };
}

const ALERT_COLUMNS = 'alert_id, kind, threshold, status, message, created_at, acknowledged_at';

export async function runBudgetOp(db: SqlClient, userId: string, op: BudgetOp, ingester: JournalIngester | null): Promise<BudgetOpValues[BudgetOp['op']]> {
  switch (op.op) {
    case 'policies':
      return loadBudgetPolicies(db, userId);
    case 'seed': {
      // Requests of earlier runs still in the journal count too.
      await ingester?.ingestAvailable().catch(() => undefined);
      const policies = await loadBudgetPolicies(db, userId);
      const { rows: spend } = await db.query<{ key: string; agent: string | null; whole: boolean; daily: number; monthly: number }>(
        `with u as (
           select u.project_id, u.agent_id, coalesce(u.cost, 0) as cost, coalesce(u.started_at, u.created_at) as at
           from public.usage_tracking u
           where u.created_at >= $2::timestamptz and u.project_id is not null
         )
         select p.workspace_key as key, coalesce(a.external_id, a.id::text) as agent,
           grouping(coalesce(a.external_id, a.id::text)) = 1 as whole,
           coalesce(sum(u.cost) filter (where u.at >= $3::timestamptz), 0)::float8 as daily,
           coalesce(sum(u.cost), 0)::float8 as monthly
         from u
         join public.projects p on p.id = u.project_id and p.user_id = $1
         left join public.agents a on a.id = u.agent_id
         where u.at >= $2::timestamptz and u.at < $4::timestamptz
         group by grouping sets ((p.workspace_key), (p.workspace_key, coalesce(a.external_id, a.id::text)))`,
        [userId, op.monthStart, op.dayStart, op.cutoff]);
      const rows: SpendRow[] = [];
      for (const r of spend) {
        // Per-agent rows of requests without an agent say nothing the project's row does not.
        if (!r.whole && r.agent === null) continue;
        rows.push({ projectKey: r.key, agentId: r.whole ? null : r.agent, dailyUsd: Number(r.daily), monthlyUsd: Number(r.monthly) });
      }
      const { rows: raised } = await db.query<{ alert_id: string }>(
        `select b.alert_id from public.budget_alerts b join public.projects p on p.id = b.project_id and p.user_id = $1
         where b.period_end > $2::timestamptz`, [userId, op.now]);
      const { rows: open } = await db.query<AlertRow>(
        `select ${ALERT_COLUMNS.split(', ').map((c) => `b.${c}`).join(', ')}
         from public.budget_alerts b join public.projects p on p.id = b.project_id and p.user_id = $1
         where b.acknowledged_at is null order by b.created_at desc limit ${MAX_UNACKNOWLEDGED}`, [userId]);
      return { policies, spend: rows, raised: raised.map((r) => r.alert_id), unacknowledged: open.map(alertOf).reverse() };
    }
    case 'saveAlerts': {
      let saved = 0;
      for (const a of op.alerts) {
        const s = a.status;
        const { rows } = await db.query(
          `insert into public.budget_alerts (alert_id, project_id, agent_id, scope, period, period_start, period_end, kind, threshold, status, message, created_at, acknowledged_at)
           select $1, p.id,
             (select ag.id from public.agents ag where ag.project_id = p.id and $3::text is not null
                and (ag.external_id = $3 or ag.id::text = lower($3)) order by (ag.external_id = $3) desc nulls last limit 1),
             $4, $5, $6::timestamptz, $7::timestamptz, $8, $9, $10::jsonb, $11, $12::timestamptz, $13::timestamptz
           from public.projects p where p.user_id = $14 and p.workspace_key = $2
           on conflict (project_id, alert_id) do update
             set acknowledged_at = coalesce(public.budget_alerts.acknowledged_at, excluded.acknowledged_at)
           returning 1`,
          [a.id, s.projectKey, s.agentId, s.scope, s.period, s.periodStart, s.periodEnd, a.kind, a.threshold,
            JSON.stringify(s), a.message, a.createdAt, a.acknowledgedAt, userId]);
        saved += rows.length;
      }
      return saved;
    }
    case 'ack': {
      const { rows } = await db.query<AlertRow>(
        `update public.budget_alerts b set acknowledged_at = coalesce(b.acknowledged_at, $2::timestamptz)
         from public.projects p
         where p.id = b.project_id and p.user_id = $3 and b.alert_id = $1
         returning ${ALERT_COLUMNS.split(', ').map((c) => `b.${c}`).join(', ')}`, [op.id, op.at, userId]);
      return rows[0] ? alertOf(rows[0]) : null;
    }
  }
}
