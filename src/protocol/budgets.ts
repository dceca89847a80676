/**
 * Budgets: daily and monthly spending limits in USD per project and per agent, their
 * state, and the alerts they raise. Shared by the gateway (which enforces them on every
 * request), the extension (notifications, "Conduit: Set Budget", the configuration view)
 * and the webviews.
 *
 * HTTP API (loopback, the local token required like every /v1/conduit route):
 *
 *   GET  /v1/conduit/budgets[?project=<key>]        → BudgetsResponse: a status for every
 *        (scope, period) that has a budget; with ?project only that project and its agents.
 *   GET  /v1/conduit/budgets/alerts[?project=<key>] → BudgetAlertsResponse: alerts not yet
 *        acknowledged, oldest first, so nothing is lost while the extension was away.
 *   POST /v1/conduit/budgets/alerts/:id/ack         → BudgetAlert (with acknowledgedAt set;
 *        acknowledging twice is fine). `:id` is BudgetAlert.id, percent-encoded
 *        (encodeURIComponent). 404 for an unknown id.
 *
 * Setting budgets (src/protocol/projects.ts):
 *
 *   PUT /v1/conduit/projects/:key                 {..., budget?: BudgetPolicyPatch | null}
 *   PUT /v1/conduit/projects/:key/agents/:agentId {..., budget?: BudgetPolicyPatch | null}
 *   POST /v1/conduit/projects/:key/agents         {..., budget?: BudgetPolicyPatch | null}
 *
 *   `budget` changes only the fields it names (null clears a field); `budget: null`
 *   clears the whole policy. The older `dailyBudgetUsd` / `monthlyBudgetUsd` fields keep
 *   working and are the same values as budget.dailyUsd / budget.monthlyUsd (a body that
 *   gives both with different values is refused with 400). ProjectInfo and AgentInfo
 *   carry the saved policy as `budget`. A change reaches the next request at once.
 *
 * Events: every alert is published once, as it is raised, on GET /v1/conduit/events as
 * {type: 'budget', alert} (GatewayEvent in src/protocol/usage.ts).
 *
 * Semantics:
 * - Periods are calendar days and calendar months in the gateway's time zone (the local
 *   zone, or `budgetTimeZone` in config.json). A day that has a DST change is 23 or 25 h.
 * - Spend is the cost of every request attributed to the scope (project: every request
 *   of the project, agents included; agent: the agent's requests) in the period: the
 *   gateway counts each as it ends; at start it reads those of its earlier runs from the
 *   usage store (by start time). Requests whose price is unknown count as 0.
 * - percent = 100 × spent / limit. A limit of 0 counts as 100 % at once.
 * - Soft limit: at percent ≥ softLimitPercent a request is routed to softLimitModel (or,
 *   when that is unset, the cheapest model the project's configuration names, by the
 *   price table), with RoutingDecision.source 'budget' and a rule such as
 *   "daily budget 82% ≥ soft limit 80% → claude-haiku-4-5". Requests already going to a
 *   model no more expensive are left alone.
 * - Hard limit: at percent ≥ hardLimitPercent requests are refused with the Anthropic
 *   error BUDGET_REFUSAL (status and type below) whose message names the budget, the
 *   spend and when the period ends; claude prints it and does not retry.
 * - Both limits are optional (null = off). Without dailyUsd / monthlyUsd nothing happens.
 *   The project's and the agent's budgets both apply; the stricter wins: any hard limit
 *   reached refuses; among soft limits reached, the cheapest target model is used.
 * - Alerts: at 50, 80 and 100 % of each budget (kind 'threshold'), and once when the
 *   forecast (below) says the budget will be crossed before the period ends (kind
 *   'forecast'). Each is raised once per budget, threshold and period (its id says so),
 *   persisted in the usage store, and survives restarts. When one step reaches several
 *   thresholds (a large request, a budget set late), only the highest is raised; the
 *   lower ones are recorded as acknowledged and never shown. No forecast alert once the
 *   budget is reached. Changing a budget's amount does not raise an alert of the same
 *   period and threshold again.
 * - Forecast: burn rate = spent / time elapsed since the period started; forecastUsd =
 *   spent + rate × time left. It is given only once at least FORECAST_MIN_ELAPSED_FRACTION
 *   of the period has passed and at least FORECAST_MIN_SPENT_FRACTION of the budget has
 *   been spent (so one early request does not cry wolf); null before that.
 */
