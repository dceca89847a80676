// The gateway's budget tracker (src/conduit/budgets/budgetTracker.ts) with a controllable
// clock and a stand-in for the usage store: counting across day and month boundaries,
// the request-path verdict (downgrade, refusal, stricter of project and agent), alerts
// once per threshold and period, the forecast alert, and acknowledgement.
import assert from 'node:assert/strict';
import type { AgentBudgetEntry, BudgetOp, BudgetOpValues, BudgetPolicies, ProjectBudgetEntry, SpendRow } from '../../src/conduit/budgets/budgetOps';
import { BudgetTracker, type BudgetLedger } from '../../src/conduit/budgets/budgetTracker';
import { silentLogger } from '../../src/conduit/core/log';
import { PriceTable } from '../../src/conduit/pricing/priceTable';
import { DEFAULT_RULES, mergeRules } from '../../src/conduit/routing/rules';
import { EMPTY_BUDGET_POLICY, type BudgetAlert, type BudgetPolicy } from '../../src/protocol/budgets';
import type { UsageRecord } from '../../src/protocol/usage';


class FakeStore implements BudgetLedger {
  policies: BudgetPolicies = { projects: [] };
  spend: SpendRow[] = [];
  raised: string[] = [];
  unacknowledged: BudgetAlert[] = [];
  saved: BudgetAlert[] = [];
  seeds: Extract<BudgetOp, { op: 'seed' }>[] = [];
  private ready!: () => void;
  private readonly readyPromise = new Promise<void>((resolve) => { this.ready = resolve; });

  open(): void { this.ready(); }
  whenReady(): Promise<void> { return this.readyPromise; }

  async budgets<K extends BudgetOp['op']>(op: Extract<BudgetOp, { op: K }>): Promise<BudgetOpValues[K]> {
    const o = op as BudgetOp;
    const clone = <T>(v: T): T => structuredClone(v);
    switch (o.op) {
      case 'seed':
        this.seeds.push(o);
        return clone({ policies: this.policies, spend: this.spend, raised: this.raised, unacknowledged: this.unacknowledged }) as BudgetOpValues[K];
      case 'policies':
        return clone(this.policies) as BudgetOpValues[K];
      case 'saveAlerts':
        for (const a of o.alerts) {
          const held = this.saved.find((s) => s.id === a.id);
          if (held) held.acknowledgedAt ??= a.acknowledgedAt;
          else this.saved.push(clone(a));
        }
        return o.alerts.length as BudgetOpValues[K];
      case 'ack': {
        const held = this.saved.find((s) => s.id === o.id);
        if (held) held.acknowledgedAt ??= o.at;
        return (held ? clone(held) : null) as BudgetOpValues[K];
      }
    }
  }
}

const policy = (p: Partial<BudgetPolicy>): BudgetPolicy => ({ ...EMPTY_BUDGET_POLICY, ...p });

function project(key: string, p: Partial<BudgetPolicy>, agents: AgentBudgetEntry[] = []): ProjectBudgetEntry {
  return { id: `uuid-${key}`, key, name: key, policy: policy(p), agents };
}

function record(projectId: string, cost: number, agentId?: string): UsageRecord {
  return {
    id: `r-${Math.random()}`, context: { projectId, ...(agentId ? { agentId } : {}) },
    decision: { model: 'claude-sonnet-5-5', provider: 'anthropic', source: 'default', rule: 'default model', tokenCount: 1, requestedModel: 'x', timestamp: '' },
    usage: null, cost: { cost, costSource: 'test', priceVersion: null }, status: 200, stream: false, durationMs: 1, firstByteMs: 1,
    startedAt: '', endedAt: '', device: 'test',
  };
}

