// The gateway's journal in words for the status bar (no VS Code API here, so it is unit-tested).
import type { JournalHealth } from '../../protocol/usage';

/**
 * What is wrong with the gateway's journal, or null: records waiting in memory for a disk
 * that refuses them (lost if the gateway stops first), or records already lost.
 */
export function journalProblem(journal: JournalHealth | null | undefined): string | null {
  if (!journal) return null;
  const lost = journal.lost ? `${journal.lost} usage record(s) lost` : '';
  if (journal.state === 'ok') return lost || null;
  const waiting = `journal degraded: ${journal.error ?? 'writes fail'}; ${journal.pending} usage record(s) wait in memory until the disk takes them`;
  return lost ? `${waiting}; ${lost}` : waiting;
}
