/**
 * The extension's side of the usage analytics panel: answers its requests (a range's
 * analytics, a page of sessions, the Team view), runs "Add a price" (asks for the figures,
 * stores them through the gateway, then the panel refreshes) and "Export" of a table on
 * screen (asks the same query again and writes it with the report code). panels.ts wires it
 * to each panel.
 */
import * as vscode from 'vscode';
import os from 'node:os';
import path from 'node:path';
import type { UsageRecord } from '../../protocol/usage';
import { isOfSession } from '../../protocol/session';
import type {
  AnalyticsHostMessage, AnalyticsPeriod, AnalyticsRequests, AnalyticsWebviewMessage, ExportViewMessage, SessionUsage,
} from '../../protocol/webviewMessages';
import type { ChannelHandlers } from '../../protocol/channel';
import { call } from '../../conduit/client/call';
import { ROUTES } from '../../protocol/routes';
import type { GatewayApi } from '../gateway/gatewayApi';
import { viewFile, viewTable } from '../reports/viewExport';
import { TeamAnalyticsError, isNotRunning, loadAnalytics, loadSessionsPage, loadTeamAnalytics } from './analyticsData';

export interface AnalyticsPanelTarget {
  api: GatewayApi;
  /** The workspace's project (null: every project). */
  projectKey: string | null;
  projectName: string | null;
  /** The session the panel is scoped to (null: the project). */
  sessionId: string | null;
  /** Records seen live that the store may not have ingested yet. */
  recentRecords(): readonly UsageRecord[];
  post(message: AnalyticsHostMessage): void;
  openSession(sessionId: string): void;
  /** Ask every analytics panel to fetch again (a price changed every cost). */
  refreshAll(): void;
}

const periodOf = (m: { range: AnalyticsPeriod['range']; from?: string; to?: string }): AnalyticsPeriod => ({ range: m.range, ...(m.range === 'custom' ? { from: m.from, to: m.to } : {}) });

/** The panel's requests: a range's analytics, a page of sessions, the Team view; each answered with its figures or why not. */
export function analyticsRequests(t: AnalyticsPanelTarget): ChannelHandlers<AnalyticsRequests> {
  return {
    async requestAnalytics(m) {
      try {
        // A session's panel: the session's whole life, whatever the period asked (analyticsData asks range=session).
        const data = await loadAnalytics(t.api, t.projectKey, periodOf(m), 60_000, t.sessionId);
        const scope = t.sessionId ? `session ${t.sessionId}` : t.projectName ?? 'All projects';
        // The store ingests a moment after a reply ends: records seen live that the fetch did
        // not include yet are folded in (the view, waiting for this answer, keeps them for it
        // and skips ones it already has).
        for (const record of t.recentRecords()) {
          const inScope = (!t.projectKey || record.context.projectId === t.projectKey) && (!t.sessionId || isOfSession(record.context, t.sessionId));
          if (inScope) t.post({ type: 'usageEvent', record });
        }
        return { type: 'analytics', data: { ...data, scopeLabel: scope } };
      } catch (err) {
        return isNotRunning(err)
          ? { type: 'analyticsError', problem: 'notRunning', message: 'The Conduit gateway is not running yet.' }
          : { type: 'analyticsError', problem: 'failed', message: (err as Error).message };
      }
    },
    async requestSessions(m) {
      try {
        return { type: 'sessionsPage', page: await loadSessionsPage(t.api, t.projectKey, periodOf(m), m.sort, m.offset, t.sessionId) };
      } catch (err) {
        return { type: 'analyticsError', problem: isNotRunning(err) ? 'notRunning' : 'failed', message: (err as Error).message };
      }
    },
    async requestTeamAnalytics(m) {
      try {
        return { type: 'teamAnalytics', data: await loadTeamAnalytics(t.api, t.projectKey, periodOf(m)) };
      } catch (err) {
        const problem = err instanceof TeamAnalyticsError ? err.problem : 'failed';
        return { type: 'teamAnalyticsError', problem, message: (err as Error).message };
      }
    },
  };
}

