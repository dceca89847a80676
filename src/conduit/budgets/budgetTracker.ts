/**
 * The gateway's budgets, in memory: the policies (loaded from the usage store when it
 * opens and after every change through the projects API), spend counters per project and
 * agent for the current day and month (seeded from the store at start, advanced by each
 * request's cost as it ends), and the alerts raised. The request path asks verdict(),
 * a few Map lookups and some arithmetic: no store round-trip per request.
 *
 * Counting: requests that started before this gateway did come from the store (seed);
 * those it served itself are counted as they end, in the period the clock says then.
 * Until the store has answered the seed, only the latter are known (`ready` is false in
 * GET /v1/conduit/budgets) and no alert is raised, so none is raised twice.
 */
import {
  budgetAlertId, hasBudget, type BudgetAlert, type BudgetPeriod, type BudgetPolicy, type BudgetStatus,
  type BudgetThreshold, type BudgetsResponse,
} from '../../protocol/budgets';
import type { UsageRecord } from '../../protocol/usage';
import type { Logger } from '../core/log';
import type { PriceTable } from '../pricing/priceTable';
import type { RoutingRules } from '../routing/rules';
import type { AgentBudgetEntry, BudgetOp, BudgetOpValues, BudgetPolicies, ProjectBudgetEntry } from './budgetOps';
import {
  budgetVerdict, dueThresholds, forecastMessage, forecastOf, hardLimitRule, percentOf, periodAt, refusalMessage,
  softLimitRule, stateOf, thresholdMessage, type EvaluatedBudget, type Period,
} from './budgetMath';

/** The part of the usage store the tracker uses (LedgerService). */
export interface BudgetLedger {
  budgets<K extends BudgetOp['op']>(op: Extract<BudgetOp, { op: K }>): Promise<BudgetOpValues[K]>;
  whenReady(): Promise<void>;
}

export interface BudgetTrackerOptions {
  now: () => number;
  timeZone: () => string;
  prices: () => PriceTable;
  /** The model id a reference ("model" or "provider/model") is sent as; throws for an unknown provider. */
  modelOf: (ref: string) => string;
  publish: (alert: BudgetAlert) => void;
  log: Logger;
}

/** What the request path does about budgets. */
export type AppliedVerdict =
  | { kind: 'refuse'; rule: string; message: string }
  | { kind: 'downgrade'; modelRef: string; rule: string };

interface Counter { dayStart: number; day: number; monthStart: number; month: number }

interface ProjectState {
  entry: ProjectBudgetEntry;
  /** By the id sessions carry and by agents.id. */
  agents: Map<string, AgentBudgetEntry>;
}

const PERIODS: readonly BudgetPeriod[] = ['daily', 'monthly'];
const RETRY_MS = 5_000;

const limitOf = (policy: BudgetPolicy, period: BudgetPeriod) => (period === 'daily' ? policy.dailyUsd : policy.monthlyUsd);
const agentKey = (projectKey: string, agentId: string) => `${projectKey}\u0000${agentId}`;

export class BudgetTracker {
  private readonly startedAt: number;
  private projects = new Map<string, ProjectState>();
  private readonly counters = new Map<string, Counter>();
  private zone = '';
  private day: Period = { start: 0, end: 0 };
  private month: Period = { start: 0, end: 0 };
  private readonly iso = new Map<number, string>();
  private ledger: BudgetLedger | null = null;
  private seeded = false;
  private seededWaiters: (() => void)[] = [];
  private readonly raised = new Set<string>();
  private readonly open = new Map<string, BudgetAlert>();
  private unsaved: BudgetAlert[] = [];
  private saving = false;
  private savedWaiters: (() => void)[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private policyGeneration = 0;
  private closed = false;
  private readonly modelPrices = new WeakMap<PriceTable, Map<string, number | null>>();

  constructor(private readonly options: BudgetTrackerOptions) {
    this.startedAt = options.now();
    this.roll();
  }

  /** Some project or agent has a budget (otherwise the request path skips budgets). */
  get active(): boolean { return this.projects.size > 0; }

  /** The spend of earlier runs has been read from the store. */
  get ready(): boolean { return this.seeded; }

  /** Resolves once the spend of earlier runs has been read (tests, tools). */
  whenReady(): Promise<void> {
    return this.seeded ? Promise.resolve() : new Promise((resolve) => this.seededWaiters.push(resolve));
  }

  /** Reads policies, spend and alerts from the store once it is ready (again later, should that fail). */
  attach(ledger: BudgetLedger): void {
    this.ledger = ledger;
    ledger.whenReady().then(() => this.seed(), () => this.retry(() => this.attach(ledger)));
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private retry(again: () => void): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => { this.retryTimer = null; if (!this.closed) again(); }, RETRY_MS);
    this.retryTimer.unref();
  }

