// Budget arithmetic (src/conduit/budgets/budgetMath.ts) and the policy parser
// (src/protocol/budgets.ts): periods in time zones (DST, month ends, a midnight that does
// not exist), percent and state, the burn-rate forecast, thresholds, the stricter of
// several budgets, and the texts people read.
import assert from 'node:assert/strict';
import {
  budgetVerdict, dueThresholds, forecastOf, percentOf, periodAt, refusalMessage, softLimitRule, stateOf,
  thresholdMessage, zonedParts, type EvaluatedBudget,
} from '../../src/conduit/budgets/budgetMath';
import { BUDGET_REFUSAL, budgetAlertId, parseBudgetPolicy, parseBudgetPolicyPatch, type BudgetThreshold } from '../../src/protocol/budgets';
import { ValidationError } from '../../src/protocol/validate';
import { formatUsd } from '../../src/protocol/format';

const H = 3_600_000;
const iso = (t: number) => new Date(t).toISOString();
const at = (s: string) => Date.parse(s);

function period(kind: 'daily' | 'monthly', instant: string, zone: string): { start: string; end: string; hours: number } {
  const p = periodAt(kind, at(instant), zone);
  return { start: iso(p.start), end: iso(p.end), hours: (p.end - p.start) / H };
}

describe('budgets: periods', () => {
  it('a day in UTC and in a zone east and west of it', () => {
    assert.deepEqual(period('daily', '2026-11-29T10:00:00Z', 'UTC'), { start: '2026-11-29T00:00:00.000Z', end: '2026-11-30T00:00:00.000Z', hours: 24 });
    // 23:30 UTC is already the next day in Berlin (UTC+1 in November)...
    assert.deepEqual(period('daily', '2026-11-29T23:30:00Z', 'Europe/Berlin'), { start: '2026-11-29T23:00:00.000Z', end: '2026-11-30T23:00:00.000Z', hours: 24 });
    // ...and still the day before in New York (UTC-5).
    assert.deepEqual(period('daily', '2026-11-30T03:00:00Z', 'America/New_York'), { start: '2026-11-29T05:00:00.000Z', end: '2026-11-30T05:00:00.000Z', hours: 24 });
  });

  it('the instant a day starts belongs to it, the instant it ends to the next', () => {
    const p = periodAt('daily', at('2026-11-29T23:00:00Z'), 'Europe/Berlin');
    assert.equal(iso(p.start), '2026-11-29T23:00:00.000Z');
    assert.equal(iso(periodAt('daily', p.start - 1, 'Europe/Berlin').end), '2026-11-29T23:00:00.000Z');
  });

  it('DST days are 23 and 25 hours long', () => {
    assert.deepEqual(period('daily', '2026-03-29T12:00:00Z', 'Europe/Berlin'), { start: '2026-03-28T23:00:00.000Z', end: '2026-03-29T22:00:00.000Z', hours: 23 });
    assert.deepEqual(period('daily', '2026-10-25T12:00:00Z', 'Europe/Berlin'), { start: '2026-10-24T22:00:00.000Z', end: '2026-10-25T23:00:00.000Z', hours: 25 });
    assert.equal(period('daily', '2026-03-08T12:00:00Z', 'America/New_York').hours, 23);
    assert.equal(period('daily', '2026-11-01T12:00:00Z', 'America/New_York').hours, 25);
  });

  it('a day whose midnight does not exist starts when the clocks jump (Santiago, Sep 6 2026)', () => {
    const p = periodAt('daily', at('2026-09-06T12:00:00Z'), 'America/Santiago');
    assert.equal(iso(p.start), '2026-09-06T04:00:00.000Z');
    assert.deepEqual(zonedParts(p.start, 'America/Santiago'), { year: 2026, month: 9, day: 6, hour: 1, minute: 0 });
    assert.equal(zonedParts(p.start - 1, 'America/Santiago').day, 5);
    assert.equal((p.end - p.start) / H, 23);
    // The day before ends there too.
    assert.equal(periodAt('daily', at('2026-09-05T12:00:00Z'), 'America/Santiago').end, p.start);
  });

  it('zones with half- and quarter-hour offsets', () => {
    assert.deepEqual(period('daily', '2026-02-10T12:00:00Z', 'Asia/Kolkata'), { start: '2026-02-09T18:30:00.000Z', end: '2026-02-10T18:30:00.000Z', hours: 24 });
    assert.deepEqual(period('daily', '2026-02-10T12:00:00Z', 'Pacific/Chatham'), { start: '2026-02-10T10:15:00.000Z', end: '2026-02-11T10:15:00.000Z', hours: 24 });
  });

  it('months: 28, 29, 30 and 31 days, the year end, and a month with a DST change', () => {
    assert.deepEqual(period('monthly', '2026-02-15T00:00:00Z', 'UTC'), { start: '2026-02-01T00:00:00.000Z', end: '2026-03-01T00:00:00.000Z', hours: 28 * 24 });
    assert.equal(period('monthly', '2028-02-29T23:59:59Z', 'UTC').hours, 29 * 24);
    assert.equal(period('monthly', '2026-04-30T12:00:00Z', 'UTC').hours, 30 * 24);
    assert.deepEqual(period('monthly', '2026-12-31T22:59:59Z', 'Europe/Berlin'), { start: '2026-11-30T23:00:00.000Z', end: '2026-12-31T23:00:00.000Z', hours: 31 * 24 });
    // 23:00 UTC on Dec 31 is already January in Berlin.
    assert.equal(period('monthly', '2026-12-31T23:00:00Z', 'Europe/Berlin').start, '2026-12-31T23:00:00.000Z');
    assert.deepEqual(period('monthly', '2026-03-15T12:00:00Z', 'Europe/Berlin'), { start: '2026-02-28T23:00:00.000Z', end: '2026-03-31T22:00:00.000Z', hours: 31 * 24 - 1 });
    // The last day of a month ends where the next month starts.
    const lastDay = periodAt('daily', at('2026-01-31T20:00:00Z'), 'America/New_York');
    assert.equal(lastDay.end, periodAt('monthly', at('2026-02-10T00:00:00Z'), 'America/New_York').start);
  });
});