import * as v from 'valibot';
import { modelIdProblem } from './modelId';
import { check, expected } from './route';
import { isPlainObject } from './validate';

export type BudgetPeriod = 'daily' | 'monthly';
export type BudgetScope = 'project' | 'agent';
export type BudgetState = 'ok' | 'soft' | 'hard';

/** Limits are percentages of a budget; above 100 lets a budget overrun by that much. */
export const MAX_LIMIT_PERCENT = 1000;
export const MAX_BUDGET_USD = 1_000_000;

export const BUDGET_POLICY_KEYS = ['dailyUsd', 'monthlyUsd', 'softLimitPercent', 'softLimitModel', 'hardLimitPercent'] as const;

const usdMessage = expected(`null or a number of US dollars from 0 to ${MAX_BUDGET_USD}`);
const percentMessage = expected(`null or a percentage above 0 and at most ${MAX_LIMIT_PERCENT}`);
/** Absent: unchanged; null: cleared. */
const usdAmount = v.optional(v.nullable(v.pipe(v.number(usdMessage), v.finite(usdMessage), v.minValue(0, usdMessage), v.maxValue(MAX_BUDGET_USD, usdMessage))));
const limitPercent = v.optional(v.nullable(v.pipe(v.number(percentMessage), v.finite(percentMessage), v.gtValue(0, percentMessage), v.maxValue(MAX_LIMIT_PERCENT, percentMessage))));
/** A model id; blank is null (the cheapest model the project's configuration names). */
const cheaperModel = v.optional(v.nullable(v.pipe(
  v.string(expected('a string')),
  v.transform((t) => t.trim()),
  v.check((t) => t === '' || !modelIdProblem(t), (issue) => modelIdProblem(issue.input) ?? 'not a model id'),
  v.transform((t) => (t === '' ? null : t)),
)));

/**
 * What a PUT's `budget` sends: only the fields it names change; null clears one. The
 * fields, in the order they are checked:
 * - dailyUsd: USD per calendar day; monthlyUsd: USD per calendar month.
 * - softLimitPercent: percent of a budget past which requests go to a cheaper model, e.g. 80.
 * - hardLimitPercent: percent of a budget past which requests are refused, e.g. 100.
 * - softLimitModel: the cheaper model; null = the cheapest model the project's configuration names.
 */
export const budgetPolicyPatchSchema = v.pipe(v.custom<Record<string, unknown>>(isPlainObject, expected('an object')), v.strictObject({
  dailyUsd: usdAmount,
  monthlyUsd: usdAmount,
  softLimitPercent: limitPercent,
  hardLimitPercent: limitPercent,
  softLimitModel: cheaperModel,
}, () => `unknown setting (known: ${BUDGET_POLICY_KEYS.join(', ')})`));

export type BudgetPolicyPatch = v.InferOutput<typeof budgetPolicyPatchSchema>;

/** A project's or an agent's budget policy as saved (null = not set / off). */
export type BudgetPolicy = { [K in keyof BudgetPolicyPatch]-?: Exclude<BudgetPolicyPatch[K], undefined> };

export const EMPTY_BUDGET_POLICY: BudgetPolicy = {
  dailyUsd: null, monthlyUsd: null, softLimitPercent: null, softLimitModel: null, hardLimitPercent: null,
};

/** The percentages that raise a threshold alert. */
export const BUDGET_THRESHOLDS = [50, 80, 100] as const;
export type BudgetThreshold = (typeof BUDGET_THRESHOLDS)[number];

/** The forecast needs this share of the period elapsed (1/24: an hour of a day, ~30 h of a month)… */
export const FORECAST_MIN_ELAPSED_FRACTION = 1 / 24;
/** …and this share of the budget spent. */
export const FORECAST_MIN_SPENT_FRACTION = 0.1;

/**
 * The answer to a request refused by a hard limit: {"type":"error","error":{"type":
 * "billing_error","message":"Conduit: project 'X' has spent $5.02 of its $5.00 daily
 * budget (hard limit 100%). Raise it with \"Conduit: Set Budget\" or wait until …."}}.
 * Tried with claude 2.1.x: 402 billing_error is sent once and printed as
 * "API Error: 402 <message>" (exit code 1). 400/422 invalid_request_error made it resend
 * the request 5 more times with features stripped, 403 printed "Failed to authenticate",
 * 404 blamed the model, 409 retried for a minute, 429 and 5xx are retried by design.
 */
