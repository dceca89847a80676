// The analytics queries on the embedded store (PGlite): every figure is computed here from
// the records that were ingested, for ranges in several time zones (whole-hour and
// half-hour offsets), and compared with the query's answer. Then the HTTP routes through
// an in-process gateway: token, validation, 503 while the store opens, a request's way
// from the proxy to "recent", and the sync session routes.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../src/conduit/core/log';
import { silentLogger } from '../../src/conduit/core/log';
import { startGateway, type RunningGateway } from '../../src/conduit/gateway';
import {
  AnalyticsParamError, finishAnalytics, parseAnalyticsParams, runAnalytics, type AnalyticsParams, type AnalyticsQuery,
} from '../../src/conduit/ledger/store/analytics';
import type { LedgerEngine } from '../../src/conduit/ledger/store/engine';
import { EngineLedger } from '../../src/conduit/ledger/process/engineLedger';
import { costOf, PriceTable } from '../../src/conduit/pricing/priceTable';
import { CONTEXT_HEADER, encodeSessionContext } from '../../src/protocol/sessionContext';
import type { UsageRecord } from '../../src/protocol/usage';
import { sessionIdOf } from '../../src/protocol/session';
import { totalTokens } from '../../src/protocol/measures';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fakeAnthropic';
import { makeRecords, writeJournal } from './support/records';
import { openTestStore, type TestStore } from './support/store';

const NOW = new Date('2026-11-27T05:17:23.456Z');
const DAY = 86_400_000;
const P = 'file:///work/alpha';
/** A claude session id two conduit-claude runs share (claude --resume). */
const RESUMED = '0b8e7c8e-5d0e-4a4f-9a51-6c1f2d3e4f50';

// ---- what the answers should be, computed from the records ----

function localParts(d: Date, tz: string): Record<string, string> {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(d);
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
}
function localLabel(d: Date, tz: string, bucket: 'hour' | 'day'): string {
  const p = localParts(d, tz);
  return bucket === 'day' ? `${p.year}-${p.month}-${p.day}` : `${p.year}-${p.month}-${p.day}T${p.hour}:00`;
}

/** The local hours (of the scope's zone) that the scope's range touches. */
function localHours(scope: { from: string; to: string; tz: string }): number {
  const seen = new Set<string>();
  for (let t = Date.parse(scope.from); t < Date.parse(scope.to); t += 15 * 60_000) seen.add(localLabel(new Date(t), scope.tz, 'hour'));
  seen.add(localLabel(new Date(Date.parse(scope.to) - 1), scope.tz, 'hour'));
  return seen.size;
}

interface Totals {
  requests: number; errors: number; inputTokens: number; outputTokens: number; cacheCreationTokens: number;
  cacheCreation5mTokens: number; cacheCreation1hTokens: number; cacheReadTokens: number; cost: number; costed: number;
}
function totals(rs: UsageRecord[]): Totals {
  const t: Totals = { requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheCreation5mTokens: 0, cacheCreation1hTokens: 0, cacheReadTokens: 0, cost: 0, costed: 0 };
  for (const r of rs) {
    t.requests++;
    if (r.error || r.status >= 400) t.errors++;
    t.inputTokens += r.usage?.inputTokens ?? 0;
    t.outputTokens += r.usage?.outputTokens ?? 0;
    t.cacheCreationTokens += r.usage?.cacheCreationTokens ?? 0;
    t.cacheCreation5mTokens += r.usage?.cacheCreation5mTokens ?? 0;
    t.cacheCreation1hTokens += r.usage?.cacheCreation1hTokens ?? 0;
    t.cacheReadTokens += r.usage?.cacheReadTokens ?? 0;
    if (r.cost.cost !== null) {
      t.cost += r.cost.cost;
      t.costed++;
    }
  }
  return t;
}
function groupBy<K>(rs: UsageRecord[], key: (r: UsageRecord) => K): Map<K, UsageRecord[]> {
  const m = new Map<K, UsageRecord[]>();
  for (const r of rs) {
    const k = key(r);
    let list = m.get(k);
    if (!list) m.set(k, (list = []));
    list.push(r);
  }
  return m;
}
const close = (a: number | null, b: number, what: string) => {
  assert.ok(a !== null && Math.abs(a - b) < 1e-5, `${what}: ${a} vs ${b}`);
};
function assertTotals(actual: Record<string, unknown>, expected: Totals, what: string): void {
  assert.equal(actual.requests, expected.requests, `${what}: requests`);
  assert.equal(actual.errors, expected.errors, `${what}: errors`);
  assert.equal(actual.inputTokens, expected.inputTokens, `${what}: input tokens`);
  assert.equal(actual.outputTokens, expected.outputTokens, `${what}: output tokens`);
  assert.equal(actual.totalTokens, totalTokens(expected), `${what}: total tokens (all four, src/protocol/measures.ts)`);
  assert.equal(actual.cacheReadTokens, expected.cacheReadTokens, `${what}: cache reads`);
  assert.equal(actual.cacheCreationTokens, expected.cacheCreationTokens, `${what}: cache writes`);
  assert.equal(actual.unknownCostRequests, expected.requests - expected.costed, `${what}: unknown-cost requests`);
  if (expected.costed === 0) assert.equal(actual.cost, null, `${what}: cost unknown, not 0`);
  else close(actual.cost as number, expected.cost, `${what}: cost`);
}

