/**
 * claude set to talk to Amazon Bedrock or Google Vertex AI (CLAUDE_CODE_USE_BEDROCK,
 * CLAUDE_CODE_USE_VERTEX) does not use ANTHROPIC_BASE_URL at all: its requests never reach
 * the gateway, whatever conduit-claude sets. Such a session runs as it would without
 * Conduit, with a notice, and without metadata Conduit could not back.
 */

const CLOUD_PROVIDERS = [
  { variable: 'CLAUDE_CODE_USE_BEDROCK', name: 'Amazon Bedrock' },
  { variable: 'CLAUDE_CODE_USE_VERTEX', name: 'Google Vertex AI' },
] as const;

/** claude's own reading of such a switch (1, true, yes or on, in any case). */
function switchedOn(value: string | undefined): boolean {
  return ['1', 'true', 'yes', 'on'].includes((value ?? '').trim().toLowerCase());
}

/** The cloud provider claude is set to use, or null when it talks to the Anthropic API. */
export function cloudProviderOf(env: NodeJS.ProcessEnv): (typeof CLOUD_PROVIDERS)[number] | null {
  return CLOUD_PROVIDERS.find((p) => switchedOn(env[p.variable])) ?? null;
}

/** The one stderr line of such a session. */
export function cloudProviderNotice(p: (typeof CLOUD_PROVIDERS)[number]): string {
  return `${p.variable} is set: claude sends its requests to ${p.name} directly, not through ANTHROPIC_BASE_URL, so Conduit cannot route or measure this session (no conduit_metadata lines)`;
}
