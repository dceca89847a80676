/**
 * The durable journal: every request's record, appended as its reply ends, one JSON line
 * each, in CONDUIT_HOME/journal/YYYY-MM-DD.ndjson (UTC day). A record counts as written
 * when its line is on disk (fdatasync); lines that arrive while a write is in flight are
 * written together with the next one (group commit), so one disk sync serves many
 * requests and nothing waits on the request path.
 */
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { UsageRecord } from '../../protocol/usage';

interface Pending { line: string; day: string; done: (err?: Error) => void }

export class Journal {
  private queue: Pending[] = [];
  private writing: Promise<void> | null = null;
  private file: { day: string; handle: FileHandle } | null = null;
  private closed = false;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Resolves once the record is on disk. */
  append(record: UsageRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('journal is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ line: `${JSON.stringify(record)}\n`, day: record.endedAt.slice(0, 10), done: (err) => (err ? reject(err) : resolve()) });
      this.writing ??= this.drain();
    });
  }

  /** Waits for everything appended so far to be on disk, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.writing;
    await this.file?.handle.close();
    this.file = null;
  }

  fileFor(day: string): string {
    return path.join(this.dir, `${day}.ndjson`);
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue;
        this.queue = [];
        // Lines of one batch can straddle midnight: write each day's lines to its file.
        const byDay = new Map<string, Pending[]>();
        for (const p of batch) byDay.set(p.day, [...(byDay.get(p.day) ?? []), p]);
        for (const [day, items] of byDay) {
          try {
            const handle = await this.handleFor(day);
            await handle.appendFile(items.map((p) => p.line).join(''));
            await handle.datasync();
            for (const p of items) p.done();
          } catch (err) {
            for (const p of items) p.done(err as Error);
          }
        }
      }
    } finally {
      this.writing = null;
    }
  }

  private async handleFor(day: string): Promise<FileHandle> {
    if (this.file?.day === day) return this.file.handle;
    await this.file?.handle.close();
    const handle = await open(this.fileFor(day), 'a', 0o600);
    this.file = { day, handle };
    return handle;
  }
}
