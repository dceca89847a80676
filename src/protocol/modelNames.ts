/**
 * The name a person reads for a Claude model id ("Claude Sonnet 5.5" for claude-sonnet-5-5),
 * so every catalogue model is shown the one way, "Claude Sonnet 5.5 · claude-sonnet-5-5",
 * even where the price table has no entry (or no name) for it: the gateway's default model
 * and the routing rules' choices come from its own configuration, not from the table.
 */

/** claude-<family>-<major>[-<minor>][-<yyyymmdd>], the form of current Claude ids (minor 0 is not written: "Claude Opus 4"). */
const CLAUDE_ID = /^claude-(opus|sonnet|haiku)-(\d{1,2})(?:-(\d{1,2}))?(?:-\d{8})?$/;

/** "Claude Sonnet 5.5" for claude-sonnet-5-5; null for an id that is not a current Claude model's. */
export function claudeModelName(id: string): string | null {
  const m = CLAUDE_ID.exec(id);
  if (!m) return null;
  const [, family, major, minor] = m;
  const version = minor && minor !== '0' ? `${major}.${minor}` : major;
  return `Claude ${family[0].toUpperCase()}${family.slice(1)} ${version}`;
}

/** A model's display name: the one it was given when that is more than its id, else its Claude name, else its id. */
export function modelNameOf(id: string, given?: string | null): string {
  return given && given !== id ? given : claudeModelName(id) ?? id;
}