describe('budgets: percent, state and forecast', () => {
  it('percent of a budget; a budget of 0 is reached at once', () => {
    assert.equal(percentOf(4, 5), 80);
    assert.ok(Math.abs(percentOf(4.1, 5) - 82) < 1e-9);
    assert.equal(percentOf(0, 5), 0);
    assert.equal(percentOf(6, 5), 120);
    assert.equal(percentOf(0, 0), 100);
  });

  it('state: hard at or past the hard limit, soft at or past the soft limit, limits optional', () => {
    const both = { softLimitPercent: 80, hardLimitPercent: 100 };
    assert.equal(stateOf(79.99, both), 'ok');
    assert.equal(stateOf(80, both), 'soft');
    assert.equal(stateOf(100, both), 'hard');
    assert.equal(stateOf(500, { softLimitPercent: null, hardLimitPercent: null }), 'ok');
    assert.equal(stateOf(150, { softLimitPercent: 80, hardLimitPercent: null }), 'soft');
    assert.equal(stateOf(95, { softLimitPercent: null, hardLimitPercent: 90 }), 'hard');
  });

  const day = { start: at('2026-11-29T00:00:00Z'), end: at('2026-11-30T00:00:00Z') };

  it('no forecast before an hour of the day has passed or a tenth of the budget is spent', () => {
    assert.deepEqual(forecastOf(4, 5, day, day.start + 59 * 60_000), { forecastUsd: null, crossingAt: null });
    assert.deepEqual(forecastOf(0.49, 5, day, day.start + 12 * H), { forecastUsd: null, crossingAt: null });
    assert.deepEqual(forecastOf(3, 0, day, day.start + 12 * H), { forecastUsd: null, crossingAt: null });
  });

  it('burn rate so far, extended to the end of the period', () => {
    // $2 in 6 hours: $8 by midnight, $5 reached after 15 hours.
    assert.deepEqual(forecastOf(2, 5, day, day.start + 6 * H), { forecastUsd: 8, crossingAt: day.start + 15 * H });
    // $1 in 12 hours: $2 by midnight, never crosses $5 today.
    assert.deepEqual(forecastOf(1, 5, day, day.start + 12 * H), { forecastUsd: 2, crossingAt: null });
    // Already over: no crossing ahead.
    assert.deepEqual(forecastOf(6, 5, day, day.start + 12 * H), { forecastUsd: 12, crossingAt: null });
    // A 25-hour day (Berlin, Oct 25 2026): the rate is per real hour.
    const long = periodAt('daily', at('2026-10-25T12:00:00Z'), 'Europe/Berlin');
    assert.deepEqual(forecastOf(1, 5, long, long.start + 5 * H), { forecastUsd: 5, crossingAt: null });
    assert.equal(forecastOf(1.01, 5, long, long.start + 5 * H).crossingAt! < long.end, true);
  });

  it('a monthly forecast waits for about a day and a quarter', () => {
    const month = periodAt('monthly', at('2026-04-10T00:00:00Z'), 'UTC');
    assert.equal(forecastOf(50, 100, month, month.start + 29 * H).forecastUsd, null);
    assert.equal(forecastOf(50, 100, month, month.start + 31 * H).forecastUsd, Math.round(50 * (30 * 24) / 31 * 1e6) / 1e6);
  });
});

