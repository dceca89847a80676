/**
 * One typed call of the gateway's API: a route of src/protocol/routes.ts and its input
 * (path parameters, query, body) in, the route's answer out, checked against its schema.
 * Every client goes through it: the CLI, the wrapper, the status line and the extension
 * (whose GatewayApi carries the call: the running gateway's port and token, the wait for
 * the store, the views' refresh after a change).
 */
import { check, urlOf, type AnyRoute, type ResponseOf, type RouteInput } from '../../protocol/route';
import { request, type HttpResult } from './request';

/** An error answer of the gateway's API, with its status (503: not ready yet, try again). */
export class GatewayHttpError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/** Where the gateway listens and its access token (null for the open routes). */
export interface GatewayAccess {
  port: number;
  token: string | null;
}

/**
 * What carries a call of a route to its gateway, given the route, the path its input made
 * and its body: the extension's GatewayApi (the running gateway's port and token, the wait
 * for the store, the views' refresh after a change); a test's fake. It answers the JSON.
 */
export interface RouteCarrier {
  send(route: AnyRoute, path: string, body: unknown, options: CallOptions): Promise<unknown>;
}

/** Where a call goes: straight to a gateway over HTTP, or through a RouteCarrier. */
export type CallVia = GatewayAccess | RouteCarrier;

export interface CallOptions {
  /** A direct call's timeout (default: request()'s). */
  timeoutMs?: number;
  /** Through a RouteCarrier that can wait: up to this long while the usage store opens (503). */
  waitForStoreMs?: number;
}

/** The JSON of an answer; a GatewayHttpError for a refusal (status 400 and up). */
export function answerOf(r: HttpResult): unknown {
  let parsed: unknown;
  try {
    parsed = r.body ? JSON.parse(r.body) : null;
  } catch {
    throw new Error(`the gateway answered ${r.status} with something that is not JSON`);
  }
  if (r.status >= 400) {
    const message = (parsed as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${r.status}`;
    throw new GatewayHttpError(message.replace(/^\[conduit\] /, ''), r.status);
  }
  return parsed;
}

export async function call<R extends AnyRoute>(via: CallVia, route: R, input: RouteInput<R>, options: CallOptions = {}): Promise<ResponseOf<R>> {
  const path = urlOf(route, input);
  let answer: unknown;
  if ('send' in via) {
    answer = await via.send(route, path, input.body, options);
  } else {
    const body = input.body === undefined ? undefined : JSON.stringify(input.body);
    answer = answerOf(await request(via.port, route.method, path, { token: via.token, body, timeoutMs: options.timeoutMs }));
  }
  return check(route.response, answer, `${route.method} ${route.path}`) as ResponseOf<R>;
}
