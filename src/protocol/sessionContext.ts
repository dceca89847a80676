/**
 * The context of an agent session, carried on every request from the wrapper to the
 * gateway in one header, so the gateway stays stateless across restarts.
 */
import { parseAgentModelConfig, parseProjectModelConfig, type AgentModelConfig, type ProjectModelConfig } from './modelConfig';
import { ValidationError, expectObject, optionalString, rejectUnknownKeys } from './validate';
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

export interface SessionContext {
  /** Conduit's id for one wrapper run; the event stream can be filtered by it. */
  sessionId?: string;
  projectId?: string;
  agentId?: string;
  agentType?: string;
  projectModelConfig?: ProjectModelConfig;
  agentModelConfig?: AgentModelConfig;
  /** The person's own endpoint (their ANTHROPIC_BASE_URL): the Anthropic provider's base URL for this session. */
  anthropicBaseUrl?: string;
}

const KEYS = ['sessionId', 'projectId', 'agentId', 'agentType', 'projectModelConfig', 'agentModelConfig', 'anthropicBaseUrl'] as const;

export function parseSessionContext(value: unknown, path = 'context'): SessionContext {
  const o = expectObject(value, path);
  rejectUnknownKeys(o, KEYS, path);
  const ctx: SessionContext = {};
  for (const k of ['sessionId', 'projectId', 'agentId', 'agentType'] as const) {
    const v = optionalString(o, k, path);
    if (v !== undefined) {
      if (v.length > 200) throw new ValidationError(`${path}.${k}`, 'longer than 200 characters');
      ctx[k] = v;
    }
  }
  if (o.projectModelConfig !== undefined) ctx.projectModelConfig = parseProjectModelConfig(o.projectModelConfig, `${path}.projectModelConfig`);
  if (o.agentModelConfig !== undefined) ctx.agentModelConfig = parseAgentModelConfig(o.agentModelConfig, `${path}.agentModelConfig`);
  const baseUrl = optionalString(o, 'anthropicBaseUrl', path);
  if (baseUrl !== undefined) ctx.anthropicBaseUrl = parseEndpointUrl(baseUrl, `${path}.anthropicBaseUrl`);
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
