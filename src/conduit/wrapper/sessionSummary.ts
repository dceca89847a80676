/**
 * conduit-claude's last stream-json line (conduit_session, src/protocol/session.ts): the
 * session's id and Conduit's totals from the records it reported, with claude's own cost
 * estimate (total_cost_usd of claude's result line) beside them. Claude's init line gives
 * its session id early, for the session's report to the gateway (sessionInfoReport.ts).
 */
import { SessionTally, sessionIdOf, type ConduitSessionLine } from '../../protocol/session';
import type { UsageRecord } from '../../protocol/usage';

/** How claude's result line says what it is (its keys come in no fixed order). */
const RESULT_MARK = Buffer.from('"type":"result"');
/** A line longer than this is not read (a result text can be long; the cost is not worth more). */
const MAX_RESULT_LINE = 16 * 1024 * 1024;

/** How claude's first stream-json line (its init) says what it is. */
const INIT_MARK = Buffer.from('"subtype":"init"');

/** How claude's lines of a reply say what they are (one or more per API request). */
const ASSISTANT_MARK = Buffer.from('"type":"assistant"');

/** What claude's result line says that the summary needs. */
export interface ClaudeResult {
  totalCostUsd: number | null;
  sessionId: string | null;
}

/**
 * Watches claude's stdout for its result line. Only the current line is held, and only up to
 * MAX_RESULT_LINE; a line is parsed only when it holds `"type":"result"`.
 */
export class ClaudeResultWatcher {
  private parts: Buffer[] = [];
  private length = 0;
  result: ClaudeResult | null = null;
  /** Claude's session id, from its init line (the first of stream-json), once seen. */
  initSessionId: string | null = null;

  /**
   * `onInit`: called once with claude's session id when its init line goes by;
   * `onAssistant`: with each of claude's assistant lines (when conduit-claude runs without the gateway, fallback.ts).
   */
  constructor(
    private readonly onInit: (sessionId: string) => void = () => undefined,
    private readonly onAssistant: ((line: string) => void) | null = null,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      if (end > start && this.length <= MAX_RESULT_LINE) {
        this.parts.push(chunk.subarray(start, end));
        this.length += end - start;
      }
      if (nl < 0) return;
      this.lineEnded();
      start = nl + 1;
    }
  }

  /** claude's output ended: an unterminated last line counts too. */
  end(): void {
    this.lineEnded();
  }

  private lineEnded(): void {
    if (this.length > 0 && this.length <= MAX_RESULT_LINE) {
      const line = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
      if (line.includes(RESULT_MARK)) this.result = parseResult(line.toString('utf8')) ?? this.result;
      else if (this.initSessionId === null && line.includes(INIT_MARK)) {
        const id = parseInitSessionId(line.toString('utf8'));
        if (id) {
          this.initSessionId = id;
          this.onInit(id);
        }
      } else if (this.onAssistant && line.includes(ASSISTANT_MARK)) this.onAssistant(line.toString('utf8'));
    }
    this.parts = [];
    this.length = 0;
  }
}

function parseInitSessionId(line: string): string | null {
  try {
    const o = JSON.parse(line.replace(/\r$/, '')) as { type?: unknown; subtype?: unknown; session_id?: unknown };
    return o?.type === 'system' && o.subtype === 'init' && typeof o.session_id === 'string' && o.session_id ? o.session_id : null;
  } catch {
    return null;
  }
}

function parseResult(line: string): ClaudeResult | null {
  try {
    const o = JSON.parse(line.replace(/\r$/, '')) as { type?: unknown; total_cost_usd?: unknown; session_id?: unknown };
    if (o?.type !== 'result') return null;
    return {
      totalCostUsd: typeof o.total_cost_usd === 'number' && Number.isFinite(o.total_cost_usd) ? o.total_cost_usd : null,
      sessionId: typeof o.session_id === 'string' && o.session_id ? o.session_id : null,
    };
  } catch {
    return null;
  }
}

/** The session's records as conduit-claude reports them, each once, and the summary line they make. */
export class SessionReport {
  private readonly tally = new SessionTally();
  private claudeSessionId: string | null = null;

  constructor(private readonly conduitSessionId: string) {}

  /** A record of the session: false when it was reported already. */
  add(r: UsageRecord): boolean {
    if (!this.tally.add(r.id, r.decision.requestedModel, r.decision.model, r.cost.cost)) return false;
    this.claudeSessionId ??= r.context.claudeSessionId ?? null;
    return true;
  }

  line(claude: ClaudeResult | null): ConduitSessionLine {
    const claudeSessionId = this.claudeSessionId ?? claude?.sessionId ?? null;
    return {
      type: 'conduit_session',
      data: {
        sessionId: sessionIdOf({ claudeSessionId: claudeSessionId ?? undefined, sessionId: this.conduitSessionId }),
        conduitSessionId: this.conduitSessionId,
        ...this.tally.totals(),
        claudeEstimateUsd: claude?.totalCostUsd ?? null,
      },
    };
  }
}
