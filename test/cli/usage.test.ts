// `conduit usage` as people run it: the built dist/conduit.js as a real process, against a
// gateway whose store holds seeded usage (the gateway runs in this process on the test
// store; the CLI finds it through CONDUIT_HOME's pid and port files, as it finds one that
// `conduit start` ran). Every figure is checked against the records themselves.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { silentLogger } from '../../src/conduit/core/log';
import { startGateway, type RunningGateway } from '../../src/conduit/gateway';
import { EngineLedger } from '../../src/conduit/ledger/process/engineLedger';
import { shortModel } from '../../src/protocol/format';
import type { UsageRecord } from '../../src/protocol/usage';
import { makeRecords, writeJournal } from '../ledger/support/records';
import { openTestStore, type TestStore } from '../ledger/support/store';
import { CONDUIT, Sandbox, ensureBuilt } from './support';
import { WAITING_LINE } from '../../src/conduit/cli/storeWait';
import { sessionIdOf } from '../../src/protocol/session';

const DAY = 86_400_000;
const P = 'file:///work/alpha';

interface Sums { requests: number; inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number; totalTokens: number; cost: number }
function sums(rs: UsageRecord[]): Sums {
  const s: Sums = { requests: 0, inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, totalTokens: 0, cost: 0 };
  for (const r of rs) {
    s.requests++;
    s.inputTokens += r.usage?.inputTokens ?? 0;
    s.outputTokens += r.usage?.outputTokens ?? 0;
    s.cacheCreationTokens += r.usage?.cacheCreationTokens ?? 0;
    s.cacheReadTokens += r.usage?.cacheReadTokens ?? 0;
    s.cost += r.cost.cost ?? 0;
  }
  s.totalTokens = s.inputTokens + s.outputTokens + s.cacheCreationTokens + s.cacheReadTokens;
  return s;
}
function groupBy(rs: UsageRecord[], key: (r: UsageRecord) => string): Map<string, UsageRecord[]> {
  const m = new Map<string, UsageRecord[]>();
  for (const r of rs) m.set(key(r), [...(m.get(key(r)) ?? []), r]);
  return m;
}
function assertSums(actual: Record<string, any>, want: Sums, what: string, costKey = 'totalCost'): void {
  for (const k of ['requests', 'inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens', 'totalTokens'] as const) assert.equal(actual[k], want[k], `${what}: ${k}`);
  assert.ok(Math.abs(actual[costKey] - want.cost) < 1e-5, `${what}: cost ${actual[costKey]} vs ${want.cost}`);
}
const num = (n: number) => n.toLocaleString('en-US');

