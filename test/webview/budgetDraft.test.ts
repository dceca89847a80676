// The budget section's pure parts (webview-ui/src/modelConfig/budgetDraft.ts) and the
// protocol's budget additions (SaveMessage.budget, ModelConfigInit.budgetStatuses). No browser.
import assert from 'node:assert/strict';
import { EMPTY_BUDGET_POLICY, MAX_BUDGET_USD, parseBudgetPolicy, type BudgetPolicy, type BudgetStatus } from '../../src/protocol/budgets';
import { isModelConfigHostMessage, isModelConfigWebviewMessage } from '../../src/protocol/webviewMessages';
import { projectInit } from './fixtures';

// webview-ui is an ES module package: loaded the way protocol.test.ts loads draft.js.
const load = () => import('../../webview-ui/src/modelConfig/budgetDraft.js');
type BudgetDraft = ReturnType<Awaited<ReturnType<typeof load>>['budgetDraftFrom']>;
let m: Awaited<ReturnType<typeof load>>;
const draft = (d: Partial<BudgetDraft> = {}): BudgetDraft => ({ ...m.budgetDraftFrom(null), ...d });

function status(overrides: Partial<BudgetStatus> = {}): BudgetStatus {
  return {
    scope: 'project', projectKey: 'ws-7f3a', agentId: null, name: 'synapse-app', period: 'daily', limitUsd: 5, spentUsd: 4.1, percent: 82,
    periodStart: '2026-11-29T00:00:00.000Z', periodEnd: '2026-11-30T00:00:00.000Z', forecastUsd: null, forecastCrossingAt: null,
    state: 'soft', softLimitPercent: 80, softLimitModel: null, hardLimitPercent: 100, ...overrides,
  };
}

