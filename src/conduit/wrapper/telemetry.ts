/**
 * SYNAPSE_TELEMETRY_ENDPOINT: the host's endpoint that receives each conduit_metadata line
 * of the session, POSTed as JSON (the same line as on stdout, so one parser reads both).
 *
 * Telemetry must never cost the session anything: records wait in a bounded queue and are
 * posted one at a time in the background, each post has a short time-out, and the first
 * failure (refused, timed out, an answer other than 2xx) is said once on stderr and turns
 * telemetry off for the rest of the session, so a dead endpoint is not retried on every
 * request. At exit, what is still queued gets a short, bounded flush.
 */

/** Records waiting beyond this are dropped (oldest first); a receiver that slow is failing anyway. */
const MAX_QUEUED = 256;
/** One POST may take this long (connect, send, answer). */
const POST_TIMEOUT_MS = 2_000;
/** At exit, the queue gets at most this long to empty. */
const EXIT_FLUSH_MS = 1_500;

type Warn = (message: string) => void;

export class TelemetrySender {
  private readonly queue: string[] = [];
  private posting: Promise<void> | null = null;
  private failed = false;
  private dropped = 0;
  private readonly aborts = new Set<AbortController>();

  private constructor(private readonly url: URL, private readonly warn: Warn) {}

  /**
   * The sender SYNAPSE_TELEMETRY_ENDPOINT asks for; null when it is unset, or when it is not
   * an http(s) URL (said on stderr: the session goes on without telemetry).
   */
  static fromEnv(env: NodeJS.ProcessEnv, warn: Warn): TelemetrySender | null {
    const value = env.SYNAPSE_TELEMETRY_ENDPOINT?.trim();
    if (!value) return null;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      warn('SYNAPSE_TELEMETRY_ENDPOINT is not a URL; telemetry is off for this session');
      return null;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      warn(`SYNAPSE_TELEMETRY_ENDPOINT must be an http or https URL (not ${url.protocol}); telemetry is off for this session`);
      return null;
    }
    return new TelemetrySender(url, warn);
  }

  /** Where records go, for messages: the origin only (a URL may hold a user and password). */
  get origin(): string { return this.url.origin; }

  /** Queues one record (a conduit_metadata line); returns at once. */
  send(record: unknown): void {
    if (this.failed) return;
    this.queue.push(JSON.stringify(record));
    if (this.queue.length > MAX_QUEUED) {
      this.queue.shift();
      this.dropped++;
    }
    this.posting ??= this.drain().finally(() => { this.posting = null; });
  }

  /** At exit: waits for the queue to empty, at most EXIT_FLUSH_MS; what is left then is given up. */
  async flush(): Promise<void> {
    if (!this.posting) return this.reportDropped();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), EXIT_FLUSH_MS); });
    const emptied = await Promise.race([this.posting.then(() => true), limit]);
    clearTimeout(timer);
    if (!emptied) {
      this.failed = true; // nothing more is started
      const left = this.queue.length + 1;
      this.queue.length = 0;
      for (const a of this.aborts) a.abort();
      this.warn(`telemetry endpoint ${this.origin} did not take the last ${left} record(s) in time; they were not sent`);
    }
    this.reportDropped();
  }

  private reportDropped(): void {
    if (this.dropped > 0) this.warn(`telemetry endpoint ${this.origin} was too slow: ${this.dropped} record(s) were dropped`);
  }

  private async drain(): Promise<void> {
    while (!this.failed && this.queue.length > 0) {
      const body = this.queue.shift()!;
      const problem = await this.post(body);
      if (problem && !this.failed) {
        this.failed = true;
        this.queue.length = 0;
        this.warn(`telemetry endpoint ${this.origin} failed (${problem}); no more records are sent to it in this session`);
      }
    }
  }

  /** One POST; the problem in words, or null when the endpoint took the record. */
  private async post(body: string): Promise<string | null> {
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer = setTimeout(() => abort.abort(), POST_TIMEOUT_MS);
    try {
      const res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: abort.signal });
      await res.arrayBuffer().catch(() => undefined); // release the connection
      return res.ok ? null : `HTTP ${res.status}`;
    } catch (err) {
      if (abort.signal.aborted) return `no answer within ${POST_TIMEOUT_MS / 1000} s`;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return cause?.code ?? cause?.message ?? (err as Error).message;
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
  }
}
