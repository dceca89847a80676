/**
 * Serving routes of the API table (src/protocol/routes.ts): a request whose method and path
 * are a served route's has its path parameters, query and body checked against the route's
 * schemas at the boundary (400 naming the offending value), and its handler gets them typed;
 * the handler's answer goes out as JSON. The token check happens before (server.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { check, matchPath, none, type AnyRoute, type BodyOf, type ParamsOf, type QueryOf, type ResponseOf } from '../../protocol/route';
import { ValidationError } from '../../protocol/validate';
import { LedgerUnavailableError } from '../ledger/service';
import { sendJson, sendUnavailable } from './analyticsRoute';
import { readBody } from './body';
import { sendError } from './errors';

/** What a handler gets: the request's parts as its route's schemas made them. */
export interface RouteRequest<R extends AnyRoute> {
  params: ParamsOf<R>;
  query: QueryOf<R>;
  body: BodyOf<R>;
  /** The query as it came, for handlers that pass it on to a stricter parser. */
  search: URLSearchParams;
  req: IncomingMessage;
}

export interface ServedRoute {
  route: AnyRoute;
  handle(request: RouteRequest<AnyRoute>): Promise<unknown> | unknown;
}

/** A route and its handler, typed together. */
export function serve<R extends AnyRoute>(route: R, handle: (request: RouteRequest<R>) => Promise<ResponseOf<R>> | ResponseOf<R>): ServedRoute {
  return { route, handle: handle as ServedRoute['handle'] };
}

/** Bodies of the table's routes are small JSON objects. */
const BODY_LIMIT = 64 * 1024;

/**
 * Answers the request if a served route has its method and path; false otherwise (the
 * server's other routes then have it, with their own answers for a wrong method).
 */
export async function dispatchRoute(table: readonly ServedRoute[], req: IncomingMessage, res: ServerResponse, path: string, search: URLSearchParams): Promise<boolean> {
  for (const served of table) {
    if (served.route.method !== req.method) continue;
    const params = matchPath(served.route, path);
    if (!params) continue;
    await answer(served, params, req, res, search);
    return true;
  }
  return false;
}

async function answer(served: ServedRoute, rawParams: Record<string, string>, req: IncomingMessage, res: ServerResponse, search: URLSearchParams): Promise<void> {
  const { route } = served;
  let request: RouteRequest<AnyRoute>;
  try {
    const body = route.body === none ? (req.resume(), undefined) : await jsonBody(req);
    request = {
      params: route.params === none ? undefined : check(route.params, rawParams, 'path'),
      query: route.query === none ? undefined : check(route.query, Object.fromEntries(search), 'query'),
      body: route.body === none ? undefined : check(route.body, body, 'body'),
      search,
      req,
    };
  } catch (err) {
    if (err instanceof ValidationError) return sendError(res, 'invalid_request_error', err.message);
    throw err;
  }
  try {
    sendJson(res, 200, await served.handle(request));
  } catch (err) {
    if (err instanceof LedgerUnavailableError) return sendUnavailable(res, err);
    throw err;
  }
}

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const raw = await readBody(req, BODY_LIMIT);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new ValidationError('body', `not valid JSON (${(err as Error).message})`);
  }
}
