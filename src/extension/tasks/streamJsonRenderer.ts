/**
 * Turns claude's stream-json lines (plus conduit_metadata lines) into readable terminal
 * text. Pure: no 'vscode', so it is tested with plain mocha. A line that is not JSON, or
 * not a shape it knows, is shown as it is; nothing here throws on input.
 */
import { SessionTally, modelRoute, sessionCostText, type SessionTotals } from '../../protocol/session';
import type { ConduitMetadataLine } from '../../protocol/usage';
import { formatUsd } from '../../protocol/format';

export interface RenderResult {
  /** Terminal lines to print (without line endings). */
  lines: string[];
  /** The metadata, when the line was a conduit_metadata line. */
  metadata?: ConduitMetadataLine['data'];
}

const DIM = '\x1b[2m', BOLD = '\x1b[1m', CYAN = '\x1b[36m', GREEN = '\x1b[32m', RED = '\x1b[31m', RESET = '\x1b[0m';

/**
 * Removes terminal control sequences from text that came from outside: string sequences
 * (OSC, DCS, SOS, PM, APC) with their payload, CSI sequences, other escapes, and every C0
 * and C1 control character but tab and newline. The 8-bit forms count: xterm.js acts on
 * U+009B as CSI and on U+009D as OSC.
 */
export function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/(?:\x1b[\]P^_X]|[\x9d\x90\x9e\x9f\x98])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)|(?:\x1b\[|\x9b)[0-9;?:<=>]*[ -/]*[@-~]|\x1b[ -~]|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '');
}