  private async seed(): Promise<void> {
    const ledger = this.ledger;
    if (!ledger || this.closed || this.seeded) return;
    this.roll();
    const day = this.day;
    const month = this.month;
    const generation = ++this.policyGeneration;
    let s: BudgetOpValues['seed'];
    try {
      s = await ledger.budgets({
        op: 'seed', dayStart: this.isoOf(day.start), monthStart: this.isoOf(month.start),
        cutoff: new Date(this.startedAt).toISOString(), now: new Date(this.options.now()).toISOString(),
      });
    } catch (err) {
      this.options.log.warn(`budgets: the spend so far could not be read from the usage store (${(err as Error).message}); trying again`);
      this.retry(() => this.attach(ledger));
      return;
    }
    if (this.closed || this.seeded) return;
    this.roll();
    for (const row of s.spend) {
      const key = row.agentId === null ? row.projectKey : agentKey(row.projectKey, row.agentId);
      const c = this.counter(key);
      if (this.day.start === day.start) c.day += row.dailyUsd;
      if (this.month.start === month.start) c.month += row.monthlyUsd;
    }
    if (generation === this.policyGeneration) this.setPolicies(s.policies);
    for (const id of s.raised) this.raised.add(id);
    for (const a of s.unacknowledged) if (!this.open.has(a.id)) this.open.set(a.id, a);
    this.seeded = true;
    this.options.log.info(`budgets: ${s.policies.projects.length} project(s) with budgets; spend of earlier runs read`);
    this.checkAll();
    this.flush();
    for (const w of this.seededWaiters.splice(0)) w();
  }

  /** Reads the policies again (after a change through the projects API); the next request sees them. */
  async reloadPolicies(): Promise<void> {
    if (!this.ledger) return;
    const generation = ++this.policyGeneration;
    const policies = await this.ledger.budgets({ op: 'policies' });
    if (generation !== this.policyGeneration) return; // a later reload (or the seed) wins
    this.setPolicies(policies);
    if (this.seeded) this.checkAll();
  }

  private setPolicies(policies: BudgetPolicies): void {
    const next = new Map<string, ProjectState>();
    for (const p of policies.projects) {
      const agents = new Map<string, AgentBudgetEntry>();
      for (const a of p.agents) {
        agents.set(a.id, a);
        agents.set(a.uuid, a);
      }
      next.set(p.key, { entry: p, agents });
    }
    this.projects = next;
  }

  /** Moves to the current day and month (and to a changed time zone). */
  private roll(): number {
    const now = this.options.now();
    const zone = this.options.timeZone();
    if (zone !== this.zone || now >= this.day.end || now < this.day.start) {
      const zoneChanged = zone !== this.zone;
      this.zone = zone;
      this.day = periodAt('daily', now, zone);
      if (zoneChanged || now >= this.month.end || now < this.month.start) this.month = periodAt('monthly', now, zone);
      if (this.iso.size > 64) this.iso.clear();
    }
    return now;
  }

  private isoOf(t: number): string {
    let s = this.iso.get(t);
    if (s === undefined) {
      s = new Date(t).toISOString();
      this.iso.set(t, s);
    }
    return s;
  }

