/**
 * The durable journal: every request's record, appended as its reply ends, one JSON line
 * each, in CONDUIT_HOME/journal/YYYY-MM-DD.ndjson (UTC day).
 *
 * The line is written synchronously, before the reply's last byte goes out: once it is
 * in the kernel, killing the gateway (kill -9 at any moment) cannot lose it. The disk
 * sync (fdatasync) that also survives a machine crash follows in the background, once
 * for every line written meanwhile (group commit); append's promise resolves then.
 * One small write per request, no promise or buffer per request on the hot path.
 */
import { closeSync, fdatasync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { UsageRecord } from '../../protocol/usage';

const SYNC_DELAY_MS = 5;

interface SyncBatch {
  done: Promise<void>;
  settle: (err?: Error) => void;
}

function newBatch(): SyncBatch {
  let settle!: (err?: Error) => void;
  const done = new Promise<void>((resolve, reject) => { settle = (err) => (err ? reject(err) : resolve()); });
  done.catch(() => {}); // a caller that does not wait must not see an unhandled rejection
  return { done, settle };
}

export class Journal {
  private file: { day: string; fd: number } | null = null;
  /** Files written since their last sync (more than one when a day ended meanwhile). */
  private dirty = new Set<number>();
  /** Files of past days, closed after their last sync. */
  private retired: number[] = [];
  private batch: SyncBatch | null = null;
  private syncing: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Writes the record's line now; the promise resolves once it is synced to disk. */
  append(record: UsageRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('journal is closed'));
    try {
      const fd = this.fdFor(record.endedAt.slice(0, 10));
      writeAll(fd, Buffer.from(`${JSON.stringify(record)}\n`, 'utf8'));
      this.dirty.add(fd);
    } catch (err) {
      return Promise.reject(err);
    }
    const batch = (this.batch ??= newBatch());
    this.syncing ??= this.syncLoop();
    return batch.done;
  }

  /** Waits for everything appended so far to be on disk, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.syncing;
    if (this.file) closeSync(this.file.fd);
    this.file = null;
  }

  fileFor(day: string): string {
    return path.join(this.dir, `${day}.ndjson`);
  }

  private async syncLoop(): Promise<void> {
    try {
      while (this.batch) {
        // Let the appends of the next few milliseconds join the sync: one fdatasync then
        // serves every request that ended meanwhile. (A killed gateway loses nothing:
        // the lines are already written; the sync is for a machine that goes down.)
        await new Promise<void>((resolve) => setTimeout(resolve, SYNC_DELAY_MS));
        const batch = this.batch;
        const fds = [...this.dirty];
        const retired = this.retired;
        this.batch = null;
        this.dirty = new Set();
        this.retired = [];
        try {
          await Promise.all(fds.map((fd) => new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())))));
          batch.settle();
        } catch (err) {
          batch.settle(err as Error);
        } finally {
          for (const fd of retired) closeSync(fd);
        }
      }
    } finally {
      this.syncing = null;
    }
  }

  private fdFor(day: string): number {
    if (this.file?.day === day) return this.file.fd;
    if (this.file) {
      // Lines of the old day may still await their sync: close it after that.
      if (this.dirty.has(this.file.fd)) this.retired.push(this.file.fd);
      else closeSync(this.file.fd);
    }
    this.file = null;
    const fd = openSync(this.fileFor(day), 'a', 0o600);
    this.file = { day, fd };
    return fd;
  }
}

/** writeSync may write less than asked: write the rest until all of it is out. */
function writeAll(fd: number, buf: Buffer): void {
  let offset = 0;
  while (offset < buf.length) offset += writeSync(fd, buf, offset, buf.length - offset);
}
