// Cost per local calendar day of the caller's time zone, split by model, agent or project:
// the stacked bars of the analytics page. Every day of the range has its entry (a range
// that starts or ends within a day counts that day's part in range), so the days add up to
// the summary of the same parameters.
import { totalTokens } from '../../../../protocol/measures';
import type { DailyDay, DailyGroupBy, DailyKey, DailyMeasures } from '../../../../protocol/analytics';
import type { SqlClient } from '../sqlClient';
import { Params, type ResolvedScope } from './scope';
import { cutHours, usageSource, usd } from './source';

interface Row {
  date: string; k: string | null; requests: number; input: number; output: number; cache_write: number; cache_read: number; cost: number; costed: number;
}

const KEY_EXPR: Record<DailyGroupBy, string> = { model: 's.model', agent: 's.agent_id::text', project: 's.project_id::text' };

export async function daily(db: SqlClient, scope: ResolvedScope, groupBy: DailyGroupBy): Promise<Record<string, unknown>> {
  // Hours that a local midnight cuts are read from usage rows, so each request falls on its own day.
  const cut = scope.session === null ? await cutHours(db, scope, 'day') : [];
  const p = new Params();
  // Per project, the per-project hourly totals serve (one row per hour and project).
  const src = usageSource(p, scope, cut, groupBy === 'project');
  const tzP = p.add(scope.tz);
  const { rows } = await db.query<Row>(
    `with hourly as (
       select s.at, ${KEY_EXPR[groupBy]} as k, sum(s.n) as n, sum(s.input) as input, sum(s.output) as output,
         sum(s.cache_write) as cache_write, sum(s.cache_read) as cache_read, sum(s.cost) as cost, sum(s.costed) as costed
       from ${src.sql} group by 1, 2
     )
     select to_char(h.at at time zone ${tzP}, 'YYYY-MM-DD') as date, h.k,
       sum(h.n)::float8 as requests, sum(h.input)::float8 as input, sum(h.output)::float8 as output,
       sum(h.cache_write)::float8 as cache_write, sum(h.cache_read)::float8 as cache_read,
       coalesce(sum(h.cost), 0)::float8 as cost, sum(h.costed)::float8 as costed
     from hourly h group by 1, 2`, p.values);
  const q = new Params();
  const tzQ = q.add(scope.tz);
  const { rows: dates } = await db.query<{ date: string; start: Date }>(
    `select to_char(d, 'YYYY-MM-DD') as date, d at time zone ${tzQ} as start
     from generate_series(date_trunc('day', ${q.add(scope.from.toISOString())}::timestamptz at time zone ${tzQ}),
                          (${q.add(scope.to.toISOString())}::timestamptz - interval '1 microsecond') at time zone ${tzQ}, interval '1 day') d
     order by d`, q.values);

  const days = new Map<string, DailyDay & { costed: number }>();
  for (const d of dates) days.set(d.date, { date: d.date, start: new Date(d.start).toISOString(), ...emptyMeasures(), costed: 0, byKey: {} });
  const keys = new Map<string, { cost: number; costed: number; requests: number }>();
  let requests = 0;
  let costed = 0;
  for (const r of rows) {
    const day = days.get(r.date);
    if (!day) continue; // cannot happen: every row is within the range's days
    const key = r.k ?? '';
    const m: DailyMeasures = {
      cost: r.costed > 0 ? usd(r.cost) : null,
      requests: r.requests,
      totalTokens: totalTokens({ inputTokens: r.input, outputTokens: r.output, cacheCreationTokens: r.cache_write, cacheReadTokens: r.cache_read }),
      inputTokens: r.input,
      outputTokens: r.output,
      cacheCreationTokens: r.cache_write,
      cacheReadTokens: r.cache_read,
    };
    day.byKey[key] = m;
    day.requests += m.requests;
    day.totalTokens += m.totalTokens;
    day.inputTokens += m.inputTokens;
    day.outputTokens += m.outputTokens;
    day.cacheCreationTokens += m.cacheCreationTokens;
    day.cacheReadTokens += m.cacheReadTokens;
    day.cost = (day.cost ?? 0) + r.cost;
    day.costed += r.costed;
    const k = keys.get(key) ?? { cost: 0, costed: 0, requests: 0 };
    k.cost += r.cost;
    k.costed += r.costed;
    k.requests += r.requests;
    keys.set(key, k);
    requests += r.requests;
    costed += r.costed;
  }
  const labels = await keyLabels(db, groupBy, [...keys.keys()]);
  const keyList: DailyKey[] = [...keys.entries()].map(([key, k]) => ({ key, label: labels.get(key) ?? key, cost: k.costed > 0 ? usd(k.cost) : null, requests: k.requests }));
  keyList.sort((a, b) => (a.cost === null ? 1 : 0) - (b.cost === null ? 1 : 0) || (b.cost ?? 0) - (a.cost ?? 0) || b.requests - a.requests || a.label.localeCompare(b.label));
  return {
    groupBy,
    days: [...days.values()].map(({ costed: c, ...d }) => ({ ...d, cost: c > 0 && d.cost !== null ? usd(d.cost) : null })),
    keys: keyList,
    unknownCostRequests: requests - costed,
  };
}

function emptyMeasures(): DailyMeasures {
  return { cost: null, requests: 0, totalTokens: 0, inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 };
}

/** What each key is called on screen: the model id, the agent's name, the project's name; '' is "No agent" / "No project". */
async function keyLabels(db: SqlClient, groupBy: DailyGroupBy, keys: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (groupBy === 'model') return out;
  if (keys.includes('')) out.set('', groupBy === 'agent' ? 'No agent' : 'No project');
  const ids = keys.filter((k) => k !== '');
  if (!ids.length) return out;
  const table = groupBy === 'agent' ? 'public.agents' : 'public.projects';
  const { rows } = await db.query<{ id: string; name: string }>(`select id::text as id, name from ${table} where id = any($1::uuid[])`, [ids]);
  for (const r of rows) out.set(r.id, r.name);
  return out;
}
