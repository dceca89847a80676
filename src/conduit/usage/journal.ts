/**
 * The durable journal: every request's record, appended as its reply ends, one JSON line
 * each, in CONDUIT_HOME/journal/YYYY-MM-DD.ndjson (UTC day).
 *
 * The line is written synchronously, before the reply's last byte goes out: once it is
 * in the kernel, killing the gateway (kill -9 at any moment) cannot lose it. The disk
 * sync (fdatasync) that also survives a machine crash follows in the background, once
 * for every line written meanwhile (group commit); append's promise resolves then.
 * One small write per request, no promise or buffer per request on the hot path.
 *
 * A disk that refuses a write (full, read-only, gone) does not lose the record: its line
 * waits in memory (bounded), with every later one in order, and is written on the next
 * append or by a retry timer once the disk takes it again; health() says "degraded"
 * meanwhile. A write cut short is cut back out of the file at once, so no torn line of
 * this run stays behind; a torn line left by a run that died mid-write is ended with a
 * newline before the next line, so that line parses (the reader sets the fragment aside).
 */
import { EventEmitter } from 'node:events';
import { closeSync, fdatasync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { JournalHealth, UsageRecord } from '../../protocol/usage';
import { silentLogger, type Logger } from '../core/log';
import { JOURNAL_FILE } from '../ledger/store/journalReader';
import { storableJson } from './storableText';

/**
 * How long the lines written after a sync wait for the next one. A sync costs this kind
 * of machine (a VM, where each system call and disk flush is dear) about 600 µs of CPU
 * whatever it carries; every 5 ms under load it was about 10 µs of CPU per request (a
 * benchmark of the journal alone). 50 ms: a machine that goes down may lose the records
 * of its last 50 ms instead of 5 ms; a killed gateway still loses none (see above).
 */
const SYNC_DELAY_MS = 50;
/** How often lines the disk refused are tried again when no append comes to try them. */
const RETRY_MS = 1_000;
/** Lines kept in memory while the disk refuses them; beyond this a record is lost (and counted). */
const MAX_PENDING_BYTES = 32 << 20;
const NEWLINE = Buffer.from('\n');

export interface JournalOptions {
  log?: Logger;
  retryMs?: number;
  maxPendingBytes?: number;
}

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

interface OpenFile {
  day: string;
  fd: number;
  /** Bytes in the file: where a write cut short is cut back to. */
  size: number;
  /** The file does not end with a newline (a torn line of an earlier run). */
  torn: boolean;
}

/** A line the disk refused, waiting to be written; its append's promise settles with it. */
interface PendingLine {
  day: string;
  line: Buffer;
  written: (synced: Promise<void>) => void;
  lost: (err: Error) => void;
}

/** Events: 'state' (JournalHealth) when it becomes degraded and when it is ok again. */
export class Journal extends EventEmitter {
  private file: OpenFile | null = null;
  /** Files written since their last sync (more than one when a day ended meanwhile). */
  private dirty = new Set<number>();
  /** Files of past days, closed after their last sync. */
  private retired: number[] = [];
  private batch: SyncBatch | null = null;
  private syncing: Promise<void> | null = null;
  private closed = false;
  private readonly log: Logger;
  private readonly retryMs: number;
  private readonly maxPendingBytes: number;
  private pending: PendingLine[] = [];
  private pendingBytes = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Why the last write failed, while lines wait for the disk. */
  private error: string | null = null;
  private lost = 0;

  constructor(private readonly dir: string, options: JournalOptions = {}) {
    super();
    this.log = options.log ?? silentLogger;
    this.retryMs = options.retryMs ?? RETRY_MS;
    this.maxPendingBytes = options.maxPendingBytes ?? MAX_PENDING_BYTES;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.endTornLine();
  }

  /** Writes the record's line now; the promise resolves once it is synced to disk. */
  append(record: UsageRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('journal is closed'));
    const day = record.endedAt.slice(0, 10);
    const line = Buffer.from(`${storableJson(record)}\n`, 'utf8');
    if (this.pending.length === 0) {
      try {
        this.write(day, line);
        return this.syncSoon();
      } catch (err) {
        this.degrade(err as Error);
        return this.keep(day, line);
      }
    }
    // Earlier lines wait for the disk: this one goes behind them, and the disk is tried again.
    const kept = this.keep(day, line);
    this.writePending();
    return kept;
  }

  /** ok, or degraded while records wait in memory for a disk that refuses them. */
  health(): JournalHealth {
    return { state: this.error === null ? 'ok' : 'degraded', error: this.error, pending: this.pending.length, lost: this.lost };
  }

  /** Waits for everything appended so far to be on disk, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopRetrying();
    this.writePending(); // a last try
    if (this.pending.length) {
      const err = new Error(`the journal closed with ${this.pending.length} record(s) the disk refused (${this.error})`);
      this.log.error(`journal: ${err.message}; they are lost`);
      this.lost += this.pending.length;
      for (const p of this.pending) p.lost(err);
      this.pending = [];
      this.pendingBytes = 0;
    }
    await this.syncing;
    if (this.file) closeSync(this.file.fd);
    this.file = null;
  }

  fileFor(day: string): string {
    return path.join(this.dir, `${day}.ndjson`);
  }

  /** Appends the line to its day's file; a write cut short is cut back out, then thrown. */
  private write(day: string, line: Buffer): void {
    const file = this.open(day);
    if (file.torn) {
      writeAll(file.fd, NEWLINE);
      file.size += 1;
      file.torn = false;
    }
    try {
      writeAll(file.fd, line);
    } catch (err) {
      this.cutBack(file);
      throw err;
    }
    file.size += line.length;
    this.dirty.add(file.fd);
  }

  /** Removes the part of a line that a failed write left at the end of the file. */
  private cutBack(file: OpenFile): void {
    try {
      ftruncateSync(file.fd, file.size);
    } catch {
      // Cannot cut it: the next line starts on a line of its own, and the reader sets the fragment aside.
      file.torn = true;
      try { file.size = fstatSync(file.fd).size; } catch { /* the next write fails the same way */ }
    }
  }

  private keep(day: string, line: Buffer): Promise<void> {
    if (this.pendingBytes + line.length > this.maxPendingBytes) {
      this.lost++;
      const err = new Error(`record lost: ${this.pending.length} record(s) already wait in memory for the disk (${this.error})`);
      this.log.error(`journal: ${err.message}`);
      return Promise.reject(err);
    }
    this.pendingBytes += line.length;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ day, line, written: resolve, lost: reject });
    });
  }

  /** Writes the waiting lines in order, as far as the disk takes them. */
  private writePending(): void {
    let n = 0;
    try {
      for (; n < this.pending.length; n++) {
        const p = this.pending[n];
        this.write(p.day, p.line);
        this.pendingBytes -= p.line.length;
        p.written(this.syncSoon());
      }
    } catch (err) {
      this.degrade(err as Error);
    } finally {
      if (n) this.pending = this.pending.slice(n);
    }
    if (!this.pending.length && this.error !== null) this.recover(n);
  }

  private degrade(err: Error): void {
    const first = this.error === null;
    this.error = describe(err);
    if (!this.closed && !this.retryTimer) {
      this.retryTimer = setInterval(() => this.writePending(), this.retryMs);
      this.retryTimer.unref(); // close() makes the last try
    }
    if (!first) return;
    this.log.error(`journal: cannot write to ${this.dir} (${this.error}); records are kept in memory and written when the disk takes them`);
    this.emit('state', this.health());
  }

  private recover(written: number): void {
    this.error = null;
    this.stopRetrying();
    this.log.info(`journal: writing again; ${written} record(s) kept in memory are written`);
    this.emit('state', this.health());
  }

  private stopRetrying(): void {
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = null;
  }

  private syncSoon(): Promise<void> {
    const batch = (this.batch ??= newBatch());
    this.syncing ??= this.syncLoop();
    return batch.done;
  }

  private async syncLoop(): Promise<void> {
    try {
      while (this.batch) {
        // Let the appends of the next SYNC_DELAY_MS join the sync: one fdatasync then
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

  private open(day: string): OpenFile {
    if (this.file?.day === day) return this.file;
    if (this.file) {
      // Lines of the old day may still await their sync: close it after that.
      if (this.dirty.has(this.file.fd)) this.retired.push(this.file.fd);
      else closeSync(this.file.fd);
    }
    this.file = null;
    const fd = this.openFile(this.fileFor(day));
    try {
      const size = fstatSync(fd).size;
      this.file = { day, fd, size, torn: size > 0 && lastByte(fd, size) !== NEWLINE[0] };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return this.file;
  }

  /** Read as well as append: the last byte tells whether an earlier run left a torn line. */
  private openFile(file: string): number {
    try {
      return openSync(file, 'a+', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // The folder was removed while the gateway ran (a clean-up): make it again.
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      return openSync(file, 'a+', 0o600);
    }
  }

  /**
   * An earlier run that died mid-write left a torn line at the end of its newest file: end
   * it now, so the next line starts whole. (Should the disk refuse even that, the next
   * write ends it first.)
   */
  private endTornLine(): void {
    const newest = readdirSync(this.dir).filter((n) => JOURNAL_FILE.test(n)).sort().pop();
    if (!newest) return;
    try {
      const file = this.open(newest.slice(0, 10));
      if (!file.torn) return;
      writeAll(file.fd, NEWLINE);
      file.size += 1;
      file.torn = false;
      this.log.warn(`journal: ${newest} ended with a torn line (an earlier run stopped mid-write); it is ended, and the lines before it are kept`);
    } catch (err) {
      this.log.warn(`journal: could not check the end of ${newest}: ${describe(err as Error)}`);
    }
  }
}

function lastByte(fd: number, size: number): number {
  const buf = Buffer.alloc(1);
  readSync(fd, buf, 0, 1, size - 1);
  return buf[0];
}

/**
 * The error without the file's path: it is shown on /health, which any local program may
 * read, and the path names the person's home folder. ("EROFS: read-only file system, open")
 */
function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const message = err.message.replace(/ '[^']*'/g, '');
  return code && !message.startsWith(code) ? `${code}: ${message}` : message;
}

/** writeSync may write less than asked: write the rest until all of it is out. */
function writeAll(fd: number, buf: Buffer): void {
  let offset = 0;
  while (offset < buf.length) offset += writeSync(fd, buf, offset, buf.length - offset);
}
