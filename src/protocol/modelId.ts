/**
 * What a model id is, wherever one enters: a request's "model", config.json, a project's
 * or agent's model settings, a budget's soft-limit model, a plugin's answer. The gateway
 * echoes the id in a reply header (x-conduit-model), the journal and its log, so it is
 * visible ASCII only (no spaces, control characters or anything outside ASCII, which a
 * header cannot carry) and at most 256 characters. Every provider's ids fit:
 * "claude-sonnet-4-5-20250929", "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
 * "claude-3-5-sonnet-v2@20241022", "openrouter/anthropic/claude-3.5-sonnet:beta".
 */
import { ValidationError, describe } from './validate';

export const MAX_MODEL_ID_LENGTH = 256;

const MODEL_ID = /^[\x21-\x7e]{1,256}$/;

export const MODEL_ID_RULE = `a model id: 1 to ${MAX_MODEL_ID_LENGTH} visible ASCII characters, no spaces or control characters`;

export function isModelId(v: unknown): v is string {
  return typeof v === 'string' && v.length <= MAX_MODEL_ID_LENGTH && MODEL_ID.test(v);
}

/** What is wrong with `v` as a model id, or null when it is one. */
export function modelIdProblem(v: unknown): string | null {
  return isModelId(v) ? null : `expected ${MODEL_ID_RULE}, got ${describe(v)}`;
}

/** `v` when it is a model id; otherwise a ValidationError naming `path`. */
export function expectModelId(v: unknown, path: string): string {
  const problem = modelIdProblem(v);
  if (problem) throw new ValidationError(path, problem);
  return v as string;
}

/** o[key] as a model id, null, or undefined when absent. */
export function optionalNullableModelId(o: Record<string, unknown>, key: string, path: string): string | null | undefined {
  const v = o[key];
  return v === undefined || v === null ? v : expectModelId(v, `${path}.${key}`);
}

/** o[key] as a list of model ids, or undefined when absent; an error names the bad entry. */
export function optionalModelIdList(o: Record<string, unknown>, key: string, path: string): string[] | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new ValidationError(`${path}.${key}`, `expected a list of model ids, got ${describe(v)}`);
  return v.map((id, i) => expectModelId(id, `${path}.${key}[${i}]`));
}
