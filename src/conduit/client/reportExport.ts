/**
 * Writes a usage report to a file as CSV or JSON: the writer behind the extension's
 * "Conduit: Export Usage Report" (no 'vscode' here, so it is tested with plain mocha).
 *
 * - Streams: rows go from the gateway's NDJSON to the file as they arrive.
 * - Atomic: the file is written under a temporary name in the same folder and renamed
 *   over the target only when complete; a failure or a cancellation removes the temporary
 *   file and leaves the target as it was.
 * - CSV is RFC 4180 (CRLF, quotes doubled, fields with , " CR LF quoted), and safe to open
 *   in a spreadsheet: a text cell starting with = + - @ (or tab, CR) gets a leading ' so it
 *   is not run as a formula. The last row holds the totals.
 * - JSON is {"meta": ..., "rows": [...], "totals": ...}.
 * - Progress goes to a callback (rows written, rows in all), never backwards, ending at
 *   the total; an AbortSignal cancels.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  MEASURE_FIELDS, reportColumns, type ReportMeasures, type ReportMeta, type ReportQuery, type UsageReportRow,
} from '../../protocol/reports';
import type { GatewayAccess } from './call';
import { readUsageReport, type ReportEvent } from './reportClient';

export type ReportFormat = 'csv' | 'json';

export interface ReportProgress {
  done: number;
  total: number;
}

export interface ExportReportOptions {
  gateway: GatewayAccess;
  query: ReportQuery;
  format: ReportFormat;
  /** The file to write (replaced when it exists). */
  file: string;
  signal?: AbortSignal;
  onProgress?: (progress: ReportProgress) => void;
  /** Where the report's lines come from (default: the gateway); tests pass their own. */
  read?: (gateway: GatewayAccess, query: ReportQuery, options: { signal?: AbortSignal }) => AsyncIterable<ReportEvent>;
}

export interface ExportResult {
  file: string;
  rows: number;
  meta: ReportMeta;
  totals: ReportMeasures;
}

/** Rows between two progress reports (and the most buffered before a write). */
const BATCH_ROWS = 500;

// ---------------------------------------------------------------------------------------
// CSV

