/**
 * "Conduit: Export Usage Report": asks for a range, a format and a file, then writes the
 * report with progress (cancellable) and opens it. Only the dialogs live here; fetching,
 * CSV/JSON, atomic writing and the ranges are src/conduit/client/reportExport.ts.
 */
import * as vscode from 'vscode';
import os from 'node:os';
import path from 'node:path';
import { conduitPaths } from '../../conduit/client/paths';
import { readAccessToken } from '../../conduit/client/accessTokenFile';
import {
  checkDate, checkDateRange, exportUsageReport, presetRange, reportFileName, type RangePreset, type ReportFormat,
} from '../../conduit/client/reportExport';
import { DEFAULT_GROUP_BY } from '../../protocol/reports';
import { GatewayUnavailableError } from '../gateway/gatewayApi';
import type { GatewaySupervisor } from '../gateway/supervisor';
import type { Settings } from '../settings';

export interface ExportCommandDeps {
  supervisor: GatewaySupervisor;
  settings: Settings;
  log: vscode.LogOutputChannel;
}

const PRESETS: { label: string; preset: RangePreset }[] = [
  { label: 'Today', preset: 'today' },
  { label: 'This Week', preset: 'thisWeek' },
  { label: 'This Month', preset: 'thisMonth' },
  { label: 'Last Month', preset: 'lastMonth' },
];

async function pickRange(tz: string): Promise<{ from: string; to: string } | undefined> {
  const now = new Date();
  const items = [
    ...PRESETS.map((p) => {
      const r = presetRange(p.preset, now, tz);
      return { label: p.label, description: r.from === r.to ? r.from : `${r.from} – ${r.to}`, range: r as { from: string; to: string } | null };
    }),
    { label: 'Custom Dates…', description: 'first and last day', range: null },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Export Usage Report', placeHolder: `Which days? (${tz})` });
  if (!pick) return undefined;
  if (pick.range) return pick.range;
  const month = presetRange('thisMonth', now, tz);
  const from = await vscode.window.showInputBox({
    title: 'Export Usage Report: first day', prompt: 'First day (YYYY-MM-DD)', value: month.from, ignoreFocusOut: true,
    validateInput: (v) => checkDate(v) ?? undefined,
  });
  if (!from) return undefined;
  const to = await vscode.window.showInputBox({
    title: 'Export Usage Report: last day', prompt: 'Last day, included (YYYY-MM-DD)', value: month.to, ignoreFocusOut: true,
    validateInput: (v) => checkDateRange(from, v) ?? undefined,
  });
  if (!to) return undefined;
  return { from: from.trim(), to: to.trim() };
}

export async function exportUsageReportCommand(d: ExportCommandDeps): Promise<void> {
  if (d.supervisor.state.health !== 'running') throw new GatewayUnavailableError();
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const range = await pickRange(tz);
  if (!range) return;
  const format = (await vscode.window.showQuickPick(
    [
      { label: 'CSV', description: 'for spreadsheets: a row per project, agent, model and day, then the totals', format: 'csv' as ReportFormat },
      { label: 'JSON', description: 'meta, rows and totals', format: 'json' as ReportFormat },
    ],
    { title: 'Export Usage Report', placeHolder: 'Format' },
  ))?.format;
  if (!format) return;
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath ?? os.homedir();
  const uri = await vscode.window.showSaveDialog({
    title: 'Export Usage Report',
    defaultUri: vscode.Uri.file(path.join(folder, reportFileName(range, format))),
    filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
    saveLabel: 'Export',
  });
  if (!uri) return;
  if (uri.scheme !== 'file') throw new Error('the report is written by the gateway\'s machine: choose a file on a local disk');

  // Again: the gateway may have stopped while the dialogs were open.
  const { port, health } = d.supervisor.state;
  if (health !== 'running' || port === null) throw new GatewayUnavailableError();
  const token = readAccessToken(conduitPaths(d.settings.home).token);

  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Conduit: exporting usage report', cancellable: true },
      (progress, cancel) => {
        const controller = new AbortController();
        cancel.onCancellationRequested(() => controller.abort(new vscode.CancellationError()));
        let percent = 0;
        return exportUsageReport({
          gateway: { port, token },
          query: { from: range.from, to: range.to, tz, groupBy: [...DEFAULT_GROUP_BY] },
          format,
          file: uri.fsPath,
          signal: controller.signal,
          onProgress: ({ done, total }) => {
            const next = total ? (done / total) * 100 : 100;
            progress.report({ increment: next - percent, message: `${done.toLocaleString()} of ${total.toLocaleString()} rows` });
            percent = next;
          },
        });
      },
    );
    d.log.info(`usage report ${range.from} to ${range.to} (${tz}): ${result.rows} rows written to ${result.file}`);
    await vscode.commands.executeCommand('vscode.open', uri);
  } catch (err) {
    if (err instanceof vscode.CancellationError) {
      void vscode.window.showInformationMessage('Usage report export cancelled; no file was written.');
      return;
    }
    throw err;
  }
}
