// The instants of an analytics range for the team query, which runs on Supabase rather than
// in the local store: the same meaning as the local analytics (src/conduit/ledger/store/analytics/),
// computed here without SQL. day, week, month: whole local days of the time zone ending
// with today (1, 7, 30 days), up to now. custom: from and to as a date (to: through the end
// of that day), a local date-time, or a date-time with an offset.
import { AnalyticsParamError } from '../ledger/store/analytics';

export type TeamRangeKind = 'day' | 'week' | 'month' | 'custom';

export interface TeamRangeInput {
  range: TeamRangeKind;
  from?: string;
  to?: string;
  tz: string;
}

const RANGE_DAYS = { day: 1, week: 7, month: 30 } as const;
const MAX_DAYS = 366;
const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/;
const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$/i;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Milliseconds the zone's wall clock is ahead of UTC at an instant. */
function zoneOffset(instant: number, tz: string): number {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(tz, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(instant)).map((x) => [x.type, x.value]));
  const wall = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return wall - Math.floor(instant / 1000) * 1000;
}

/** The instant a wall-clock time of the zone names (in a DST gap: shifted forward, as PostgreSQL does). */
export function zonedTime(wallMs: number, tz: string): number {
  const first = wallMs - zoneOffset(wallMs, tz);
  const second = wallMs - zoneOffset(first, tz);
  return second === first ? first : Math.max(first, second);
}

/** The zone's calendar date of an instant, as UTC midnight of that date (a plain date carrier). */
function localDate(instant: number, tz: string): number {
  const wall = instant + zoneOffset(instant, tz);
  return Math.floor(wall / DAY_MS) * DAY_MS;
}

function parseTime(name: string, value: string, tz: string, endOfDay: boolean): number {
  let m = DATE.exec(value);
  if (m) return zonedTime(Date.UTC(+m[1], +m[2] - 1, +m[3] + (endOfDay ? 1 : 0)), tz);
  m = LOCAL_TIME.exec(value);
  if (m) {
    const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
    return zonedTime(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0, ms), tz);
  }
  if (ZONED_TIME.test(value)) {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return t;
  }
  throw new AnalyticsParamError(`${name}: expected a date (2026-11-27), a local date-time (2026-11-27T14:00) or one with an offset (2026-11-27T14:00:00Z), got "${value.slice(0, 40)}"`);
}

export function resolveTeamRange(input: TeamRangeInput, now: Date): { from: Date; to: Date } {
  let from: number;
  let to: number;
  if (input.range === 'custom') {
    if (!input.from || !input.to) throw new AnalyticsParamError('range=custom needs both from and to');
    from = parseTime('from', input.from, input.tz, false);
    to = parseTime('to', input.to, input.tz, true);
  } else {
    to = now.getTime();
    from = zonedTime(localDate(to, input.tz) - (RANGE_DAYS[input.range] - 1) * DAY_MS, input.tz);
  }
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new AnalyticsParamError('from/to: not a valid date');
  if (!(from < to)) throw new AnalyticsParamError(`from must be before to (from ${new Date(from).toISOString()}, to ${new Date(to).toISOString()})`);
  if ((to - from) / DAY_MS > MAX_DAYS + 1) throw new AnalyticsParamError(`the range covers ${Math.ceil((to - from) / DAY_MS)} days; at most ${MAX_DAYS}`);
  return { from: new Date(from), to: new Date(to) };
}