describe('conduit usage (built dist/conduit.js)', function () {
  this.timeout(60_000);
  let store: TestStore;
  let records: UsageRecord[];
  let sb: Sandbox;
  let gateway: RunningGateway;
  /** The last 25 UTC days, today included. */
  let since: string;
  let until: string;
  const usage = (args: string[], env = sb.env()) => sb.conduit(['usage', ...args], env);
  const utcDay = (r: UsageRecord) => r.endedAt.slice(0, 10);

  before(async function () {
    this.timeout(120_000);
    ensureBuilt();
    const now = Date.now();
    since = new Date(now - 24 * DAY).toISOString().slice(0, 10);
    until = new Date(now).toISOString().slice(0, 10);
    store = await openTestStore();
    const opened = await store.engine();
    records = makeRecords({ count: 2500, seed: 12, end: new Date(now - 30 * 60_000), spanMs: 20 * DAY });
    writeJournal(opened.journalDir, records);
    await opened.engine.ingester.ingestAvailable();
    sb = new Sandbox();
    gateway = await startGateway({ home: sb.home, port: 0, log: silentLogger, env: { CONDUIT_PLUGINS_DISABLED: '1' }, ledger: new EngineLedger(opened.engine) });
    // What `conduit start` leaves for the CLI to find: this process is the gateway.
    writeFileSync(sb.pidFile, `${process.pid}\n`);
    writeFileSync(sb.portFile, `${gateway.port}\n`);
  });
  after(async () => {
    // Never let the sandbox's cleanup `conduit stop` the pid in the file: it is this process.
    if (sb) {
      rmSync(sb.pidFile, { force: true });
      rmSync(sb.portFile, { force: true });
    }
    await gateway?.close();
    await sb?.cleanup();
    await store?.close();
  });

  it('daily --json: a day per entry with its models, tokens (cache too) and cost, per-model breakdowns, and totals', async () => {
    const r = await usage(['daily', '--since', since.replace(/-/g, ''), '--until', until, '--tz', 'UTC', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, any>;
    assert.equal(out.report, 'daily');
    assert.equal(out.tz, 'UTC');
    assert.equal(out.from, `${since}T00:00:00.000Z`);
    assert.equal(out.to, new Date(Date.parse(`${until}T00:00:00Z`) + DAY).toISOString());
    const days = groupBy(records, utcDay);
    assert.deepEqual(out.daily.map((d: any) => d.date), [...days.keys()].sort());
    for (const d of out.daily) {
      const list = days.get(d.date)!;
      assertSums(d, sums(list), d.date);
      const models = groupBy(list, (x) => x.decision.model);
      assert.deepEqual([...d.models].sort(), [...models.keys()].sort(), `${d.date}: models`);
      for (const b of d.modelBreakdowns) assertSums(b, sums(models.get(b.model)!), `${d.date} ${b.model}`, 'cost');
      // Unknown prices stay unknown: a model without a price has cost null, not 0.
      const mystery = d.modelBreakdowns.find((b: any) => b.model === 'mystery-model-1');
      if (mystery) assert.equal(mystery.cost, null);
    }
    assertSums(out.totals, sums(records), 'totals');
    // The same totals as the analytics API for the range.
    const summary = await (await fetch(`${gateway.url}/v1/conduit/analytics/summary?from=${since}&to=${until}&tz=UTC`, { headers: { 'x-conduit-token': gateway.token } })).json() as Record<string, any>;
    assert.equal(out.totals.requests, summary.requests);
    assert.equal(out.totals.totalCost, summary.cost);
    assert.equal(out.totals.totalTokens, summary.totalTokens);
  });

  it('daily table: aligned columns with cache columns and costs, a total row; --breakdown adds a row per model', async () => {
    const r = await usage(['daily', '--since', since, '--until', until, '--tz', 'UTC']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], new RegExp(`^Conduit usage, daily: ${since} to ${until} \\(UTC\\)`));
    const header = lines[2];
    for (const h of ['Date', 'Models', 'Input', 'Output', 'Cache Create', 'Cache Read', 'Total Tokens', 'Cost (USD)']) assert.ok(header.includes(h), `header has ${h}: ${header}`);
    assert.match(lines[3], /^─+$/);
    const days = groupBy(records, utcDay);
    const rows = lines.filter((l) => /^\d{4}-\d{2}-\d{2}  /.test(l));
    assert.equal(rows.length, days.size);
    // Numbers end where their header ends (right-aligned), on every row.
    const end = (line: string, text: string, from = 0) => line.indexOf(text, from) + text.length;
    const totalEnd = end(header, 'Total Tokens');
    for (const row of rows) {
      const s = sums(days.get(row.slice(0, 10))!);
      const input = end(row, ` ${num(s.inputTokens)} `) - 1;
      assert.equal(input, end(header, 'Input'), `input column of ${row}`);
      assert.equal(end(row, ` ${num(s.totalTokens)} `) - 1, totalEnd, `total column of ${row}`);
      for (const v of [s.outputTokens, s.cacheCreationTokens, s.cacheReadTokens]) assert.ok(row.includes(` ${num(v)} `), `${num(v)} in ${row}`);
      assert.match(row, /\$\d+\.\d+(\+\?)?$/);
    }
    const total = lines.find((l) => l.startsWith('Total '))!;
    const all = sums(records);
    assert.equal(end(total, ` ${num(all.totalTokens)} `) - 1, totalEnd);
    assert.ok(total.includes(`$${all.cost.toFixed(2)}`), `total cost ${all.cost.toFixed(2)} in ${total}`);
    assert.match(r.stdout, /requests without a known price/);

    const b = await usage(['daily', '--since', since, '--until', until, '--tz', 'UTC', '--breakdown']);
    assert.equal(b.code, 0, b.stderr);
    const modelRows = b.stdout.split('\n').filter((l) => l.includes('└─ '));
    const pairs = groupBy(records, (x) => `${utcDay(x)} ${x.decision.model}`);
    assert.equal(modelRows.length, pairs.size);
    // Each model row under its day, with that day's tokens of the model, aligned.
    const bLines = b.stdout.split('\n');
    const bTotalEnd = end(bLines[2], 'Total Tokens');
    let day = '';
    let checked = 0;
    for (const l of bLines) {
      if (/^\d{4}-\d{2}-\d{2}  /.test(l)) day = l.slice(0, 10);
      const m = /└─ (\S+)/.exec(l);
      if (!m) continue;
      const model = records.find((x) => shortModel(x.decision.model) === m[1])!.decision.model;
      const s = sums(pairs.get(`${day} ${model}`)!);
      assert.equal(end(l, ` ${num(s.totalTokens)} `) - 1, bTotalEnd, `total column of ${l}`);
      assert.ok(l.includes(` ${num(s.cacheReadTokens)} `), `cache reads in ${l}`);
      checked++;
    }
    assert.equal(checked, pairs.size);
  });

  it('monthly and per session, newest first with --order desc; --project filters', async () => {
    const m = await usage(['monthly', '--since', since, '--until', until, '--tz', 'UTC', '--json']);
    assert.equal(m.code, 0, m.stderr);
    const months = JSON.parse(m.stdout) as Record<string, any>;
    const byMonth = groupBy(records, (x) => x.endedAt.slice(0, 7));
    assert.deepEqual(months.monthly.map((x: any) => x.month), [...byMonth.keys()].sort());
    for (const x of months.monthly) assertSums(x, sums(byMonth.get(x.month)!), x.month);

    const s = await usage(['session', '--since', since, '--until', until, '--tz', 'UTC', '--json', '--order', 'desc']);
    assert.equal(s.code, 0, s.stderr);
    const sessions = (JSON.parse(s.stdout) as Record<string, any>).sessions as any[];
    // A session is named by claude's session id, else Conduit's (src/protocol/session.ts).
    const bySession = groupBy(records, (x) => sessionIdOf(x.context)!);
    assert.equal(sessions.length, bySession.size);
    for (const x of sessions) {
      const list = bySession.get(x.sessionId)!;
      assertSums(x, sums(list), x.sessionId);
      assert.equal(x.lastActivity, list.map((y) => y.endedAt).sort().pop());
    }
    const last = sessions.map((x) => x.lastActivity);
    assert.deepEqual(last, [...last].sort().reverse(), 'newest first');
    const table = await usage(['session', '--since', since, '--until', until, '--tz', 'UTC']);
    assert.match(table.stdout.split('\n')[2], /^Session +Models .*Last Activity$/);

    const p = await usage(['daily', '--since', since, '--until', until, '--tz', 'UTC', '--project', P, '--json']);
    assert.equal(p.code, 0, p.stderr);
    const inP = JSON.parse(p.stdout) as Record<string, any>;
    assert.equal(inP.project.key, P);
    assertSums(inP.totals, sums(records.filter((x) => x.context.projectId === P)), 'one project');
  });

  it('--project with a project\'s earlier key (key_aliases): the project it became', async () => {
    const args = ['daily', '--since', since, '--until', until, '--tz', 'UTC', '--json'];
    await store.pglite.query(`update public.projects set key_aliases = array['old-random-key'] where workspace_key = $1`, [P]);
    try {
      const r = await usage([...args, '--project', 'old-random-key']);
      assert.equal(r.code, 0, r.stderr);
      const answer = JSON.parse(r.stdout) as Record<string, any>;
      assert.equal(answer.project.key, P);
      assertSums(answer.totals, sums(records.filter((x) => x.context.projectId === P)), 'by its earlier key');
    } finally {
      await store.pglite.query(`update public.projects set key_aliases = '{}' where workspace_key = $1`, [P]);
    }
  });

  it('days in the machine\'s time zone by default, and in --tz when given', async () => {
    const kolkata = await usage(['daily', '--since', since, '--until', until, '--json'], sb.env({ TZ: 'Asia/Kolkata' }));
    assert.equal(kolkata.code, 0, kolkata.stderr);
    const out = JSON.parse(kolkata.stdout) as Record<string, any>;
    assert.ok(['Asia/Kolkata', 'Asia/Calcutta'].includes(out.tz), out.tz); // ICU's canonical name is the old one
    const local = (r: UsageRecord) => new Date(Date.parse(r.endedAt) + 5.5 * 3_600_000).toISOString().slice(0, 10);
    const inRange = records.filter((r) => local(r) >= since && local(r) <= until);
    const days = groupBy(inRange, local);
    for (const d of out.daily) assertSums(d, sums(days.get(d.date)!), `Kolkata ${d.date}`);
  });

  it('an empty range says so; bad arguments give the reason and the usage text (exit 2); --help exits 0', async () => {
    const empty = await usage(['daily', '--since', '2020-01-01', '--until', '2020-01-31', '--tz', 'UTC']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout.trim(), 'No usage recorded from 2020-01-01 to 2020-01-31 (UTC).');
    const bad = async (args: string[], message: RegExp) => {
      const r = await usage(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /usage: conduit usage \[daily\|monthly\|session\]/);
      assert.equal(r.stdout, '');
    };
    await bad(['weekly'], /unknown report "weekly" \(have: daily, monthly, session\)/);
    await bad(['daily', '--since', '2026-13-01'], /--since: 2026-13-01 is not a date of the calendar/);
    await bad(['daily', '--since', 'yesterday'], /--since takes a date as YYYYMMDD or YYYY-MM-DD/);
    await bad(['daily', '--since', '2026-11-10', '--until', '2026-11-01'], /--since 2026-11-10 is after --until 2026-11-01/);
    await bad(['daily', '--order', 'sideways'], /--order takes asc or desc/);
    await bad(['daily', '--tz', 'Mars/Olympus'], /"Mars\/Olympus" is not an IANA time zone/);
    await bad(['daily', '--project'], /--project needs a value/);
    await bad(['daily', '--verbose'], /unknown option --verbose/);
    const help = await usage(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: conduit usage/);
    const top = await sb.conduit(['help'], sb.env());
    assert.match(top.stdout, /usage \[daily\|monthly\|session\]/);
  });

  it('while the gateway\'s store is still opening: waits for it, saying so once on stderr, then answers', async () => {
    const other = new Sandbox();
    const opened = await store.engine();
    let open!: (engine: typeof opened.engine) => void;
    const opening = await startGateway({
      home: other.home, port: 0, log: silentLogger, env: { CONDUIT_PLUGINS_DISABLED: '1' },
      ledger: new EngineLedger(new Promise<typeof opened.engine>((resolve) => { open = resolve; })),
    });
    try {
      writeFileSync(other.pidFile, `${process.pid}\n`);
      writeFileSync(other.portFile, `${opening.port}\n`);
      const cli = spawn(process.execPath, [CONDUIT, 'usage', 'monthly', '--tz', 'UTC', '--json'], { env: other.env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      cli.stdout.on('data', (c: Buffer) => { stdout += c; });
      // The store opens once the CLI has said it waits (the gateway answered 503 meanwhile).
      cli.stderr.on('data', (c: Buffer) => {
        stderr += c;
        if (stderr.includes(WAITING_LINE)) open(opened.engine);
      });
      const [code] = await once(cli, 'close') as [number | null];
      assert.equal(code, 0, stderr);
      assert.equal(stderr, `${WAITING_LINE}\n`);
      const out = JSON.parse(stdout) as Record<string, any>;
      assert.equal(out.totals.requests, records.length); // from the first request to today: all of them
    } finally {
      rmSync(other.pidFile, { force: true });
      await opening.close();
      await other.cleanup();
    }
  });

  it('with no gateway running: one clear line telling to run `conduit start`, exit 1', async () => {
    const other = new Sandbox();
    try {
      const r = await other.conduit(['usage', 'daily'], other.env());
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^conduit usage: the gateway is not running \(home .+\); start it with `conduit start`\n$/);
    } finally {
      await other.cleanup();
    }
  });
});
