// Hostile input over real HTTP and raw sockets: well over a thousand generated malformed
// or hostile requests (seeded, so every run sends the same ones). Each gets a clear
// error (its status, and Anthropic's error shape where the answer has a body), nothing
// malformed reaches the provider, the gateway stays up and still serves normal requests.
import assert from 'node:assert/strict';
import { createLogger } from '../../src/conduit/core/log';
import { encodeSessionContext } from '../../src/protocol/sessionContext';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import {
  assertAnthropicError, parseSse, rawRequest, runBounded, seededRandom, smallRequest, socketExchange,
  type RawResponse, type SocketExchange,
} from './helpers';

const MAX_BODY = 65_536;

function isJson(text: string): boolean {
  try { JSON.parse(text); return true; } catch { return false; }
}

/** Invalid only because of raw control characters inside strings (valid once they are escaped). */
function onlyRawControlCharacters(text: string): boolean {
  if (isJson(text)) return false;
  let out = '';
  let inString = false;
  for (let k = 0; k < text.length; k++) {
    const c = text[k];
    if (inString && c === '\\') { out += c + (text[k + 1] ?? ''); k++; continue; }
    if (c === '"') inString = !inString;
    out += inString && c < ' ' ? ' ' : c;
  }
  return isJson(out);
}
const CONCURRENCY = 16;
const SEED = 0x5eed_2026;
const REAL_ROUTES = ['/', '/health', '/v1/messages', '/v1/messages/count_tokens', '/v1/conduit/status', '/v1/conduit/events'];

interface Case {
  kind: string;
  detail: string;
  /** Sends the request and checks the answer; throws on a wrong one. */
  run(): Promise<void>;
}

