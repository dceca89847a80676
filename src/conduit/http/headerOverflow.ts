/**
 * The answer to request headers over Node's limit. Node refuses them while parsing, before
 * any route runs (clientError, HPE_HEADER_OVERFLOW), so this is written to the socket as a
 * whole HTTP response: a 431 in Anthropic's shape, so clients show a reason, not a bare status.
 */
import http from 'node:http';
import { CONTEXT_HEADER, MAX_CONTEXT_HEADER_BYTES } from '../../protocol/sessionContext';
import { errorBody } from './errors';

// A header name at the start of a line of the bytes that overflowed.
const CONTEXT_HEADER_LINE = new RegExp(`(^|\\n)${CONTEXT_HEADER}[ \\t]*:`, 'i');

/**
 * `overflowed` is the chunk Node was parsing when the limit was crossed (err.rawPacket):
 * when it holds the context header, that header is named as the cause (the usual one: a
 * large project configuration); a chunk cut inside it does not say, and the reason stays general.
 */
export function headerOverflowResponse(overflowed: Buffer | undefined): string {
  const limitKb = Math.round(http.maxHeaderSize / 1024);
  const holdsContext = overflowed !== undefined && CONTEXT_HEADER_LINE.test(overflowed.toString('latin1'));
  const message = holdsContext
    ? `the request headers are over the gateway's limit of ${limitKb} KB, with the ${CONTEXT_HEADER} header among them: it carries the session context (SYNAPSE_PROJECT_MODEL_CONFIG and SYNAPSE_AGENT_MODEL_CONFIG), which may take at most ${MAX_CONTEXT_HEADER_BYTES} bytes; shorten them`
    : `the request headers are over the gateway's limit of ${limitKb} KB`;
  const body = errorBody('request_too_large', message);
  return `HTTP/1.1 431 ${http.STATUS_CODES[431]}\r\nconnection: close\r\ncontent-type: application/json\r\n`
    + `content-length: ${Buffer.byteLength(body)}\r\nx-conduit-error: 1\r\n\r\n${body}`;
}
