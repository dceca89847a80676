/**
 * How the gateway's config.json stands, for the person who wrote it.
 *
 * - At start, a file that does not parse or validate stops the gateway: it prints one line
 *   that starts with CONFIG_ERROR_LINE and holds the reason (the file, the field, the value
 *   refused), then exits 1. It cannot fix itself: a supervisor shows the reason and starts
 *   it again once the file changes, instead of retrying.
 * - On a change while it runs, a refused file leaves the last good configuration in force:
 *   /health says `config: {state: 'refused'}` (no reason: the route is open and the reason may
 *   quote the file), GET /v1/conduit/status gives the reason (ConfigStatus).
 */

export const CONFIG_ERROR_LINE = 'conduit: configuration error: ';

/** The reason in a line of the gateway's output, or null when the line is not its configuration error. */
export function configErrorOfLine(line: string): string | null {
  const at = line.indexOf(CONFIG_ERROR_LINE);
  return at < 0 ? null : line.slice(at + CONFIG_ERROR_LINE.length).trim() || null;
}

export type ConfigState = 'ok' | 'refused';

/** In /health. */
export interface ConfigHealth {
  state: ConfigState;
}

/** In GET /v1/conduit/status. */
export interface ConfigStatus extends ConfigHealth {
  file: string;
  /** Why the last change was refused (the last good configuration is in force); null when ok. */
  error: string | null;
  /** When it was refused (ISO time); null when ok. */
  refusedAt: string | null;
}