describe('webview: model configuration budget draft', () => {
  before(async () => {
    m = await load();
  });
  it('starts from the stored policy (or the older amount fields), empty for what is not set', () => {
    assert.deepEqual(m.budgetDraftFrom(null), { dailyUsd: '', monthlyUsd: '', softLimitPercent: '', softLimitModel: '', hardLimitPercent: '' });
    const policy: BudgetPolicy = { dailyUsd: 5, monthlyUsd: 0, softLimitPercent: 80, softLimitModel: 'claude-haiku-4-5', hardLimitPercent: 100 };
    assert.deepEqual(m.budgetDraftFrom(policy), { dailyUsd: '5', monthlyUsd: '0', softLimitPercent: '80', softLimitModel: 'claude-haiku-4-5', hardLimitPercent: '100' });
    assert.deepEqual(m.storedBudgetOf({ dailyBudgetUsd: 3, monthlyBudgetUsd: null }), { ...EMPTY_BUDGET_POLICY, dailyUsd: 3 });
    assert.deepEqual(m.storedBudgetOf({ budget: policy, dailyBudgetUsd: 99 }), policy, 'budget wins over the older fields');
    assert.equal(m.budgetDraftFrom({ dailyUsd: 'x' as unknown as number }).dailyUsd, '', 'a malformed stored value shows as not set');
    assert.ok(m.isBudgetDraft(m.budgetDraftFrom(policy)));
    assert.ok(!m.isBudgetDraft({ dailyUsd: '5' }));
  });

  it('reads amounts and percentages as people type them; empty is none / off', () => {
    assert.deepEqual(m.parseUsd(' $12.50 ', 'daily'), { value: 12.5 });
    assert.deepEqual(m.parseUsd('1,000', 'daily'), { value: 1000 });
    assert.deepEqual(m.parseUsd('0', 'daily'), { value: 0 });
    assert.deepEqual(m.parseUsd('.5', 'daily'), { value: 0.5 });
    assert.deepEqual(m.parseUsd(String(MAX_BUDGET_USD), 'daily'), { value: MAX_BUDGET_USD });
    assert.deepEqual(m.parseUsd('', 'monthly'), { value: null });
    assert.deepEqual(m.parseUsd('-5', 'daily'), { error: 'A budget cannot be negative.' });
    assert.deepEqual(m.parseUsd('-$5', 'daily'), { error: 'A budget cannot be negative.' });
    assert.deepEqual(m.parseUsd('1000000.01', 'daily'), { error: 'A budget is at most $1,000,000.' });
    assert.deepEqual(m.parseUsd('five', 'monthly'), { error: 'Enter an amount in US dollars, such as 5 or 12.50 (empty: no monthly budget).' });
    for (const bad of ['1e3', '5$', '1.2.3', 'Infinity', '0x10']) assert.ok('error' in m.parseUsd(bad, 'daily'), bad);

    assert.deepEqual(m.parsePercent('80'), { value: 80 });
    assert.deepEqual(m.parsePercent('80 %'), { value: 80 });
    assert.deepEqual(m.parsePercent('0.5'), { value: 0.5 });
    assert.deepEqual(m.parsePercent('1000'), { value: 1000 });
    assert.deepEqual(m.parsePercent(''), { value: null });
    assert.deepEqual(m.parsePercent('0'), { error: 'A limit must be above 0%.' });
    assert.deepEqual(m.parsePercent('-10'), { error: 'A limit must be above 0%.' });
    assert.deepEqual(m.parsePercent('1001'), { error: 'A limit is at most 1,000% of the budget.' });
    assert.deepEqual(m.parsePercent('lots'), { error: 'Enter a percentage of the budget, such as 80 (empty: off).' });
  });

  it('errors in the order of the form; the soft limit must be below the hard one; a limit without an amount gets a hint', () => {
    const v = m.validateBudgetDraft(draft({ hardLimitPercent: '2000', dailyUsd: 'x', softLimitPercent: '0' }));
    assert.deepEqual(Object.keys(v.errors), ['dailyUsd', 'softLimitPercent', 'hardLimitPercent']);

    const clash = m.validateBudgetDraft(draft({ dailyUsd: '5', softLimitPercent: '100', hardLimitPercent: '100' }));
    assert.deepEqual(clash.errors, { softLimitPercent: 'The soft limit (100%) must be below the hard limit (100%): from the hard limit on, requests are refused.' });
    assert.deepEqual(m.validateBudgetDraft(draft({ dailyUsd: '5', softLimitPercent: '80', hardLimitPercent: '100' })), { errors: {}, hints: {} });
    assert.deepEqual(m.validateBudgetDraft(draft({ monthlyUsd: '50', softLimitPercent: '120' })).errors, {}, 'a soft limit above 100 without a hard limit is fine');

    const idle = m.validateBudgetDraft(draft({ softLimitPercent: '80', hardLimitPercent: '100' }));
    assert.deepEqual(idle.errors, {}, 'a hint does not block the save');
    assert.deepEqual(idle.hints, {
      softLimitPercent: 'No daily or monthly budget is set, so the soft limit does nothing.',
      hardLimitPercent: 'No daily or monthly budget is set, so the hard limit does nothing.',
    });
    assert.deepEqual(m.validateBudgetDraft(draft({ dailyUsd: 'x', hardLimitPercent: '100' })).hints, {}, 'no hint while the amount is being fixed');
    assert.deepEqual(m.validateBudgetDraft(draft({ softLimitModel: 'm'.repeat(201) })).errors, { softLimitModel: 'A model id is at most 200 characters.' });
  });

  it('makes the whole policy a save sends, null for every empty field, one the gateway accepts', () => {
    const policy = m.budgetPolicyFrom(draft({ dailyUsd: '$5.50', monthlyUsd: '1,200', softLimitPercent: '80%', softLimitModel: ' claude-haiku-4-5 ', hardLimitPercent: '' }));
    assert.deepEqual(policy, { dailyUsd: 5.5, monthlyUsd: 1200, softLimitPercent: 80, softLimitModel: 'claude-haiku-4-5', hardLimitPercent: null });
    assert.deepEqual(parseBudgetPolicy(policy), policy);
    assert.deepEqual(m.budgetPolicyFrom(draft()), EMPTY_BUDGET_POLICY);
    assert.equal(m.budgetPolicyFrom(draft({ dailyUsd: '-1' })), null, 'nothing to send while a field is invalid');
  });

  it('is changed only when it says something else than what is stored', () => {
    const stored: BudgetPolicy = { ...EMPTY_BUDGET_POLICY, dailyUsd: 5, softLimitPercent: 80 };
    assert.equal(m.budgetChanged(m.budgetDraftFrom(stored), stored), false);
    assert.equal(m.budgetChanged(draft({ dailyUsd: '5.00', softLimitPercent: '80 %' }), stored), false, '"5.00" is 5');
    assert.equal(m.budgetChanged(draft({ dailyUsd: '6', softLimitPercent: '80' }), stored), true);
    assert.equal(m.budgetChanged(draft({ dailyUsd: '', softLimitPercent: '80' }), stored), true, 'cleared');
    assert.equal(m.budgetChanged(draft({ dailyUsd: '5x', softLimitPercent: '80' }), stored), true, 'an invalid edit is an edit');
    assert.equal(m.budgetChanged(draft(), undefined), false);
  });

  it('says what the period has cost next to its amount, against the amount as typed', () => {
    const statuses = [status(), status({ period: 'monthly', limitUsd: 100, spentUsd: 31.2, percent: 31.2, forecastUsd: 96.4 })];
    assert.equal(m.spendLine(statuses, 'daily', '5'), 'spent $4.10 today (82%)');
    assert.equal(m.spendLine(statuses, 'daily', '10'), 'spent $4.10 today (41%)', 'follows the typing');
    assert.equal(m.spendLine(statuses, 'daily', ''), 'spent $4.10 today', 'no budget: no share of it');
    assert.equal(m.spendLine(statuses, 'daily', 'abc'), 'spent $4.10 today (82%)', 'while invalid: the stored limit');
    assert.equal(m.spendLine(statuses, 'daily', '0'), 'spent $4.10 today (100%)', 'a budget of 0 is reached at once');
    assert.equal(m.spendLine(statuses, 'monthly', '100'), 'spent $31.20 this month (31%), heading for $96.40 by the end of the month');
    assert.equal(m.spendLine([status()], 'monthly', '100'), null);
    assert.equal(m.spendLine(undefined, 'daily', '5'), null, 'the host could not tell');
    assert.equal(m.spendLine([status({ spentUsd: 0.0025, percent: 0.05 })], 'daily', '5'), 'spent $0.0025 today (0%)', 'a fraction of a cent keeps its digits');
  });

  it('finds the budget field a failed save names', () => {
    assert.equal(m.budgetFieldOf('budget.hardLimitPercent'), 'hardLimitPercent');
    assert.equal(m.budgetFieldOf('body.budget.softLimitModel'), 'softLimitModel');
    assert.equal(m.budgetFieldOf('dailyBudgetUsd'), 'dailyUsd');
    assert.equal(m.budgetFieldOf('body.budget'), null);
    assert.equal(m.budgetFieldOf('modelConfig.rules.longContextThreshold'), null);
    assert.equal(m.budgetFieldOf(null), null);
  });

  describe('protocol', () => {
    const save = { type: 'save', id: 'r1', kind: 'project', projectKey: 'ws', config: { enabled: true, defaultModel: null } };
    const agentSave = { type: 'save', id: 'r2', kind: 'agent', projectKey: 'ws', agentId: 'a1', config: { useProjectModel: true, customModelId: null } };
    const policy: BudgetPolicy = { dailyUsd: 5, monthlyUsd: null, softLimitPercent: 80, softLimitModel: null, hardLimitPercent: 100 };

    it('a save may carry a budget policy, for a project or an agent; the guard refuses one the gateway would', () => {
      assert.ok(isModelConfigWebviewMessage(save), 'without a budget, as before');
      assert.ok(isModelConfigWebviewMessage({ ...save, budget: policy }));
      assert.ok(isModelConfigWebviewMessage({ ...agentSave, budget: EMPTY_BUDGET_POLICY }));
      for (const bad of [{ ...policy, dailyUsd: -1 }, { ...policy, monthlyUsd: MAX_BUDGET_USD + 1 }, { ...policy, softLimitPercent: 0 },
        { ...policy, hardLimitPercent: 1001 }, { ...policy, bogus: 1 }, null, 'cheap', { ...policy, softLimitModel: 7 }]) {
        assert.ok(!isModelConfigWebviewMessage({ ...save, budget: bad }), JSON.stringify(bad));
        assert.ok(!isModelConfigWebviewMessage({ ...agentSave, budget: bad }), JSON.stringify(bad));
      }
    });

    it('init may carry the budgets\' statuses; a malformed one is refused', () => {
      assert.ok(isModelConfigHostMessage({ type: 'init', ...projectInit(), budgetStatuses: [status(), status({ period: 'monthly' })] }));
      assert.ok(isModelConfigHostMessage({ type: 'init', ...projectInit(), budgetStatuses: [] }));
      assert.ok(!isModelConfigHostMessage({ type: 'init', ...projectInit(), budgetStatuses: [status({ spentUsd: '4' as unknown as number })] }));
      assert.ok(!isModelConfigHostMessage({ type: 'init', ...projectInit(), budgetStatuses: [status({ period: 'weekly' as 'daily' })] }));
      assert.ok(!isModelConfigHostMessage({ type: 'init', ...projectInit(), budgetStatuses: status() }));
    });
  });
});
