/**
 * "Export what is on screen" of the analytics panel: one of its tables (sessions, recent
 * requests, agents, models, cost per day) for the period shown, as CSV (RFC 4180, formula-safe,
 * with the byte order mark Excel needs; the usage report's own CSV helpers) or JSON. Pure: the
 * dialogs and the file are the panel's (analyticsPanel.ts).
 */
import { csvHeader, csvLine } from '../../conduit/client/reportExport';
import type { AnalyticsData, DailyGroupBy, ExportViewName, SessionUsage } from '../../protocol/webviewMessages';

export interface ViewTable {
  columns: string[];
  rows: unknown[][];
}

const sessionRow = (s: SessionUsage): unknown[] => [
  s.sessionId, s.claudeSessionId ?? null, s.agentNames.join('; '), (s.models ?? []).map((m) => (m.requestedModel && m.requestedModel !== m.model ? `${m.requestedModel} -> ${m.model}` : m.model)).join('; '),
  s.requests, s.tokens, s.cost, s.durationMs ?? null, s.firstAt, s.lastAt, s.firstPrompt ?? null,
];

/** The rows of one table of the panel's data (sessions: the ones passed, e.g. every page). */
export function viewTable(view: ExportViewName, data: AnalyticsData, options: { sessions?: SessionUsage[]; groupBy?: DailyGroupBy } = {}): ViewTable {
  switch (view) {
    case 'sessions':
      return {
        columns: ['sessionId', 'claudeSessionId', 'agents', 'models', 'requests', 'totalTokens', 'cost', 'durationMs', 'firstAt', 'lastAt', 'firstPrompt'],
        rows: (options.sessions ?? data.sessions).map(sessionRow),
      };
    case 'recent':
      return {
        columns: ['at', 'requestId', 'sessionId', 'agent', 'model', 'source', 'totalTokens', 'cost', 'refused'],
        rows: data.recent.map((r) => [r.createdAt, r.requestId, r.sessionId, r.agentName, r.model, r.source ?? null, r.tokens, r.cost, r.refused === true]),
      };
    case 'agents':
      return {
        columns: ['agentId', 'agent', 'requests', 'totalTokens', 'cost', 'share'],
        rows: data.agents.map((a) => [a.agentId, a.name ?? 'No agent', a.requests, a.tokens, a.cost, a.share ?? null]),
      };
    case 'models':
      return {
        columns: ['model', 'requests', 'inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens', 'totalTokens', 'cost', 'cacheSavings', 'priceKnown', 'retiredSince'],
        rows: data.models.map((m) => [m.model, m.requests, m.split?.inputTokens ?? null, m.split?.outputTokens ?? null, m.split?.cacheCreationTokens ?? null,
          m.split?.cacheReadTokens ?? null, m.tokens, m.cost, m.cacheSavings ?? null, m.priceKnown ?? null, m.retired?.since ?? null]),
      };
    case 'daily': {
      const groupBy = options.groupBy ?? 'model';
      const daily = data.daily?.[groupBy];
      const rows: unknown[][] = [];
      for (const day of daily?.days ?? []) {
        for (const k of daily?.keys ?? []) {
          const c = day.byKey[k.key];
          if (c) rows.push([day.date, k.label, c.requests, c.tokens, c.cost]);
        }
      }
      return { columns: ['date', groupBy, 'requests', 'totalTokens', 'cost'], rows };
    }
  }
}

/** The file's text: CSV with a header row, or JSON {meta, rows: [{column: value}]}. */
export function viewFile(format: 'csv' | 'json', table: ViewTable, meta: Record<string, unknown>): string {
  if (format === 'csv') return `\uFEFF${csvLine(table.columns.map(csvHeader))}${table.rows.map(csvLine).join('')}`;
  const rows = table.rows.map((r) => Object.fromEntries(table.columns.map((c, i) => [c, r[i] ?? null])));
  return `${JSON.stringify({ meta, rows }, null, 2)}\n`;
}
