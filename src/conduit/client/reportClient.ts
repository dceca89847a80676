/**
 * Reads a usage report from the local gateway (ROUTES.usageReport, NDJSON:
 * src/protocol/reports.ts) as it streams: meta first, then rows, then totals. Used by
 * `conduit usage` and the report export (reportExport.ts). Checks every line, and that
 * the stream holds as many rows as meta announced and ends with totals.
 */
import http from 'node:http';
import { TOKEN_HEADER } from '../../protocol/sessionContext';
import type { GatewayAccess } from './call';
import {
  checkReportLine, reportQueryString, type ReportMeasures, type ReportMeta, type ReportQuery, type UsageReportRow,
} from '../../protocol/reports';

/** Why a report could not be read; `status` is the gateway's HTTP status when it answered with an error. */
export class ReportError extends Error {
  constructor(message: string, readonly status: number | null = null) {
    super(message);
    this.name = 'ReportError';
  }
}

export type ReportEvent =
  | { type: 'meta'; meta: ReportMeta }
  | { type: 'row'; row: UsageReportRow; index: number }
  | { type: 'totals'; totals: ReportMeasures };

export interface ReadReportOptions {
  signal?: AbortSignal;
  /** Longest silence from the gateway (the report is computed before the first line). */
  idleTimeoutMs?: number;
}

/** The line without its "type". */
function strip<T extends { type: string }>(value: T): Omit<T, 'type'> {
  const { type: _type, ...rest } = value;
  return rest;
}

/** The report's lines as they arrive. Breaking out of the loop closes the connection. */
export async function* readUsageReport(gateway: GatewayAccess, query: ReportQuery, options: ReadReportOptions = {}): AsyncGenerator<ReportEvent> {
  const { signal } = options;
  signal?.throwIfAborted();
  const headers: Record<string, string> = { host: `127.0.0.1:${gateway.port}`, accept: 'application/x-ndjson' };
  if (gateway.token) headers[TOKEN_HEADER] = gateway.token;
  const req = http.request({ host: '127.0.0.1', port: gateway.port, method: 'GET', path: reportQueryString(query), headers, agent: false, ...(signal ? { signal } : {}) });
  const idleMs = options.idleTimeoutMs ?? 60_000;
  req.setTimeout(idleMs, () => req.destroy(new ReportError(`the gateway sent nothing for ${idleMs / 1000} s`)));
  try {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', (err: NodeJS.ErrnoException) => {
        reject(err.code === 'ECONNREFUSED' ? new ReportError(`nothing answers on 127.0.0.1:${gateway.port}: the gateway is not running`) : err);
      });
      req.end();
    });
    res.setEncoding('utf8');
    if (res.statusCode !== 200) {
      let body = '';
      for await (const chunk of res) body += chunk as string;
      let message = `the gateway answered HTTP ${res.statusCode}`;
      try {
        const m = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
        if (typeof m === 'string') message = m.replace(/^\[conduit\] /, '');
      } catch { /* not JSON: keep the status */ }
      throw new ReportError(message, res.statusCode ?? null);
    }
    let buffer = '';
    let meta: ReportMeta | null = null;
    let rows = 0;
    let totals = false;
    const handle = (line: string): ReportEvent | null => {
      if (!line.trim()) return null;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new ReportError('the gateway sent a report line that is not JSON');
      }
      let checked;
      try {
        checked = checkReportLine(parsed);
      } catch (err) {
        throw new ReportError((err as Error).message);
      }
      if (checked.type === 'error') throw new ReportError(checked.error.message.replace(/^\[conduit\] /, ''));
      if (totals) throw new ReportError('the report went on after its totals');
      if (checked.type === 'meta') {
        if (meta) throw new ReportError('the report has two meta lines');
        meta = strip(checked);
        return { type: 'meta', meta };
      }
      if (!meta) throw new ReportError('the report did not start with its meta line');
      if (checked.type === 'row') {
        if (rows >= meta.totalRows) throw new ReportError(`the report sent more rows than the ${meta.totalRows} it announced`);
        return { type: 'row', row: strip(checked), index: rows++ };
      }
      if (rows !== meta.totalRows) throw new ReportError(`the report ended after ${rows} of ${meta.totalRows} rows`);
      totals = true;
      return { type: 'totals', totals: strip(checked) };
    };
    for await (const chunk of res) {
      buffer += chunk as string;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const event = handle(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (event) yield event;
      }
    }
    const last = handle(buffer);
    if (last) yield last;
    if (!totals) {
      const seen = meta as ReportMeta | null;
      throw new ReportError(seen ? `the report was cut after ${rows} of ${seen.totalRows} rows` : 'the report was empty');
    }
  } catch (err) {
    if (signal?.aborted) throw signal.reason ?? err;
    throw err;
  } finally {
    req.destroy();
  }
}

/** The whole report in memory (for reports of aggregated rows, such as the CLI's). */
export async function fetchUsageReport(gateway: GatewayAccess, query: ReportQuery, options: ReadReportOptions = {}): Promise<{ meta: ReportMeta; rows: UsageReportRow[]; totals: ReportMeasures }> {
  let meta: ReportMeta | null = null;
  let totals: ReportMeasures | null = null;
  const rows: UsageReportRow[] = [];
  for await (const e of readUsageReport(gateway, query, options)) {
    if (e.type === 'meta') meta = e.meta;
    else if (e.type === 'row') rows.push(e.row);
    else totals = e.totals;
  }
  return { meta: meta!, rows, totals: totals! };
}
