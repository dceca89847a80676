/**
 * Turns claude's stream-json lines (plus conduit_metadata lines) into readable terminal
 * text. Pure: no 'vscode', so it is tested with plain mocha. A line that is not JSON, or
 * not a shape it knows, is shown as it is; nothing here throws on input.
 */
import type { ConduitMetadataLine } from '../../protocol/usage';

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

export function renderLine(raw: string): RenderResult {
  const text = raw.replace(/\r$/, '');
  if (!text.trim()) return { lines: [] };
  let msg: any;
  try {
    msg = JSON.parse(text);
  } catch {
    return { lines: [sanitize(text)] };
  }
  if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return { lines: [sanitize(text)] };

  switch (msg.type) {
    case 'conduit_metadata': {
      const d = msg.data as ConduitMetadataLine['data'] | undefined;
      const r = d?.routingDecision;
      if (!r || typeof r.model !== 'string') return { lines: [sanitize(text)] };
      const cost = d?.usage ? (d.usage.cost === null ? ' · cost unknown' : ` · $${Number(d.usage.cost).toFixed(4)}`) : '';
      const u = d?.usage;
      const tokens = u ? ` · ${Number(u.inputTokens) + Number(u.cacheReadTokens) + Number(u.cacheCreationTokens)} in / ${Number(u.outputTokens)} out` : '';
      return { lines: [`${DIM}⇄ ${sanitize(r.model)} (${sanitize(String(r.source))}${r.rule ? `: ${sanitize(String(r.rule))}` : ''})${tokens}${cost}${RESET}`], metadata: d };
    }
    case 'system':
      if (msg.subtype === 'init') return { lines: [`${DIM}● session ${sanitize(String(msg.session_id ?? ''))} · ${sanitize(String(msg.model ?? ''))} · ${sanitize(String(msg.cwd ?? ''))}${RESET}`] };
      return { lines: [] };
    case 'assistant': {
      const lines: string[] = [];
      for (const block of Array.isArray(msg.message?.content) ? msg.message.content : []) {
        if (block?.type === 'text' && typeof block.text === 'string') lines.push(...sanitize(block.text).split('\n'));
        else if (block?.type === 'tool_use') lines.push(`${CYAN}⏺ ${sanitize(String(block.name))}(${describeToolInput(block.input)})${RESET}`);
        else if (block?.type === 'thinking') lines.push(`${DIM}✻ thinking…${RESET}`);
      }
      return { lines };
    }
    case 'user': {
      const lines: string[] = [];
      for (const block of Array.isArray(msg.message?.content) ? msg.message.content : []) {
        if (block?.type !== 'tool_result') continue;
        const content = typeof block.content === 'string' ? block.content
          : Array.isArray(block.content) ? block.content.map((c: any) => (typeof c?.text === 'string' ? c.text : '')).join('\n') : '';
        lines.push(`${DIM}  ⎿ ${block.is_error ? `${RED}` : ''}${firstLine(content) || '(no output)'}${RESET}`);
      }
      return { lines };
    }
    case 'result': {
      const ok = msg.subtype === 'success' && !msg.is_error;
      const cost = typeof msg.total_cost_usd === 'number' ? ` · $${msg.total_cost_usd.toFixed(4)}` : '';
      const secs = typeof msg.duration_ms === 'number' ? ` in ${(msg.duration_ms / 1000).toFixed(1)} s` : '';
      const turns = typeof msg.num_turns === 'number' ? ` · ${msg.num_turns} turn${msg.num_turns === 1 ? '' : 's'}` : '';
      return { lines: ['', `${ok ? GREEN : RED}${BOLD}${ok ? '✓ done' : '✗ failed'}${RESET}${secs}${turns}${cost}`] };
    }
    default:
      return { lines: [] };
  }
}
