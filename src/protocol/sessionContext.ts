/**
 * The context of an agent session, carried on every request from the wrapper to the
 * gateway in one header, so the gateway stays stateless across restarts.
 */
import * as v from 'valibot';
import { agentModelConfigSchema, projectModelConfigSchema } from './modelConfig';
import { ValidationError, parseWith, stringSchema, strictObjectOf } from './validate';
import { decodeBase64url, encodeBase64url } from './base64url';
import { parseEndpointUrl } from './endpointUrl';

export const CONTEXT_HEADER = 'x-conduit-context';
export const TOKEN_HEADER = 'x-conduit-token';

/**
 * The most the context header may hold (base64url characters). The gateway keeps Node's
 * limit on a request's headers, 16 KB in all; claude's own headers take about 1 KB, so
 * this leaves 4 KB for them, ANTHROPIC_CUSTOM_HEADERS and the access token.
 */
export const MAX_CONTEXT_HEADER_BYTES = 12 * 1024;

/** An id a client made up: at most 200 characters, as the header's budget allows. */
const contextId = v.optional(v.pipe(stringSchema, v.maxLength(200, 'longer than 200 characters')));

export const sessionContextSchema = strictObjectOf({
  /** Conduit's id for one wrapper run; the event stream can be filtered by it. */
  sessionId: contextId,
  projectId: contextId,
  agentId: contextId,
  agentType: contextId,
  projectModelConfig: v.optional(projectModelConfigSchema),
  agentModelConfig: v.optional(agentModelConfigSchema),
  /** The person's own endpoint (their ANTHROPIC_BASE_URL): the Anthropic provider's base URL for this session (parseSessionContext checks it as one). */
  anthropicBaseUrl: v.optional(stringSchema),
});
export type SessionContext = v.InferOutput<typeof sessionContextSchema>;

export function parseSessionContext(value: unknown, path = 'context'): SessionContext {
  const ctx = parseWith(sessionContextSchema, value, path);
  if (ctx.anthropicBaseUrl !== undefined) ctx.anthropicBaseUrl = parseEndpointUrl(ctx.anthropicBaseUrl, `${path}.anthropicBaseUrl`);
  return ctx;
}

export function encodeSessionContext(ctx: SessionContext): string {
  return encodeBase64url(JSON.stringify(ctx));
}

export function decodeSessionContext(header: string): SessionContext {
  if (header.length > MAX_CONTEXT_HEADER_BYTES) {
    throw new ValidationError(CONTEXT_HEADER, `is ${header.length} bytes, over the limit of ${MAX_CONTEXT_HEADER_BYTES} (it carries SYNAPSE_PROJECT_MODEL_CONFIG and SYNAPSE_AGENT_MODEL_CONFIG: shorten them)`);
  }
  // Only the URL-safe alphabet, no padding: what encodeSessionContext writes.
  if (!/^[A-Za-z0-9_-]*$/.test(header)) throw new ValidationError(CONTEXT_HEADER, 'is not base64url-encoded JSON');
  let value: unknown;
  try {
    value = JSON.parse(decodeBase64url(header));
  } catch {
    throw new ValidationError(CONTEXT_HEADER, 'is not base64url-encoded JSON');
  }
  return parseSessionContext(value, CONTEXT_HEADER);
}
