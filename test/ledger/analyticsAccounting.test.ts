// The analytics a person controlling spend reads first (issue 11), on the embedded store
// (PGlite) with a month made for it: requests that failed (262 overloaded, 7 server errors)
// counted apart from the 259 to a model without a price and from the 4 a budget refused;
// a retired model some agents still ask for; an old expensive session among 60 newer
// cheap ones; a previous period to compare with. Every figure is computed here from the
// records and compared with the answer.
import assert from 'node:assert/strict';
import type { LedgerEngine } from '../../src/conduit/ledger/store/engine';
import { AnalyticsParamError, finishAnalytics, parseAnalyticsParams, type AnalyticsParams, type AnalyticsQuery } from '../../src/conduit/ledger/store/analytics';
import { PriceTable } from '../../src/conduit/pricing/priceTable';
import { retirementOf } from '../../src/conduit/pricing/retired';
import { totalTokens } from '../../src/protocol/measures';
import { sessionIdOf } from '../../src/protocol/session';
import type { CostBreakdown, UsageRecord } from '../../src/protocol/usage';
import { prng, writeJournal } from './support/records';
import { openTestStore, type TestStore } from './support/store';

const NOW = new Date('2026-12-03T20:00:00.000Z');
const DAY = 86_400_000;
const ALPHA = 'file:///work/alpha';
const BETA = 'file:///work/beta';
const RETIRED = 'claude-3-5-sonnet-20241022';
const UNPRICED = 'acme-finetune-1';
const prices = new PriceTable();

interface Spec {
  at: number;
  model: string;
  session: string;
  project?: string;
  agent?: string;
  status?: number;
  error?: string;
  refused?: boolean;
  scale?: number;
}

let seq = 0;
/** The store keeps costs to the micro-dollar. */
const micro = (c: CostBreakdown): CostBreakdown => ({ ...c, cost: c.cost === null ? null : Math.round(c.cost * 1e6) / 1e6 });
function record(s: Spec, rand: () => number): UsageRecord {
  const failed = (s.status ?? 200) >= 400 && !s.refused;
  const scale = s.scale ?? 1;
  const usage = failed || s.refused ? null : {
    inputTokens: Math.floor((100 + rand() * 3_000) * scale),
    outputTokens: Math.floor((50 + rand() * 1_500) * scale),
    cacheCreationTokens: 0,
    cacheCreation5mTokens: 0,
    cacheCreation1hTokens: 0,
    cacheReadTokens: Math.floor(rand() * 20_000 * scale),
  };
  const cost = s.refused
    ? { cost: 0, costSource: 'refused', priceVersion: null }
    : usage ? micro(prices.cost(s.model, usage)) : { cost: null, costSource: 'no-usage', priceVersion: null };
  const endedAt = new Date(s.at).toISOString();
  return {
    id: `acct-${(seq++).toString().padStart(6, '0')}`,
    context: { sessionId: `run-${s.session}`, claudeSessionId: s.session, ...(s.project ? { projectId: s.project } : {}), ...(s.agent ? { agentId: s.agent, agentType: 'subagent' } : {}) },
    decision: { model: s.model, provider: 'anthropic', source: 'default', rule: 'default', tokenCount: 1000, requestedModel: s.model, timestamp: new Date(s.at - 500).toISOString() },
    usage,
    cost,
    status: s.refused ? 402 : s.status ?? 200,
    ...(s.error ? { error: s.error } : {}),
    stream: true,
    durationMs: 500,
    firstByteMs: 100,
    startedAt: new Date(s.at - 500).toISOString(),
    endedAt,
    device: 'test-host',
  };
}

