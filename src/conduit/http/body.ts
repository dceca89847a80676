/**
 * Request bodies: read up to a size limit (as one Buffer, or as the chunks they came
 * in), and refused without reading them in a way every client can see.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError, errorBody, sendError } from './errors';

/**
 * How much of a refused body is still read, and thrown away, after the refusal was
 * written. A server that closes while its client is still sending resets the connection,
 * and Node's http and fetch clients (the official SDK among them) then report ECONNRESET,
 * which they retry, instead of the answer that had arrived. Past this many bytes the
 * connection is closed anyway: a client that sends more than that is not worth waiting for.
 */
export const REFUSED_BODY_READ_LIMIT = 128 * 1024 * 1024;

/**
 * A route's body, up to that route's own fixed `limit` (the settings, prices, leases and
 * team routes). The refusal does not name maxBodyBytes: raising it would not help here.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return readChunks(req, limit, 'for this route').then((chunks) => (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
}

/**
 * A messages request's body, up to maxBodyBytes (`limit`), as the chunks it arrived in, not
 * joined: the messages route scans and forwards them as they are (see routing/bodyChunks.ts;
 * joining megabytes costs more than the scan). An empty body is one empty chunk.
 */
export function readBodyChunks(req: IncomingMessage, limit: number): Promise<Buffer[]> {
  return readChunks(req, limit, '(maxBodyBytes in config.json)');
}

/** `limitNote` says which limit it is, so that a refusal says what would lift it. */
function readChunks(req: IncomingMessage, limit: number, limitNote: string): Promise<Buffer[]> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new GatewayError('request_too_large', `request body of ${declared} bytes is over the gateway's limit of ${limit} bytes ${limitNote}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // The rest is the refusal's to read (refuseUnreadBody); until then the client waits.
        req.removeListener('data', onData);
        req.pause();
        reject(new GatewayError('request_too_large', `request body is over the gateway's limit of ${limit} bytes ${limitNote}`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 0 ? [Buffer.alloc(0)] : chunks));
    req.once('error', (err) => reject(new GatewayError('invalid_request_error', `request body could not be read: ${err.message}`)));
    req.once('aborted', () => reject(new GatewayError('invalid_request_error', 'the client abandoned the request body')));
  });
}

/**
 * Answers with `error` a request whose body the gateway will not read (too large, or from
 * a client without the token). The answer is written at once, so that a client that reads
 * while it sends sees it early; the rest of the body is then read and thrown away, up to
 * REFUSED_BODY_READ_LIMIT, and only then is the answer ended and the connection closed.
 */
export function refuseUnreadBody(req: IncomingMessage, res: ServerResponse, error: GatewayError): void {
  if (req.complete || req.destroyed || !hasBody(req)) {
    sendError(res, error.type, error.message, error.status);
    return;
  }
  const body = errorBody(error.type, error.message);
  res.writeHead(error.status, {
    'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-conduit-error': '1', connection: 'close',
  });
  res.write(body);

  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > REFUSED_BODY_READ_LIMIT) {
    res.end();
    return;
  }
  let discarded = 0;
  const discard = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded <= REFUSED_BODY_READ_LIMIT) return;
    req.removeListener('data', discard);
    res.end();
  };
  req.on('data', discard);
  // The whole body is read: ending the answer now closes the connection with nothing
  // unread, a clean close that cannot reset the answer away.
  req.once('end', () => res.end());
  req.resume();
}

/** Whether a body follows the request's headers (RFC 9112, 6.3). */
function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
}
