/**
 * The gateway's event stream, kept open while the gateway runs: after a refusal (429 when
 * the gateway serves as many streams as it will, a 5xx), a failed connection or a close,
 * it connects again after a wait that doubles with each failure in a row (1 s up to 30 s,
 * or longer when the gateway says Retry-After), with jitter, so that windows refused
 * together do not all come back at the same moment. No vscode here: tested against a real gateway.
 */
import { SseRefusedError, connectSse, type SseConnection, type SseEvent } from '../../conduit/client/sseClient';

export interface EventStreamTarget { port: number; token: string }

export interface EventStreamOptions {
  /** The events route, with its query. */
  path: string;
  /** Where the gateway is now; null when its port or access token is not known (tried again later). */
  target(): EventStreamTarget | null;
  onEvent(e: SseEvent): void;
  /** Subscribed: nothing published from now on is missed (catch up on what was before). */
  onReady(): void;
  /** The stream failed or ended; the next attempt is in `retryInMs`. */
  onDrop?(reason: string, retryInMs: number): void;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** 0..1; the wait is between half and all of the backoff (tests pass () => 1). */
  random?: () => number;
}

export const INITIAL_RECONNECT_MS = 1_000;
export const MAX_RECONNECT_MS = 30_000;

export class ReconnectingEventStream {
  private connection: SseConnection | null = null;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private running = false;
  /** Why the gateway ended the stream, when it said so (an "error" event before it closed). */
  private lastError: string | null = null;

  constructor(private readonly options: EventStreamOptions) {}

  /** Connects now (again, if connected), forgetting earlier failures: the gateway (re)started. */
  start(): void {
    this.stop();
    this.running = true;
    this.failures = 0;
    this.connect();
  }

  /** Closes the stream and cancels any attempt: the gateway stopped. */
  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.connection?.close();
    this.connection = null;
  }

  private connect(): void {
    this.timer = undefined;
    const target = this.options.target();
    if (!target) {
      this.retry('the gateway\'s port or access token is not known yet', null);
      return;
    }
    this.lastError = null;
    const connection = connectSse(target.port, this.options.path, target.token, (e) => {
      if (e.event === 'error') this.lastError = errorMessage(e.data);
      else this.options.onEvent(e);
    }, (err) => {
      if (this.connection !== connection) return;
      this.connection = null;
      const reason = err instanceof SseRefusedError ? err.message
        : err ? `event stream failed: ${err.message}`
        : `the gateway closed the event stream${this.lastError ? `: ${this.lastError}` : ''}`;
      this.retry(reason, err instanceof SseRefusedError ? err.retryAfterMs : null);
    });
    this.connection = connection;
    connection.ready.then(() => {
      if (this.connection !== connection) return;
      this.failures = 0;
      this.options.onReady();
    }, () => undefined /* its onClose retries */);
  }

  private retry(reason: string, retryAfterMs: number | null): void {
    if (!this.running) return;
    const initial = this.options.initialDelayMs ?? INITIAL_RECONNECT_MS;
    const max = this.options.maxDelayMs ?? MAX_RECONNECT_MS;
    const backoff = Math.min(max, initial * 2 ** Math.min(this.failures, 30));
    this.failures++;
    const jittered = Math.round(backoff * (0.5 + 0.5 * (this.options.random ?? Math.random)()));
    // A Retry-After is followed, up to 5 minutes (a wrong one must not silence the views for good).
    const delay = Math.max(jittered, Math.min(retryAfterMs ?? 0, 5 * 60_000));
    this.options.onDrop?.(reason, delay);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}

/** The message of an "error" event in Anthropic's shape, or its data as it came. */
function errorMessage(data: string): string {
  try {
    const message = (JSON.parse(data) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === 'string') return message.replace(/^\[conduit\] /, '');
  } catch { /* not JSON */ }
  return data.slice(0, 500);
}
