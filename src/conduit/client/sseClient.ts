/** A small Server-Sent Events client for the gateway's event stream. */
import http from 'node:http';
import { TOKEN_HEADER } from '../../protocol/sessionContext';

export interface SseEvent { event: string; data: string }

export interface SseConnection {
  /** Resolves when the gateway confirms the subscription (its "ready" event). */
  ready: Promise<void>;
  close(): void;
}

export function connectSse(port: number, path: string, token: string, onEvent: (e: SseEvent) => void, onClose?: (err?: Error) => void): SseConnection {
  let readyResolve!: () => void;
  let readyReject!: (err: Error) => void;
  const ready = new Promise<void>((res, rej) => { readyResolve = res; readyReject = rej; });
  let closedByUs = false;
  const req = http.get({ host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, [TOKEN_HEADER]: token, accept: 'text/event-stream' }, agent: false }, (res) => {
    if (res.statusCode !== 200) {
      readyReject(new Error(`event stream answered ${res.statusCode}`));
      res.resume();
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
    res.once('close', () => { if (!closedByUs) onClose?.(); });
  });
  req.on('error', (err) => {
    readyReject(err);
    if (!closedByUs) onClose?.(err);
  });
  return {
    ready,
    close() {
      closedByUs = true;
      req.destroy();
    },
  };
}
