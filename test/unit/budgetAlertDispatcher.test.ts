import assert from 'node:assert/strict';
import { BudgetAlertDispatcher, alertSeverity, latestPerBudget, notificationText } from '../../src/extension/budgets/alertDispatcher';
import type { BudgetAlert, BudgetStatus } from '../../src/protocol/budgets';
import { budgetAlertId } from '../../src/protocol/budgets';

function status(over: Partial<BudgetStatus> = {}): BudgetStatus {
  return {
    scope: 'project', projectKey: 'p1', agentId: null, name: 'api', period: 'daily', limitUsd: 5, spentUsd: 4.1, percent: 82,
    periodStart: '2026-11-27T00:00:00.000Z', periodEnd: '2026-11-28T00:00:00.000Z', forecastUsd: null, forecastCrossingAt: null,
    state: 'ok', softLimitPercent: null, softLimitModel: null, hardLimitPercent: null, ...over,
  };
}

function alert(threshold: 50 | 80 | 100 | null, over: Partial<BudgetStatus> = {}, acknowledgedAt: string | null = null): BudgetAlert {
  const s = status(over);
  const kind = threshold === null ? 'forecast' : 'threshold';
  return {
    id: budgetAlertId({ ...s, kind, threshold }), kind, threshold, status: s,
    message: `Project '${s.name}' has used ${threshold ?? 'x'}% of its $5.00 daily budget.`, createdAt: '2026-11-27T10:00:00.000Z', acknowledgedAt,
  };
}

function harness(pending: BudgetAlert[] = [], owned = ['p1']) {
  const shown: string[] = [];
  const acked: string[] = [];
  const errors: string[] = [];
  let failAck = false;
  const d = new BudgetAlertDispatcher({
    source: {
      pending: async () => pending,
      acknowledge: async (id) => { if (failAck) throw new Error('gateway gone'); acked.push(id); },
    },
    ownsProject: (k) => owned.includes(k),
    show: (a) => shown.push(a.id),
    onError: (m) => errors.push(m),
    coalesceMs: 0,
  });
  return { d, shown, acked, errors, failAcks: () => { failAck = true; } };
}

describe('budget alerts in VS Code', () => {
  it('shows an alert from the stream once and acknowledges it, even when it arrives twice', async () => {
    const h = harness();
    const a = alert(80);
    await h.d.receive(a);
    await h.d.receive(a);
    assert.deepEqual(h.shown, [a.id]);
    assert.deepEqual(h.acked, [a.id]);
  });

  it('shows one notification for a burst: 50, 80 and 100 % crossed by one request show as 100 %, the others acknowledged', async () => {
    const h = harness();
    const [a50, a80, a100] = [alert(50), alert(80), alert(100)];
    await Promise.all([h.d.receive(a50), h.d.receive(a80), h.d.receive(a100)]);
    assert.deepEqual(h.shown, [a100.id]);
    assert.deepEqual(new Set(h.acked), new Set([a50.id, a80.id, a100.id]));
  });

  it('leaves alerts of projects this window does not have open for the window that has them', async () => {
    const h = harness([], ['other']);
    await h.d.receive(alert(100));
    assert.deepEqual(h.shown, []);
    assert.deepEqual(h.acked, [], 'not acknowledged: the window with the project shows it later');
  });

  it('ignores an alert that is already acknowledged', async () => {
    const h = harness();
    await h.d.receive(alert(50, {}, '2026-11-27T10:01:00.000Z'));
    assert.deepEqual(h.shown, []);
  });

  it('catches up on what was raised while away: the highest alert of each budget is shown, the older ones acknowledged unseen', async () => {
    const daily50 = alert(50);
    const daily80 = alert(80);
    const monthly50 = alert(50, { period: 'monthly', periodStart: '2026-11-01T00:00:00.000Z' });
    const agent100 = alert(100, { scope: 'agent', agentId: 'a1', name: 'reviewer' });
    const foreign = alert(100, { projectKey: 'p2' });
    const h = harness([daily50, daily80, monthly50, agent100, foreign]);
    await h.d.catchUp();
    assert.deepEqual(h.shown, [daily80.id, monthly50.id, agent100.id]);
    assert.deepEqual(new Set(h.acked), new Set([daily50.id, daily80.id, monthly50.id, agent100.id]));
    // The stream then brings one of them again (it was raised just as the window connected): not shown twice.
    await h.d.receive(daily80);
    assert.equal(h.shown.length, 3);
  });

  it('a forecast ranks between 80 % and 100 % when catching up', () => {
    const f = alert(null);
    assert.deepEqual(latestPerBudget([alert(80), f]).map((a) => a.kind), ['forecast']);
    assert.deepEqual(latestPerBudget([f, alert(100)]).map((a) => a.threshold), [100]);
  });

  it('reports a failed acknowledgement and a failed catch-up without throwing', async () => {
    const h = harness();
    h.failAcks();
    await h.d.receive(alert(50));
    assert.equal(h.shown.length, 1);
    assert.match(h.errors[0], /could not acknowledge .*gateway gone/);
    const broken = new BudgetAlertDispatcher({
      source: { pending: async () => { throw new Error('not running'); }, acknowledge: async () => {} },
      ownsProject: () => true, show: () => assert.fail('nothing to show'), onError: (m) => h.errors.push(m),
    });
    await broken.catchUp();
    assert.match(h.errors[1], /budget alerts: not running/);
  });

  it('warns at 100 % and for a forecast, informs at 50 % and 80 %', () => {
    assert.equal(alertSeverity(alert(50)), 'information');
    assert.equal(alertSeverity(alert(80)), 'information');
    assert.equal(alertSeverity(alert(100)), 'warning');
    assert.equal(alertSeverity(alert(null)), 'warning');
  });

  it('breaks up link syntax that a project name could smuggle into a notification', () => {
    const a = alert(80);
    a.message = "Project '[click](command:conduit.deleteAgent)' has used 80%";
    assert.equal(notificationText(a), "Conduit: Project '[click] (command:conduit.deleteAgent)' has used 80%");
  });
});
