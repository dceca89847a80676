// The labels of a cost axis (webview-ui/src/charts/costAxis.ts): the decimals come from the
// tick values Chart.js picked, so no two ticks read the same.
import assert from 'node:assert/strict';

// webview-ui is an ES module package: loaded as test/webview/budgetDraft.test.ts loads its modules.
const load = () => import('../../webview-ui/src/charts/costAxis.js');
let m: Awaited<ReturnType<typeof load>>;

const labels = (values: number[]) => values.map((v, i) => m.costTickLabel(v, i, values.map((value) => ({ value }))));

describe('cost axis labels', () => {
  before(async () => { m = await load(); });

  it('a scale in steps of $0.0025 reads $0.0000 ... $0.0125, not "$0.01" five times', () => {
    // Chart.js's ticks for a day whose costs reach $0.012, as floating point makes them.
    const ticks = [0, 0.0025, 0.005, 0.0075, 0.01, 0.0125].map((v, i) => (i === 3 ? 0.0025 + 0.005 : v));
    assert.deepEqual(labels(ticks), ['$0.0000', '$0.0025', '$0.0050', '$0.0075', '$0.0100', '$0.0125']);
  });

  it('cents where cents tell the ticks apart; more decimals only as the step needs them', () => {
    assert.deepEqual(labels([0, 0.5, 1, 1.5, 2]), ['$0.00', '$0.50', '$1.00', '$1.50', '$2.00']);
    assert.deepEqual(labels([0, 10, 20, 30]), ['$0.00', '$10.00', '$20.00', '$30.00']);
    assert.deepEqual(labels([0, 0.002, 0.004, 0.006]), ['$0.000', '$0.002', '$0.004', '$0.006']);
    assert.deepEqual(labels([0, 0.1 + 0.2, 0.6]), ['$0.00', '$0.30', '$0.60']);
  });

  it('however small the step, every label differs from its neighbours', () => {
    for (const step of [0.00001, 0.00002, 0.000025, 0.00005, 0.0001, 0.0002, 0.00025, 0.0005, 0.001, 0.02, 0.25, 2.5]) {
      const shown = labels(Array.from({ length: 6 }, (_, i) => i * step));
      assert.equal(new Set(shown).size, shown.length, `step ${step}: ${shown.join(' ')}`);
    }
  });
});
