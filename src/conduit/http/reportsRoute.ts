/**
 * GET /v1/conduit/reports/usage?from=&to=&tz=&groupBy=&project=&agent=
 *
 * The report runs in the ledger's worker and stays there; this route reads it a page at a
 * time and writes NDJSON (meta, rows, totals: src/protocol/reports.ts), waiting for the
 * socket to drain between pages, and stops (dropping the report) when the client goes.
 * The token check happens before (server.ts).
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../core/log';
import { AnalyticsParamError } from '../ledger/store/analytics';
import { parseReportParams } from '../ledger/store/reports';
import { LedgerUnavailableError, type LedgerService, type UsageReportHandle } from '../ledger/service';
import { ROUTES } from '../../protocol/routes';
import { GatewayError } from './errors';
import { serve, storeOf, type ServedRoute } from './routeTable';

export interface ReportsRouteDeps {
  ledger?: LedgerService | null;
  log: Logger;
}

/** Rows per page read from the worker (and per write to the socket). */
export const REPORT_PAGE_ROWS = 2_000;

export function reportsRoutes(deps: ReportsRouteDeps): ServedRoute[] {
  return [serve(ROUTES.usageReport, async ({ search, res }) => {
    await streamReport(res, search, deps);
    // The answer is the stream written; nothing else is sent.
    return undefined as never;
  }, { writesItsAnswer: true })];
}

async function streamReport(res: ServerResponse, search: URLSearchParams, deps: ReportsRouteDeps): Promise<void> {
  const params = parseReportParams(search);
  const ledger = storeOf(deps.ledger);
  let report: UsageReportHandle;
  try {
    report = await ledger.report(params);
  } catch (err) {
    if (err instanceof AnalyticsParamError || err instanceof LedgerUnavailableError) throw err;
    deps.log.error(`report: ${(err as Error)?.stack ?? String(err)}`);
    throw new GatewayError('api_error', `the report failed: ${(err as Error)?.message ?? String(err)}`);
  }

  let gone = false;
  const onGone = () => { gone = true; };
  res.once('close', onGone);
  try {
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-conduit-report-rows': String(report.meta.totalRows) });
    res.write(`${JSON.stringify({ type: 'meta', ...report.meta })}\n`);
    for (let offset = 0; offset < report.meta.totalRows && !gone; offset += REPORT_PAGE_ROWS) {
      const rows = await report.page(offset, REPORT_PAGE_ROWS);
      if (gone) break;
      let chunk = '';
      for (const row of rows) chunk += `${JSON.stringify({ type: 'row', ...row })}\n`;
      if (!res.write(chunk)) await drained(res);
    }
    if (!gone) res.end(`${JSON.stringify({ type: 'totals', ...report.totals })}\n`);
  } catch (err) {
    deps.log.error(`report: ${(err as Error)?.stack ?? String(err)}`);
    if (!gone) res.end(`${JSON.stringify({ type: 'error', error: { type: 'api_error', message: `[conduit] the report failed: ${(err as Error)?.message ?? String(err)}` } })}\n`);
  } finally {
    res.off('close', onGone);
    report.close();
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