  private counter(key: string): Counter {
    let c = this.counters.get(key);
    if (!c) {
      c = { dayStart: this.day.start, day: 0, monthStart: this.month.start, month: 0 };
      this.counters.set(key, c);
    }
    if (c.dayStart !== this.day.start) { c.dayStart = this.day.start; c.day = 0; }
    if (c.monthStart !== this.month.start) { c.monthStart = this.month.start; c.month = 0; }
    return c;
  }

  private spent(key: string, period: BudgetPeriod): number {
    const c = this.counters.get(key);
    if (!c) return 0;
    return period === 'daily' ? (c.dayStart === this.day.start ? c.day : 0) : (c.monthStart === this.month.start ? c.month : 0);
  }

  /** A project's spend, or an agent's (sessions may name it by its external id or by agents.id). */
  private scopeSpent(p: ProjectState, agent: AgentBudgetEntry | null, period: BudgetPeriod): number {
    if (!agent) return this.spent(p.entry.key, period);
    const own = this.spent(agentKey(p.entry.key, agent.id), period);
    return agent.uuid === agent.id ? own : own + this.spent(agentKey(p.entry.key, agent.uuid), period);
  }

  /**
   * The request path: what the budgets of this project and agent say about a request the
   * rules routed to `routedRef`. Null to carry on.
   */
  verdict(projectKey: string | undefined, agentId: string | undefined, routedRef: string, rules: RoutingRules): AppliedVerdict | null {
    if (!projectKey) return null;
    const p = this.projects.get(projectKey);
    if (!p) return null;
    this.roll();
    const list: EvaluatedBudget[] = [];
    this.evaluate(list, p, null);
    const agent = agentId ? p.agents.get(agentId) : undefined;
    if (agent) this.evaluate(list, p, agent);
    if (!list.length) return null;
    const v = budgetVerdict(list, (b) => b.softLimitModel ?? this.cheapestConfigured(rules), (m) => this.priceOf(m));
    if (!v) return null;
    if (v.kind === 'refuse') return { kind: 'refuse', rule: hardLimitRule(v.budget), message: refusalMessage(v.budget, this.zone) };
    if (v.model === routedRef) return null;
    const target = this.priceOf(v.model);
    const routed = this.priceOf(routedRef);
    if (target !== null && routed !== null && target >= routed) return null; // already as cheap
    return { kind: 'downgrade', modelRef: v.model, rule: softLimitRule(v.budget, v.model) };
  }

  /** Adds the budgets of one scope that have a soft or hard limit. */
  private evaluate(out: EvaluatedBudget[], p: ProjectState, agent: AgentBudgetEntry | null): void {
    const policy = agent ? agent.policy : p.entry.policy;
    if (policy.softLimitPercent === null && policy.hardLimitPercent === null) return;
    for (const period of PERIODS) {
      const limit = limitOf(policy, period);
      if (limit === null) continue;
      const spent = this.scopeSpent(p, agent, period);
      out.push({
        scope: agent ? 'agent' : 'project', projectName: p.entry.name, agentName: agent?.name ?? null, period,
        limitUsd: limit, spentUsd: spent, percent: percentOf(spent, limit), periodEnd: (period === 'daily' ? this.day : this.month).end,
        softLimitPercent: policy.softLimitPercent, softLimitModel: policy.softLimitModel, hardLimitPercent: policy.hardLimitPercent,
      });
    }
  }

  /** Price for comparing models: input + output USD per million tokens; null when unknown. */
  private priceOf(ref: string): number | null {
    const table = this.options.prices();
    let cache = this.modelPrices.get(table);
    if (!cache) {
      cache = new Map();
      this.modelPrices.set(table, cache);
    }
    let price = cache.get(ref);
    if (price === undefined) {
      let model: string;
      try {
        model = this.options.modelOf(ref);
      } catch {
        model = ref;
      }
      const hit = table.lookup(model);
      price = hit ? hit.price.input + hit.price.output : null;
      if (cache.size > 200) cache.clear();
      cache.set(ref, price);
    }
    return price;
  }