describe('budgets: thresholds', () => {
  const none = () => false;
  const raisedOf = (...ts: number[]) => (t: BudgetThreshold) => ts.includes(t);

  it('raises each threshold once as spend grows', () => {
    assert.deepEqual(dueThresholds(49.9, none), { raise: null, passed: [] });
    assert.deepEqual(dueThresholds(50, none), { raise: 50, passed: [] });
    assert.deepEqual(dueThresholds(79, raisedOf(50)), { raise: null, passed: [] });
    assert.deepEqual(dueThresholds(80, raisedOf(50)), { raise: 80, passed: [] });
    assert.deepEqual(dueThresholds(100, raisedOf(50, 80)), { raise: 100, passed: [] });
    assert.deepEqual(dueThresholds(250, raisedOf(50, 80, 100)), { raise: null, passed: [] });
  });

  it('one step past several thresholds raises the highest and passes over the others', () => {
    assert.deepEqual(dueThresholds(85, none), { raise: 80, passed: [50] });
    assert.deepEqual(dueThresholds(120, raisedOf(50)), { raise: 100, passed: [80] });
    // A lower threshold not yet raised under a higher one already raised is old news.
    assert.deepEqual(dueThresholds(90, raisedOf(100)), { raise: null, passed: [50, 80] });
  });

  it('alert ids: one per scope, period, period start and threshold; keys cannot collide', () => {
    const base = { scope: 'project' as const, projectKey: 'a:b', agentId: null, period: 'daily' as const, periodStart: '2026-11-29T23:00:00.000Z', kind: 'threshold' as const, threshold: 80 };
    const id = budgetAlertId(base);
    assert.equal(id, 'project:a%3Ab:daily:2026-11-29T23%3A00%3A00.000Z:threshold-80');
    assert.notEqual(budgetAlertId({ ...base, projectKey: 'a', scope: 'agent', agentId: 'b' }), budgetAlertId({ ...base, projectKey: 'a:b' }));
    assert.notEqual(budgetAlertId({ ...base, periodStart: '2026-11-30T23:00:00.000Z' }), id);
    assert.equal(budgetAlertId({ ...base, kind: 'forecast', threshold: null }), 'project:a%3Ab:daily:2026-11-29T23%3A00%3A00.000Z:forecast');
  });
});

describe('budgets: the stricter of the project and the agent', () => {
  const b = (o: Partial<EvaluatedBudget>): EvaluatedBudget => ({
    scope: 'project', projectName: 'api', agentName: null, period: 'daily', limitUsd: 5, spentUsd: 0, percent: 0,
    periodEnd: at('2026-11-30T00:00:00Z'), softLimitPercent: null, softLimitModel: null, hardLimitPercent: null, ...o,
  });
  const prices: Record<string, number> = { 'claude-haiku-4-5': 6, 'claude-sonnet-5-5': 18, 'claude-opus-5-5': 30 };
  const price = (m: string) => prices[m] ?? null;
  const own = (x: EvaluatedBudget) => x.softLimitModel;

  it('nothing reached: no verdict', () => {
    assert.equal(budgetVerdict([b({ percent: 79, softLimitPercent: 80, softLimitModel: 'claude-haiku-4-5', hardLimitPercent: 100 })], own, price), null);
    assert.equal(budgetVerdict([b({ percent: 500 })], own, price), null);
  });

  it('a hard limit reached anywhere refuses, even when another budget is only soft', () => {
    const project = b({ percent: 85, softLimitPercent: 80, softLimitModel: 'claude-haiku-4-5', hardLimitPercent: 100 });
    const agent = b({ scope: 'agent', agentName: 'reviewer', percent: 101, hardLimitPercent: 100 });
    assert.deepEqual(budgetVerdict([project, agent], own, price), { kind: 'refuse', budget: agent });
    // The most exceeded hard limit is the one named.
    const monthly = b({ period: 'monthly', percent: 150, hardLimitPercent: 100 });
    assert.deepEqual(budgetVerdict([agent, monthly], own, price), { kind: 'refuse', budget: monthly });
  });

  it('of the soft limits reached, the cheapest model wins', () => {
    const project = b({ percent: 85, softLimitPercent: 80, softLimitModel: 'claude-sonnet-5-5' });
    const agent = b({ scope: 'agent', agentName: 'reviewer', percent: 60, softLimitPercent: 50, softLimitModel: 'claude-haiku-4-5' });
    assert.deepEqual(budgetVerdict([project, agent], own, price), { kind: 'downgrade', budget: agent, model: 'claude-haiku-4-5' });
    // A model of unknown price loses to a known one.
    const odd = b({ percent: 90, softLimitPercent: 80, softLimitModel: 'mystery-model' });
    assert.deepEqual(budgetVerdict([odd, project], own, price), { kind: 'downgrade', budget: project, model: 'claude-sonnet-5-5' });
  });

  it('a soft limit without its own model takes the one the configuration offers, or none', () => {
    const project = b({ percent: 85, softLimitPercent: 80 });
    assert.deepEqual(budgetVerdict([project], () => 'claude-haiku-4-5', price), { kind: 'downgrade', budget: project, model: 'claude-haiku-4-5' });
    assert.equal(budgetVerdict([project], () => null, price), null);
  });
});

