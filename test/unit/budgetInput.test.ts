import assert from 'node:assert/strict';
import { budgetMenu, formatBudgetUsd, parsePercentInput, parseUsdInput, patchFor } from '../../src/extension/budgets/budgetInput';
import { EMPTY_BUDGET_POLICY, type BudgetStatus } from '../../src/protocol/budgets';
import { validateAgentName } from '../../src/extension/agents/agentNames';

describe('"Conduit: Set Budget" input', () => {
  it('reads dollar amounts as people type them, empty clears', () => {
    assert.deepEqual(parseUsdInput('5'), { value: 5 });
    assert.deepEqual(parseUsdInput(' $12.50 '), { value: 12.5 });
    assert.deepEqual(parseUsdInput('1,000'), { value: 1000 });
    assert.deepEqual(parseUsdInput(''), { value: null });
    assert.deepEqual(parseUsdInput('0'), { value: 0 });
    for (const bad of ['-5', 'five', '5$', '1e3', '.5.5', '2000000']) assert.ok('error' in parseUsdInput(bad), bad);
  });

  it('reads percentages, with or without the sign, within (0, 1000]', () => {
    assert.deepEqual(parsePercentInput('80'), { value: 80 });
    assert.deepEqual(parsePercentInput('80 %'), { value: 80 });
    assert.deepEqual(parsePercentInput(''), { value: null });
    for (const bad of ['0', '-1', '1001', 'x']) assert.ok('error' in parsePercentInput(bad), bad);
  });

  it('refuses a soft limit at or above the hard limit, in either order of setting them', () => {
    const withHard = { ...EMPTY_BUDGET_POLICY, dailyUsd: 5, hardLimitPercent: 100 };
    assert.match((patchFor('softLimitPercent', 100, withHard) as { error: string }).error, /below the hard limit/);
    assert.deepEqual(patchFor('softLimitPercent', 80, withHard), { softLimitPercent: 80 });
    const withSoft = { ...EMPTY_BUDGET_POLICY, softLimitPercent: 90 };
    assert.ok('error' in patchFor('hardLimitPercent', 90, withSoft));
    assert.deepEqual(patchFor('hardLimitPercent', null, withSoft), { hardLimitPercent: null });
  });

  it('lists each field with its value and the period\'s spend; "remove" only when something is set', () => {
    assert.deepEqual(budgetMenu(EMPTY_BUDGET_POLICY, []).map((l) => l.field), ['dailyUsd', 'monthlyUsd', 'softLimitPercent', 'softLimitModel', 'hardLimitPercent']);
    const status = { period: 'daily', spentUsd: 4.1, percent: 82.4, forecastUsd: 6.25 } as BudgetStatus;
    const menu = budgetMenu({ ...EMPTY_BUDGET_POLICY, dailyUsd: 5, softLimitPercent: 80, softLimitModel: 'claude-haiku-4-5' }, [status]);
    assert.equal(menu[0].description, '$5.00');
    assert.equal(menu[0].detail, 'spent $4.10 (82%), heading for $6.25');
    assert.equal(menu[2].description, '80% → claude-haiku-4-5');
    assert.equal(menu.at(-1)!.field, 'clear');
  });

  it('formats small budgets to the cent fraction that matters', () => {
    assert.equal(formatBudgetUsd(null), 'none');
    assert.equal(formatBudgetUsd(0), '$0.00');
    assert.equal(formatBudgetUsd(0.0025), '$0.0025');
    assert.equal(formatBudgetUsd(25), '$25.00');
  });

  it('agent names: 1 to 100 characters, unique in the project regardless of case', () => {
    assert.equal(validateAgentName('reviewer'), undefined);
    assert.match(validateAgentName('  ')!, /1 to 100/);
    assert.match(validateAgentName('x'.repeat(101))!, /1 to 100/);
    assert.match(validateAgentName('Reviewer', ['reviewer'])!, /already exists/);
  });
});