/** A text cell that a spreadsheet would read as a formula gets a leading apostrophe. */
export function neutralizeFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** One CSV field (RFC 4180): text is formula-neutralized, then quoted when it must be. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = neutralizeFormula(String(value));
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/** Column header: projectKey → project_key; cost → cost_usd. */
export function csvHeader(field: string): string {
  return field === 'cost' ? 'cost_usd' : field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

// ---------------------------------------------------------------------------------------
// Writing

interface Writer {
  begin(meta: ReportMeta): string;
  row(row: UsageReportRow, index: number): string;
  end(totals: ReportMeasures): string;
}

function csvWriter(): Writer {
  let columns: (keyof UsageReportRow)[] = [];
  let dimensionCount = 0;
  return {
    begin(meta) {
      columns = reportColumns(meta.groupBy);
      dimensionCount = columns.length - MEASURE_FIELDS.length;
      // A UTF-8 byte order mark: without it Excel reads the file as the system's code page
      // and garbles non-ASCII project and agent names.
      return `\uFEFF${csvLine(columns.map(csvHeader))}`;
    },
    row(row) {
      return csvLine(columns.map((c) => row[c]));
    },
    end(totals) {
      const dims = Array.from({ length: dimensionCount }, (_, i) => (i === 0 ? 'Total' : null));
      return csvLine([...dims, ...MEASURE_FIELDS.map((m) => totals[m])]);
    },
  };
}

function jsonWriter(): Writer {
  return {
    begin(meta) {
      return `{\n  "meta": ${JSON.stringify(meta)},\n  "rows": [`;
    },
    row(row, index) {
      return `${index === 0 ? '\n' : ',\n'}    ${JSON.stringify(row)}`;
    },
    end(totals) {
      return `\n  ],\n  "totals": ${JSON.stringify(totals)}\n}\n`;
    },
  };
}

/** Fetches the report and writes it to `file` atomically; see the top of this file. */
export async function exportUsageReport(options: ExportReportOptions): Promise<ExportResult> {
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const file = path.resolve(options.file);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
  const writer = options.format === 'csv' ? csvWriter() : jsonWriter();
  const read = options.read ?? readUsageReport;
  const handle = await open(tmp, 'wx');
  let closed = false;
  try {
    let meta: ReportMeta | null = null;
    let totals: ReportMeasures | null = null;
    let pending = '';
    let done = 0;
    let reported = -1;
    const progress = () => {
      if (!meta || done === reported) return;
      reported = done;
      onProgress?.({ done, total: meta.totalRows });
    };
    const flush = async () => {
      if (pending) await handle.write(pending);
      pending = '';
    };
    for await (const e of read(options.gateway, options.query, signal ? { signal } : {})) {
      if (e.type === 'meta') {
        meta = e.meta;
        pending += writer.begin(meta);
        progress();
      } else if (e.type === 'row') {
        pending += writer.row(e.row, e.index);
        done++;
        if (done % BATCH_ROWS === 0) {
          await flush();
          progress();
        }
      } else {
        totals = e.totals;
      }
    }
    if (!meta || !totals) throw new Error('the report ended before its totals');
    pending += writer.end(totals);
    await flush();
    signal?.throwIfAborted();
    await handle.sync();
    await handle.close();
    closed = true;
    await rename(tmp, file);
    progress();
    return { file, rows: done, meta, totals };
  } catch (err) {
    if (!closed) await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------
// Ranges offered by the export command

export type RangePreset = 'today' | 'thisWeek' | 'thisMonth' | 'lastMonth';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function localDate(now: Date, tz: string): { y: number; m: number; d: number; weekday: number } {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short' })
    .formatToParts(now).map((p) => [p.type, p.value]));
  const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(parts.weekday);
  return { y: Number(parts.year), m: Number(parts.month), d: Number(parts.day), weekday };
}

/** A calendar date (UTC arithmetic on dates only, so no zone or DST enters). */
function ymd(y: number, m: number, d: number): string {
  return new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);
}

/** The local dates (both inclusive) of a preset in a time zone; weeks start on Monday. */
export function presetRange(preset: RangePreset, now: Date, tz: string): { from: string; to: string } {
  const t = localDate(now, tz);
  const today = ymd(t.y, t.m, t.d);
  switch (preset) {
    case 'today': return { from: today, to: today };
    case 'thisWeek': return { from: ymd(t.y, t.m, t.d - t.weekday), to: today };
    case 'thisMonth': return { from: ymd(t.y, t.m, 1), to: today };
    case 'lastMonth': return { from: ymd(t.y, t.m - 1, 1), to: ymd(t.y, t.m, 0) };
  }
}

/** Checks a typed date (YYYY-MM-DD, a real calendar date); null when fine, else why not. */
export function checkDate(text: string): string | null {
  const m = DATE.exec(text.trim());
  if (!m) return 'Use the form YYYY-MM-DD, e.g. 2026-11-01';
  if (ymd(Number(m[1]), Number(m[2]), Number(m[3])) !== text.trim()) return `${text.trim()} is not a date of the calendar`;
  return null;
}

/** Checks a custom range; null when fine, else why not. */
export function checkDateRange(from: string, to: string): string | null {
  const problem = checkDate(from) ?? checkDate(to);
  if (problem) return problem;
  if (from.trim() > to.trim()) return `The end (${to.trim()}) is before the start (${from.trim()})`;
  return null;
}

/** A file name for a report of a range: conduit-usage-2026-11-01-to-2026-11-30.csv. */
export function reportFileName(range: { from: string; to: string }, format: ReportFormat): string {
  return range.from === range.to ? `conduit-usage-${range.from}.${format}` : `conduit-usage-${range.from}-to-${range.to}.${format}`;
}
