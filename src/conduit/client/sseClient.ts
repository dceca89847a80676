/** A small Server-Sent Events client for the gateway's event stream. */
import http from 'node:http';
import { TOKEN_HEADER } from '../../protocol/sessionContext';

export interface SseEvent { event: string; data: string }

/**
 * Where the gateway's event stream is (Server-Sent Events, so not a route of
 * src/protocol/routes.ts, whose answers are one JSON value).
 */
export const EVENTS_PATH = '/v1/conduit/events';

/** The event stream: every event, or only those of one session (by either of its ids). */
export function eventsPath(session?: string): string {
  return session === undefined ? EVENTS_PATH : `${EVENTS_PATH}?${new URLSearchParams({ session })}`;
}

export interface SseConnection {
  /** Resolves when the gateway confirms the subscription (its "ready" event). */
  ready: Promise<void>;
  close(): void;
}

/** The gateway answered the subscription with an error status (429: too many streams open; 5xx). */
export class SseRefusedError extends Error {
  constructor(readonly status: number, readonly reason: string, readonly retryAfterMs: number | null) {
    super(`event stream answered ${status}${reason ? `: ${reason}` : ''}`);
  }
}

/** onClose runs once for a stream that ends, fails or is refused (not one closed with close()). */
export function connectSse(port: number, path: string, token: string, onEvent: (e: SseEvent) => void, onClose?: (err?: Error) => void): SseConnection {
  let readyResolve!: () => void;
  let readyReject!: (err: Error) => void;
  const ready = new Promise<void>((res, rej) => { readyResolve = res; readyReject = rej; });
  // A caller that relies on onClose alone need not wait for ready: its failure is not unhandled.
  ready.catch(() => undefined);
  let closedByUs = false;
  const req = http.get({ host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, [TOKEN_HEADER]: token, accept: 'text/event-stream' }, agent: false }, (res) => {
    if (res.statusCode !== 200) {
      // The refusal's reason (Anthropic's error shape) is read, so that it can be shown.
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { if (text.length < 4096) text += c; });
      res.once('end', () => refused(res.statusCode ?? 0, text, res.headers['retry-after']));
      res.once('error', (err) => closed(err));
      return;
    }
    res.setEncoding('utf8');
    let buffer = '';
    res.on('data', (text: string) => {
      buffer += text;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
        }
        if (event === 'ready') readyResolve();
        else if (data.length) onEvent({ event, data: data.join('\n') });
      }
    });
    res.once('close', () => closed());
  });
  req.on('error', (err) => closed(err));
  let ended = false;
  // A response's close and a request error can both come for one stream: onClose runs once.
  function closed(err?: Error): void {
    readyReject(err ?? new Error('the event stream closed before it was ready'));
    if (ended || closedByUs) return;
    ended = true;
    onClose?.(err);
  }
  function refused(status: number, text: string, retryAfter: string | undefined): void {
    let reason = '';
    try {
      reason = String((JSON.parse(text) as { error?: { message?: unknown } }).error?.message ?? '').replace(/^\[conduit\] /, '');
    } catch { /* not Anthropic's shape: the status alone */ }
    const seconds = Number(retryAfter);
    closed(new SseRefusedError(status, reason, retryAfter !== undefined && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : null));
  }
  return {
    ready,
    close() {
      closedByUs = true;
      req.destroy();
    },
  };
}