/** The month: 60 recent sessions, an old whale session, failures, an unpriced and a retired model, and a previous period. */
function month(): UsageRecord[] {
  const rand = prng(11);
  const specs: Spec[] = [];
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  // 60 sessions of the last 20 days, 20 requests each, small ones.
  for (let s = 0; s < 60; s++) {
    const start = NOW.getTime() - 20 * DAY + s * (19 * DAY / 60);
    for (let i = 0; i < 20; i++) {
      specs.push({ at: start + i * 60_000, model: pick(['claude-sonnet-4-6', 'claude-haiku-4-5']), session: `recent-${s}`, project: s % 3 ? ALPHA : BETA, agent: pick(['reviewer', 'planner', 'coder', undefined]) });
    }
  }
  // The whale: 28 days ago, opus, large.
  for (let i = 0; i < 30; i++) specs.push({ at: NOW.getTime() - 28 * DAY + i * 120_000, model: 'claude-opus-4-8', session: 'whale', project: ALPHA, agent: 'coder', scale: 20 });
  // Failures over the month: 262 overloaded, 7 server errors; 4 refused by a budget.
  for (let i = 0; i < 262; i++) specs.push({ at: NOW.getTime() - 25 * DAY + i * 7_000_000, model: 'claude-sonnet-4-6', session: `recent-${i % 60}`, project: ALPHA, status: 529, error: 'overloaded_error' });
  for (let i = 0; i < 7; i++) specs.push({ at: NOW.getTime() - 10 * DAY + i * 3_600_000, model: UNPRICED, session: 'recent-3', project: BETA, status: 500, error: 'api_error' });
  for (let i = 0; i < 4; i++) specs.push({ at: NOW.getTime() - 2 * DAY + i * 60_000, model: 'claude-opus-4-8', session: 'recent-59', project: ALPHA, agent: 'planner', refused: true, error: 'budget_exceeded' });
  // 259 requests to a fine-tune without a price.
  for (let i = 0; i < 259; i++) specs.push({ at: NOW.getTime() - 24 * DAY + i * 7_500_000, model: UNPRICED, session: `recent-${(i * 7) % 60}`, project: BETA, agent: 'reviewer' });
  // The retired model, asked for by legacy-bot in two sessions and by no agent in a third.
  for (let i = 0; i < 30; i++) specs.push({ at: NOW.getTime() - 15 * DAY + i * 3_600_000, model: RETIRED, session: `recent-${[40, 41, 42][i % 3]}`, project: ALPHA, ...(i % 3 < 2 ? { agent: 'legacy-bot' } : {}) });
  // The previous 30 days (and the end of summer time in Paris, Oct 25).
  for (let i = 0; i < 300; i++) specs.push({ at: NOW.getTime() - 59 * DAY + i * 4 * 3_600_000, model: 'claude-sonnet-4-6', session: `older-${Math.floor(i / 30)}`, project: ALPHA, agent: pick(['reviewer', undefined]) });
  return specs.sort((a, b) => a.at - b.at).map((s) => record(s, rand));
}

function sums(rs: UsageRecord[]): { requests: number; cost: number | null; totalTokens: number } {
  let cost = 0;
  let costed = 0;
  let tokens = 0;
  for (const r of rs) {
    if (r.cost.cost !== null) { cost += r.cost.cost; costed++; }
    if (r.usage) tokens += totalTokens(r.usage);
  }
  return { requests: rs.length, cost: costed ? cost : null, totalTokens: tokens };
}
const near = (a: number | null, b: number | null, what: string, tolerance = 1e-6) => {
  assert.ok(a !== null && b !== null && Math.abs(a - b) <= tolerance, `${what}: ${a} vs ${b}`);
};

