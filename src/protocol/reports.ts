/**
 * Usage reports: ROUTES.usageReport (the local access token in x-conduit-token, as every
 * route of the table).
 *
 * Query parameters (each at most once; unknown ones are refused with 400):
 *   from      start: a date (2026-11-01, the local midnight in tz), a local date-time
 *             (2026-11-01T09:30) or one with an offset (2026-11-01T09:30:00Z). Omitted:
 *             the first recorded request.
 *   to        end, exclusive; a date means the END of that local day (so from=to=a date is
 *             that one day). Omitted: now.
 *   tz        IANA zone for dates, days and months (default UTC).
 *   groupBy   comma-separated dimensions, in the order rows are sorted by (default
 *             project,agent,model,day): project, agent, model, day, month, session.
 *   project   workspace key or id; agent: agent id (SYNAPSE_AGENT_ID) or uuid.
 *
 * Answer: 200 with an NDJSON stream (application/x-ndjson), one JSON object per line:
 *   1. {"type":"meta", ...ReportMeta}       the resolved range and filters, groupBy, and
 *                                            totalRows: how many row lines follow
 *   2. {"type":"row", ...UsageReportRow}     totalRows times, sorted by groupBy
 *   3. {"type":"totals", ...ReportMeasures} the sums over every row; always the last line
 * A failure after the first line is sent as {"type":"error","error":{type,message}} and
 * the stream ends; a stream that ends without "totals" was cut. Progress = rows received
 * / meta.totalRows. Before the first line, errors are Anthropic-shaped JSON as on the
 * other routes: 400 bad parameter, 401 token, 503 (Retry-After) while the store opens.
 *
 * Measures: token counts as the provider reported them; totalTokens = input + output +
 * cache creation + cache read (src/protocol/measures.ts, the same in the analytics API and
 * every view). cost is USD, null when no request of
 * the row had a known price (unknown is never 0); unknownCostRequests counts those
 * without one. The whole report is computed at once in the ledger's worker (hourly
 * rollups plus usage rows at the edges, so it agrees with the analytics API exactly)
 * and handed out in pages.
 */
import { TOKEN_MEASURES, type TokenMeasures } from './measures';
import { urlOf } from './route';
import { ROUTES } from './routes';

export const REPORT_DIMENSIONS = ['project', 'agent', 'model', 'day', 'month', 'session'] as const;
export type ReportDimension = (typeof REPORT_DIMENSIONS)[number];
export const DEFAULT_GROUP_BY: ReportDimension[] = ['project', 'agent', 'model', 'day'];

export const REPORT_PARAMS = ['from', 'to', 'tz', 'groupBy', 'project', 'agent'] as const;

export interface ReportMeasures extends TokenMeasures {
  requests: number;
  errors: number;
  /** input + output + cache creation + cache read. */
  totalTokens: number;
  /** USD; null when no request in the row had a known price. */
  cost: number | null;
  unknownCostRequests: number;
}

/** One row; only the fields of the grouped dimensions are present. */
export interface UsageReportRow extends ReportMeasures {
  /** project: the workspace key and name (null: requests without a project). */
  projectKey?: string | null;
  projectName?: string | null;
  /** agent: the agent's id as the wrapper passes it (SYNAPSE_AGENT_ID), else its uuid; null: no agent. */
  agentId?: string | null;
  agentName?: string | null;
  model?: string;
  /** day: YYYY-MM-DD in tz. */
  day?: string;
  /** month: YYYY-MM in tz. */
  month?: string;
  /** session: Conduit's session id (one conduit-claude run; null: requests without one), and its first and last request in the range. */
  sessionId?: string | null;
  firstAt?: string;
  lastAt?: string;
}

export interface ReportMeta {
  version: 1;
  from: string;
  to: string;
  tz: string;
  groupBy: ReportDimension[];
  project: { key: string; name: string } | null;
  agent: string | null;
  totalRows: number;
  generatedAt: string;
}

export type ReportLine =
  | ({ type: 'meta' } & ReportMeta)
  | ({ type: 'row' } & UsageReportRow)
  | ({ type: 'totals' } & ReportMeasures)
  | { type: 'error'; error: { type: string; message: string } };

/** What a caller asks for (the query string's parameters). */
export interface ReportQuery {
  from?: string;
  to?: string;
  tz?: string;
  groupBy?: ReportDimension[];
  project?: string;
  agent?: string;
}

/** The path of a report's request (ROUTES.usageReport): the parameters given, groupBy comma-separated. */
export function reportQueryString(q: ReportQuery): string {
  const given = (value: string | undefined) => value || undefined;
  return urlOf(ROUTES.usageReport, {
    query: {
      from: given(q.from), to: given(q.to), tz: given(q.tz), groupBy: q.groupBy?.join(','), project: given(q.project), agent: given(q.agent),
    },
  });
}

/** The fields each dimension contributes to a row, in column order. */
export const DIMENSION_FIELDS: Record<ReportDimension, (keyof UsageReportRow)[]> = {
  project: ['projectKey', 'projectName'],
  agent: ['agentId', 'agentName'],
  model: ['model'],
  day: ['day'],
  month: ['month'],
  session: ['sessionId', 'firstAt', 'lastAt'],
};

export const MEASURE_FIELDS: (keyof ReportMeasures)[] = [
  'requests', 'errors', ...TOKEN_MEASURES, 'totalTokens', 'cost', 'unknownCostRequests',
];

/** Columns of a flat export (CSV): the grouped dimensions' fields, then the measures. */
export function reportColumns(groupBy: readonly ReportDimension[]): (keyof UsageReportRow)[] {
  return [...groupBy.flatMap((d) => DIMENSION_FIELDS[d]), ...MEASURE_FIELDS];
}

/** Checks one parsed NDJSON line of a report stream; throws with what is wrong. */
export function checkReportLine(value: unknown): ReportLine {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('a report line is not a JSON object');
  const v = value as Record<string, unknown>;
  const numbers = (keys: readonly string[]) => {
    for (const k of keys) {
      if (k === 'cost' ? !(v[k] === null || typeof v[k] === 'number') : typeof v[k] !== 'number') {
        throw new Error(`a report ${String(v.type)} line has no valid ${k}`);
      }
    }
  };
  switch (v.type) {
    case 'meta':
      if (typeof v.totalRows !== 'number' || !Number.isInteger(v.totalRows) || v.totalRows < 0) throw new Error('the report meta line has no valid totalRows');
      if (!Array.isArray(v.groupBy) || typeof v.from !== 'string' || typeof v.to !== 'string' || typeof v.tz !== 'string') throw new Error('the report meta line is incomplete');
      return v as ReportLine;
    case 'row':
    case 'totals':
      numbers(MEASURE_FIELDS);
      return v as ReportLine;
    case 'error': {
      const e = v.error as Record<string, unknown> | undefined;
      if (!e || typeof e.message !== 'string') throw new Error('a report error line has no message');
      return v as ReportLine;
    }
    default:
      throw new Error(`unknown report line type ${JSON.stringify(v.type)}`.slice(0, 120));
  }
}
