/**
 * Small validators for what crosses a boundary (environment variables, config files,
 * HTTP bodies, webview messages). Each failure names the path of the offending value.
 */
export class ValidationError extends Error {
  constructor(readonly path: string, readonly problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'ValidationError';
  }
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function expectObject(v: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(v)) throw new ValidationError(path, `expected an object, got ${describe(v)}`);
  return v;
}

export function optionalString(o: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ValidationError(`${path}.${key}`, `expected a string, got ${describe(v)}`);
  return v;
}

export function optionalNullableString(o: Record<string, unknown>, key: string, path: string): string | null | undefined {
  if (o[key] === null) return null;
  return optionalString(o, key, path);
}

export function optionalBoolean(o: Record<string, unknown>, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new ValidationError(`${path}.${key}`, `expected true or false, got ${describe(v)}`);
  return v;
}

export function optionalNumber(
  o: Record<string, unknown>, key: string, path: string, { min = -Infinity, max = Infinity, integer = false } = {},
): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValidationError(`${path}.${key}`, `expected a number, got ${describe(v)}`);
  if (integer && !Number.isInteger(v)) throw new ValidationError(`${path}.${key}`, `expected a whole number, got ${v}`);
  if (v < min || v > max) {
    // An open end is not named ("at least 1", not "from 1 to Infinity").
    const range = max === Infinity ? `at least ${min}` : min === -Infinity ? `at most ${max}` : `from ${min} to ${max}`;
    throw new ValidationError(`${path}.${key}`, `expected a number ${range}, got ${v}`);
  }
  return v;
}

export function optionalStringArray(o: Record<string, unknown>, key: string, path: string): string[] | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new ValidationError(`${path}.${key}`, `expected a list of strings, got ${describe(v)}`);
  }
  return v as string[];
}

export function rejectUnknownKeys(o: Record<string, unknown>, known: readonly string[], path: string): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw new ValidationError(`${path}.${k}`, `unknown setting (known: ${known.join(', ')})`);
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
