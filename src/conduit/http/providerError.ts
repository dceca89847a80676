/**
 * A provider's error reply, read whole before it is passed on: Anthropic's JSON goes to
 * the client as sent; anything else (an HTML 503 page from a load balancer, plain text,
 * nothing) is wrapped in Anthropic's error shape, so every client can parse it.
 */
import zlib from 'node:zlib';
import { isDecodable } from '../usage/decodingTap';
import { CREDENTIALS_FIXES } from '../../protocol/credentials';
import { errorBody, errorTypeForStatus, type AnthropicErrorType } from './errors';

/** Bytes of an error reply kept: more than any JSON error, enough text for a message. */
const KEPT_BYTES = 64 * 1024;
/** Characters of the provider's text in the wrapped message. */
const MESSAGE_CHARS = 500;

export class ErrorReplyBody {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  push(chunk: Buffer): void {
    const room = KEPT_BYTES - this.size;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    // A copy: the chunk's memory belongs to undici once this returns.
    const part = Buffer.from(chunk.length > room ? chunk.subarray(0, room) : chunk);
    this.chunks.push(part);
    this.size += part.length;
  }

  /** The reply broke off: what was kept is not all of it. */
  cutShort(): void {
    this.truncated = true;
  }

  /** Every byte, when none was dropped. */
  whole(): Buffer | null {
    return this.truncated ? null : Buffer.concat(this.chunks, this.size);
  }

  kept(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

export interface JudgedError {
  /** The error type, for the record. */
  type: string;
  /** null: the reply is Anthropic's error JSON and passes as sent. Else the body to send instead. */
  wrapped: string | null;
}

/**
 * Passes Anthropic's error JSON as it is; wraps anything else, with the provider's text
 * (decoded, markup dropped, truncated) in its message.
 */
export function judgeErrorReply(
  status: number, contentType: string, contentEncoding: string, reply: ErrorReplyBody, provider: string,
): JudgedError {
  const kept = reply.kept();
  const decoded = decode(kept, contentEncoding);
  const ownType = reply.whole() && decoded !== null ? anthropicErrorType(decoded) : null;
  if (ownType !== null) return { type: ownType, wrapped: null };
  const type: AnthropicErrorType = errorTypeForStatus(status);
  const text = decoded === null ? `(a ${contentEncoding} body)` : readableText(decoded, contentType);
  const what = kept.length === 0 ? 'no body' : describe(contentType);
  const message = `provider ${provider} answered ${status} with ${what}${text ? `: ${text}` : ''}`;
  return { type, wrapped: errorBody(type, message) };
}

/**
 * A provider's 401, in Anthropic's shape (authentication_error) with a message that says
 * whose credentials were refused and names both ways to fix it. `source`: the client's own
 * login (forwarded) or the gateway's key.
 */
export function credentialsRefusal(
  provider: string, source: 'api-key' | 'client-login', contentType: string, contentEncoding: string, reply: ErrorReplyBody,
): { providerMessage: string; message: string; body: string } {
  const decoded = decode(reply.kept(), contentEncoding);
  const providerMessage = (decoded === null ? null : anthropicErrorMessage(decoded) ?? readableText(decoded, contentType)) || 'no reason given';
  const whose = source === 'api-key' ? 'the gateway\'s API key' : 'the client\'s own login (a Claude subscription or its key)';
  const message = `provider ${provider} refused ${whose} (401: ${providerMessage}); ${CREDENTIALS_FIXES}`;
  return { providerMessage, message, body: errorBody('authentication_error', message) };
}

function anthropicErrorMessage(text: string): string | null {
  try {
    const message = JSON.parse(text)?.error?.message;
    return typeof message === 'string' ? readableText(message, 'text/plain') : null;
  } catch {
    return null;
  }
}

function describe(contentType: string): string {
  const mediaType = contentType.split(';')[0].trim();
  return mediaType ? `a ${mediaType} body, not Anthropic's JSON` : 'a body that is not Anthropic\'s JSON';
}

/** The error type of Anthropic's error JSON {type:'error', error:{type, message}}; null for anything else. */
function anthropicErrorType(text: string): string | null {
  try {
    const body = JSON.parse(text);
    return body?.type === 'error' && typeof body.error?.type === 'string' && typeof body.error?.message === 'string' ? body.error.type : null;
  } catch {
    return null;
  }
}

/** The body as text; null when its content-encoding cannot be read. */
function decode(bytes: Buffer, contentEncoding: string): string | null {
  const encoding = contentEncoding.trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return bytes.toString('utf8');
  if (!isDecodable(encoding)) return null;
  // The kept bytes may end mid-stream: flush what they hold instead of failing on the end.
  const options = { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: KEPT_BYTES };
  try {
    if (encoding === 'br') return zlib.brotliDecompressSync(bytes, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH, maxOutputLength: KEPT_BYTES }).toString('utf8');
    if (encoding === 'deflate') return ((bytes[0] & 0x0f) === 8 ? zlib.inflateSync(bytes, options) : zlib.inflateRawSync(bytes, options)).toString('utf8');
    return zlib.gunzipSync(bytes, options).toString('utf8');
  } catch {
    return null;
  }
}

/** The words of an error page: markup and scripts dropped, whitespace collapsed, truncated. */
function readableText(text: string, contentType: string): string {
  let out = text;
  if (/html|xml/i.test(contentType) || /^\s*</.test(text)) {
    out = out.replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ').replace(/<[^>]*>/g, ' ')
      .replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  }
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > MESSAGE_CHARS ? `${out.slice(0, MESSAGE_CHARS)}…` : out;
}
