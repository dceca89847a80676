/**
 * Serving the routes of the API table (src/protocol/routes.ts): a request whose method and
 * path are a served route's has its path parameters, query and body checked against the
 * route's schemas at the boundary, and its handler gets them typed; the handler's answer
 * goes out as JSON. A path whose parameters do not pass the route's params schema is not
 * that route (404); a bad query or body is the client's error (400 naming the offending
 * value); a path that is a route's for other methods answers 405 with Allow. The token
 * check happens before (server.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { check, matchRawPath, none, type AnyRoute, type BodyOf, type ParamsOf, type QueryOf, type ResponseOf } from '../../protocol/route';
import { ValidationError } from '../../protocol/validate';
import { AnalyticsParamError } from '../ledger/store/queryParams';
import { LedgerUnavailableError } from '../ledger/service';
import { readBody } from './body';
import { GatewayError, sendError } from './errors';

/** What a handler gets: the request's parts as its route's schemas made them. */
export interface RouteRequest<R extends AnyRoute> {
  params: ParamsOf<R>;
  query: QueryOf<R>;
  body: BodyOf<R>;
  /** The query as it came, for handlers that pass it on to a stricter parser. */
  search: URLSearchParams;
  req: IncomingMessage;
  /** For a route that writes its own answer (a stream): see ServeOptions.writesItsAnswer. */
  res: ServerResponse;
}

export interface ServeOptions {
  /** The status of a success: 200, 201 for a creation; 204 sends no body. */
  status?: number;
  /** The most bytes the body may have (default BODY_LIMIT). */
  maxBodyBytes?: number;
  /** The handler writes the answer itself (an NDJSON stream); what it returns is not sent. */
  writesItsAnswer?: boolean;
}

export interface ServedRoute {
  route: AnyRoute;
  options: ServeOptions;
  handle(request: RouteRequest<AnyRoute>): Promise<unknown> | unknown;
}

/** A route and its handler, typed together. */
export function serve<R extends AnyRoute>(
  route: R, handle: (request: RouteRequest<R>) => Promise<ResponseOf<R>> | ResponseOf<R>, options: ServeOptions = {},
): ServedRoute {
  return { route, options, handle: handle as ServedRoute['handle'] };
}

/** Bodies of the table's routes are small JSON objects. */
const BODY_LIMIT = 64 * 1024;

/** The store a handler needs, or the 503 it answers when the gateway runs without one. */
export function storeOf<L>(ledger: L | null | undefined, what = 'the usage store is turned off in this gateway'): L {
  if (!ledger) throw new LedgerUnavailableError('failed', what);
  return ledger;
}

/**
 * Answers the request if a served route has its path: its handler's answer for its method,
 * else 405 naming the methods the path has. False when no route has the path (the server
 * then answers 404). The query string is parsed only for a route that answers.
 */
export async function dispatchRoute(table: readonly ServedRoute[], req: IncomingMessage, res: ServerResponse, path: string, rawQuery: string): Promise<boolean> {
  const method = req.method ?? 'GET';
  const allowed: string[] = [];
  for (const served of table) {
    const raw = matchRawPath(served.route, path);
    if (!raw) continue;
    const params = pathParams(served.route, raw);
    if (!params) continue;
    if (served.route.method !== method) {
      if (!allowed.includes(served.route.method)) allowed.push(served.route.method);
      continue;
    }
    await answer(served, params, req, res, new URLSearchParams(rawQuery));
    return true;
  }
  if (!allowed.length) return false;
  req.resume(); // no body is read
  res.setHeader('allow', allowed.join(', '));
  sendError(res, 'invalid_request_error', `${method} is not allowed on ${path.slice(0, 300)}; use ${allowed.join(' or ')}`, 405);
  return true;
}

/**
 * The route's path parameters, percent-decoded and checked against its params schema; null
 * when they do not pass (the path is not this route's). A parameter that is not valid
 * percent-encoding is checked as it came and, if the schema takes it, refused (400).
 */
function pathParams(route: AnyRoute, raw: Record<string, string>): { values: unknown; undecodable: string | null } | null {
  let undecodable: string | null = null;
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    try {
      decoded[name] = decodeURIComponent(value);
    } catch {
      decoded[name] = value;
      undecodable ??= name;
    }
  }
  if (route.params === none) return { values: undefined, undecodable };
  try {
    return { values: check(route.params, decoded, 'path'), undecodable };
  } catch (err) {
    if (err instanceof ValidationError) return null;
    throw err;
  }
}

async function answer(
  served: ServedRoute, params: { values: unknown; undecodable: string | null }, req: IncomingMessage, res: ServerResponse, search: URLSearchParams,
): Promise<void> {
  const { route, options } = served;
  let request: RouteRequest<AnyRoute>;
  try {
    if (params.undecodable) throw new ValidationError(params.undecodable, 'not valid percent-encoding in the path');
    const query = route.query === none ? undefined : check(route.query, Object.fromEntries(search), 'query');
    const body = route.body === none ? (req.resume(), undefined) : check(route.body, await jsonBody(req, options.maxBodyBytes ?? BODY_LIMIT), 'body');
    request = { params: params.values, query, body, search, req, res };
  } catch (err) {
    if (err instanceof ValidationError) return sendError(res, 'invalid_request_error', err.message);
    throw err;
  }
  let value: unknown;
  try {
    value = await served.handle(request);
  } catch (err) {
    if (err instanceof ValidationError || err instanceof AnalyticsParamError) return sendError(res, 'invalid_request_error', err.message);
    if (err instanceof LedgerUnavailableError) return sendUnavailable(res, err);
    throw err;
  }
  if (options.writesItsAnswer) return;
  if (options.status === 204) {
    res.writeHead(204, { 'cache-control': 'no-store' });
    res.end();
    return;
  }
  sendJson(res, options.status ?? 200, value);
}

/** The body as JSON (none: undefined); invalid JSON is the client's error. */
async function jsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const raw = await readBody(req, limit);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new GatewayError('invalid_request_error', `request body is not valid JSON: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** Answers 503 for a store that is not ready, with Retry-After while it opens. */
export function sendUnavailable(res: ServerResponse, err: LedgerUnavailableError): void {
  res.setHeader('retry-after', err.state === 'opening' ? '5' : '60');
  sendError(res, 'api_error', err.message, 503);
}
