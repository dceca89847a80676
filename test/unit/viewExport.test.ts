// "Export what is on screen" of the analytics panel (src/extension/reports/viewExport.ts):
// the table's rows as CSV (the report code's RFC 4180, formula-safe) or JSON.
import assert from 'node:assert/strict';
import { viewFile, viewTable } from '../../src/extension/reports/viewExport';
import { analyticsData } from '../webview/fixtures';

describe('analytics view export', () => {
  it('sessions as CSV: a header row, one row per session, formulas and quotes neutralised', () => {
    const data = analyticsData('this-month');
    data.sessions[0].firstPrompt = '=HYPERLINK("http://x","click"), then "quote"';
    const text = viewFile('csv', viewTable('sessions', data), {});
    const lines = text.replace(/^\uFEFF/, '').split('\r\n');
    assert.equal(lines[0], 'session_id,claude_session_id,agents,models,requests,total_tokens,cost_usd,duration_ms,first_at,last_at,first_prompt');
    assert.equal(lines.length, data.sessions.length + 2);
    assert.ok(lines[1].endsWith(`,"'=HYPERLINK(""http://x"",""click""), then ""quote"""`), lines[1]);
    assert.ok(lines[1].startsWith('sess-0,sess-0,Reviewer,claude-opus-5-5 -> claude-sonnet-5-5; claude-haiku-4-5,20,1240000,0.589,'), lines[1]);
  });

  it('models as JSON: one object per model with its token split, price and retirement', () => {
    const data = analyticsData('this-month');
    const json = JSON.parse(viewFile('json', viewTable('models', data), { view: 'models', period: 'This month' }));
    assert.deepEqual(json.meta, { view: 'models', period: 'This month' });
    const unpriced = json.rows.find((r: { priceKnown: boolean }) => r.priceKnown === false);
    assert.deepEqual(unpriced, {
      model: 'ft:claude-haiku-4-5:acme:support', requests: 3, inputTokens: 1000, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 8000,
      totalTokens: 9000, cost: null, cacheSavings: null, priceKnown: false, retiredSince: null,
    });
    assert.equal(json.rows.find((r: { retiredSince: string | null }) => r.retiredSince)?.model, 'claude-3-5-sonnet-20241022');
  });

  it('cost per day: a row per day and key, adding up to the days\' costs', () => {
    const data = analyticsData('this-month');
    const table = viewTable('daily', data, { groupBy: 'agent' });
    assert.deepEqual(table.columns, ['date', 'agent', 'requests', 'totalTokens', 'cost']);
    const total = table.rows.reduce((n, r) => n + Number(r[4]), 0);
    const days = data.daily!.agent!.days.reduce((n, d) => n + Object.values(d.byKey).reduce((m, c) => m + (c.cost ?? 0), 0), 0);
    assert.ok(Math.abs(total - days) < 1e-9);
    assert.ok(table.rows.some((r) => r[1] === 'No agent'));
  });
});