describe('budgets: texts', () => {
  const budget: EvaluatedBudget = {
    scope: 'project', projectName: 'X', agentName: null, period: 'daily', limitUsd: 5, spentUsd: 5.0249, percent: 100.498,
    periodEnd: at('2026-11-30T23:00:00Z'), softLimitPercent: 80, softLimitModel: null, hardLimitPercent: 100,
  };

  it('the refusal names the budget, the spend, the limit and when the period ends, in local time', () => {
    assert.equal(refusalMessage(budget, 'Europe/Berlin'),
      'Conduit: project \'X\' has spent $5.02 of its $5.00 daily budget (hard limit 100%). Raise it with "Conduit: Set Budget" or wait until Tue, Dec 1, 00:00 GMT+1.');
    assert.match(refusalMessage({ ...budget, scope: 'agent', agentName: 'reviewer' }, 'UTC'), /^Conduit: agent 'reviewer' of project 'X' has spent/);
    assert.deepEqual(BUDGET_REFUSAL, { status: 402, type: 'billing_error' });
  });

  it('the soft limit rule, with percents never rounded up', () => {
    assert.equal(softLimitRule({ ...budget, percent: 82.7 }, 'claude-haiku-4-5'), 'daily budget 82% ≥ soft limit 80% → claude-haiku-4-5');
    assert.equal(softLimitRule({ ...budget, scope: 'agent', agentName: 'r', period: 'monthly', percent: 80 }, 'm'), "agent 'r' monthly budget 80% ≥ soft limit 80% → m");
  });

  it('a threshold alert says its percentage once: as the verb, or after the spend when the budget is used up', () => {
    const partly = { ...budget, limitUsd: 0.03, spentUsd: 0.0192, percent: 64 };
    assert.equal(thresholdMessage(partly, 50), "Project 'X' has used 64% of its $0.03 daily budget ($0.02 spent).");
    assert.equal(thresholdMessage(budget, 100), "Project 'X' has used all of its $5.00 daily budget ($5.02 spent, 100%).");
    for (const [b, t] of [[partly, 50], [{ ...partly, percent: 80.5 }, 80], [budget, 100], [{ ...budget, percent: 131 }, 100]] as const) {
      assert.equal(thresholdMessage(b, t).match(/\d+%/g)?.length, 1, thresholdMessage(b, t));
    }
  });

  it('dollars (the one rule, src/protocol/format.ts): cents, or enough decimals to show a small amount', () => {
    assert.deepEqual([0, 5, 5.025, 0.5, 0.05, 0.0042, 1234.5].map((v) => formatUsd(v)), ['$0.00', '$5.00', '$5.03', '$0.50', '$0.05', '$0.0042', '$1,234.50']);
  });
});

describe('budgets: the policy parser', () => {
  it('takes every field, null clears, missing fields of a whole policy are null', () => {
    assert.deepEqual(parseBudgetPolicyPatch({ dailyUsd: 5, softLimitPercent: 80, softLimitModel: ' claude-haiku-4-5 ', hardLimitPercent: 100 }),
      { dailyUsd: 5, softLimitPercent: 80, softLimitModel: 'claude-haiku-4-5', hardLimitPercent: 100 });
    assert.deepEqual(parseBudgetPolicyPatch({ monthlyUsd: null, softLimitModel: '' }), { monthlyUsd: null, softLimitModel: null });
    assert.deepEqual(parseBudgetPolicy({ monthlyUsd: 40 }),
      { dailyUsd: null, monthlyUsd: 40, softLimitPercent: null, softLimitModel: null, hardLimitPercent: null });
  });

  it('refuses bad values, naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [[], /^budget: expected an object/],
      [{ dailyUsd: -1 }, /^budget\.dailyUsd: expected null or a number of US dollars/],
      [{ monthlyUsd: '5' }, /^budget\.monthlyUsd: expected null or a number/],
      [{ softLimitPercent: 0 }, /^budget\.softLimitPercent: expected null or a percentage above 0/],
      [{ hardLimitPercent: 1001 }, /^budget\.hardLimitPercent: expected null or a percentage/],
      [{ softLimitModel: 3 }, /^budget\.softLimitModel: expected a string/],
      [{ weeklyUsd: 3 }, /^budget\.weeklyUsd: unknown setting/],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => parseBudgetPolicyPatch(value), (err: Error) => err instanceof ValidationError && message.test(err.message), JSON.stringify(value));
    }
  });
});
