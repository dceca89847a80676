/**
 * What one route of the gateway's HTTP API is: its method, its path (":name" marks a path
 * parameter), and a valibot schema for each of its parameters, query, request body and
 * answer, from which their TypeScript types are inferred. The gateway's server validates
 * what arrives against them (src/conduit/http/routeTable.ts); every client calls through
 * them (src/conduit/client/call.ts). The table of routes is routes.ts.
 */
import * as v from 'valibot';
import { controlCharacterProblem } from './controlCharacters';
import { ValidationError, expecting, plainObjectSchema, type Schema } from './validate';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

export type { Schema } from './validate';

export interface Route<Params, Query, Body, Response> {
  readonly method: HttpMethod;
  /** "/v1/conduit/projects/:key/agents/:agentId" */
  readonly path: string;
  readonly params: Schema<Params>;
  readonly query: Schema<Query>;
  readonly body: Schema<Body>;
  readonly response: Schema<Response>;
}

/** Any route (a route's schemas only give values out, so each of its types widens to unknown). */
export type AnyRoute = Route<unknown, unknown, unknown, unknown>;
export type ParamsOf<R> = R extends Route<infer P, unknown, unknown, unknown> ? P : never;
export type QueryOf<R> = R extends Route<unknown, infer Q, unknown, unknown> ? Q : never;
export type BodyOf<R> = R extends Route<unknown, unknown, infer B, unknown> ? B : never;
export type ResponseOf<R> = R extends Route<unknown, unknown, unknown, infer A> ? A : never;

/** A part a route has none of is left out; one whose fields are all optional may be left out. */
type Part<K extends string, T> = [T] extends [undefined] ? { [P in K]?: undefined }
  : object extends T ? { [P in K]?: T } : { [P in K]: T };

/** What a call of the route gives: its path parameters, query and body, each as typed. */
export type RouteInput<R extends AnyRoute> = Part<'params', ParamsOf<R>> & Part<'query', QueryOf<R>> & Part<'body', BodyOf<R>>;

/** No such part: absent on the wire. */
export const none = v.undefined();

/**
 * An answer typed by hand in src/protocol and not (yet) checked field by field: its
 * schema accepts any JSON value. The gateway builds it, so only the type matters there.
 */
export function typed<T>(): Schema<T> {
  return v.custom<T>(() => true);
}

export function route<Params = undefined, Query = undefined, Body = undefined, Response = null>(
  method: HttpMethod, path: string,
  parts: { params?: Schema<Params>; query?: Schema<Query>; body?: Schema<Body>; response?: Schema<Response> } = {},
): Route<Params, Query, Body, Response> {
  return {
    method, path,
    params: parts.params ?? (none as unknown as Schema<Params>),
    query: parts.query ?? (none as unknown as Schema<Query>),
    body: parts.body ?? (none as unknown as Schema<Body>),
    response: parts.response ?? (v.nullable(v.unknown()) as unknown as Schema<Response>),
  };
}

/** The path a call goes to: each ":name" replaced by its parameter, percent-encoded; then the query. */
export function urlOf<R extends AnyRoute>(r: R, input: RouteInput<R>): string {
  const params = (input.params ?? {}) as Record<string, string>;
  const path = r.path.replace(/:([A-Za-z]+)/g, (_, name: string) => encodeURIComponent(params[name]));
  const query = queryString(input.query as Record<string, unknown> | undefined);
  return query ? `${path}?${query}` : path;
}

function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [k, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) if (item !== undefined && item !== null) search.append(k, String(item));
  }
  return search.toString();
}

const compiled = new WeakMap<AnyRoute, { pattern: RegExp; names: string[] }>();

/** The route's path parameters in a request's path as they came (percent-encoded), or null when the path is not the route's. */
export function matchRawPath(r: AnyRoute, path: string): Record<string, string> | null {
  let c = compiled.get(r);
  if (!c) {
    const names: string[] = [];
    const source = r.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:([A-Za-z]+)/g, (_, name: string) => { names.push(name); return '([^/]+)'; });
    c = { pattern: new RegExp(`^${source}$`), names };
    compiled.set(r, c);
  }
  const m = c.pattern.exec(path);
  if (!m) return null;
  const params: Record<string, string> = {};
  c.names.forEach((name, i) => { params[name] = m[i + 1]; });
  return params;
}

/**
 * The route's path parameters in a request's path (percent-decoded), or null when the path
 * is not the route's. A parameter that is not valid percent-encoding is kept as it came.
 */
export function matchPath(r: AnyRoute, path: string): Record<string, string> | null {
  const raw = matchRawPath(r, path);
  if (!raw) return null;
  for (const [name, value] of Object.entries(raw)) {
    try { raw[name] = decodeURIComponent(value); } catch { /* kept as it came */ }
  }
  return raw;
}

/**
 * A schema's message for a value that is not what it should be: what was expected and what
 * came ("expected a number ≥ 0, got the string \"x\""), as validate.ts's messages say it.
 */
export const expected = expecting;

/**
 * An object with these entries: a list or null is "expected an object" (valibot's object
 * alone takes a list), a missing entry is named by its path.
 */
export function objectOf<E extends v.ObjectEntries>(entries: E) {
  return v.pipe(
    plainObjectSchema,
    v.object(entries, (issue) => `missing, expected ${issue.expected}`),
  );
}

/**
 * An object with these entries and no others (a request body): a missing entry is
 * "required", another one an "unknown field" naming the entries there are.
 */
export function closedObjectOf<E extends v.ObjectEntries>(entries: E) {
  const allowed = Object.keys(entries).join(', ');
  return v.pipe(
    plainObjectSchema,
    v.strictObject(entries, (issue) => (issue.expected === 'never' ? `unknown field ${issue.received} (allowed: ${allowed})` : 'required')),
  );
}

/** A string without control characters (src/protocol/controlCharacters.ts), the message naming the first. */
export const withoutControlCharacters = v.check((s: string) => controlCharacterProblem(s) === null, (issue) => controlCharacterProblem(issue.input) ?? '');

/**
 * Checks a value against a schema. A failure is a ValidationError naming the path of the
 * offending value and the schema's message for it ("budget.dailyUsd: expected null or a
 * number of US dollars from 0 to 1000000, got -1").
 */
export function check<T>(schema: Schema<T>, value: unknown, where: string): T {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const dotted = v.getDotPath(issue);
  throw new ValidationError(dotted ? `${where}.${dotted}` : where, issue.message);
}
