/** Reads a request body into one Buffer, refusing it past a size limit. */
import type { IncomingMessage } from 'node:http';
import { GatewayError } from './errors';

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new GatewayError('request_too_large', `request body of ${declared} bytes is over the gateway's limit of ${limit} bytes (maxBodyBytes)`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new GatewayError('request_too_large', `request body is over the gateway's limit of ${limit} bytes (maxBodyBytes)`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.once('error', (err) => reject(new GatewayError('invalid_request_error', `request body could not be read: ${err.message}`)));
    req.once('aborted', () => reject(new GatewayError('invalid_request_error', 'the client abandoned the request body')));
  });
}