describe('ledger: analytics for spend control', () => {
  let store: TestStore;
  let engine: LedgerEngine;
  let records: UsageRecord[];
  const ask = async (q: AnalyticsQuery, p: Partial<AnalyticsParams>, now = NOW) => {
    const full: AnalyticsParams = { range: '30d', tz: 'UTC', limit: 50, ...p };
    return { query: q, ...finishAnalytics(await engine.analytics(q, full, now), prices, full) } as Record<string, any>;
  };
  const inRange = (answer: Record<string, any>, filter: (r: UsageRecord) => boolean = () => true) =>
    records.filter((r) => Date.parse(r.endedAt) >= Date.parse(answer.scope.from) && Date.parse(r.endedAt) < Date.parse(answer.scope.to) && filter(r));

  before(async function () {
    this.timeout(120_000);
    store = await openTestStore();
    const opened = await store.engine();
    engine = opened.engine;
    records = month();
    writeJournal(opened.journalDir, records);
    await engine.ingester.ingestAvailable();
    await store.pglite.exec('analyze');
  });
  after(async () => {
    await store?.close();
  });

  it('summary: failed requests by status apart from refused ones and from requests to a model without a price, with the previous period', async () => {
    const s = await ask('summary', {});
    const rs = inRange(s);
    assert.equal(s.requests, rs.length);
    assert.equal(s.failedRequests, 269, 'failed: 262 overloaded and 7 server errors, not the 4 refused');
    assert.equal(s.refusedRequests, 4);
    assert.deepEqual(s.failedByStatus, [{ status: 529, error: 'overloaded_error', requests: 262 }, { status: 500, error: 'api_error', requests: 7 }]);
    near(s.errorRate, 269 / rs.length, 'error rate');
    assert.equal(s.unpricedRequests, 259);
    const unpricedTokens = rs.filter((r) => r.decision.model === UNPRICED).reduce((n, r) => n + (r.usage ? totalTokens(r.usage) : 0), 0);
    assert.deepEqual(s.unpricedModels, [{ model: UNPRICED, requests: 259, totalTokens: unpricedTokens }]);
    assert.equal(s.unknownCostRequests, 269 + 259, 'unknown cost = failed without usage + unpriced');
    near(s.cost, sums(rs).cost, 'cost');
    // The previous 30 days.
    const prev = sums(records.filter((r) => Date.parse(r.endedAt) >= Date.parse(s.scope.previous.from) && Date.parse(r.endedAt) < Date.parse(s.scope.previous.to)));
    assert.ok(prev.requests > 100, 'the previous period has requests');
    assert.equal(s.previous.requests, prev.requests);
    assert.equal(s.previous.totalTokens, prev.totalTokens);
    near(s.previous.cost, prev.cost, 'previous cost');
    // Nothing failed in a range without failures: an error rate of 0, and null with no requests.
    assert.equal((await ask('summary', { range: 'custom', from: '2026-09-01', to: '2026-09-02' })).errorRate, null);
  });

  it('summary: failed, refused and unpriced requests alike whether a range cuts hours at its ends or not, per project and agent', async () => {
    const MIN = 60_000;
    const ranges = [
      // Partial hours at both ends, the end cutting the burst of refused requests.
      [NOW.getTime() - 25 * DAY + 17 * MIN + 13_000, NOW.getTime() - 2 * DAY + 90_000],
      // Within one hour: usage rows only.
      [NOW.getTime() - 10 * DAY - 5 * MIN, NOW.getTime() - 10 * DAY + 50 * MIN],
      // Whole hours only.
      [NOW.getTime() - 24 * DAY, NOW.getTime() - 3 * DAY],
    ];
    let seen = 0;
    for (const [from, to] of ranges) {
      for (const filter of [{}, { project: BETA }, { agent: 'reviewer' }] as Partial<AnalyticsParams>[]) {
        const s = await ask('summary', { range: 'custom', from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...filter });
        const rs = inRange(s, (r) => (filter.project === undefined || r.context.projectId === filter.project) && (filter.agent === undefined || r.context.agentId === filter.agent));
        const what = `${new Date(from).toISOString()} to ${new Date(to).toISOString()} ${JSON.stringify(filter)}`;
        assert.equal(s.requests, rs.length, `${what}: requests`);
        const refused = rs.filter((r) => r.cost.costSource === 'refused');
        const failed = rs.filter((r) => r.cost.costSource !== 'refused' && (r.error !== undefined || r.status >= 400));
        const unpriced = rs.filter((r) => r.cost.cost === null && !refused.includes(r) && !failed.includes(r));
        assert.equal(s.refusedRequests, refused.length, `${what}: refused`);
        assert.equal(s.failedRequests, failed.length, `${what}: failed`);
        assert.equal(s.failedByStatus.reduce((n: number, x: any) => n + x.requests, 0), failed.length, `${what}: failed by status`);
        for (const x of s.failedByStatus) assert.equal(x.requests, failed.filter((r) => r.status === x.status && (r.error ?? null) === x.error).length, `${what}: ${x.status} ${x.error}`);
        assert.equal(s.unpricedRequests, unpriced.length, `${what}: unpriced`);
        const tokens = unpriced.reduce((n, r) => n + (r.usage ? totalTokens(r.usage) : 0), 0);
        assert.equal(s.unpricedModels.reduce((n: number, m: any) => n + m.totalTokens, 0), tokens, `${what}: unpriced tokens`);
        seen += refused.length + failed.length + unpriced.length;
      }
    }
    assert.ok(seen > 500, 'the ranges hold failed, refused and unpriced requests');
  });

  it('models: the unpriced model kept with priceKnown false; the retired one marked with who asked for it; cache savings', async () => {
    const m = await ask('models', {});
    const byId = new Map<string, any>(m.models.map((x: any) => [x.model, x]));
    const unpriced = byId.get(UNPRICED);
    assert.ok(unpriced, 'the unpriced model is listed');
    assert.deepEqual([unpriced.cost, unpriced.priceKnown, unpriced.cacheSavings, unpriced.requests], [null, false, null, 266]);
    const retired = byId.get(RETIRED);
    assert.equal(retired.priceKnown, true);
    assert.deepEqual(retired.retired, { since: '2025-10-22', replacement: 'claude-sonnet-5-5', askedBy: { agents: [{ id: retired.retired.askedBy.agents[0]?.id, name: 'legacy-bot' }], sessions: 3 } });
    assert.equal(byId.get('claude-sonnet-4-6').retired, null);
    assert.equal(byId.get('claude-haiku-4-5').retired, null);
    for (const row of m.models.filter((x: any) => x.priceKnown)) {
      const price = prices.lookup(row.model)!.price;
      near(row.cacheSavings, row.cacheReadTokens * (price.input - price.cacheRead) / 1e6, `${row.model} cache savings`);
    }
    // A model is marked from its retirement date on, under any provider's spelling of its id.
    assert.equal(retirementOf('claude-sonnet-4-5-20250929', '2026-11-29'), null);
    assert.equal(retirementOf('claude-sonnet-4-5-20250929', '2026-11-30')?.since, '2026-11-30');
    assert.equal(retirementOf('us.anthropic.claude-3-5-sonnet-20241022-v2:0', '2026-12-03')?.since, '2025-10-22');
    assert.equal(retirementOf('claude-3-5-sonnet-v2@20241022', '2026-12-03')?.since, '2025-10-22');
    assert.equal(retirementOf('claude-sonnet-4-6', '2030-01-01'), null);
  });

  it('daily: one bucket per local day, by model, agent or project, adding up to the summary', async () => {
    for (const [range, tz] of [['30d', 'Europe/Paris'], ['this-month', 'Europe/Paris'], ['today', 'America/New_York'], ['7d', 'Asia/Kolkata']] as const) {
      const summary = await ask('summary', { range, tz });
      for (const groupBy of ['model', 'agent', 'project'] as const) {
        const d = await ask('daily', { range, tz, groupBy });
        const what = `${range} ${tz} by ${groupBy}`;
        assert.equal(d.groupBy, groupBy);
        const dates = d.days.map((x: any) => x.date);
        const fmt = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
        assert.equal(dates[0], fmt.format(new Date(d.scope.from)), `${what}: starts on the range's first local day`);
        assert.equal(dates.at(-1), fmt.format(new Date(Date.parse(d.scope.to) - 1)), `${what}: ends on its last`);
        for (let i = 1; i < dates.length; i++) assert.equal(Date.parse(`${dates[i]}T00:00:00Z`) - Date.parse(`${dates[i - 1]}T00:00:00Z`), DAY, `${what}: every day once`);
        if (range === 'today') assert.equal(d.days.length, 1);
        const dayCost = d.days.reduce((n: number, x: any) => n + (x.cost ?? 0), 0);
        near(dayCost, summary.cost ?? 0, `${what}: the days add up to the summary's cost`, 1e-6 * d.days.length);
        assert.equal(d.days.reduce((n: number, x: any) => n + x.requests, 0), summary.requests, `${what}: requests`);
        assert.equal(d.unknownCostRequests, summary.unknownCostRequests, `${what}: unknown-cost requests`);
        // Each day's split adds up to the day, and matches the records of that local day.
        const keyOf = (r: UsageRecord) => groupBy === 'model' ? r.decision.model : groupBy === 'agent' ? r.context.agentId ?? '' : r.context.projectId ?? '';
        for (const day of d.days) {
          const rs = inRange(d, (r) => fmt.format(new Date(r.endedAt)) === day.date);
          assert.equal(day.requests, rs.length, `${what} ${day.date}: requests`);
          near(Object.values(day.byKey).reduce((n: number, x: any) => n + (x.cost ?? 0), 0), day.cost ?? 0, `${what} ${day.date}: split`, 1e-5);
          if (groupBy === 'model') {
            for (const [k, v] of Object.entries(day.byKey) as [string, any][]) {
              const mine = rs.filter((r) => keyOf(r) === k);
              assert.equal(v.requests, mine.length, `${what} ${day.date} ${k}`);
              assert.equal(v.inputTokens, mine.reduce((n, r) => n + (r.usage?.inputTokens ?? 0), 0));
              assert.equal(v.cacheReadTokens, mine.reduce((n, r) => n + (r.usage?.cacheReadTokens ?? 0), 0));
            }
          }
        }
        const costs = d.keys.map((k: any) => k.cost ?? -1);
        assert.deepEqual(costs, [...costs].sort((a: number, b: number) => b - a), `${what}: keys by cost`);
        if (groupBy === 'agent' && d.keys.some((k: any) => k.key === '')) assert.equal(d.keys.find((k: any) => k.key === '').label, 'No agent');
        if (groupBy === 'agent' && range === '30d') assert.ok(d.keys.some((k: any) => k.label === 'coder'), `${what}: agents by name`);
        if (groupBy === 'project') assert.ok(d.keys.every((k: any) => k.label && k.label !== k.key || k.key === ''), `${what}: projects by name`);
      }
    }
    // Across the end of summer time in Paris: Oct 25 is 25 hours long and starts at 22:00Z the day before.
    const dst = await ask('daily', { range: 'custom', from: '2026-10-24', to: '2026-10-26', tz: 'Europe/Paris' });
    assert.deepEqual(dst.days.map((x: any) => [x.date, x.start]), [
      ['2026-10-24', '2026-10-23T22:00:00.000Z'], ['2026-10-25', '2026-10-24T22:00:00.000Z'], ['2026-10-26', '2026-10-25T23:00:00.000Z']]);
    const oct25 = inRange(dst, (r) => r.endedAt >= '2026-10-24T22:00:00.000Z' && r.endedAt < '2026-10-25T23:00:00.000Z');
    assert.ok(oct25.length >= 6);
    assert.equal(dst.days[1].requests, oct25.length);
  });

  it('sessions: ranked over the whole range by cost, requests, tokens or duration, a page at a time', async () => {
    const recent = await ask('sessions', { limit: 50 });
    assert.ok(recent.total > 60, `${recent.total} sessions in range`);
    assert.ok(!recent.sessions.some((s: any) => s.sessionId === 'whale'), 'the whale is not among the 50 most recent');
    const byCost = await ask('sessions', { sort: 'cost', limit: 5 });
    assert.equal(byCost.sessions[0].sessionId, 'whale', 'the costliest session first, however old');
    assert.equal(byCost.sort, 'cost');
    const whale = records.filter((r) => r.context.claudeSessionId === 'whale');
    near(byCost.sessions[0].cost, sums(whale).cost, 'whale cost');
    assert.equal(byCost.sessions[0].durationMs, Date.parse(whale.at(-1)!.endedAt) - Date.parse(whale[0].endedAt));
    assert.equal(byCost.sessions[0].claudeSessionId, 'whale');
    // Every ranking is in order, and the pages together list every session once.
    for (const sort of ['recent', 'cost', 'requests', 'tokens', 'duration'] as const) {
      const seen: any[] = [];
      for (let offset = 0; ; offset += 25) {
        const page = await ask('sessions', { sort, limit: 25, offset });
        assert.equal(page.offset, offset);
        assert.equal(page.total, recent.total);
        seen.push(...page.sessions);
        if (page.sessions.length < 25) break;
      }
      assert.equal(seen.length, recent.total, `${sort}: all sessions`);
      assert.equal(new Set(seen.map((s) => s.sessionId)).size, seen.length, `${sort}: each once`);
      const key = { recent: (s: any) => Date.parse(s.lastAt), cost: (s: any) => s.cost ?? -1, requests: (s: any) => s.requests, tokens: (s: any) => s.totalTokens, duration: (s: any) => s.durationMs }[sort];
      const values = seen.map(key);
      assert.deepEqual(values, [...values].sort((a, b) => b - a), `${sort}: ranked`);
    }
    const past = await ask('sessions', { limit: 10, offset: 500 });
    assert.deepEqual([past.sessions.length, past.total], [0, recent.total]);
  });

  it("sessions show the first prompt conduit-claude reported, found by claude's session id or Conduit's", async () => {
    const user = (await store.pglite.query<{ value: string }>(`select value from conduit_local.settings where key = 'local_user_id'`)).rows[0].value;
    await store.pglite.query(
      `insert into public.usage_session_info (session_id, user_id, claude_session_id, first_prompt) values
         ('run-whale', $1, 'whale', 'Refactor the billing module'), ('run-recent-7', $1, null, 'Fix the flaky test')`, [user]);
    try {
      const answer = await ask('sessions', { sort: 'cost', limit: 200 });
      const byId = new Map<string, any>(answer.sessions.map((s: any) => [s.sessionId, s]));
      assert.equal(byId.get('whale').firstPrompt, 'Refactor the billing module');
      assert.equal(byId.get('recent-7').firstPrompt, 'Fix the flaky test', "by Conduit's id of the session's run");
      assert.equal(byId.get('recent-8').firstPrompt, null);
    } finally {
      await store.pglite.query(`delete from public.usage_session_info`);
    }
  });

  it('agents: by cost with their share of it and a trend per day', async () => {
    const a = await ask('agents', { tz: 'Europe/Paris' });
    const costs = a.agents.map((x: any) => x.cost ?? -1);
    assert.deepEqual(costs, [...costs].sort((x: number, y: number) => y - x), 'by cost');
    assert.equal(a.agents[0].name, 'coder', 'the whale\'s agent first');
    near(a.agents.reduce((n: number, x: any) => n + x.share, 0), 1, 'shares', 1e-9);
    assert.equal(a.trendUnit, 'day');
    const summary = await ask('summary', { tz: 'Europe/Paris' });
    for (const agent of a.agents) {
      assert.equal(agent.trend.length, 31, 'a point per local day of the 30 days back from now');
      near(agent.trend.reduce((n: number, x: number) => n + x, 0), agent.cost ?? 0, `${agent.name}: trend adds up`, 1e-5);
      near(agent.share, (agent.cost ?? 0) / summary.cost, `${agent.name}: share`, 1e-9);
    }
    const year = await ask('agents', { range: 'custom', from: '2026-09-01', to: '2026-12-03' });
    assert.equal(year.trendUnit, 'week');
    assert.ok(year.agents[0].trend.length <= 15);
  });

  it('recent: up to 200 a page, then the next page from an offset', async () => {
    const first = await ask('recent', { limit: 200 });
    const second = await ask('recent', { limit: 200, offset: 200 });
    const expected = inRange(first).sort((a, b) => Date.parse(b.endedAt) - Date.parse(a.endedAt)).map((r) => r.id);
    assert.deepEqual([...first.requests, ...second.requests].map((r: any) => r.requestId), expected.slice(0, 400));
    assert.equal(second.offset, 200);
    const refused = first.requests.find((r: any) => r.costSource === 'refused');
    assert.ok(refused && refused.agent?.name === 'planner' && refused.source === 'default');
    assert.ok(first.requests.some((r: any) => r.agent === null), 'no agent: null');
    assert.equal(sessionIdOf({ claudeSessionId: first.requests[0].claudeSessionId }), first.requests[0].sessionId);
  });

  it('a session older than any range: session=<id> alone (or range=session) covers its whole life, first to last request', async () => {
    // older-0: 30 requests 59 to 54 days ago, outside the last 30 days.
    const mine = records.filter((r) => r.context.claudeSessionId === 'older-0');
    const first = mine[0].endedAt;
    const last = mine.at(-1)!.endedAt;
    assert.ok(Date.parse(first) < NOW.getTime() - 58 * DAY && mine.length === 30, 'the session is about 60 days old');
    assert.equal((await ask('summary', { session: 'older-0' })).requests, 0, 'the last 30 days hold none of it');

    const params = parseAnalyticsParams(new URLSearchParams({ session: 'older-0', tz: 'UTC' }), 'summary');
    assert.equal(params.range, 'session', 'a session named without a range: its own span');
    assert.deepEqual(parseAnalyticsParams(new URLSearchParams({ session: 'older-0', range: 'session' }), 'summary'), { ...params });
    const s = await ask('summary', params);
    assert.equal(s.requests, 30);
    near(s.cost, sums(mine).cost, 'the session\'s cost');
    assert.equal(s.totalTokens, sums(mine).totalTokens);
    assert.equal(s.scope.range, 'session');
    assert.equal(s.scope.calendar, false);
    assert.equal(s.scope.from, first);
    assert.equal(Date.parse(s.scope.to), Date.parse(last) + 1, 'to just after its last request');
    const day = (iso: string) => new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric' }).format(new Date(iso));
    assert.equal(s.scope.label, `Whole session · ${day(first)} – ${day(last)}, 2026`);
    // Named by Conduit's id of one of its runs, too; every query answers over the span.
    assert.equal((await ask('summary', { session: 'run-older-0', range: 'session' })).requests, 30);
    const d = await ask('daily', { ...params, groupBy: 'model' });
    assert.equal(d.days[0].date, first.slice(0, 10));
    assert.equal(d.days.at(-1).date, last.slice(0, 10));
    near(d.days.reduce((n: number, x: any) => n + (x.cost ?? 0), 0), s.cost, 'the session\'s days', 1e-6 * d.days.length);
    const m = await ask('models', params);
    assert.equal(m.models.reduce((n: number, x: any) => n + x.requests, 0), 30);
    const sessions = await ask('sessions', params);
    assert.deepEqual(sessions.sessions.map((x: any) => [x.sessionId, x.requests]), [['older-0', 30]]);
    // A session without requests: nothing, said plainly.
    const none = await ask('summary', { session: 'no-such-session', range: 'session' });
    assert.deepEqual([none.requests, none.cost, none.scope.label], [0, null, 'Whole session']);
    assert.throws(() => parseAnalyticsParams(new URLSearchParams('range=session'), 'summary'), (e: Error) => e instanceof AnalyticsParamError && /^range=session needs session/.test(e.message));
  });

  it('daily by model: cache savings per model and day, adding up to the models query\'s cacheSavings', async () => {
    for (const [range, tz] of [['30d', 'Europe/Paris'], ['7d', 'Asia/Kolkata']] as const) {
      const d = await ask('daily', { range, tz, groupBy: 'model' });
      const m = await ask('models', { range, tz });
      const what = `${range} ${tz}`;
      assert.ok(m.models.length >= 3, `${what}: models`);
      for (const row of m.models) {
        const days = d.days.map((x: any) => x.byKey[row.model]?.cacheSavings ?? null).filter((x: number | null) => x !== null);
        const key = d.keys.find((k: any) => k.key === row.model);
        if (row.cacheSavings === null) {
          assert.equal(days.length, 0, `${what} ${row.model}: no price, no savings`);
          assert.equal(key.cacheSavings, null);
          continue;
        }
        assert.equal(row.cacheSavings > 0, row.cacheReadTokens > 0, `${what} ${row.model}: saved what its cache reads saved`);
        near(days.reduce((n: number, x: number) => n + x, 0), row.cacheSavings, `${what} ${row.model}: its days`, 1e-6 * d.days.length);
        near(key.cacheSavings, row.cacheSavings, `${what} ${row.model}: its key`);
      }
      assert.ok(m.models.some((x: any) => x.cacheSavings === null), `${what}: the unpriced model is among them`);
      assert.ok(m.models.filter((x: any) => x.cacheSavings > 0).length >= 2, `${what}: models that saved`);
      for (const day of d.days) {
        const priced = Object.values(day.byKey).filter((x: any) => x.cacheSavings !== null) as any[];
        if (!priced.length) assert.equal(day.cacheSavings, null);
        else near(day.cacheSavings, priced.reduce((n, x) => n + x.cacheSavings, 0), `${what} ${day.date}: the day's`, 1e-6 * priced.length);
      }
    }
    // Only by model: agents and projects have no price of their own.
    const byAgent = await ask('daily', { groupBy: 'agent' });
    assert.ok(byAgent.days.every((x: any) => x.cacheSavings === undefined) && byAgent.keys.every((k: any) => k.cacheSavings === undefined));
  });

  it('a project named by an earlier key (key_aliases) is that project', async () => {
    const byKey = await ask('summary', { project: ALPHA });
    assert.equal((await ask('summary', { project: 'old-random-key' })).requests, 0, 'an unknown key: nothing');
    await store.pglite.query(`update public.projects set key_aliases = array['old-random-key'] where workspace_key = $1`, [ALPHA]);
    try {
      const byAlias = await ask('summary', { project: 'old-random-key' });
      assert.deepEqual(byAlias.scope.project, byKey.scope.project, 'resolved to the project it became');
      assert.equal(byAlias.requests, byKey.requests);
      near(byAlias.cost, byKey.cost, 'cost');
      const d = await ask('daily', { project: 'old-random-key', groupBy: 'agent' });
      assert.equal(d.days.reduce((n: number, x: any) => n + x.requests, 0), byKey.requests);
    } finally {
      await store.pglite.query(`update public.projects set key_aliases = '{}' where workspace_key = $1`, [ALPHA]);
    }
  });

  it('refuses hostile parameters with a clear message', () => {
    const bad = (query: AnalyticsQuery, search: string, message: RegExp) =>
      assert.throws(() => parseAnalyticsParams(new URLSearchParams(search), query), (e: Error) => e instanceof AnalyticsParamError && message.test(e.message), search);
    bad('sessions', 'sort=cheapest', /^sort: expected one of recent, cost, requests, tokens, duration, got "cheapest"$/);
    bad('sessions', 'sort=cost%3Bdrop%20table%20x', /^sort: expected one of/);
    bad('sessions', 'offset=-1', /^offset: expected a whole number from 0 to 1000000, got "-1"$/);
    bad('recent', 'offset=1e3', /^offset: expected a whole number/);
    bad('recent', 'limit=201', /^limit: expected a whole number from 1 to 200, got "201"$/);
    bad('daily', 'groupBy=colour', /^groupBy: expected one of model, agent, project, got "colour"$/);
    bad('models', 'groupBy=model', /^groupBy applies to the daily query only \(not models\)$/);
    bad('summary', 'sort=cost', /^sort applies to the sessions query only \(not summary\)$/);
    bad('agents', 'offset=10', /^offset applies to the sessions and recent queries only \(not agents\)$/);
    bad('summary', 'range=fortnight', /^range: expected one of today, this-week, this-month, 24h, 7d, 30d, custom, session, day, week, month, got "fortnight"$/);
    bad('summary', 'range=today&from=2026-11-01', /from and to apply to range=custom only \(range is today\)/);
    assert.deepEqual(parseAnalyticsParams(new URLSearchParams('range=this-week&sort=duration&offset=400&limit=200'), 'sessions'),
      { range: 'this-week', tz: 'UTC', limit: 200, offset: 400, sort: 'duration' });
    assert.equal(parseAnalyticsParams(new URLSearchParams('range=day'), 'summary').range, '24h');
  });
});
