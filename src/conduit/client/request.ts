/**
 * One HTTP exchange with the local gateway (127.0.0.1, its access token in its header): the
 * status and the body as text. call.ts builds the typed calls of the route table on it.
 */
import http from 'node:http';
import { TOKEN_HEADER } from '../../protocol/sessionContext';

export interface HttpResult { status: number; body: string }

export function request(
  port: number, method: string, path: string, options: { token?: string | null; body?: string; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { host: `127.0.0.1:${port}` };
    if (options.token) headers[TOKEN_HEADER] = options.token;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(options.body);
    }
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 2_000, () => req.destroy(new Error(`no answer from 127.0.0.1:${port} within ${options.timeoutMs ?? 2_000} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
