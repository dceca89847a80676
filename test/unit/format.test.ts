// How the extension, the CLI and the views write money and counts (src/protocol/format.ts), and
// how the views write changes and durations (webview-ui/src/shared/format.ts).
import assert from 'node:assert/strict';
import { formatCount, formatInteger, formatSpendOfBudget, formatUsd, formatUsdAmount, shortModel } from '../../src/protocol/format';

// webview-ui is an ES module package: loaded as test/unit/costAxis.test.ts loads its modules.
const loadViewFormat = () => import('../../webview-ui/src/shared/format.js');

describe('format: money, counts, changes', () => {
  it('money: two decimals from a cent up with thousands separators, more only below a cent, unknown as a dash', () => {
    assert.equal(formatUsd(1931.2049), '$1,931.20');
    assert.equal(formatUsd(469.9274), '$469.93');
    assert.equal(formatUsd(1234567.891), '$1,234,567.89');
    assert.equal(formatUsd(1), '$1.00');
    assert.equal(formatUsd(0.4567), '$0.46');
    assert.equal(formatUsd(0.01), '$0.01');
    assert.equal(formatUsd(0.0042), '$0.0042');
    assert.equal(formatUsd(0.005), '$0.005');
    assert.equal(formatUsd(0.000123), '$0.00012');
    assert.equal(formatUsd(0.0000001), '<$0.000001', 'a tiny cost is not written as zero');
    assert.equal(formatUsd(0), '$0.00');
    assert.equal(formatUsd(-12.5), '-$12.50');
    assert.equal(formatUsd(null), '—');
    assert.equal(formatUsd(Number.NaN), '—');
  });

  it("money to a fixed number of decimals: 'ledger' (a session's cost in the terminal) and a cost axis", () => {
    assert.equal(formatUsd(0.0097, 'ledger'), '$0.0097');
    assert.equal(formatUsd(0.1, 'ledger'), '$0.1000');
    assert.equal(formatUsd(1234.5, 'ledger'), '$1,234.5000');
    assert.equal(formatUsd(-0.00001, 'ledger'), '$0.0000', 'a negative amount that rounds to zero has no sign');
    assert.equal(formatUsd(0.0025, { decimals: 3 }), '$0.003');
    assert.equal(formatUsd(null, 'ledger'), '—');
  });

  it('amounts as set, spend against a budget, whole counts and short model ids', () => {
    assert.equal(formatUsdAmount(40), '$40');
    assert.equal(formatUsdAmount(1500), '$1,500');
    assert.equal(formatUsdAmount(0.8), '$0.80');
    assert.equal(formatSpendOfBudget(7.125, 40), '$7.13 / $40');
    assert.equal(formatSpendOfBudget(null, null), '$0.00');
    assert.equal(formatInteger(1234567), '1,234,567');
    assert.equal(shortModel('claude-sonnet-4-5-20250929'), 'sonnet-4-5');
    assert.equal(shortModel('gpt-5'), 'gpt-5');
  });

  it('token counts: abbreviated with one decimal, the next unit up when rounding reaches 1000', () => {
    assert.equal(formatCount(0), '0');
    assert.equal(formatCount(999), '999');
    assert.equal(formatCount(1000), '1k');
    assert.equal(formatCount(12_345), '12.3k');
    assert.equal(formatCount(123_456), '123k');
    assert.equal(formatCount(999_950), '1M');
    assert.equal(formatCount(32_512_000), '32.5M');
    assert.equal(formatCount(1_200_000_000), '1.2B');
    assert.equal(formatCount(-2500), '-2.5k');
  });

  it('the token split names each measure', async () => {
    const { formatTokenSplit } = await loadViewFormat();
    assert.equal(formatTokenSplit({ inputTokens: 1_200_000, outputTokens: 300_000, cacheCreationTokens: 50_000, cacheReadTokens: 30_100_000 }),
      'in 1.2M · out 300k · cache write 50k · cache read 30.1M');
  });

  it('change against the previous period; nothing to compare with gives null', async () => {
    const { formatChange } = await loadViewFormat();
    assert.equal(formatChange(112, 100), '+12%');
    assert.equal(formatChange(96.6, 100), '-3.4%');
    assert.equal(formatChange(100, 100), 'no change');
    assert.equal(formatChange(5, 0), null);
    assert.equal(formatChange(null, 4), null);
    assert.equal(formatChange(4, null), null);
  });

  it('durations', async () => {
    const { formatDuration } = await loadViewFormat();
    assert.equal(formatDuration(45_000), '45s');
    assert.equal(formatDuration(12 * 60_000), '12m');
    assert.equal(formatDuration(3 * 3_600_000 + 5 * 60_000), '3h 05m');
    assert.equal(formatDuration(52 * 3_600_000), '2d 4h');
  });
});
