/**
 * conduit-claude tells the gateway what it knows of its run that the requests do not carry:
 * the first prompt it passed to claude (a short excerpt, for the sessions view) and claude's
 * session id once claude names it (ROUTES.sessionInfo, sessionInfoRoute.ts).
 * Sent once, in the background: a gateway that is slow, gone or refusing never touches
 * claude's output or exit; the wait at the end is bounded.
 */
import { FIRST_PROMPT_CHARS } from '../../protocol/analytics';
import { call } from '../client/call';
import { ROUTES } from '../../protocol/routes';

/** How much of a prompt is sent: the gateway keeps FIRST_PROMPT_CHARS of it, whitespace collapsed. */
const SENT_CHARS = FIRST_PROMPT_CHARS * 12;
/** The longest wait for the report when claude has exited. */
const FINAL_WAIT_MS = 2_000;

export class SessionInfoReport {
  private sent: Promise<void> | null = null;

  constructor(
    private readonly gateway: { port: number; token: string },
    private readonly conduitSessionId: string,
    private readonly firstPrompt: string | null,
  ) {}

  /** Sends the report (once) with claude's session id where known; nothing to send without a prompt. */
  send(claudeSessionId: string | null): void {
    if (this.sent || !this.firstPrompt) return;
    const body = { claudeSessionId, firstPrompt: Array.from(this.firstPrompt.slice(0, SENT_CHARS * 2)).slice(0, SENT_CHARS).join('') };
    this.sent = call(this.gateway, ROUTES.sessionInfo, { params: { id: this.conduitSessionId }, body }, { timeoutMs: 5_000 })
      .then(() => undefined, () => undefined);
  }

  /** claude exited: sends what is known if nothing was sent, and waits a little for it to arrive. */
  async finish(claudeSessionId: string | null): Promise<void> {
    this.send(claudeSessionId);
    if (!this.sent) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.sent, new Promise<void>((resolve) => { timer = setTimeout(resolve, FINAL_WAIT_MS); })]);
    clearTimeout(timer);
  }
}