  /** The cheapest model the routing configuration in force names (the project's over the gateway's). */
  private cheapestConfigured(rules: RoutingRules): string | null {
    let best: string | null = null;
    let bestPrice = Infinity;
    for (const ref of [rules.defaultModel, rules.backgroundModel, rules.longContextModel, rules.webSearchModel, rules.reasoningModel, ...rules.fallbackModels]) {
      if (!ref) continue;
      const price = this.priceOf(ref);
      if (price !== null && price < bestPrice) {
        best = ref;
        bestPrice = price;
      }
    }
    return best;
  }

  /** A request ended: count its cost, and raise the alerts it makes due. */
  record(r: UsageRecord): void {
    const cost = r.cost.cost;
    const projectKey = r.context.projectId;
    if (!cost || cost <= 0 || !projectKey) return;
    this.roll();
    const pc = this.counter(projectKey);
    pc.day += cost;
    pc.month += cost;
    const agentId = r.context.agentId;
    if (agentId) {
      const ac = this.counter(agentKey(projectKey, agentId));
      ac.day += cost;
      ac.month += cost;
    }
    if (!this.seeded) return;
    const p = this.projects.get(projectKey);
    if (!p) return;
    this.checkScope(p, null);
    const agent = agentId ? p.agents.get(agentId) : undefined;
    if (agent) this.checkScope(p, agent);
    this.flush();
  }

  private checkAll(): void {
    this.roll();
    for (const p of this.projects.values()) {
      this.checkScope(p, null);
      for (const a of new Set(p.agents.values())) this.checkScope(p, a);
    }
    this.flush();
  }

  private checkScope(p: ProjectState, agent: AgentBudgetEntry | null): void {
    const policy = agent ? agent.policy : p.entry.policy;
    if (!hasBudget(policy)) return;
    const now = this.options.now();
    for (const period of PERIODS) {
      if (limitOf(policy, period) === null) continue;
      const status = this.statusOf(p, agent, period, now);
      const idOf = (kind: 'threshold' | 'forecast', threshold: number | null) => budgetAlertId({
        scope: status.scope, projectKey: status.projectKey, agentId: status.agentId, period, periodStart: status.periodStart, kind, threshold,
      });
      const due = dueThresholds(status.percent, (t) => this.raised.has(idOf('threshold', t)));
      const scopeView = { scope: status.scope, projectName: p.entry.name, agentName: agent?.name ?? null, period, limitUsd: status.limitUsd, spentUsd: status.spentUsd, percent: status.percent };
      for (const t of due.passed) this.raise(idOf('threshold', t), 'threshold', t, status, thresholdMessage(scopeView, t), now, true);
      if (due.raise !== null) this.raise(idOf('threshold', due.raise), 'threshold', due.raise, status, thresholdMessage(scopeView, due.raise), now, false);
      if (status.forecastCrossingAt !== null && status.forecastUsd !== null && status.percent < 100) {
        const id = idOf('forecast', null);
        if (!this.raised.has(id)) {
          this.raise(id, 'forecast', null, status, forecastMessage(scopeView, status.forecastUsd, Date.parse(status.forecastCrossingAt), this.zone), now, false);
        }
      }
    }
  }

  private raise(id: string, kind: BudgetAlert['kind'], threshold: BudgetThreshold | null, status: BudgetStatus, message: string, now: number, passedOver: boolean): void {
    const createdAt = new Date(now).toISOString();
    const alert: BudgetAlert = { id, kind, threshold, status, message, createdAt, acknowledgedAt: passedOver ? createdAt : null };
    this.raised.add(id);
    this.unsaved.push(alert);
    if (passedOver) return;
    this.open.set(id, alert);
    this.options.log.info(`budgets: ${message}`);
    this.options.publish(alert);
  }

