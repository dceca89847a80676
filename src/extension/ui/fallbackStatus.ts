/**
 * A session that ran without Conduit (conduit-claude's graceful fallback, src/conduit/wrapper/fallback.ts):
 * its conduit_metadata lines say source "fallback". The status bar says so until a request
 * is routed again, since nothing of that session shows in the costs: it was not measured.
 */
import { shortModel } from '../../protocol/format';

/** What a fallback metadata line tells: the model that answered, and the session. */
export interface FallbackSeen { model: string; sessionId: string | null }

/** The fallback a metadata line reports, or null when Conduit routed the request. */
export function fallbackOf(m: { sessionId?: unknown; routingDecision?: { source?: unknown; model?: unknown } | null }): FallbackSeen | null {
  const d = m.routingDecision;
  if (d?.source !== 'fallback') return null;
  return { model: typeof d.model === 'string' ? d.model : '', sessionId: typeof m.sessionId === 'string' && m.sessionId ? m.sessionId : null };
}

/** The status bar's text: "$(debug-disconnect) Conduit unavailable · sonnet-4-5 direct". */
export function fallbackText(f: FallbackSeen): string {
  return `$(debug-disconnect) Conduit unavailable${f.model ? ` · ${shortModel(f.model)} direct` : ''}`;
}

/** The tooltip's sentence (plain text: the caller escapes it for Markdown). */
export function fallbackExplanation(f: FallbackSeen): string {
  return `The last agent session${f.sessionId ? ` (${f.sessionId})` : ''} ran claude directly against the provider: the gateway could not be started or reached, so its requests were not routed and their cost is not tracked. Set CONDUIT_FALLBACK=fail to stop such sessions instead.`;
}
