/** Errors in Anthropic's shape, so claude and SDKs show them as they show the API's own. */
import type { ServerResponse } from 'node:http';

export type AnthropicErrorType =
  | 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error'
  | 'request_too_large' | 'rate_limit_error' | 'api_error' | 'overloaded_error' | 'timeout_error'
  | 'billing_error' | 'conflict_error';

const STATUS: Record<AnthropicErrorType, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  conflict_error: 409,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/**
 * The error type Anthropic gives a status (its documented ones), for an error reply that
 * does not say: 503 (not one of Anthropic's) is a capacity problem like 529; other
 * statuses fall into api_error (5xx) or invalid_request_error (4xx), as Anthropic's do.
 */
export function errorTypeForStatus(status: number): AnthropicErrorType {
  switch (status) {
    case 400: return 'invalid_request_error';
    case 401: return 'authentication_error';
    case 402: return 'billing_error';
    case 403: return 'permission_error';
    case 404: return 'not_found_error';
    case 409: return 'conflict_error';
    case 413: return 'request_too_large';
    case 429: return 'rate_limit_error';
    case 503: case 529: return 'overloaded_error';
    case 504: return 'timeout_error';
    default: return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

export class GatewayError extends Error {
  readonly status: number;
  constructor(readonly type: AnthropicErrorType, message: string, status?: number) {
    super(message);
    this.status = status ?? STATUS[type];
  }
}

export function errorBody(type: string, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message: `[conduit] ${message}` } });
}

export function sendError(res: ServerResponse, type: AnthropicErrorType, message: string, status = STATUS[type]): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(type, message);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-conduit-error': '1' });
  res.end(body);
}
