/**
 * What a model id is, wherever one enters: a request's "model", config.json, a project's
 * or agent's model settings, a budget's soft-limit model, a plugin's answer. The gateway
 * echoes the id in a reply header (x-conduit-model), the journal and its log, so it is
 * visible ASCII only (no spaces, control characters or anything outside ASCII, which a
 * header cannot carry) and at most 256 characters. Every provider's ids fit:
 * "claude-sonnet-4-5-20250929", "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
 * "claude-3-5-sonnet-v2@20241022", "openrouter/anthropic/claude-3.5-sonnet:beta".
 */
import * as v from 'valibot';
import { ValidationError, describe, expecting } from './validate';

export const MAX_MODEL_ID_LENGTH = 256;

const MODEL_ID = /^[\x21-\x7e]{1,256}$/;

export const MODEL_ID_RULE = `a model id: 1 to ${MAX_MODEL_ID_LENGTH} visible ASCII characters, no spaces or control characters`;

export function isModelId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_MODEL_ID_LENGTH && MODEL_ID.test(value);
}

/** What is wrong with `value` as a model id, or null when it is one. */
export function modelIdProblem(value: unknown): string | null {
  return isModelId(value) ? null : `expected ${MODEL_ID_RULE}, got ${describe(value)}`;
}

/** `value` when it is a model id; otherwise a ValidationError naming `path`. */
export function expectModelId(value: unknown, path: string): string {
  const problem = modelIdProblem(value);
  if (problem) throw new ValidationError(path, problem);
  return value as string;
}

/** A model id; anything else is refused with what a model id is. */
export const modelIdSchema = v.custom<string>(isModelId, (issue) => modelIdProblem(issue.input) ?? 'not a model id');

/** A list of model ids; a bad entry is named by its index. */
export const modelIdListSchema = v.array(modelIdSchema, expecting('a list of model ids'));
