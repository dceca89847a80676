/**
 * The durable journal: every request's record, appended as its reply ends, one JSON line
 * each, in CONDUIT_HOME/journal/YYYY-MM-DD.ndjson (UTC day). A record counts as written
 * when its line is on disk (fdatasync). Lines that arrive while a write is in flight go
 * to disk together with the next one (group commit): one write and one disk sync serve
 * every request of a batch, and all of them share one promise, so the request path pays
 * for a string and an array push, nothing more.
 */
import { close, fdatasync, mkdirSync, open, write } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { UsageRecord } from '../../protocol/usage';

const openAsync = promisify(open);
const writeAsync = promisify(write);
const syncAsync = promisify(fdatasync);
const closeAsync = promisify(close);

interface Batch {
  lines: { day: string; line: string }[];
  done: Promise<void>;
  settle: (err?: Error) => void;
}

function newBatch(): Batch {
  let settle!: (err?: Error) => void;
  const done = new Promise<void>((resolve, reject) => { settle = (err) => (err ? reject(err) : resolve()); });
  done.catch(() => {}); // a caller that does not wait must not see an unhandled rejection
  return { lines: [], done, settle };
}

export class Journal {
  private next: Batch = newBatch();
  private writing: Promise<void> | null = null;
  private file: { day: string; fd: number } | null = null;
  private closed = false;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Queues the record; the promise (shared by its batch) resolves once it is on disk. */
  append(record: UsageRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('journal is closed'));
    const batch = this.next;
    batch.lines.push({ day: record.endedAt.slice(0, 10), line: `${JSON.stringify(record)}\n` });
    this.writing ??= this.drain();
    return batch.done;
  }

  /** Waits for everything appended so far to be on disk, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.writing;
    if (this.file) await closeAsync(this.file.fd);
    this.file = null;
  }

  fileFor(day: string): string {
    return path.join(this.dir, `${day}.ndjson`);
  }

  private async drain(): Promise<void> {
    // Let the appends of this turn of the event loop join the batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.next.lines.length) {
        const batch = this.next;
        this.next = newBatch();
        try {
          // Lines of one batch can straddle midnight: each day's lines go to its file.
          let start = 0;
          while (start < batch.lines.length) {
            const day = batch.lines[start].day;
            let end = start;
            let text = '';
            while (end < batch.lines.length && batch.lines[end].day === day) text += batch.lines[end++].line;
            const fd = await this.fdFor(day);
            await writeAll(fd, text);
            await syncAsync(fd);
            start = end;
          }
          batch.settle();
        } catch (err) {
          batch.settle(err as Error);
        }
      }
    } finally {
      this.writing = null;
    }
  }

  private async fdFor(day: string): Promise<number> {
    if (this.file?.day === day) return this.file.fd;
    if (this.file) await closeAsync(this.file.fd);
    this.file = null;
    const fd = await openAsync(this.fileFor(day), 'a', 0o600);
    this.file = { day, fd };
    return fd;
  }
}

/** fs.write may write less than asked: write the rest until all of it is out. */
async function writeAll(fd: number, text: string): Promise<void> {
  let buf = Buffer.from(text, 'utf8');
  while (buf.length) {
    const { bytesWritten } = await writeAsync(fd, buf);
    buf = buf.subarray(bytesWritten);
  }
}
