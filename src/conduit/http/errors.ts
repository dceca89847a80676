/** Errors in Anthropic's shape, so claude and SDKs show them as they show the API's own. */
import type { ServerResponse } from 'node:http';

export type AnthropicErrorType =
  | 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error'
  | 'request_too_large' | 'rate_limit_error' | 'api_error' | 'overloaded_error' | 'timeout_error';

const STATUS: Record<AnthropicErrorType, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

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