  private statusOf(p: ProjectState, agent: AgentBudgetEntry | null, period: BudgetPeriod, now: number): BudgetStatus {
    const policy = agent ? agent.policy : p.entry.policy;
    const limit = limitOf(policy, period)!;
    const spent = this.scopeSpent(p, agent, period);
    const range = period === 'daily' ? this.day : this.month;
    const percent = percentOf(spent, limit);
    const f = forecastOf(spent, limit, range, now);
    return {
      scope: agent ? 'agent' : 'project', projectKey: p.entry.key, agentId: agent ? agent.id : null,
      name: agent ? agent.name : p.entry.name, period, limitUsd: limit, spentUsd: round6(spent), percent: Math.round(percent * 100) / 100,
      periodStart: this.isoOf(range.start), periodEnd: this.isoOf(range.end),
      forecastUsd: f.forecastUsd, forecastCrossingAt: f.crossingAt === null ? null : new Date(f.crossingAt).toISOString(),
      state: stateOf(percent, policy),
      softLimitPercent: policy.softLimitPercent, softLimitModel: policy.softLimitModel, hardLimitPercent: policy.hardLimitPercent,
    };
  }

  /** GET /v1/conduit/budgets */
  statuses(projectKey?: string | null): BudgetsResponse {
    const now = this.roll();
    const statuses: BudgetStatus[] = [];
    for (const p of this.projects.values()) {
      if (projectKey && p.entry.key !== projectKey) continue;
      for (const period of PERIODS) if (limitOf(p.entry.policy, period) !== null) statuses.push(this.statusOf(p, null, period, now));
      for (const a of new Set(p.agents.values())) {
        for (const period of PERIODS) if (limitOf(a.policy, period) !== null) statuses.push(this.statusOf(p, a, period, now));
      }
    }
    return { timeZone: this.zone, now: new Date(now).toISOString(), ready: this.seeded, statuses };
  }

  /** GET /v1/conduit/budgets/alerts: not yet acknowledged, oldest first. */
  alerts(projectKey?: string | null): BudgetAlert[] {
    const out = [...this.open.values()].filter((a) => !projectKey || a.status.projectKey === projectKey);
    return out.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  /** POST /v1/conduit/budgets/alerts/:id/ack. Null for an unknown id. Rejects when the store cannot be written. */
  async ack(id: string): Promise<BudgetAlert | null> {
    const at = new Date(this.options.now()).toISOString();
    const held = this.open.get(id);
    const stored = this.ledger ? await this.ledger.budgets({ op: 'ack', id, at }) : null;
    if (!held) return stored;
    held.acknowledgedAt = stored?.acknowledgedAt ?? held.acknowledgedAt ?? at;
    this.open.delete(id);
    if (!stored) {
      // Raised but not yet in the store: it goes there acknowledged.
      if (!this.unsaved.includes(held)) this.unsaved.push(held);
      this.flush();
    }
    return held;
  }

  /** Writes raised alerts to the store, in order; kept and retried when it cannot be written. */
  private flush(): void {
    if (!this.saving && !this.unsaved.length) {
      for (const w of this.savedWaiters.splice(0)) w();
      return;
    }
    if (this.saving || !this.ledger || !this.seeded) return;
    const batch = this.unsaved;
    this.unsaved = [];
    this.saving = true;
    this.ledger.budgets({ op: 'saveAlerts', alerts: batch }).then(
      () => {
        this.saving = false;
        this.flush();
      },
      (err: Error) => {
        this.saving = false;
        this.unsaved = [...batch, ...this.unsaved];
        this.options.log.warn(`budgets: ${batch.length} alert(s) not yet saved (${err.message}); trying again`);
        this.retry(() => this.flush());
      },
    );
  }

  /** Resolves when every alert raised so far is in the store (tests). */
  saved(): Promise<void> {
    if (!this.saving && !this.unsaved.length) return Promise.resolve();
    return new Promise((resolve) => this.savedWaiters.push(resolve));
  }
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;