describe('budgets: the tracker', () => {
  let clock: number;
  let zone: string;
  let store: FakeStore;
  let published: BudgetAlert[];
  let tracker: BudgetTracker;
  const rules = mergeRules(DEFAULT_RULES, undefined, 'claude-sonnet-5-5');

  function make(): BudgetTracker {
    published = [];
    const t = new BudgetTracker({
      now: () => clock, timeZone: () => zone, prices: () => prices, modelOf: (ref) => ref.replace(/^anthropic\//, ''),
      publish: (a) => published.push(a), log: silentLogger,
    });
    return t;
  }
  const prices = new PriceTable();

  async function seeded(): Promise<void> {
    tracker.attach(store);
    store.open();
    for (let i = 0; i < 20 && !tracker.ready; i++) await Promise.resolve();
    assert.ok(tracker.ready, 'seeded');
  }

  beforeEach(() => {
    // 00:30 in Berlin: too early in the day for a forecast (tested on its own below).
    clock = Date.parse('2026-11-28T23:30:00Z');
    zone = 'Europe/Berlin';
    store = new FakeStore();
    tracker = make();
  });
  afterEach(() => tracker.close());

  it('seeds spend from the store for requests before its start, then counts its own', async () => {
    store.policies = { projects: [project('api', { dailyUsd: 10, monthlyUsd: 100 })] };
    store.spend = [{ projectKey: 'api', agentId: null, dailyUsd: 2, monthlyUsd: 30 }];
    tracker.record(record('api', 1)); // before the store answered: counted all the same
    await seeded();
    // The store is asked for the day and month in Berlin, up to the tracker's start.
    assert.deepEqual(store.seeds.map((s) => [s.dayStart, s.monthStart, s.cutoff]),
      [['2026-11-28T23:00:00.000Z', '2026-10-31T23:00:00.000Z', '2026-11-28T23:30:00.000Z']]);
    const st = tracker.statuses().statuses;
    assert.deepEqual(st.map((s) => [s.period, s.spentUsd, s.limitUsd, s.percent, s.state]), [['daily', 3, 10, 30, 'ok'], ['monthly', 31, 100, 31, 'ok']]);
    assert.equal(tracker.statuses().timeZone, 'Europe/Berlin');
  });

  it('a new day starts the daily spend at 0, a new month the monthly one', async () => {
    store.policies = { projects: [project('api', { dailyUsd: 10, monthlyUsd: 100 })] };
    await seeded();
    tracker.record(record('api', 4));
    clock = Date.parse('2026-11-29T22:59:59Z'); // 23:59:59 in Berlin
    tracker.record(record('api', 1));
    assert.deepEqual(tracker.statuses().statuses.map((s) => s.spentUsd), [5, 5]);
    clock = Date.parse('2026-11-29T23:00:00Z'); // midnight in Berlin, still November
    assert.deepEqual(tracker.statuses().statuses.map((s) => s.spentUsd), [0, 5]);
    tracker.record(record('api', 2));
    assert.deepEqual(tracker.statuses().statuses.map((s) => [s.spentUsd, s.periodStart]), [[2, '2026-11-29T23:00:00.000Z'], [7, '2026-10-31T23:00:00.000Z']]);
    clock = Date.parse('2026-11-30T23:00:00Z'); // December in Berlin
    assert.deepEqual(tracker.statuses().statuses.map((s) => [s.spentUsd, s.periodStart]), [[0, '2026-11-30T23:00:00.000Z'], [0, '2026-11-30T23:00:00.000Z']]);
  });

  it('the time zone decides the day: a change of zone moves the period', async () => {
    store.policies = { projects: [project('api', { dailyUsd: 10 })] };
    await seeded();
    assert.equal(tracker.statuses().statuses[0].periodStart, '2026-11-28T23:00:00.000Z');
    zone = 'America/New_York';
    assert.equal(tracker.statuses().statuses[0].periodStart, '2026-11-28T05:00:00.000Z'); // still Nov 28 there
    assert.equal(tracker.statuses().timeZone, 'America/New_York');
  });

  it('soft limit: routes to the configured cheaper model, or the cheapest the configuration names', async () => {
    store.policies = { projects: [
      project('own', { dailyUsd: 10, softLimitPercent: 80, softLimitModel: 'claude-haiku-4-5' }),
      project('cheapest', { dailyUsd: 10, softLimitPercent: 80 }),
    ] };
    await seeded();
    assert.equal(tracker.verdict('own', undefined, 'claude-opus-5-5', rules), null);
    tracker.record(record('own', 8.2));
    tracker.record(record('cheapest', 9));
    assert.deepEqual(tracker.verdict('own', undefined, 'claude-opus-5-5', rules),
      { kind: 'downgrade', modelRef: 'claude-haiku-4-5', rule: 'daily budget 82% ≥ soft limit 80% → claude-haiku-4-5' });
    // DEFAULT_RULES name haiku as the background model: the cheapest.
    assert.deepEqual(tracker.verdict('cheapest', undefined, 'claude-sonnet-5-5', rules),
      { kind: 'downgrade', modelRef: 'claude-haiku-4-5', rule: 'daily budget 90% ≥ soft limit 80% → claude-haiku-4-5' });
    // A request already going to that model (or a cheaper one) is left alone.
    assert.equal(tracker.verdict('own', undefined, 'claude-haiku-4-5', rules), null);
    assert.equal(tracker.verdict('own', undefined, 'anthropic/claude-haiku-4-5', rules), null);
    // Other projects, and requests without a project, are not affected.
    assert.equal(tracker.verdict('other', undefined, 'claude-opus-5-5', rules), null);
    assert.equal(tracker.verdict(undefined, undefined, 'claude-opus-5-5', rules), null);
  });

  it('hard limit: refuses with the message, naming the agent when its budget is the one', async () => {
    const agent: AgentBudgetEntry = { id: 'rev-1', uuid: '00000000-0000-4000-8000-000000000001', name: 'reviewer', policy: policy({ dailyUsd: 1, hardLimitPercent: 100 }) };
    store.policies = { projects: [project('api', { dailyUsd: 10, softLimitPercent: 80, softLimitModel: 'claude-haiku-4-5', hardLimitPercent: 100 }, [agent])] };
    await seeded();
    tracker.record(record('api', 1.5, 'rev-1'));
    // The agent's own budget is spent; the project's is at 15 %: the stricter wins.
    const v = tracker.verdict('api', 'rev-1', 'claude-sonnet-5-5', rules);
    assert.equal(v?.kind, 'refuse');
    assert.equal(v!.kind === 'refuse' && v.message,
      'Conduit: agent \'reviewer\' of project \'api\' has spent $1.50 of its $1.00 daily budget (hard limit 100%). Raise it with "Conduit: Set Budget" or wait until Mon, Nov 30, 00:00 GMT+1.');
    assert.equal(v!.rule, "agent 'reviewer' daily budget 150% ≥ hard limit 100%: refused");
    // The agent named by its agents.id counts as the same agent.
    assert.equal(tracker.verdict('api', agent.uuid, 'claude-sonnet-5-5', rules)?.kind, 'refuse');
    // Another agent of the project only meets the project's budget.
    assert.equal(tracker.verdict('api', 'someone-else', 'claude-sonnet-5-5', rules), null);
    tracker.record(record('api', 7, 'someone-else'));
    assert.equal(tracker.verdict('api', 'someone-else', 'claude-sonnet-5-5', rules)?.kind, 'downgrade');
    tracker.record(record('api', 2));
    assert.equal(tracker.verdict('api', 'someone-else', 'claude-sonnet-5-5', rules)?.kind, 'refuse');
    // A new day lifts it.
    clock = Date.parse('2026-11-29T23:00:00Z');
    assert.equal(tracker.verdict('api', 'rev-1', 'claude-sonnet-5-5', rules), null);
  });

  it('alerts at 50, 80 and 100 %, once each per period, saved and published', async () => {
    store.policies = { projects: [project('api', { dailyUsd: 10 })] };
    await seeded();
    tracker.record(record('api', 4));
    assert.equal(published.length, 0);
    tracker.record(record('api', 1.5));
    tracker.record(record('api', 0.5));
    tracker.record(record('api', 2.5));
    tracker.record(record('api', 2));
    tracker.record(record('api', 3));
    assert.deepEqual(published.map((a) => [a.kind, a.threshold, a.status.spentUsd]), [['threshold', 50, 5.5], ['threshold', 80, 8.5], ['threshold', 100, 10.5]]);
    assert.match(published[0].message, /^Project 'api' has used 55% of its \$10\.00 daily budget \(\$5\.50 spent\)\.$/);
    await tracker.saved();
    assert.deepEqual(store.saved.map((a) => a.id), published.map((a) => a.id));
    assert.deepEqual(tracker.alerts().map((a) => a.threshold), [50, 80, 100]);
    // The next day, the same thresholds are new alerts.
    clock = Date.parse('2026-11-29T23:30:00Z');
    tracker.record(record('api', 6));
    assert.equal(published.length, 4);
    assert.equal(published[3].threshold, 50);
    assert.equal(published[3].status.periodStart, '2026-11-29T23:00:00.000Z');
    assert.notEqual(published[3].id, published[0].id);
  });

  it('one large step raises only the highest threshold; the ones passed over are saved acknowledged', async () => {
    store.policies = { projects: [project('api', { dailyUsd: 10 })] };
    await seeded();
    tracker.record(record('api', 9));
    assert.deepEqual(published.map((a) => a.threshold), [80]);
    await tracker.saved();
    assert.deepEqual(store.saved.map((a) => [a.threshold, a.acknowledgedAt === null]), [[50, false], [80, true]]);
    assert.deepEqual(tracker.alerts().map((a) => a.threshold), [80]);
  });

  it('alerts raised before a restart are not raised again; unacknowledged ones are listed', async () => {
    store.policies = { projects: [project('api', { dailyUsd: 10 })] };
    await seeded();
    tracker.record(record('api', 6));
    await tracker.saved();
    tracker.close();
    // Restart: the store now holds the spend and the alert.
    store.spend = [{ projectKey: 'api', agentId: null, dailyUsd: 6, monthlyUsd: 6 }];
    store.raised = store.saved.map((a) => a.id);
    store.unacknowledged = store.saved.filter((a) => !a.acknowledgedAt);
    clock += 60_000;
    tracker = make();
    await seeded();
    assert.equal(published.length, 0, 'nothing raised again at start');
    assert.deepEqual(tracker.alerts().map((a) => a.threshold), [50]);
    tracker.record(record('api', 0.5));
    assert.equal(published.length, 0);
    tracker.record(record('api', 2));
    assert.deepEqual(published.map((a) => a.threshold), [80]);
  });

  it('no alert before the store has answered; due ones are raised once it has', async () => {
    store.policies = { projects: [project('api', { dailyUsd: 10 })] };
    store.spend = [{ projectKey: 'api', agentId: null, dailyUsd: 5, monthlyUsd: 5 }];
    tracker.record(record('api', 0.5));
    assert.equal(published.length, 0);
    await seeded();
    assert.deepEqual(published.map((a) => [a.threshold, a.status.spentUsd]), [[50, 5.5]]);
  });

  it('a budget set when spend is already past a threshold alerts at once', async () => {
    await seeded();
    tracker.record(record('api', 9));
    assert.equal(tracker.active, false);
    store.policies = { projects: [project('api', { dailyUsd: 10 })] };
    await tracker.reloadPolicies();
    assert.equal(tracker.active, true);
    assert.deepEqual(published.map((a) => a.threshold), [80]);
  });

  it('forecast alert: once, when the burn rate crosses the budget before the period ends', async () => {
    store.policies = { projects: [project('api', { dailyUsd: 10 })] };
    clock = Date.parse('2026-11-28T23:45:00Z'); // 00:45 in Berlin
    tracker = make();
    await seeded();
    tracker.record(record('api', 2)); // $2 in the first hour: too early to forecast
    assert.equal(tracker.statuses().statuses[0].forecastUsd, null);
    clock = Date.parse('2026-11-29T05:00:00Z'); // 06:00 in Berlin, $2 in 6 h → $8 by midnight
    tracker.record(record('api', 0.01));
    assert.equal(published.length, 0);
    assert.equal(tracker.statuses().statuses[0].forecastCrossingAt, null);
    tracker.record(record('api', 0.99)); // $3 in 6 h → $12 by midnight, $10 at 20:00
    assert.deepEqual(published.map((a) => a.kind), ['forecast']);
    const s = published[0].status;
    assert.equal(s.forecastUsd, 12);
    assert.equal(s.forecastCrossingAt, '2026-11-29T19:00:00.000Z');
    assert.match(published[0].message, /^Project 'api' is on course to spend \$12\.00 against its \$10\.00 daily budget \(\$3\.00 so far\); at this rate it crosses the budget at Sun, Nov 29, 20:00 GMT\+1\.$/);
    tracker.record(record('api', 1));
    assert.deepEqual(published.map((a) => a.kind), ['forecast'], 'once per period');
  });

  it('acknowledging removes an alert from the list, in memory and in the store', async () => {
    store.policies = { projects: [project('api', { dailyUsd: 10 }), project('web', { dailyUsd: 1 })] };
    await seeded();
    tracker.record(record('api', 6));
    tracker.record(record('web', 0.6));
    await tracker.saved();
    assert.deepEqual(tracker.alerts('web').map((a) => a.status.projectKey), ['web']);
    const [first] = tracker.alerts();
    const acked = await tracker.ack(first.id);
    assert.equal(acked?.acknowledgedAt, new Date(clock).toISOString());
    assert.equal(store.saved.find((a) => a.id === first.id)?.acknowledgedAt, acked?.acknowledgedAt);
    assert.deepEqual(tracker.alerts().map((a) => a.status.projectKey), ['web']);
    assert.equal(await tracker.ack('project:nope:daily:x:threshold-50'), null);
  });
});