/** What the panel sends besides its requests. */
export async function onAnalyticsMessage(t: AnalyticsPanelTarget, m: AnalyticsWebviewMessage): Promise<void> {
  switch (m.type) {
    case 'signIn':
      // The command asks for what it needs; afterwards the view asks again (signed in or not).
      try {
        await vscode.commands.executeCommand('conduit.signInSupabase');
      } finally {
        t.post({ type: 'refresh' });
      }
      return;
    case 'openSession':
      t.openSession(m.sessionId); // click-through: the session's own breakdown
      return;
    case 'addPrice':
      await addPrice(t, m.model);
      return;
    case 'exportView':
      await exportView(t, m);
      return;
    case 'ready':
    case 'requestAnalytics':
    case 'requestSessions':
    case 'requestTeamAnalytics':
      return; // requests are answered by analyticsRequests
  }
}

/** USD per million tokens: a finite number, at least 0. */
function checkPrice(text: string): string | undefined {
  const n = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(n) && n >= 0 ? undefined : 'A price in USD per million tokens, e.g. 3 or 0.8';
}

/**
 * Asks for a model's input and output prices and stores them in config.json's prices through
 * the gateway; cache prices follow Anthropic's ratios of the input price (write 1.25x for 5
 * minutes, 2x for an hour, read 0.1x).
 */
async function addPrice(t: AnalyticsPanelTarget, model: string): Promise<void> {
  const ask = (what: string) => vscode.window.showInputBox({
    title: `Price of ${model}`, prompt: `${what} price, USD per million tokens`, ignoreFocusOut: true, validateInput: checkPrice,
  });
  const input = await ask('Input');
  if (input === undefined) return;
  const output = await ask('Output');
  if (output === undefined) return;
  const inputUsd = Number(input);
  const price = { input: inputUsd, output: Number(output), cacheWrite5m: inputUsd * 1.25, cacheWrite1h: inputUsd * 2, cacheRead: inputUsd * 0.1 };
  try {
    await call(t.api, ROUTES.price, { params: { model }, body: price });
    t.post({ type: 'actionResult', action: 'addPrice', ok: true, message: `Price of ${model} saved.` });
    t.refreshAll();
  } catch (err) {
    const message = `Could not save the price of ${model}: ${(err as Error).message}`;
    t.post({ type: 'actionResult', action: 'addPrice', ok: false, message });
    void vscode.window.showErrorMessage(message);
  }
}

/** Every session of the range in the order shown (the table pages; the file has them all). */
async function allSessions(t: AnalyticsPanelTarget, m: ExportViewMessage): Promise<SessionUsage[]> {
  const out: SessionUsage[] = [];
  for (let offset = 0; ;) {
    const page = await loadSessionsPage(t.api, t.projectKey, periodOf(m.params), m.params.sort ?? 'cost', offset, t.sessionId, 200);
    out.push(...page.sessions);
    offset += page.sessions.length;
    if (!page.sessions.length || offset >= page.total) return out;
  }
}

async function exportView(t: AnalyticsPanelTarget, m: ExportViewMessage): Promise<void> {
  try {
    const period = periodOf(m.params);
    const data = await loadAnalytics(t.api, t.projectKey, period, 60_000, t.sessionId);
    const sessions = m.view === 'sessions' ? await allSessions(t, m) : undefined;
    const table = viewTable(m.view, data, { sessions, groupBy: m.params.groupBy });
    const label = data.scope?.label ?? period.range;
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath ?? os.homedir();
    const name = `conduit-${m.view}-${(label).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}.${m.format}`;
    const uri = await vscode.window.showSaveDialog({
      title: `Export ${m.view}`,
      defaultUri: vscode.Uri.file(path.join(folder, name)),
      filters: m.format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
      saveLabel: 'Export',
    });
    if (!uri) return;
    const meta = { view: m.view, period: label, from: data.scope?.from ?? null, to: data.scope?.to ?? null, scope: t.sessionId ? `session ${t.sessionId}` : t.projectName ?? 'All projects', ...(m.params.sort ? { sort: m.params.sort } : {}), ...(m.params.groupBy ? { groupBy: m.params.groupBy } : {}) };
    await vscode.workspace.fs.writeFile(uri, Buffer.from(viewFile(m.format, table, meta), 'utf8'));
    t.post({ type: 'actionResult', action: 'exportView', ok: true, message: `${table.rows.length} rows written to ${uri.fsPath}` });
  } catch (err) {
    const message = `Could not export: ${(err as Error).message}`;
    t.post({ type: 'actionResult', action: 'exportView', ok: false, message });
  }
}