/** A listed session's models are the (asked for → routed to) pairs of `rs` with their counts, most requests first. */
function assertPairs(session: Record<string, any>, rs: UsageRecord[], what: string): void {
  const pairs = groupBy(rs, (r) => `${r.decision.requestedModel} → ${r.decision.model}`);
  assert.ok(rs.length > 0, `${what}: has requests`);
  assert.deepEqual(
    session.models.map((m: any) => `${m.requestedModel} → ${m.model} ×${m.requests}`).sort(),
    [...pairs.entries()].map(([k, v]) => `${k} ×${v.length}`).sort(), `${what}: models asked for and routed to`);
  assert.ok(session.models.every((m: any, i: number) => i === 0 || session.models[i - 1].requests >= m.requests), `${what}: most requests first`);
}

describe('ledger: analytics', () => {
  let store: TestStore;
  let engine: LedgerEngine;
  let records: UsageRecord[];
  const prices = new PriceTable();

  const params = (p: Partial<AnalyticsParams>): AnalyticsParams => ({ range: 'week', tz: 'UTC', limit: 50, ...p });
  const ask = async (q: AnalyticsQuery, p: Partial<AnalyticsParams>) => {
    const full = params(p);
    return finishAnalytics(await engine.analytics(q, full, NOW), prices, full) as Record<string, any>;
  };
  /** The records an answer's range covers (the range itself is checked separately). */
  const inScope = (answer: Record<string, any>, filter: (r: UsageRecord) => boolean = () => true) => {
    const from = Date.parse(answer.scope.from);
    const to = Date.parse(answer.scope.to);
    return records.filter((r) => Date.parse(r.endedAt) >= from && Date.parse(r.endedAt) < to && filter(r));
  };
  const ofP = (r: UsageRecord) => r.context.projectId === P;
  /** The session analytics names by id: claude's session id, else Conduit's; a run's Conduit id finds it too. */
  const inSession = (r: UsageRecord, id: string) => sessionIdOf(r.context) === id || r.context.sessionId === id;

  before(async function () {
    this.timeout(120_000);
    store = await openTestStore();
    const opened = await store.engine();
    engine = opened.engine;
    records = makeRecords({ count: 3000, seed: 21, end: new Date(NOW.getTime() - 7 * 60_000), spanMs: 45 * DAY });
    // Sessions as claude makes them: one claude session resumed in two conduit-claude runs
    // (s-0, s-1), and runs of a client that sends no claude session id (s-20 to s-24).
    for (const r of records) {
      const n = Number(r.context.sessionId!.slice(2));
      if (n <= 1) r.context.claudeSessionId = RESUMED;
      else if (n >= 20) delete r.context.claudeSessionId;
    }
    writeJournal(opened.journalDir, records);
    await engine.ingester.ingestAvailable();
    await store.pglite.exec('analyze');
  });
  after(async () => {
    await store?.close();
  });

  describe('queries', () => {
    it('calendar ranges (today, this week, this month) from local midnight, Monday and the 1st; rolling ones back from now; each with its label and previous period', async () => {
      const scopeAt = async (range: AnalyticsParams['range'], tz: string, now = NOW, extra: Partial<AnalyticsParams> = {}) =>
        (finishAnalytics(await engine.analytics('summary', params({ range, tz, ...extra }), now), prices, params({})) as Record<string, any>).scope;
      const pick = (s: any) => [s.from, s.to, s.previous.from, s.previous.to];
      // NOW is Friday 2026-11-27 06:17:23 in Berlin.
      const today = await scopeAt('today', 'Europe/Berlin');
      assert.deepEqual(today, {
        from: '2026-11-26T23:00:00.000Z', to: NOW.toISOString(), tz: 'Europe/Berlin', project: null, agent: null, session: null,
        range: 'today', calendar: true, label: 'Today', previous: { from: '2026-11-25T23:00:00.000Z', to: '2026-11-26T05:17:23.456Z' },
      });
      assert.deepEqual(pick(await scopeAt('this-week', 'Europe/Berlin')), ['2026-11-22T23:00:00.000Z', NOW.toISOString(), '2026-11-15T23:00:00.000Z', '2026-11-20T05:17:23.456Z']);
      // Last month's period crosses the end of summer time (Oct 25): Oct 1 00:00 CEST to Oct 27 06:17 CET.
      assert.deepEqual(pick(await scopeAt('this-month', 'Europe/Berlin')), ['2026-10-31T23:00:00.000Z', NOW.toISOString(), '2026-09-30T22:00:00.000Z', '2026-10-27T05:17:23.456Z']);
      assert.equal((await scopeAt('today', 'Asia/Kolkata')).from, '2026-11-26T18:30:00.000Z');
      assert.equal((await scopeAt('today', 'America/New_York')).from, '2026-11-27T05:00:00.000Z');
      // Rolling: now minus 24 hours, 7 or 30 days; the previous period is the one just before.
      for (const [range, alias, hours, label] of [['24h', 'day', 24, 'Last 24 hours'], ['7d', 'week', 168, 'Last 7 days'], ['30d', 'month', 720, 'Last 30 days']] as const) {
        const from = new Date(NOW.getTime() - hours * 3_600_000).toISOString();
        const prev = new Date(NOW.getTime() - 2 * hours * 3_600_000).toISOString();
        for (const r of [range, alias]) {
          const s = await scopeAt(r, 'Europe/Paris');
          assert.deepEqual([...pick(s), s.range, s.calendar, s.label], [from, NOW.toISOString(), prev, from, range, false, label], r);
        }
      }
      // The day summer time ends in Paris (Sunday 2026-10-25, 25 hours long), at 21:00 local.
      const dstDay = new Date('2026-10-25T20:00:00Z');
      assert.deepEqual(pick(await scopeAt('today', 'Europe/Paris', dstDay)), ['2026-10-24T22:00:00.000Z', dstDay.toISOString(), '2026-10-23T22:00:00.000Z', '2026-10-24T19:00:00.000Z']);
      assert.deepEqual(pick(await scopeAt('this-week', 'Europe/Paris', dstDay)), ['2026-10-18T22:00:00.000Z', dstDay.toISOString(), '2026-10-11T22:00:00.000Z', '2026-10-18T19:00:00.000Z']);
      // The Monday after: the week starts at midnight CET, the previous one at midnight CEST.
      const monday = new Date('2026-10-26T10:00:00Z');
      assert.deepEqual(pick(await scopeAt('this-week', 'Europe/Paris', monday)), ['2026-10-25T23:00:00.000Z', monday.toISOString(), '2026-10-18T22:00:00.000Z', '2026-10-19T09:00:00.000Z']);
      // This month to the 3rd 21:00 → last month to the 3rd 21:00.
      const third = new Date('2026-11-03T20:00:00Z');
      assert.deepEqual(pick(await scopeAt('this-month', 'Europe/Paris', third)), ['2026-10-31T23:00:00.000Z', third.toISOString(), '2026-09-30T22:00:00.000Z', '2026-10-03T19:00:00.000Z']);
      // Custom: dates are whole local days (to inclusive); date-times as given; named by their dates.
      const custom = await scopeAt('custom', 'Asia/Kolkata', NOW, { from: '2026-11-02', to: '2026-11-03' });
      assert.deepEqual([...pick(custom), custom.label, custom.calendar], ['2026-11-01T18:30:00.000Z', '2026-11-03T18:30:00.000Z', '2026-10-30T18:30:00.000Z', '2026-11-01T18:30:00.000Z', 'Nov 2 – Nov 3, 2026', false]);
      const times = await scopeAt('custom', 'Europe/Berlin', NOW, { from: '2026-11-02T10:15', to: '2026-11-03T08:00:00Z' });
      assert.deepEqual([times.from, times.to, times.label], ['2026-11-02T09:15:00.000Z', '2026-11-03T08:00:00.000Z', 'Nov 2 – Nov 3, 2026']);
      assert.equal((await scopeAt('custom', 'UTC', NOW, { from: '2025-12-30', to: '2026-01-02' })).label, 'Dec 30, 2025 – Jan 2, 2026');
      assert.equal((await scopeAt('custom', 'UTC', NOW, { from: '2026-11-02', to: '2026-11-02' })).label, 'Nov 2, 2026');
    });

    it('summary: cost, tokens, requests and average cost, with unknown costs counted apart', async () => {
      const cases: Partial<AnalyticsParams>[] = [
        { project: P, range: 'week', tz: 'Europe/Berlin' },
        { project: P, range: 'month', tz: 'Asia/Kolkata' },
        { range: 'month', tz: 'UTC' }, // every project, and none
        { project: P, agent: 'reviewer', range: 'month', tz: 'America/New_York' },
        { project: P, session: 's-3', range: 'month', tz: 'UTC' }, // Conduit's id of a run
        { project: P, session: 'claude-s-3', range: 'month', tz: 'UTC' }, // claude's id of the same session
        { project: P, session: RESUMED, range: 'month', tz: 'UTC' }, // a claude session over two runs
        { project: P, session: 's-22', range: 'month', tz: 'UTC' }, // a session without a claude id
        // Not on whole hours at either end: usage rows for the edges, the rollup between.
        { project: P, range: 'custom', from: '2026-11-03T10:20:31Z', to: '2026-11-21T15:45:30.5Z', tz: 'UTC' },
        { project: P, range: 'custom', from: '2026-11-20T10:20:31Z', to: '2026-11-20T10:50:00Z', tz: 'UTC' },
      ];
      for (const c of cases) {
        const answer = await ask('summary', c);
        const rs = inScope(answer, (r) => (!c.project || ofP(r)) && (!c.agent || r.context.agentId === c.agent) && (!c.session || inSession(r, c.session)));
        const what = JSON.stringify(c);
        if (c.range !== 'custom' || c.from!.startsWith('2026-11-03')) assert.ok(rs.length > 10, `${what}: the case covers records`);
        const t = totals(rs);
        assertTotals(answer, t, what);
        assert.equal(answer.costedRequests, t.costed);
        if (t.costed) close(answer.averageCostPerRequest, t.cost / t.costed, `${what}: average cost`);
      }
      // A project nobody recorded: zeros, not an error.
      const none = await ask('summary', { project: 'no-such-project', range: 'month' });
      assert.equal(none.requests, 0);
      assert.equal(none.cost, null);
      assert.equal(none.scope.project, null);
    });

    it('models and routing sources', async () => {
      for (const [q, key, field] of [['models', (r: UsageRecord) => r.decision.model, 'model'], ['sources', (r: UsageRecord) => r.decision.source, 'source']] as const) {
        const answer = await ask(q, { project: P, range: 'month', tz: 'Europe/Berlin' });
        const groups = groupBy(inScope(answer, ofP), key);
        const list = answer[q] as Record<string, any>[];
        assert.equal(list.length, groups.size, q);
        for (const item of list) assertTotals(item, totals(groups.get(item[field])!), `${q} ${item[field]}`);
        const requests = list.map((m) => m.requests);
        assert.deepEqual(requests, [...requests].sort((a, b) => b - a), `${q}: most requests first`);
        close(list.reduce((n, m) => n + m.share, 0), 1, `${q}: shares`);
      }
      const unpriced = (await ask('models', { project: P, range: 'month' })).models.find((m: any) => m.model === 'mystery-model-1');
      assert.equal(unpriced.cost, null);
      assert.equal(unpriced.unknownCostRequests, unpriced.requests);
    });

    it('cost over time in day and hour buckets of the caller\'s time zone, whole-hour and half-hour offsets alike', async () => {
      const cases: [Partial<AnalyticsParams>, number][] = [
        // 30 and 7 days back from now: 31 and 8 local days, the first and last in part.
        [{ project: P, range: 'month', tz: 'Europe/Berlin', bucket: 'day' }, 31],
        [{ project: P, range: '30d', tz: 'Asia/Kolkata', bucket: 'day' }, 31],
        [{ range: 'week', tz: 'America/New_York', bucket: 'day' }, 8],
        [{ project: P, range: 'this-month', tz: 'Europe/Paris', bucket: 'day' }, 27],
        [{ project: P, range: 'week', tz: 'America/New_York', bucket: 'hour' }, 0],
        [{ project: P, range: 'week', tz: 'Asia/Kolkata', bucket: 'hour' }, 0],
        [{ project: P, agent: 'coder', range: 'custom', from: '2026-11-05T07:40:00Z', to: '2026-11-19T13:10:00Z', tz: 'Australia/Adelaide', bucket: 'day' }, 15],
      ];
      for (const [c, days] of cases) {
        const answer = await ask('timeseries', c);
        const what = JSON.stringify(c);
        const bucket = c.bucket!;
        assert.equal(answer.bucket, bucket);
        const groups = groupBy(inScope(answer, (r) => (!c.project || ofP(r)) && (!c.agent || r.context.agentId === c.agent)), (r) => localLabel(new Date(r.endedAt), c.tz!, bucket));
        const points = answer.points as Record<string, any>[];
        // Every bucket of the range is there, in order, empty ones included.
        if (days) assert.equal(points.length, days, `${what}: one point per local day`);
        else assert.equal(points.length, localHours(answer.scope), `${what}: one point per local hour`);
        assert.deepEqual(points.map((p) => p.start), [...points.map((p) => p.start)].sort(), `${what}: in order`);
        for (const p of points) {
          assert.equal(p.label, localLabel(new Date(p.start), c.tz!, bucket), `${what}: label of ${p.start}`);
          const rs = groups.get(p.label) ?? [];
          groups.delete(p.label);
          const t = totals(rs);
          assert.equal(p.requests, t.requests, `${what} ${p.label}: requests`);
          assert.equal(p.totalTokens, totalTokens(t), `${what} ${p.label}: tokens`);
          if (t.costed) close(p.cost, t.cost, `${what} ${p.label}: cost`);
          else assert.equal(p.cost, null);
        }
        assert.deepEqual([...groups.keys()], [], `${what}: no record outside the points`);
      }
    });

    it('per agent (with names), and the latest requests with their agents, newest first', async () => {
      const answer = await ask('agents', { project: P, range: 'month', tz: 'UTC' });
      const groups = groupBy(inScope(answer, ofP), (r) => r.context.agentId ?? null);
      assert.equal(answer.agents.length, groups.size);
      for (const a of answer.agents) {
        assertTotals(a, totals(groups.get(a.externalId)!), `agent ${a.externalId}`);
        if (a.externalId) assert.equal(a.name, a.externalId); // named after its id until someone renames it
        else assert.equal(a.agentId, null);
      }

      const recent = await ask('recent', { project: P, range: 'month', tz: 'UTC' });
      const expected = inScope(recent, ofP).sort((a, b) => Date.parse(b.endedAt) - Date.parse(a.endedAt)).slice(0, 50);
      assert.deepEqual(recent.requests.map((r: any) => r.requestId), expected.map((r) => r.id));
      for (const [i, r] of recent.requests.entries()) {
        const e = expected[i];
        assert.equal(r.agent?.name ?? null, e.context.agentId ?? null);
        assert.equal(r.model, e.decision.model);
        assert.equal(r.at, e.endedAt);
        assert.equal(r.cost, e.cost.cost);
      }
      const few = await ask('recent', { project: P, agent: 'planner', range: 'week', limit: 5 });
      assert.deepEqual(few.requests.map((r: any) => r.requestId),
        inScope(few, (r) => ofP(r) && r.context.agentId === 'planner').sort((a, b) => Date.parse(b.endedAt) - Date.parse(a.endedAt)).slice(0, 5).map((r) => r.id));
    });

    it('per session: the latest sessions of the range with their whole totals', async () => {
      const answer = await ask('sessions', { project: P, range: 'week', tz: 'UTC', limit: 10 });
      const from = Date.parse(answer.scope.from);
      const to = Date.parse(answer.scope.to);
      // The session rollup's keys: (project, session, agent), over all time.
      const keys = groupBy(records.filter((r) => ofP(r) && r.context.sessionId), (r) => `${sessionIdOf(r.context)}\n${r.context.agentId ?? ''}`);
      const active = [...keys.values()].filter((rs) => {
        const t = rs.map((r) => Date.parse(r.endedAt));
        return Math.max(...t) >= from && Math.min(...t) < to;
      });
      const sessions = groupBy(active.flat(), (r) => sessionIdOf(r.context)!);
      const expected = [...sessions.entries()]
        .map(([id, rs]) => ({ id, rs, last: Math.max(...rs.map((r) => Date.parse(r.endedAt))) }))
        .sort((a, b) => b.last - a.last || (a.id < b.id ? -1 : 1))
        .slice(0, 10);
      assert.deepEqual(answer.sessions.map((s: any) => s.sessionId), expected.map((e) => e.id));
      for (const [i, s] of answer.sessions.entries()) {
        const e = expected[i];
        assertTotals({ ...s }, totals(e.rs), `session ${s.sessionId}`);
        assert.equal(s.lastAt, new Date(e.last).toISOString());
        assert.equal(s.firstAt, new Date(Math.min(...e.rs.map((r) => Date.parse(r.endedAt)))).toISOString());
        assert.deepEqual(s.agents.map((a: any) => a.name).sort(), [...new Set(e.rs.map((r) => r.context.agentId).filter(Boolean))].sort());
        // The models asked for and routed to: every request of the session in the scope's
        // projects and agents (usage_session_model_rollup), most requests first.
        assertPairs(s, records.filter((r) => ofP(r) && sessionIdOf(r.context) === s.sessionId), `session ${s.sessionId}`);
      }
      // With an agent: the totals and the models of that agent's requests only.
      const planner = await ask('sessions', { project: P, agent: 'planner', range: 'month', tz: 'UTC', limit: 50 });
      assert.ok(planner.sessions.length > 3);
      for (const s of planner.sessions) {
        assertPairs(s, records.filter((r) => ofP(r) && r.context.agentId === 'planner' && sessionIdOf(r.context) === s.sessionId), `planner's session ${s.sessionId}`);
      }
      // Over every project: the session's requests in all of them.
      const everywhere = await ask('sessions', { range: 'month', tz: 'UTC', limit: 50 });
      for (const s of everywhere.sessions) {
        assertPairs(s, records.filter((r) => sessionIdOf(r.context) === s.sessionId), `session ${s.sessionId} over every project`);
      }
    });

    it("a session is listed and found by claude's session id (Conduit's where claude sent none), with the models asked for and routed to", async () => {
      const month = { project: P, range: 'month' as const, tz: 'UTC', limit: 50 };
      const listed = (await ask('sessions', month)).sessions as any[];
      const ids = listed.map((s) => s.sessionId);
      assert.ok(ids.includes(RESUMED) && ids.includes('claude-s-5') && ids.includes('s-22'), ids.join(', '));
      assert.ok(!ids.includes('s-0') && !ids.includes('s-5'), "no run is listed by Conduit's id when claude named its session");
      for (const [asked, expectedRuns] of [[RESUMED, ['s-0', 's-1']], ['s-0', ['s-0', 's-1']], ['claude-s-5', ['s-5']], ['s-5', ['s-5']], ['s-22', ['s-22']]] as const) {
        const answer = await ask('sessions', { ...month, session: asked });
        assert.equal(answer.sessions.length, 1, `${asked}: one session`);
        const s = answer.sessions[0];
        const rs = records.filter((r) => ofP(r) && (expectedRuns as readonly string[]).includes(r.context.sessionId!));
        assert.equal(s.sessionId, sessionIdOf(rs[0].context), `${asked}: listed by the session's one id`);
        assertTotals({ ...s }, totals(rs), `session ${asked}`);
        const pairs = groupBy(rs, (r) => `${r.decision.requestedModel} → ${r.decision.model}`);
        assert.deepEqual(
          s.models.map((m: any) => `${m.requestedModel} → ${m.model} ×${m.requests}`).sort(),
          [...pairs.entries()].map(([k, v]) => `${k} ×${v.length}`).sort(), `${asked}: models asked for and routed to`);
        assert.ok(s.models.every((m: any, i: number) => i === 0 || s.models[i - 1].requests >= m.requests), 'most requests first');
      }
      // The latest requests name their session the same way.
      const recent = await ask('recent', { ...month, session: 'claude-s-5', limit: 5 });
      assert.ok(recent.requests.length > 0);
      for (const r of recent.requests) assert.deepEqual([r.sessionId, r.conduitSessionId, r.claudeSessionId], ['claude-s-5', 's-5', 'claude-s-5']);
      const noClaude = await ask('recent', { ...month, session: 's-22', limit: 1 });
      assert.deepEqual([noClaude.requests[0].sessionId, noClaude.requests[0].claudeSessionId], ['s-22', null]);
    });

    it('savings against the project\'s default model, or a chosen baseline', async () => {
      for (const baseline of [undefined, 'claude-opus-4-5']) {
        const answer = await ask('savings', { project: P, range: 'month', tz: 'UTC', ...(baseline ? { baseline } : {}) });
        const model = baseline ?? 'claude-sonnet-5-5'; // the schema's default model_config
        const price = prices.lookup(model)!.price;
        const base = { input: price.input, output: price.output, cacheWrite5m: price.cacheWrite5m, cacheWrite1h: price.cacheWrite1h, cacheRead: price.cacheRead };
        let actual = 0;
        let baselineCost = 0;
        const excluded: string[] = [];
        for (const [m, rs] of groupBy(inScope(answer, ofP), (r) => r.decision.model)) {
          const t = totals(rs);
          if (t.costed === 0) {
            excluded.push(m);
            continue;
          }
          actual += t.cost;
          baselineCost += costOf(base, { inputTokens: t.inputTokens, outputTokens: t.outputTokens, cacheCreationTokens: t.cacheCreationTokens, cacheCreation5mTokens: t.cacheCreation5mTokens, cacheCreation1hTokens: t.cacheCreation1hTokens, cacheReadTokens: t.cacheReadTokens });
        }
        assert.deepEqual(answer.baselineModels, [model]);
        close(answer.actualCost, actual, 'actual');
        close(answer.baselineCost, baselineCost, 'baseline');
        close(answer.savings, baselineCost - actual, 'savings');
        assert.deepEqual(answer.excluded.map((e: any) => e.model).sort(), excluded.sort());
        assert.ok(excluded.includes('mystery-model-1'));
      }
    });

    it('cache economics: hit rate and the money cache reads saved', async () => {
      const answer = await ask('cache', { project: P, range: 'month', tz: 'UTC' });
      const rs = inScope(answer, ofP);
      const t = totals(rs);
      close(answer.hitRate, t.cacheReadTokens / (t.inputTokens + t.cacheCreationTokens + t.cacheReadTokens), 'hit rate');
      let saved = 0;
      let premium = 0;
      for (const [m, group] of groupBy(rs, (r) => r.decision.model)) {
        const price = prices.lookup(m)?.price;
        if (!price) continue;
        const g = totals(group);
        saved += (g.cacheReadTokens * (price.input - price.cacheRead)) / 1e6;
        premium += (g.cacheCreation5mTokens * (price.cacheWrite5m - price.input) + g.cacheCreation1hTokens * (price.cacheWrite1h - price.input)) / 1e6;
      }
      close(answer.savedByReads, saved, 'saved by reads');
      close(answer.writePremium, premium, 'write premium');
      close(answer.netSavings, saved - premium, 'net');
      assert.deepEqual(answer.unpricedModels, ['mystery-model-1']);
    });

    it('answers whole hours from the rollups: project totals for totals and cost over time, the hourly rollup per model', async () => {
      // Proof by tampering: a rollup row inside the range changes the answer.
      const p = { project: P, range: 'custom' as const, from: '2026-11-10T00:00:00Z', to: '2026-11-12T00:00:00Z', tz: 'UTC' };
      const before = await ask('summary', p);
      const beforeModels = await ask('models', p);
      const beforeSeries = await ask('timeseries', { ...p, bucket: 'day' });
      const bump = async (table: string) => {
        const { rows } = await store.pglite.query<{ n: number }>(
          `update public.${table} set request_count = request_count + 1000
           where ctid = (select r.ctid from public.${table} r join public.projects pr on pr.id = r.project_id
                         where pr.workspace_key = $1 and r.bucket >= '2026-11-10T01:00:00Z' and r.bucket < '2026-11-11T23:00:00Z' limit 1)
           returning 1 as n`, [P]);
        assert.equal(rows.length, 1, table);
      };
      const total = (answer: Record<string, any>, list: string) => answer[list].reduce((n: number, x: any) => n + x.requests, 0);
      try {
        await bump('usage_project_hourly');
        assert.equal((await ask('summary', p)).requests, before.requests + 1000);
        assert.equal(total(await ask('timeseries', { ...p, bucket: 'day' }), 'points'), total(beforeSeries, 'points') + 1000);
        assert.equal(total(await ask('models', p), 'models'), total(beforeModels, 'models'));
        await bump('usage_hourly_rollup');
        assert.equal(total(await ask('models', p), 'models'), total(beforeModels, 'models') + 1000);
      } finally {
        await store.pglite.query(`select public.rebuild_usage_hourly_rollup()`);
        await store.pglite.query(`select public.rebuild_usage_project_hourly()`);
      }
      assert.equal((await ask('summary', p)).requests, before.requests);
      assert.equal(total(await ask('models', p), 'models'), total(beforeModels, 'models'));
    });

    it('refuses parameters it cannot answer, saying which and why', async () => {
      const bad = (query: string, message: RegExp) => assert.throws(() => parseAnalyticsParams(new URLSearchParams(query)), (e: Error) => e instanceof AnalyticsParamError && message.test(e.message), query);
      bad('range=year', /range: expected one of today, this-week, this-month, 24h, 7d, 30d, custom, session, day, week, month, got "year"/);
      bad('range=custom&from=2026-11-01', /needs both from and to/);
      bad('range=week&from=2026-11-01&to=2026-11-02', /apply to range=custom only/);
      bad('from=yesterday&to=2026-11-02', /from: expected a date/);
      bad('from=2026-13-45&to=2026-11-02', /not a valid date/);
      bad('tz=Mars/Olympus', /tz: "Mars\/Olympus" is not an IANA time zone/);
      bad('bucket=minute', /bucket: expected hour or day/);
      bad('range=month&bucket=hour', /bucket=hour covers at most 31 days/);
      bad('limit=0', /limit: expected a whole number from 1 to 200/);
      bad('limit=201', /limit: expected a whole number from 1 to 200/);
      assert.throws(() => parseAnalyticsParams(new URLSearchParams('limit=51'), 'models'), /limit: expected a whole number from 1 to 50, got "51"/);
      bad('projekt=x', /unknown parameter "projekt"/);
      bad('project=a&project=b', /given more than once/);
      bad(`project=${'x'.repeat(201)}`, /project: expected 1 to 200 characters/);
      assert.deepEqual(parseAnalyticsParams(new URLSearchParams('from=2026-11-01&to=2026-11-02T10:00:00%2B02:00')), {
        range: 'custom', from: '2026-11-01', to: '2026-11-02T10:00:00+02:00', tz: 'UTC', limit: 50,
      });
      const rejects = (p: Partial<AnalyticsParams>, message: RegExp) => assert.rejects(runAnalytics(engine.db, engine.localUserId, 'summary', params(p), NOW), (e: Error) => e instanceof AnalyticsParamError && message.test(e.message));
      await rejects({ range: 'custom', from: '2026-11-05', to: '2026-11-01' }, /from must be before to/);
      await rejects({ range: 'custom', from: '2024-01-01', to: '2026-01-01' }, /at most 366/);
      await rejects({ range: 'custom', from: '2026-09-01', to: '2026-11-01', bucket: 'hour' }, /bucket=hour covers at most 31 days/);
    });
  });

  describe('HTTP routes', () => {
    let fake: FakeAnthropic;
    let gateway: RunningGateway;
    let home: string;
    let live: LedgerEngine;
    const logged: string[] = [];
    const log: Logger = { debug: (m) => logged.push(m), info: (m) => logged.push(m), warn: (m) => logged.push(m), error: (m) => logged.push(m) };
    const get = (p: string, token: string | null = gateway.token) => fetch(`${gateway.url}${p}`, { headers: token ? { 'x-conduit-token': token } : {} });

    before(async function () {
      this.timeout(60_000);
      fake = await startFakeAnthropic();
      home = mkdtempSync(path.join(os.tmpdir(), 'conduit-analytics-http-'));
      // Checkpoints are per journal file name: this engine reads another journal folder.
      await store.pglite.exec('truncate conduit_local.journal_checkpoint');
      ({ engine: live } = await store.engine({ journalDir: path.join(home, 'journal'), log, ingest: { debounceMs: 10 }, outbox: { minBackoffMs: 50, debounceMs: 10 } }));
      live.start();
      gateway = await startGateway({
        home, port: 0, log,
        env: { CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: 'sk-test-upstream-key', CONDUIT_PLUGINS_DISABLED: '1' },
        ledger: new EngineLedger(live),
      });
    });
    after(async () => {
      await gateway?.close();
      await fake?.close();
      rmSync(home, { recursive: true, force: true });
    });

    it('answers every query for the token holder, as the ledger computes it', async () => {
      const query = 'project=file%3A%2F%2F%2Fwork%2Falpha&range=custom&from=2026-11-01&to=2026-11-20&tz=Europe%2FBerlin';
      for (const q of ['summary', 'models', 'timeseries', 'sources', 'recent', 'agents', 'sessions', 'savings', 'cache'] as const) {
        const res = await get(`/v1/conduit/analytics/${q}?${query}`);
        assert.equal(res.status, 200, q);
        assert.equal(res.headers.get('cache-control'), 'no-store');
        const body: Record<string, any> = await res.json();
        const p = parseAnalyticsParams(new URLSearchParams(query));
        assert.equal(body.scope.project.workspaceKey, P);
        assert.deepEqual(body, { query: q, ...finishAnalytics(await live.analytics(q, p), prices, p) }, q);
      }
    });

    it('refuses requests without the token, bad parameters (400), unknown queries (404) and other verbs (405)', async () => {
      const noToken = await get('/v1/conduit/analytics/summary', null);
      assert.equal(noToken.status, 401);
      const bad = await get('/v1/conduit/analytics/summary?range=fortnight');
      assert.equal(bad.status, 400);
      assert.deepEqual(await bad.json(), { type: 'error', error: { type: 'invalid_request_error', message: '[conduit] range: expected one of today, this-week, this-month, 24h, 7d, 30d, custom, session, day, week, month, got "fortnight"' } });
      const late = await get('/v1/conduit/analytics/summary?from=2026-11-05&to=2026-11-01');
      assert.equal(late.status, 400);
      assert.match(((await late.json()) as any).error.message, /from must be before to/);
      const unknown = await get('/v1/conduit/analytics/everything');
      assert.equal(unknown.status, 404);
      assert.match(((await unknown.json()) as any).error.message, /no analytics query "everything" \(have: summary, models/);
      const post = await fetch(`${gateway.url}/v1/conduit/analytics/summary`, { method: 'POST', headers: { 'x-conduit-token': gateway.token }, body: '{}' });
      assert.equal(post.status, 405);
    });

    it('shows a request proxied by the gateway among the recent ones, with its agent, once ingested', async () => {
      const context = encodeSessionContext({ sessionId: 'http-session', projectId: 'http-project', agentId: 'http-agent' });
      const ingested = once(live.ingester, 'batch');
      const res = await fetch(`${gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-conduit-token': gateway.token, 'anthropic-version': '2023-06-01', [CONTEXT_HEADER]: context },
        body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(res.status, 200);
      await res.text();
      const requestId = res.headers.get('x-conduit-request-id');
      await ingested;
      const recent = await (await get('/v1/conduit/analytics/recent?project=http-project&range=day&tz=UTC')).json() as Record<string, any>;
      assert.equal(recent.requests.length, 1);
      assert.equal(recent.requests[0].requestId, requestId);
      assert.equal(recent.requests[0].agent.name, 'http-agent');
      assert.equal(recent.requests[0].sessionId, 'http-session');
      const summary = await (await get('/v1/conduit/analytics/summary?project=http-project&agent=http-agent&range=day')).json() as Record<string, any>;
      assert.equal(summary.requests, 1);
      assert.ok(summary.inputTokens > 0);
    });

    it('answers 503 with Retry-After while the store opens, and says why when it failed', async () => {
      const homes = [mkdtempSync(path.join(os.tmpdir(), 'conduit-opening-')), mkdtempSync(path.join(os.tmpdir(), 'conduit-failed-'))];
      const opening = await startGateway({ home: homes[0], port: 0, log: silentLogger, env: { CONDUIT_PLUGINS_DISABLED: '1' }, ledger: new EngineLedger(new Promise<LedgerEngine>(() => undefined)) });
      const failed = await startGateway({ home: homes[1], port: 0, log: silentLogger, env: { CONDUIT_PLUGINS_DISABLED: '1' }, ledger: new EngineLedger(Promise.reject(new Error('disk full'))) });
      try {
        const res = await fetch(`${opening.url}/v1/conduit/analytics/summary?range=day`, { headers: { 'x-conduit-token': opening.token } });
        assert.equal(res.status, 503);
        assert.equal(res.headers.get('retry-after'), '5');
        assert.match(((await res.json()) as any).error.message, /still opening/);
        const status = await (await fetch(`${opening.url}/v1/conduit/sync/status`, { headers: { 'x-conduit-token': opening.token } })).json() as Record<string, any>;
        assert.equal(status.store, 'opening');
        const res2 = await fetch(`${failed.url}/v1/conduit/analytics/summary`, { headers: { 'x-conduit-token': failed.token } });
        assert.equal(res2.status, 503);
        assert.match(((await res2.json()) as any).error.message, /could not be opened: disk full/);
        // The proxy is not affected: the gateway still answers.
        assert.equal((await fetch(`${opening.url}/health`)).status, 200);
      } finally {
        await opening.close();
        await failed.close();
        for (const h of homes) rmSync(h, { recursive: true, force: true });
      }
    });

    it('takes a Supabase session in memory only, reports the sync, and goes back to local', async () => {
      const closedPort = await new Promise<number>((resolve) => {
        const s = net.createServer().listen(0, '127.0.0.1', () => {
          const { port } = s.address() as net.AddressInfo;
          s.close(() => resolve(port));
        });
      });
      const userId = '3f9c1c55-5a2e-4a44-9d7e-0c4f8f6b1a01';
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const accessToken = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: userId, role: 'authenticated', exp: Math.floor(Date.now() / 1000) + 3600 })}.c2lnbmF0dXJlLXNlY3JldC12YWx1ZQ`;
      const refreshToken = 'refresh-token-secret-value';
      const post = (body: unknown) => fetch(`${gateway.url}/v1/conduit/sync/session`, { method: 'POST', headers: { 'x-conduit-token': gateway.token, 'content-type': 'application/json' }, body: JSON.stringify(body) });

      const failed = once(live.outbox, 'failed');
      const res = await post({ url: `http://127.0.0.1:${closedPort}`, anonKey: 'anon-key-value', accessToken, refreshToken });
      const text = await res.text();
      assert.equal(res.status, 200, `${text}\n${logged.join('\n')}`);
      for (const secret of [accessToken, refreshToken, 'anon-key-value']) assert.ok(!text.includes(secret), 'no secret in the answer');
      const set = JSON.parse(text);
      assert.equal(set.mode, 'supabase');
      assert.equal(set.userId, userId);
      await failed; // nothing listens there: the push fails and waits to retry
      const status = await (await get('/v1/conduit/sync/status')).json() as Record<string, any>;
      assert.equal(status.mode, 'supabase');
      assert.ok(status.waiting > 0, 'rows wait for the target');
      assert.ok(status.lastError, 'the last error is reported');
      assert.equal(status.lastSuccessAt, null);

      const cleared = await fetch(`${gateway.url}/v1/conduit/sync/session`, { method: 'DELETE', headers: { 'x-conduit-token': gateway.token } });
      assert.equal(((await cleared.json()) as any).mode, 'local');
      assert.equal(((await (await get('/v1/conduit/sync/status')).json()) as any).mode, 'local');

      const refused = async (body: unknown, message: RegExp) => {
        const r = await post(body);
        assert.equal(r.status, 400);
        const t = await r.text();
        assert.match(JSON.parse(t).error.message, message);
        assert.ok(!t.includes(accessToken));
      };
      await refused({ url: 'https://x.supabase.co', anonKey: 'k', accessToken, refreshToken, extra: 1 }, /unknown field "extra"/);
      await refused({ url: 'https://x.supabase.co', anonKey: 'k', accessToken }, /refreshToken: required/);
      await refused({ url: 'http://x.supabase.co', anonKey: 'k', accessToken, refreshToken }, /url: must be https/);
      await refused({ url: 'https://x.supabase.co', anonKey: 'k', accessToken: 'not-a-jwt', refreshToken }, /accessToken: not a JWT/);
      const expired = `${b64({ alg: 'HS256' })}.${b64({ sub: userId, exp: 1_000_000 })}.sig`;
      await refused({ url: 'https://x.supabase.co', anonKey: 'k', accessToken: expired, refreshToken }, /accessToken: expired/);
      assert.equal((await fetch(`${gateway.url}/v1/conduit/sync/status`)).status, 401);
      for (const line of logged) {
        for (const secret of [accessToken, refreshToken, 'anon-key-value']) assert.ok(!line.includes(secret), `a secret in the log: ${line}`);
      }
    });
  });
});
