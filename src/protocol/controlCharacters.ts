/**
 * Names and keys people give (project keys and names, agent names and ids, persona types)
 * hold no control characters: Postgres refuses a NUL in text outright (which surfaced as
 * the store's failure instead of the client's), and the others (line breaks, escapes) would
 * reach logs, headers and views as they are. Refused where they enter, naming the field.
 */
import { ValidationError } from './validate';

/** C0 controls (NUL, tab, line breaks, ESC...), DEL and the C1 controls. */
// eslint-disable-next-line no-control-regex -- matching them is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

export function hasControlCharacter(s: string): boolean {
  return CONTROL_CHARACTER.test(s);
}

/** What is wrong with `s` ("must not contain control characters (found U+0000 at position 3)"), or null. */
export function controlCharacterProblem(s: string): string | null {
  const hit = CONTROL_CHARACTER.exec(s);
  if (!hit) return null;
  const code = `U+${hit[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  return `must not contain control characters (found ${code} at position ${hit.index})`;
}

/** `s` when it has no control character; otherwise a ValidationError naming `path` and the character. */
export function expectNoControlCharacters(s: string, path: string): string {
  const problem = controlCharacterProblem(s);
  if (problem) throw new ValidationError(path, problem);
  return s;
}
