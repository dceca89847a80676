/**
 * Graceful fallback (CONDUIT_FALLBACK): when the gateway cannot be started or reached,
 * conduit-claude runs claude straight against the provider rather than not at all
 * (`direct`, the default), or exits 1 as before (`fail`).
 *
 * Straight against the provider means claude with the person's own environment, untouched:
 * their ANTHROPIC_BASE_URL (or claude's default endpoint), their key or subscription, their
 * ANTHROPIC_CUSTOM_HEADERS. Nothing of Conduit's goes along (no access token, no context
 * header), and the gateway's own key is not lent out: credentials stay where they were.
 *
 * Without the gateway nothing is routed or priced, so the conduit_metadata lines of such a
 * session say only what claude's own output backs: one line per API request (one reply
 * message id), the model that answered, source "fallback", and no usage or cost.
 */
import type { ConduitMetadataLine } from '../../protocol/usage';

export type FallbackMode = 'direct' | 'fail';

/** CONDUIT_FALLBACK: `direct` (also when unset) or `fail`; anything else is a configuration error. */
export function fallbackMode(env: NodeJS.ProcessEnv): FallbackMode {
  const v = (env.CONDUIT_FALLBACK ?? '').trim().toLowerCase();
  if (v === '' || v === 'direct') return 'direct';
  if (v === 'fail') return 'fail';
  throw new Error(`CONDUIT_FALLBACK must be "direct" or "fail", not ${JSON.stringify(env.CONDUIT_FALLBACK).slice(0, 60)}`);
}

/** The one stderr line of a session that runs without Conduit. */
export function fallbackNotice(reason: string): string {
  // One line: a failed start's reason may end with lines of the gateway's log.
  const oneLine = reason.replace(/\s+/g, ' ').trim();
  return `the gateway is unavailable (${oneLine.length > 300 ? `${oneLine.slice(0, 299)}…` : oneLine}): claude runs directly against the provider, without routing or cost tracking (CONDUIT_FALLBACK=fail to stop instead)`;
}

export const FALLBACK_RULE = 'Conduit unavailable: claude ran directly against the provider';

/** A conduit_metadata line of a fallback session: the routing decision says only what happened. */
export type FallbackMetadataLine = {
  type: 'conduit_metadata';
  data: Omit<ConduitMetadataLine['data'], 'routingDecision' | 'usage'> & {
    routingDecision: Omit<ConduitMetadataLine['data']['routingDecision'], 'source'> & { source: 'fallback' };
  };
};

/** The model claude names on a message it made itself, without any request (its errors). */
const CLAUDE_SYNTHETIC_MODEL = '<synthetic>';

/**
 * Reads claude's assistant lines (ClaudeResultWatcher's onAssistant) and makes one metadata
 * line per reply: claude writes a line per content block, all with the reply's message id.
 */
export class FallbackRecorder {
  private readonly seen = new Set<string>();

  constructor(
    private readonly context: { projectId?: string; agentId?: string },
    private readonly emit: (line: FallbackMetadataLine) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  assistantLine(text: string): void {
    let o: { type?: unknown; session_id?: unknown; message?: { id?: unknown; model?: unknown } | null };
    try {
      o = JSON.parse(text.replace(/\r$/, '')) as typeof o;
    } catch {
      return;
    }
    const id = o?.type === 'assistant' ? o.message?.id : undefined;
    const model = o?.message?.model;
    if (typeof id !== 'string' || !id || typeof model !== 'string' || model === CLAUDE_SYNTHETIC_MODEL || this.seen.has(id)) return;
    this.seen.add(id);
    const { projectId, agentId } = this.context;
    this.emit({
      type: 'conduit_metadata',
      data: {
        requestId: id,
        ...(typeof o.session_id === 'string' && o.session_id ? { sessionId: o.session_id } : {}),
        // No estimate was made (tokenCount 0) and no model was chosen: the one claude asked for answered.
        routingDecision: { model, source: 'fallback', tokenCount: 0, timestamp: this.now().toISOString(), rule: FALLBACK_RULE, requestedModel: model },
        ...(projectId ? { projectContext: agentId ? { projectId, agentId } : { projectId } } : {}),
      },
    });
  }
}