describe('gateway under hostile input', () => {
  let t: TestGateway;
  const log: string[] = [];
  let forwarded = 0; // requests that are valid and so must reach the stand-in
  let controlCharsForwarded = 0; // JSON whose only fault is a raw control character in a string

  before(async () => {
    t = await startTestGateway({ config: { maxBodyBytes: MAX_BODY }, log: createLogger((l) => log.push(l), false) });
  });
  after(async () => { await t?.close(); });

  it('answers more than 1,000 generated malformed or hostile requests with clear errors and stays up', async function () {
    this.timeout(60_000);
    const rand = seededRandom(SEED);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const chars = (n: number, alphabet: string) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
    const TOKENISH = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const port = t.gateway.port;
    const host = `127.0.0.1:${port}`;
    const token = t.token;

    /** A valid request body of varied shape. */
    const validBody = (): Record<string, unknown> => {
      const body: Record<string, unknown> = smallRequest({
        stream: rand() < 0.5,
        messages: Array.from({ length: int(1, 4) }, (_, i) => ({
          role: i % 2 ? 'assistant' : 'user',
          content: rand() < 0.5 ? chars(int(1, 60), PRINTABLE) : [{ type: 'text', text: chars(int(1, 60), PRINTABLE) }],
        })),
      });
      if (rand() < 0.3) body.system = [{ type: 'text', text: chars(int(1, 80), PRINTABLE) }];
      if (rand() < 0.3) body.thinking = { type: 'enabled', budget_tokens: 1024 };
      if (rand() < 0.2) body.tools = [{ name: 'Bash', description: 'run', input_schema: { type: 'object', properties: { cmd: { type: 'string' } } } }];
      return body;
    };

    const post = (body: string | Buffer, headers: Record<string, string | number> = {}, path = '/v1/messages') => rawRequest(t.url, {
      method: 'POST', path, body, timeoutMs: 10_000,
      headers: { 'content-type': 'application/json', 'x-conduit-token': token, ...headers },
    });

    /** The gateway's own error: Anthropic-shaped, with its marker header, and not forwarded. */
    const gatewayError = (res: RawResponse, status: number, type: string, what: string) => {
      try {
        assertAnthropicError(res, status, type);
        assert.equal(res.headers['x-conduit-error'], '1', 'answered by the gateway itself');
      } catch (err) {
        throw new Error(`${what}: ${(err as Error).message}`);
      }
    };
    const socketError = (res: SocketExchange, status: number, what: string, type?: string) => {
      if (res.status !== status) throw new Error(`${what}: status ${res.status} (expected ${status}), error ${res.error}, ${res.body.toString('utf8').slice(0, 200)}`);
      if (res.body.length > 0 || type) {
        try {
          assertAnthropicError({ status: res.status, text: res.body.toString('utf8') }, status, type);
        } catch (err) {
          throw new Error(`${what}: ${(err as Error).message}`);
        }
      }
    };

    const cases: Case[] = [];
    const add = (kind: string, detail: string, run: () => Promise<void>) => cases.push({ kind, detail, run });

    // 1. Truncated JSON: every strict prefix of a JSON object is invalid.
    for (let i = 0; i < 150; i++) {
      const text = JSON.stringify(validBody());
      const cut = text.slice(0, int(0, text.length - 1));
      add('truncated', JSON.stringify(cut.slice(-40)), async () => gatewayError(await post(cut), 400, 'invalid_request_error', 'truncated JSON'));
    }

    // 2. Invalid JSON: random edits, kept only when JSON.parse rejects the result too.
    const edits = [
      (s: string, at: number) => s.slice(0, at) + pick(['{', '}', '[', ']', ',', ':', '"', '\\', "'", 'x', '\u0000', '\n', '01', '-', '.', 'NaN', 'undefined', '//']) + s.slice(at),
      (s: string, at: number) => s.slice(0, at) + s.slice(at + int(1, 5)),
      (s: string, at: number) => s.slice(0, at) + pick([',', '}', ']', ':']) + s.slice(at + 1),
      (s: string) => `${s}${pick(['}', ',', ' x', '{}', '\u0000', ']'])}`,
      (s: string) => `${pick(['\ufeff', 'x', ',', ')]}\'\n'])}${s}`,
      (s: string) => s.replace(/"max_tokens":\d+/, pick(['"max_tokens":064', '"max_tokens":-064', '"max_tokens":+64', '"max_tokens":.5', '"max_tokens":0x40', '"max_tokens":6 4'])),
      (s: string) => s.replace(/"content":"/, pick(['"content":"\\x41', '"content":"\\u12', '"content":"\t', '"content":"\\'])),
      (s: string) => s.replace(/\{"role"/, pick(['{"role":01,"x"', '{role', "{'role'", '{"role" "x", "r"'])),
    ];
    for (let i = 0; i < 150; i++) {
      const text = JSON.stringify(validBody());
      let bad = text;
      for (let tries = 0; tries < 20; tries++) {
        bad = pick(edits)(text, int(0, text.length));
        try { JSON.parse(bad); } catch { break; }
        bad = `${text}}`; // fallback that is surely invalid
      }
      if (onlyRawControlCharacters(bad)) {
        // The gateway leaves these to the provider's parser (see requestScan.ts): the
        // client still gets a 400 invalid_request_error in Anthropic's shape.
        add('invalid-json', JSON.stringify(bad.slice(0, 60)), async () => {
          const res = await post(bad);
          assertAnthropicError(res, 400, 'invalid_request_error');
          // Refused by the gateway (a control character in a field it reads, the model
          // say) or by the provider after passing through: both are the client's 400.
          if (res.headers['x-conduit-error'] !== '1') controlCharsForwarded++;
        });
      } else {
        add('invalid-json', JSON.stringify(bad.slice(0, 60)), async () => gatewayError(await post(bad), 400, 'invalid_request_error', `invalid JSON ${JSON.stringify(bad.slice(0, 80))}`));
      }
    }

    // 3. Wrong types for model, messages, max_tokens and stream; missing required fields.
    const wrong: Record<string, unknown[]> = {
      model: [123, null, true, false, [], {}, '', ['claude-sonnet-4-5'], { id: 'claude' }, 0],
      messages: ['hi', 1, null, {}, true, { role: 'user' }, ''],
      max_tokens: ['64', -1, 0, 1.5, null, true, [], {}, 1e400, -0.5, '1e3'],
      stream: ['true', 1, 0, null, [], {}, 'yes'],
    };
    for (let i = 0; i < 150; i++) {
      const body = validBody();
      const field = pick(Object.keys(wrong));
      const value = pick(wrong[field]);
      if (rand() < 0.1 && (field === 'model' || field === 'messages')) delete body[field];
      else body[field] = value;
      // 1e400 (Infinity) serializes as null: put the literal back.
      const text = JSON.stringify(body);
      const finalText = value === 1e400 ? text.replace(/"max_tokens":null/, '"max_tokens":1e400') : text;
      add('wrong-type', `${field}=${JSON.stringify(value)}`, async () => gatewayError(await post(finalText), 400, 'invalid_request_error', `${field}=${JSON.stringify(value)}`));
    }

    // 4. Bodies that are not objects, or empty.
    const nonObjects = ['[]', '[1,2,3]', `[${JSON.stringify(smallRequest())}]`, '"a string"', '42', '-1.5e3', 'null', 'true', 'false', '', '   ', '\n', '{}', '{"model":"claude-sonnet-4-5"}', '{"messages":[]}'];
    for (let i = 0; i < 45; i++) {
      const body = nonObjects[i % nonObjects.length];
      const path = i % 3 === 2 ? '/v1/messages/count_tokens' : '/v1/messages';
      add('non-object', `${path} ${JSON.stringify(body)}`, async () => gatewayError(await post(body, {}, path), 400, 'invalid_request_error', `body ${JSON.stringify(body)} on ${path}`));
    }

    // 5. Huge headers (> 16 KB): 431 from the HTTP layer (no body).
    for (let i = 0; i < 20; i++) {
      const big = i % 2 === 0
        ? `x-big: ${chars(int(17_000, 40_000), TOKENISH)}\r\n`
        : Array.from({ length: int(600, 1200) }, (_, k) => `x-h${k}: ${chars(30, TOKENISH)}\r\n`).join('');
      const parts = [`POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\nx-conduit-token: ${token}\r\ncontent-type: application/json\r\n${big}content-length: 2\r\n\r\n{}`];
      add('huge-headers', `${parts[0].length} bytes`, async () => socketError(await socketExchange(port, parts), 431, 'huge headers'));
    }

    // 6. Oversize bodies (maxBodyBytes is 64 KB here): 413; also lying content-lengths.
    for (let i = 0; i < 40; i++) {
      const size = pick([MAX_BODY + 1, MAX_BODY + 1000, 100_000, 300_000, 1_200_000]);
      const text = JSON.stringify(smallRequest({ messages: [{ role: 'user', content: 'x'.repeat(size) }] }));
      const variant = i % 4;
      if (variant === 0) {
        add('oversize', `${text.length} bytes with content-length`, async () => gatewayError(await post(text), 413, 'request_too_large', 'oversize body'));
      } else if (variant === 1) {
        // Chunked: no content-length to refuse it by; the limit applies as it arrives.
        const head = `POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\nx-conduit-token: ${token}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`;
        const chunks: string[] = [];
        for (let k = 0; k < text.length; k += 16_384) {
          const c = text.slice(k, k + 16_384);
          chunks.push(`${c.length.toString(16)}\r\n${c}\r\n`);
        }
        add('oversize', `${text.length} bytes chunked`, async () => socketError(await socketExchange(port, [head, ...chunks, '0\r\n\r\n']), 413, 'oversize chunked body', 'request_too_large'));
      } else if (variant === 2) {
        // Declares more than the limit but sends little: refused on the declaration.
        const head = `POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\nx-conduit-token: ${token}\r\ncontent-type: application/json\r\ncontent-length: ${size}\r\n\r\n`;
        add('lying-length', `declares ${size}, sends 20`, async () => socketError(await socketExchange(port, [head, text.slice(0, 20)]), 413, 'declared oversize', 'request_too_large'));
      } else if (i % 8 === 7) {
        // A whole valid request, then bytes past its content-length: the request is served
        // (and its answer is the first thing on the connection), the trailing garbage is not.
        const valid = JSON.stringify(validBody());
        const head = `POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\nx-conduit-token: ${token}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(valid)}\r\n\r\n`;
        forwarded++;
        add('lying-length', 'valid body, then garbage past content-length', async () => {
          const res = await socketExchange(port, [`${head}${valid}${pick(['GARBAGE\r\n\r\n', '}}}}', 'GET / HTTP/1.1\r\nhost: evil.example\r\n\r\n', '\u0000\u0001'])}`]);
          if (res.status !== 200) throw new Error(`valid body then garbage: status ${res.status} ${res.error} ${res.body.toString('utf8').slice(0, 200)}`);
        });
      } else {
        // Declares less than it sends: the declared bytes are a truncated body (400); the
        // rest is garbage on the connection, never a second request that reaches anyone.
        const small = JSON.stringify(validBody());
        const declared = int(1, small.length - 1);
        const head = `POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\nx-conduit-token: ${token}\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\n\r\n`;
        add('lying-length', `declares ${declared} of ${small.length}`, async () => socketError(await socketExchange(port, [head + small]), 400, 'declared too little', 'invalid_request_error'));
      }
    }

    // 7. Slow bodies: a valid or invalid body trickled in small pieces.
    for (let i = 0; i < 16; i++) {
      const valid = i % 2 === 0;
      const text = valid ? JSON.stringify(validBody()) : JSON.stringify(validBody()).slice(0, -3);
      const head = `POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\nx-conduit-token: ${token}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n`;
      const parts: (string | number)[] = [head.slice(0, 20), 15, head.slice(20)];
      const step = Math.ceil(text.length / 6);
      for (let k = 0; k < text.length; k += step) parts.push(15, text.slice(k, k + step));
      if (valid) forwarded++;
      add('slow-body', valid ? 'valid' : 'invalid', async () => {
        const res = await socketExchange(port, parts);
        if (valid) {
          if (res.status !== 200) throw new Error(`slow valid body: status ${res.status} ${res.error} ${res.body.toString('utf8').slice(0, 200)}`);
        } else {
          socketError(res, 400, 'slow invalid body', 'invalid_request_error');
        }
      });
    }

    // 8. Abandoned requests: headers and part of a body (or of the headers), then gone.
    for (let i = 0; i < 40; i++) {
      const text = JSON.stringify(validBody());
      const head = `POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\nx-conduit-token: ${token}\r\ncontent-type: application/json\r\ncontent-length: ${text.length + int(0, 5000)}\r\n\r\n`;
      const parts = i % 4 === 0 ? [head.slice(0, int(1, head.length - 1))] : [head, text.slice(0, int(0, text.length - 1))];
      add('abandoned', `${parts.join('').length} bytes`, async () => {
        const res = await socketExchange(port, parts, { abandon: true });
        if (res.status !== null) throw new Error(`abandoned request got an answer ${res.status}`);
      });
    }

    // 9. Bad tokens, wherever a token may be.
    for (let i = 0; i < 120; i++) {
      let bad = chars(int(0, 80), TOKENISH);
      if (bad === token) bad += 'x';
      if (i % 10 === 0) bad = token.slice(0, int(0, token.length - 1)); // a prefix of the real one
      if (i % 10 === 1) bad = `${token} `.repeat(2).trim();             // the token twice
      const where = pick(['x-conduit-token', 'authorization', 'x-api-key', 'authorization-raw']);
      const headers: Record<string, string> = where === 'authorization' ? { authorization: `Bearer ${bad}` }
        : where === 'authorization-raw' ? { authorization: bad } : { [where]: bad };
      const route = pick([['POST', '/v1/messages'], ['POST', '/v1/messages/count_tokens'], ['GET', '/v1/conduit/status'], ['GET', '/v1/conduit/events'], ['GET', '/v1/conduit/sessions/x'], ['GET', '/nope']] as const);
      add('bad-token', `${where}=${JSON.stringify(bad.slice(0, 20))} ${route.join(' ')}`, async () => {
        const res = await rawRequest(t.url, {
          method: route[0], path: route[1], timeoutMs: 10_000,
          headers: { 'content-type': 'application/json', ...headers },
          body: route[0] === 'POST' ? JSON.stringify(validBody()) : undefined,
        });
        gatewayError(res, 401, 'authentication_error', `bad token in ${where}`);
      });
    }

    // 10. Odd Host headers: only loopback names pass (403 otherwise, even with the token).
    const oddHosts = [
      'evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, 'localhost.evil.example', 'localhost:evil',
      '127.0.0.2', '0.0.0.0', '[::2]', '[::1', '::ffff:127.0.0.1', '2130706433', '0x7f000001', 'xn--lcalhost-9za',
      `127.0.0.1@evil.example`, 'evil.example#127.0.0.1', '', ' ', 'localhost.', `192.0.2.1:${port}`,
    ];
    for (let i = 0; i < 80; i++) {
      const odd = i < oddHosts.length ? oddHosts[i] : `${chars(int(1, 30), 'abcdefghijklmnopqrstuvwxyz0123456789.-')}:${int(1, 65535)}`;
      const route = pick([['GET', '/health'], ['GET', '/'], ['POST', '/v1/messages'], ['GET', '/v1/conduit/status'], ['GET', '/v1/conduit/events']] as const);
      add('odd-host', JSON.stringify(odd), async () => {
        const res = await socketExchange(port, [
          `${route[0]} ${route[1]} HTTP/1.1\r\nhost: ${odd}\r\nx-conduit-token: ${token}\r\ncontent-type: application/json\r\n`
          + (route[0] === 'POST' ? `content-length: 2\r\n\r\n{}` : '\r\n'),
        ]);
        socketError(res, 403, `Host ${JSON.stringify(odd)}`, 'permission_error');
      });
    }
    // No Host header at all: HTTP/1.1 requires one (400 from the HTTP layer); HTTP/1.0 reaches the Host check (403).
    for (let i = 0; i < 10; i++) {
      add('no-host', 'HTTP/1.1', async () => socketError(await socketExchange(port, [`GET /v1/conduit/status HTTP/1.1\r\nx-conduit-token: ${token}\r\n\r\n`]), 400, 'no Host, HTTP/1.1'));
      add('no-host', 'HTTP/1.0', async () => socketError(await socketExchange(port, [`GET /v1/conduit/status HTTP/1.0\r\nx-conduit-token: ${token}\r\n\r\n`]), 403, 'no Host, HTTP/1.0', 'permission_error'));
    }

    // 11. Wrong methods on the gateway's routes (a path of the route table: 405 naming the methods it has).
    for (let i = 0; i < 60; i++) {
      const [method, path, status, type] = pick([
        ['GET', '/v1/messages', 405, 'invalid_request_error'], ['PUT', '/v1/messages', 405, 'invalid_request_error'],
        ['DELETE', '/v1/messages', 405, 'invalid_request_error'], ['PATCH', '/v1/messages', 405, 'invalid_request_error'],
        ['OPTIONS', '/v1/messages', 405, 'invalid_request_error'], ['GET', '/v1/messages/count_tokens', 405, 'invalid_request_error'],
        ['PUT', '/v1/messages/count_tokens', 405, 'invalid_request_error'], ['POST', '/v1/conduit/status', 405, 'invalid_request_error'],
        ['DELETE', '/v1/conduit/events', 404, 'not_found_error'], ['POST', '/v1/conduit/sessions/abc', 405, 'invalid_request_error'],
        ['PUT', '/health', 404, 'not_found_error'], ['POST', '/', 404, 'not_found_error'],
      ] as const);
      add('wrong-method', `${method} ${path}`, async () => {
        const res = await rawRequest(t.url, {
          method, path, timeoutMs: 10_000, headers: { 'x-conduit-token': token, 'content-type': 'application/json' },
          body: method === 'GET' ? undefined : JSON.stringify(validBody()),
        });
        gatewayError(res, status, type, `${method} ${path}`);
      });
    }
    for (let i = 0; i < 6; i++) {
      add('wrong-method', 'HEAD /v1/messages', async () => {
        const res = await rawRequest(t.url, { method: 'HEAD', path: '/v1/messages', headers: { 'x-conduit-token': token }, timeoutMs: 10_000 });
        assert.equal(res.status, 405, 'HEAD /v1/messages');
      });
    }

    // 12. Unknown routes.
    const oddPaths = [
      '/v1/messages/', '//v1/messages', '/V1/MESSAGES', '/v1/messages/../conduit/status', '/v1/messages%2Fcount_tokens',
      '/v1/conduit', '/v1/conduit/sessions/', '/v1/conduit/sessions/a/b', '/v1/complete', '/v1/models', '/api/hello',
      '/%00', '/..%2f..%2fetc%2fpasswd', `/${'a'.repeat(8000)}`, '/v1/conduit/sessions/' + 'x'.repeat(201),
      '/v1/messages;x', '/health/', '/v1/conduit/status/', '/.env', '/v1/messages/batches',
    ];
    for (let i = 0; i < 80; i++) {
      const path = i < oddPaths.length ? oddPaths[i] : `/${chars(int(1, 60), 'abcdefghijklmnopqrstuvwxyz0123456789/_.-~%')}`;
      const method = i % 2 ? 'GET' : 'POST';
      add('unknown-route', `${method} ${path.slice(0, 60)}`, async () => {
        const res = await rawRequest(t.url, {
          method, path, timeoutMs: 10_000, headers: { 'x-conduit-token': token, 'content-type': 'application/json' },
          body: method === 'POST' ? JSON.stringify(validBody()) : undefined,
        });
        // A path of random characters could, in theory, name a real route.
        if (REAL_ROUTES.includes(path) || /^\/v1\/conduit\/sessions\/[A-Za-z0-9._-]{1,200}$/.test(path)) return;
        gatewayError(res, 404, 'not_found_error', `${method} ${path.slice(0, 60)}`);
      });
    }

    // 13. Invalid session context headers: 400.
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
    const badContexts = [
      '!!!not base64!!!', '%%%', '=', b64('not json'), b64('{"sessionId":'), b64('[]'), b64('"a string"'), b64('42'), b64('null'),
      b64('{"sessionId":42}'), b64('{"projectId":true}'), b64('{"agentType":["x"]}'), b64('{"unknownKey":"x"}'),
      b64(JSON.stringify({ sessionId: 'x'.repeat(201) })), b64('{"projectModelConfig":{}}'), b64('{"projectModelConfig":{"enabled":"yes"}}'),
      b64('{"projectModelConfig":{"enabled":true,"rules":{"fallbackModels":"claude"}}}'), b64('{"projectModelConfig":{"enabled":true,"rules":{"bogus":1}}}'),
      b64('{"agentModelConfig":{"useProjectDefaults":false}}'), b64('{"agentModelConfig":{"overrideModel":"x"}}'),
      b64('{"projectModelConfig":{"enabled":true,"rules":{"longContextThreshold":-5}}}'), b64('{"projectModelConfig":[]}'),
      `${b64('{"sessionId":"s"}')}$$$`, `${b64('{"sessionId":"s"}')}.`,
    ];
    for (let i = 0; i < 100; i++) {
      const ctx = i < badContexts.length * 2 ? badContexts[i % badContexts.length] : b64(chars(int(1, 40), PRINTABLE));
      const path = i % 5 === 4 ? '/v1/messages/count_tokens' : '/v1/messages';
      add('bad-context', `${path} ${ctx.slice(0, 40)}`, async () => gatewayError(await post(JSON.stringify(validBody()), { 'x-conduit-context': ctx }, path), 400, 'invalid_request_error', `context ${ctx.slice(0, 60)}`));
    }

    // 14. Garbage request lines and framing, straight on the socket: 400 from the HTTP layer.
    // [bytes, status]: the HTTP layer answers 400 with no body; what parses as a request
    // but carries no token is refused by the gateway (401, Anthropic's shape).
    const garbage: [string, number][] = [
      ['GARBAGE\r\n\r\n', 400], ['GET\r\n\r\n', 400], ['GET / HTTP/9.9\r\n\r\n', 400], ['\r\n\r\nGET / HTTP/1.1\r\n\r\n', 400],
      ['GET / HTTP/1.1 extra\r\n\r\n', 400], ['G@T / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n', 400], ['GET /\u0000 HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n', 400],
      [`POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\ncontent-length: abc\r\n\r\n`, 400],
      [`POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!`, 400],
      [`POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
      [`POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\nx-conduit-token: ${token}\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, 400],
      [`POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, 401],
      [`POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\ntransfer-encoding: gzip, chunked, identity\r\n\r\n`, 400],
      [`POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\nx-conduit-token: ${token}\r\ntransfer-encoding: gzip, chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 400],
      [`GET / HTTP/1.1\r\nhost: ${host}\r\nbad header line\r\n\r\n`, 400], [`GET / HTTP/1.1\r\nhost: ${host}\r\n: empty name\r\n\r\n`, 400],
      [`GET / HTTP/1.1\r\nhost ${host}\r\n\r\n`, 400], [`GET / HTTP/1.1\r\nhost: ${host}\r\nx: a\rb\r\n\r\n`, 400],
    ];
    for (let i = 0; i < 70; i++) {
      const [g, status] = i < garbage.length * 2 ? garbage[i % garbage.length] : [`${chars(int(1, 200), PRINTABLE.replace(' ', ''))} ${chars(int(1, 20), PRINTABLE)}\r\n\r\n`, 400] as [string, number];
      add('garbage', JSON.stringify(g.slice(0, 50)), async () => socketError(await socketExchange(port, [g]), status, `garbage ${JSON.stringify(g.slice(0, 60))}`, status === 401 ? 'authentication_error' : undefined));
    }

    // Normal requests mixed in: the gateway keeps serving while under fire.
    const normal = cases.length / 40;
    for (let i = 0; i < normal; i++) {
      const body = validBody();
      forwarded++;
      add('normal', body.stream ? 'streamed' : 'non-streamed', async () => {
        const res = await post(JSON.stringify(body));
        if (res.status !== 200) throw new Error(`normal request: ${res.status} ${res.text.slice(0, 200)}`);
        if (body.stream) assert.equal(parseSse(res.text).at(-1)?.event, 'message_stop');
        else assert.equal(JSON.parse(res.text).type, 'message');
      });
    }

    // Shuffle (seeded) so that every kind runs next to every other.
    for (let i = cases.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [cases[i], cases[j]] = [cases[j], cases[i]];
    }
    const hostile = cases.filter((c) => c.kind !== 'normal').length;
    assert.ok(hostile >= 1000, `only ${hostile} hostile requests`);

    const failures: string[] = [];
    await runBounded(cases.map((c) => async () => {
      try {
        await c.run();
      } catch (err) {
        failures.push(`[${c.kind}] ${c.detail}: ${(err as Error).message}`);
      }
    }), CONCURRENCY);
    assert.deepEqual(failures.slice(0, 25), [], `${failures.length} of ${cases.length} requests were answered wrongly`);

    // Nothing malformed reached the provider: only the valid requests did.
    assert.equal(t.fake.requests.length, forwarded + controlCharsForwarded, 'requests forwarded to the stand-in');
    for (const r of t.fake.requests) {
      const text = r.rawBody.toString('utf8');
      assert.ok(isJson(text) || onlyRawControlCharacters(text), `malformed JSON reached the stand-in: ${text.slice(0, 80)}`);
    }
    // No request made the gateway fail inside.
    assert.deepEqual(log.filter((l) => /unhandled|ERROR/.test(l)).slice(0, 5), []);
  });

  it('still serves normal requests afterwards (streamed and not), and its health and status', async () => {
    for (const stream of [false, true]) {
      const res = await t.messages(smallRequest({ stream }));
      assert.equal(res.status, 200);
      const text = await res.text();
      if (stream) assert.equal(parseSse(text).at(-1)?.event, 'message_stop');
      else assert.equal(JSON.parse(text).content[0].text, 'hello');
    }
    const health = await fetch(`${t.url}/health`);
    assert.equal(health.status, 200);
    const status = await fetch(`${t.url}/v1/conduit/status`, { headers: { 'x-conduit-token': t.token } });
    assert.equal((await status.json()).running, true);
    const ctx = await t.messages(smallRequest(), { 'x-conduit-context': encodeSessionContext({ sessionId: 'after-the-storm' }) });
    assert.equal(ctx.status, 200);
    await ctx.arrayBuffer();
  });
});