export const BUDGET_REFUSAL = { status: 402, type: 'billing_error' } as const;

/** The state of one budget of one scope in the current period. */
export interface BudgetStatus {
  scope: BudgetScope;
  /** The project's workspace key (SYNAPSE_PROJECT_ID). */
  projectKey: string;
  /** The agent's id (SYNAPSE_AGENT_ID) for scope 'agent'; null for a project. */
  agentId: string | null;
  /** The project's or the agent's name. */
  name: string;
  period: BudgetPeriod;
  limitUsd: number;
  spentUsd: number;
  /** 100 × spent / limit (may exceed 100). */
  percent: number;
  /** ISO-8601 instants (UTC) of the period's start (inclusive) and end (exclusive). */
  periodStart: string;
  periodEnd: string;
  /** Projected spend at periodEnd at the current burn rate; null while too early to tell. */
  forecastUsd: number | null;
  /** When the burn rate reaches the limit, if before periodEnd and not yet reached; else null. */
  forecastCrossingAt: string | null;
  state: BudgetState;
  softLimitPercent: number | null;
  softLimitModel: string | null;
  hardLimitPercent: number | null;
}

export interface BudgetAlert {
  /** Stable: budgetAlertId(...) of scope, period, periodStart and kind/threshold. */
  id: string;
  kind: 'threshold' | 'forecast';
  /** 50, 80 or 100 for kind 'threshold'; null for 'forecast'. */
  threshold: BudgetThreshold | null;
  /** The budget's status when the alert was raised. */
  status: BudgetStatus;
  /** One sentence for a person, e.g. "Project 'api' has used 82% of its $5.00 daily budget ($4.10 spent)." */
  message: string;
  /** ISO-8601. */
  createdAt: string;
  acknowledgedAt: string | null;
}

export interface BudgetsResponse {
  /** The IANA time zone periods are computed in. */
  timeZone: string;
  /** The gateway's clock, ISO-8601. */
  now: string;
  /**
   * False until the gateway has read the spend of its earlier runs from the usage store
   * (a second or two after it starts): until then spentUsd counts only its own requests.
   */
  ready: boolean;
  statuses: BudgetStatus[];
}

export interface BudgetAlertsResponse {
  alerts: BudgetAlert[];
}

/**
 * The alert id: one per budget, period and threshold. Components are joined by ':' after
 * encodeURIComponent (so a key with ':' cannot collide); percent-encode the whole id again
 * in a URL path.
 */
export function budgetAlertId(a: {
  scope: BudgetScope; projectKey: string; agentId: string | null; period: BudgetPeriod; periodStart: string;
  kind: 'threshold' | 'forecast'; threshold: number | null;
}): string {
  const who = a.scope === 'agent' ? `agent:${encodeURIComponent(a.projectKey)}:${encodeURIComponent(a.agentId ?? '')}` : `project:${encodeURIComponent(a.projectKey)}`;
  const what = a.kind === 'threshold' ? `threshold-${a.threshold}` : 'forecast';
  return `${who}:${a.period}:${encodeURIComponent(a.periodStart)}:${what}`;
}

/** Validates a PUT's `budget` object: every field optional, null clears it. */
export function parseBudgetPolicyPatch(value: unknown, path = 'budget'): BudgetPolicyPatch {
  const patch = check(budgetPolicyPatchSchema, value, path);
  // A field given as undefined (a caller's object, never JSON) leaves it unchanged, as absent does.
  for (const k of BUDGET_POLICY_KEYS) if (patch[k] === undefined) delete patch[k];
  return patch;
}

/** Validates a whole policy (a stored one, or one a webview sends): missing fields are null. */
export function parseBudgetPolicy(value: unknown, path = 'budget'): BudgetPolicy {
  return applyBudgetPatch(EMPTY_BUDGET_POLICY, parseBudgetPolicyPatch(value, path));
}

export function applyBudgetPatch(policy: BudgetPolicy, patch: BudgetPolicyPatch | null): BudgetPolicy {
  if (patch === null) return { ...EMPTY_BUDGET_POLICY };
  return { ...policy, ...patch };
}

/** True when the policy sets at least one budget amount (otherwise it does nothing). */
export function hasBudget(policy: BudgetPolicy | null | undefined): boolean {
  return !!policy && (policy.dailyUsd !== null || policy.monthlyUsd !== null);
}