function firstLine(text: string, max = 160): string {
  const line = sanitize(text).split('\n').find((l) => l.trim()) ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function describeToolInput(input: unknown): string {
  if (!input || typeof input !== 'object') return '';
  const o = input as Record<string, unknown>;
  const main = o.command ?? o.file_path ?? o.pattern ?? o.url ?? o.query ?? o.description ?? Object.values(o).find((v) => typeof v === 'string');
  return typeof main === 'string' ? firstLine(main, 100) : '';
}

/*
 * The lines of claude's stream-json (and conduit-claude's conduit_metadata) that the
 * renderer reads, with the fields it reads (see test/fixtures/claude-code-stream-json.ndjson).
 * A view, not a check: only `type` is checked when a line is parsed; the other fields came
 * from outside, so they are unknown or optional objects, and each value is tested with
 * typeof (or Array.isArray) before use. An object on the way that is a string or a number
 * in fact reads as undefined through ?. .
 */

/** A block of a message's content: text, tool_use, thinking (assistant); tool_result (user). */
interface ContentBlockView {
  type?: unknown;
  text?: unknown;
  name?: unknown;
  input?: unknown;
  content?: unknown;
  is_error?: unknown;
}

/** A message of an assistant or user line (the Messages API's shape). */
interface MessageView {
  model?: unknown;
  content?: unknown;
}

/** system: claude's init (subtype "init") names the session, the model and the folder. */
interface SystemLine { type: 'system'; subtype?: unknown; session_id?: unknown; model?: unknown; cwd?: unknown }
/** A message claude received (assistant) or its tools' results (user). */
interface MessageLine { type: 'assistant' | 'user'; message?: MessageView | null }
/** How the run ended. */
interface ResultLine { type: 'result'; subtype?: unknown; is_error?: unknown; duration_ms?: unknown; num_turns?: unknown; total_cost_usd?: unknown }
/** conduit-claude's line for each request: checked further by metadataOf. */
interface MetadataLine { type: 'conduit_metadata'; data?: unknown }

type StreamJsonLine = SystemLine | MessageLine | ResultLine | MetadataLine;

const STREAM_JSON_TYPES: ReadonlySet<string> = new Set<StreamJsonLine['type']>(['system', 'assistant', 'user', 'result', 'conduit_metadata']);

/** A line parsed: a message of a type it knows (msg), or text to show as it is. */
type Parsed = { msg: StreamJsonLine; text: string } | { msg: null; text: string };

/** null: nothing to show (a blank line, or JSON of a type the renderer does not show). */
function parse(raw: string): Parsed | null {
  const text = raw.replace(/\r$/, '');
  if (!text.trim()) return null;
  let msg: { type?: unknown } | null;
  try {
    msg = JSON.parse(text);
  } catch {
    return { msg: null, text };
  }
  if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return { msg: null, text };
  return STREAM_JSON_TYPES.has(msg.type) ? { msg: msg as StreamJsonLine, text } : null;
}

/** A conduit_metadata line's data, when it has the routing decision the renderer needs. */
function metadataOf(msg: StreamJsonLine): ConduitMetadataLine['data'] | null {
  if (msg.type !== 'conduit_metadata') return null;
  const d = msg.data as { routingDecision?: { model?: unknown } | null } | null | undefined;
  return d && typeof d === 'object' && d.routingDecision && typeof d.routingDecision.model === 'string' ? d as ConduitMetadataLine['data'] : null;
}

/** A message's content blocks, when its content is a list (each block is still read with typeof). */
function contentBlocks(message: MessageView | null | undefined): readonly (ContentBlockView | null)[] {
  const content = message?.content;
  return Array.isArray(content) ? content : [];
}

/** What claude's result line says: how the run ended, and claude's own cost estimate. */
interface ResultFacts {
  ok: boolean;
  durationMs: number | null;
  turns: number | null;
  claudeEstimateUsd: number | null;
}

function resultFacts(msg: ResultLine): ResultFacts {
  return {
    ok: msg.subtype === 'success' && !msg.is_error,
    durationMs: typeof msg.duration_ms === 'number' ? msg.duration_ms : null,
    turns: typeof msg.num_turns === 'number' ? msg.num_turns : null,
    claudeEstimateUsd: typeof msg.total_cost_usd === 'number' ? msg.total_cost_usd : null,
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The run's summary line (after a blank line). Its format is stable, for people and for
 * tests that read it back:
 *   ✓ done in <s> s · <n> turn(s) · <sessionCostText>
 * ("✗ failed" for a failed run; each part only when known). The cost is Conduit's, with
 * claude's estimate labelled beside it; claude's alone, labelled, when no request reached Conduit.
 */
function summaryLines(r: ResultFacts, totals: SessionTotals): string[] {
  const secs = r.durationMs !== null ? ` in ${(r.durationMs / 1000).toFixed(1)} s` : '';
  const turns = r.turns !== null ? ` · ${plural(r.turns, 'turn')}` : '';
  const cost = sessionCostText(totals, r.claudeEstimateUsd);
  return ['', `${r.ok ? GREEN : RED}${BOLD}${r.ok ? '✓ done' : '✗ failed'}${RESET}${secs}${turns}${cost ? ` · ${cost}` : ''}`];
}

/** claude's system/init line: the session's id, the model claude asks for, the folder. */
interface SessionHeader { sessionId: string; model: string; cwd: string }

function headerLine(h: SessionHeader, routedModel?: string): string {
  const model = routedModel ? modelRoute(h.model, routedModel) : h.model;
  return `${DIM}● session ${sanitize(h.sessionId)} · ${sanitize(model)} · ${sanitize(h.cwd)}${RESET}`;
}

const NO_REQUESTS = new SessionTally().totals();

/**
 * The model claude names on a message it made itself without any request (an error such as
 * "Not logged in · Please run /login"): no model answered it, so it is no routed model.
 */
export const CLAUDE_SYNTHETIC_MODEL = '<synthetic>';

/** One line on its own, without what the lines before it said (see SessionRenderer). */
export function renderLine(raw: string): RenderResult {
  const p = parse(raw);
  if (!p) return { lines: [] };
  return p.msg ? renderMessage(p.msg, p.text) : { lines: [sanitize(p.text)] };
}

function renderMessage(msg: StreamJsonLine, text: string): RenderResult {
  switch (msg.type) {
    case 'conduit_metadata': {
      const d = metadataOf(msg);
      const r = d?.routingDecision;
      if (!d || !r) return { lines: [sanitize(text)] };
      const cost = d?.usage ? (d.usage.cost === null ? ' · cost unknown' : ` · ${formatUsd(Number(d.usage.cost), 'ledger')}`) : '';
      const u = d?.usage;
      const tokens = u ? ` · ${Number(u.inputTokens) + Number(u.cacheReadTokens) + Number(u.cacheCreationTokens)} in / ${Number(u.outputTokens)} out` : '';
      return { lines: [`${DIM}⇄ ${sanitize(r.model)} (${sanitize(asText(r.source))}${r.rule ? `: ${sanitize(asText(r.rule))}` : ''})${tokens}${cost}${RESET}`], metadata: d };
    }
    case 'system':
      if (msg.subtype === 'init') return { lines: [headerLine(headerOf(msg))] };
      return { lines: [] };
    case 'assistant': {
      const lines: string[] = [];
      for (const block of contentBlocks(msg.message)) {
        if (block?.type === 'text' && typeof block.text === 'string') lines.push(...sanitize(block.text).split('\n'));
        else if (block?.type === 'tool_use') lines.push(`${CYAN}⏺ ${sanitize(String(block.name))}(${describeToolInput(block.input)})${RESET}`);
        else if (block?.type === 'thinking') lines.push(`${DIM}✻ thinking…${RESET}`);
      }
      return { lines };
    }
    case 'user': {
      const lines: string[] = [];
      for (const block of contentBlocks(msg.message)) {
        if (block?.type !== 'tool_result') continue;
        const content = typeof block.content === 'string' ? block.content
          : Array.isArray(block.content) ? block.content.map((c: { text?: unknown } | null) => (typeof c?.text === 'string' ? c.text : '')).join('\n') : '';
        lines.push(`${DIM}  ⎿ ${block.is_error ? `${RED}` : ''}${firstLine(content) || '(no output)'}${RESET}`);
      }
      return { lines };
    }
    case 'result':
      return { lines: summaryLines(resultFacts(msg), NO_REQUESTS) };
    default:
      return { lines: [] };
  }
}

function headerOf(msg: SystemLine): SessionHeader {
  return { sessionId: asText(msg.session_id), model: asText(msg.model), cwd: asText(msg.cwd) };
}

/** A field that came from outside as text, whatever JSON value it is (String() throws on some objects). */
function asText(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
}

/**
 * A whole run's lines, in order, for the session terminal. Beyond renderLine it
 *  - adds up the conduit_metadata lines, so the summary states Conduit's cost of the session
 *    (claude's estimate beside it, labelled, where they differ): conduit-claude writes the
 *    last of them after claude's result line, so the summary waits for finish();
 *  - shows, in the session's header, the model claude asked for and the one its first
 *    request was routed to ("claude-opus-5-5 → claude-sonnet-5-5"): the header waits for the
 *    first request's metadata or reply, the first moment the routed model is known.
 */
export class SessionRenderer {
  private readonly tally = new SessionTally();
  private pendingHeader: SessionHeader | null = null;
  private result: ResultFacts | null = null;

  push(raw: string): RenderResult {
    const p = parse(raw);
    if (!p) return { lines: [] };
    if (!p.msg) return { lines: [...this.header(), sanitize(p.text)] };
    const msg = p.msg;
    if (msg.type === 'system' && msg.subtype === 'init') {
      this.pendingHeader = headerOf(msg);
      return { lines: [] };
    }
    if (msg.type === 'result') {
      this.result = resultFacts(msg);
      return { lines: [] };
    }
    const metadata = metadataOf(msg);
    if (metadata) this.tally.addMetadata(metadata);
    const asked = metadata?.routingDecision.requestedModel;
    const routed = metadata ? { requested: typeof asked === 'string' ? asked : undefined, model: metadata.routingDecision.model }
      : msg.type === 'assistant' && typeof msg.message?.model === 'string' && msg.message.model !== CLAUDE_SYNTHETIC_MODEL
        ? { requested: undefined, model: msg.message.model as string }
        : undefined;
    const r = renderMessage(msg, p.text);
    return { ...r, lines: r.lines.length || routed ? [...this.header(routed), ...r.lines] : [] };
  }

  /** The output ended: the header if nothing came after it, and the summary. */
  finish(): string[] {
    const lines = this.header();
    if (this.result) lines.push(...summaryLines(this.result, this.tally.totals()));
    else if (this.tally.requests > 0) {
      const totals = this.tally.totals();
      lines.push(`${DIM}${plural(totals.requests, 'request')} · ${sessionCostText(totals, null)}${RESET}`);
    }
    this.result = null;
    return lines;
  }

  /** The header, once: with the routed model when the line that released it knew it. */
  private header(routed?: { requested?: string; model: string }): string[] {
    const h = this.pendingHeader;
    if (!h) return [];
    this.pendingHeader = null;
    // claude's init names the model of its main loop; a metadata line names the one its request asked for.
    return [headerLine(routed?.requested ? { ...h, model: routed.requested } : h, routed?.model)];
  }
}
