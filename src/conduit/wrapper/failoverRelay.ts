/**
 * A gateway that dies during a session: claude's next requests go straight to the provider,
 * as when the gateway could not be started (fallback.ts).
 *
 * claude is pointed at this relay (127.0.0.1, a port of its own) instead of at the gateway.
 * Every request goes on to the gateway unchanged, its answer streamed back unchanged. When
 * the gateway refuses the connection (it is gone; it received nothing, so nothing can have
 * been sent upstream twice), the request goes to the provider instead, and so does every
 * later request of the session: claude retries a request that failed mid-way, and the
 * retry takes the same path. This was chosen over switching claude itself (it reads its
 * base URL once) and over a TCP-level switch (the provider speaks TLS on another host).
 *
 * Keys stay where they belong: the provider gets claude's own credentials (the person's key,
 * token or subscription login) and the person's custom headers; Conduit's headers (access
 * token, session context) are removed. A session that ran on the gateway's key (claude was
 * given the access token, never the key) has no credentials of its own to go on with: its
 * requests are answered with a permission error saying so, rather than lending out the
 * gateway's key or sending the access token anywhere.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { CONTEXT_HEADER, TOKEN_HEADER } from '../../protocol/sessionContext';

/** Where claude's requests go when the gateway is gone, and what may not follow them there. */
export interface FailoverTarget {
  gatewayPort: number;
  /** The person's own endpoint, else Anthropic's API. */
  directBaseUrl: string;
  /** Conduit's access token: never sent to the provider. */
  accessToken: string;
  /** Whether claude was given the access token as its credentials (the gateway's key is used). */
  accessTokenLent: () => boolean;
  /** Called once, at the first request sent to the provider. */
  onFailover: () => void;
}

export const ANTHROPIC_API = 'https://api.anthropic.com';

/** Hop-by-hop headers: each connection's own, never passed on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host']);

export class FailoverRelay {
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();
  /** The gateway refused a connection: the rest of the session goes to the provider. */
  failedOver = false;
  private notified = false;

  private constructor(private readonly target: FailoverTarget) {
    this.server = http.createServer((req, res) => this.relay(req, res));
    this.server.on('connection', (s) => { this.sockets.add(s); s.once('close', () => this.sockets.delete(s)); });
  }

  static async start(target: FailoverTarget): Promise<FailoverRelay> {
    const relay = new FailoverRelay(target);
    await new Promise<void>((resolve, reject) => {
      relay.server.once('error', reject);
      relay.server.listen(0, '127.0.0.1', () => resolve());
    });
    return relay;
  }

  /** claude's ANTHROPIC_BASE_URL. */
  get url(): string { return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`; }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }

  private relay(req: http.IncomingMessage, res: http.ServerResponse): void {
    // The body is kept until the gateway has taken the connection, so that a refused one can go elsewhere.
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => {
      const body = Buffer.concat(chunks);
      if (this.failedOver) return this.toProvider(req, body, res);
      const upstream = http.request({ host: '127.0.0.1', port: this.target.gatewayPort, method: req.method, path: req.url, headers: req.headers });
      upstream.once('response', (answer) => pipeAnswer(answer, res));
      upstream.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED') {
          this.failedOver = true;
          this.toProvider(req, body, res);
        } else {
          res.destroy(); // claude sees a broken connection and retries
        }
      });
      upstream.end(body);
    });
  }

  private toProvider(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    if (!this.notified) {
      this.notified = true;
      this.target.onFailover();
    }
    const headers: http.OutgoingHttpHeaders = {};
    const lent = `Bearer ${this.target.accessToken}`;
    for (const [name, value] of Object.entries(req.headers)) {
      if (HOP_BY_HOP.has(name) || name === TOKEN_HEADER || name === CONTEXT_HEADER || value === undefined) continue;
      // The access token never leaves this machine, under whatever header claude put it.
      if ((Array.isArray(value) ? value : [value]).some((v) => v.includes(this.target.accessToken))) continue;
      headers[name] = value;
    }
    if (this.target.accessTokenLent() && req.headers.authorization === lent) {
      // 403, not 401: claude retries a 401 (ten times, minutes of back-off), it reports a 403 at once.
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({
        type: 'error',
        error: { type: 'permission_error', message: "Conduit's gateway stopped during this session, which used the gateway's provider key: set your own ANTHROPIC_API_KEY or start the gateway again (conduit start)" },
      }));
      return;
    }
    const base = new URL(this.target.directBaseUrl);
    const url = new URL(`${base.pathname.replace(/\/$/, '')}${req.url ?? '/'}`, base);
    const send = url.protocol === 'https:' ? https.request : http.request;
    const upstream = send(url, { method: req.method, headers });
    upstream.once('response', (answer) => pipeAnswer(answer, res));
    upstream.once('error', () => res.destroy());
    upstream.end(body);
  }
}

/** An answer streamed back unchanged (its bytes and status; hop-by-hop headers are the relay's own). */
function pipeAnswer(answer: http.IncomingMessage, res: http.ServerResponse): void {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
  res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
  answer.pipe(res);
  answer.once('error', () => res.destroy());
  res.once('close', () => answer.destroy());
}

/** The relay of a session, saying on stderr (once) when the gateway is gone and where requests go instead. */
export function startRelay(gatewayPort: number, accessToken: string, personEndpoint: string | undefined, accessTokenLent: () => boolean): Promise<FailoverRelay | null> {
  const directBaseUrl = personEndpoint ?? ANTHROPIC_API;
  const onFailover = () => process.stderr.write(`conduit-claude: ${accessTokenLent()
    ? "the gateway stopped during the session, and the session used its provider key: claude's next requests are refused (set your own ANTHROPIC_API_KEY, or start the gateway again)"
    : `the gateway stopped during the session: claude's next requests go directly to ${new URL(directBaseUrl).origin}, without routing or cost tracking`}\n`);
  // A relay that cannot listen leaves claude pointed at the gateway itself, as without fallback.
  return FailoverRelay.start({ gatewayPort, directBaseUrl, accessToken, accessTokenLent, onFailover }).catch(() => null);
}
