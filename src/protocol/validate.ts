/**
 * Validators for what crosses a boundary (environment variables, config files, HTTP
 * bodies, webview messages). A shape is declared once, as a valibot schema its type is
 * inferred from, built from the pieces below; parseWith() checks a value against it. Each
 * failure names the path of the offending value ("config.routing.fallbackModels[1]") and
 * says what was expected and what came.
 */
import * as v from 'valibot';

export class ValidationError extends Error {
  constructor(readonly path: string, readonly problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'ValidationError';
  }
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function expectObject(value: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw new ValidationError(path, `expected an object, got ${describe(value)}`);
  return value;
}

export function rejectUnknownKeys(o: Record<string, unknown>, known: readonly string[], path: string): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw new ValidationError(`${path}.${k}`, `unknown setting (known: ${known.join(', ')})`);
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

// ---------------------------------------------------------------------------------------
// Schemas

/** A schema whose input is anything (what arrives over the wire) and whose output is T. */
export type Schema<T> = v.GenericSchema<unknown, T>;

/** A schema's message: what was expected, and what came. */
export function expecting(what: string): (issue: v.BaseIssue<unknown>) => string {
  return (issue) => `expected ${what}, got ${describe(issue.input)}`;
}

export const stringSchema = v.string(expecting('a string'));
/** An object (not a list, not null), its entries unchecked. */
export const plainObjectSchema = v.custom<Record<string, unknown>>(isPlainObject, expecting('an object'));
export const booleanSchema = v.boolean(expecting('true or false'));
export const stringListSchema = v.custom<string[]>(
  (x) => Array.isArray(x) && x.every((s) => typeof s === 'string'), expecting('a list of strings'),
);

/** A finite number; an open end of its range is not named ("at least 1", not "from 1 to Infinity"). */
export function numberSchema({ min = -Infinity, max = Infinity, integer = false } = {}): Schema<number> {
  const range = max === Infinity ? `at least ${min}` : min === -Infinity ? `at most ${max}` : `from ${min} to ${max}`;
  return v.pipe(
    v.custom<number>((x) => typeof x === 'number' && Number.isFinite(x), expecting('a number')),
    v.check((x) => !integer || Number.isInteger(x), (issue) => `expected a whole number, got ${String(issue.input)}`),
    v.check((x) => x >= min && x <= max, (issue) => `expected a number ${range}, got ${String(issue.input)}`),
  );
}

/**
 * An object with exactly these entries: a list or null is "expected an object", a key it
 * does not know is an "unknown setting" naming the known ones, a missing entry is
 * `required[key]` ("required" when not given).
 */
export function strictObjectOf<E extends v.ObjectEntries>(entries: E, required: { [K in keyof E]?: string } = {}) {
  return v.pipe(plainObjectSchema, v.strictObject(entries, entryMessage(entries, required)));
}

/** As strictObjectOf, but keys it does not know are let through and dropped (a body a newer client may add to). */
export function looseObjectOf<E extends v.ObjectEntries>(entries: E, required: { [K in keyof E]?: string } = {}) {
  return v.pipe(plainObjectSchema, v.object(entries, entryMessage(entries, required)));
}

function entryMessage(entries: v.ObjectEntries, required: Record<string, string | undefined>): (issue: v.BaseIssue<unknown>) => string {
  const known = Object.keys(entries).join(', ');
  return (issue) => {
    if (issue.expected === 'never') return `unknown setting (known: ${known})`;
    const key = issue.path?.[issue.path.length - 1]?.key;
    return (typeof key === 'string' && required[key]) || 'required';
  };
}

/** "config" + [routing, fallbackModels, 1] → "config.routing.fallbackModels[1]". */
function pathOf(where: string, issue: v.BaseIssue<unknown>): string {
  let path = where;
  for (const item of issue.path ?? []) {
    const key = (item as { key?: unknown }).key;
    path += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  }
  return path;
}

/** `value` as the schema has it; otherwise a ValidationError naming `where` and the path below it of the first problem. */
export function parseWith<T>(schema: Schema<T>, value: unknown, where: string): T {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const issue = result.issues[0];
  throw new ValidationError(pathOf(where, issue), issue.message);
}

/** True when `value` passes the schema. */
export function passes<T>(schema: Schema<T>, value: unknown): value is T {
  return v.is(schema, value);
}
