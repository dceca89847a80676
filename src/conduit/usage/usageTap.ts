/**
 * Reads token usage from a reply while it passes through, without holding it back.
 *
 * Streamed replies: Anthropic's SSE stream reports usage in message_start (input, cache
 * writes and reads, 1 output token) and in message_delta (cumulative totals, which
 * replace earlier figures). Only those events, and error events, are parsed; the many
 * content_block_delta events are skipped after a look at their first line.
 * Non-streamed replies: the JSON's usage object, parsed once at the end.
 */
import type { TokenUsage } from '../../protocol/usage';

export interface ReplyOutcome {
  usage: TokenUsage | null;
  /** The model the provider says answered. */
  model: string | null;
  /** A streamed reply reached message_stop (a non-streamed one parsed whole). */
  complete: boolean;
  /** An error event in the stream, or the error of an error reply. */
  error: { type: string; message: string } | null;
}

interface RawUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number } | null;
}

export function emptyUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheCreation5mTokens: 0, cacheCreation1hTokens: 0, cacheReadTokens: 0 };
}

/** Applies a usage object; fields it carries replace the ones before (they are cumulative). */
export function applyUsage(into: TokenUsage, raw: RawUsage | undefined | null): void {
  if (!raw || typeof raw !== 'object') return;
  const n = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
  into.inputTokens = n(raw.input_tokens) ?? into.inputTokens;
  into.outputTokens = n(raw.output_tokens) ?? into.outputTokens;
  into.cacheCreationTokens = n(raw.cache_creation_input_tokens) ?? into.cacheCreationTokens;
  into.cacheReadTokens = n(raw.cache_read_input_tokens) ?? into.cacheReadTokens;
  if (raw.cache_creation && typeof raw.cache_creation === 'object') {
    into.cacheCreation5mTokens = n(raw.cache_creation.ephemeral_5m_input_tokens) ?? into.cacheCreation5mTokens;
    into.cacheCreation1hTokens = n(raw.cache_creation.ephemeral_1h_input_tokens) ?? into.cacheCreation1hTokens;
  }
}

const EVENT_END = Buffer.from('\n\n');
const MAX_PENDING = 4 * 1024 * 1024; // an event larger than this is not one we parse

export class SseUsageTap {
  private pending: Buffer = Buffer.alloc(0);
  private usage: TokenUsage | null = null;
  private model: string | null = null;
  private complete = false;
  private error: ReplyOutcome['error'] = null;

  push(chunk: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let start = 0;
    for (let end = buf.indexOf(EVENT_END, start); end >= 0; end = buf.indexOf(EVENT_END, start)) {
      this.readEvent(buf, start, end);
      start = end + 2;
    }
    buf = buf.subarray(start);
    // Keep a copy of the partial event only: the chunk's memory is the client's to keep.
    this.pending = buf.length > MAX_PENDING ? Buffer.alloc(0) : Buffer.from(buf);
  }

  outcome(): ReplyOutcome {
    return { usage: this.usage, model: this.model, complete: this.complete, error: this.error };
  }

  private readEvent(buf: Buffer, start: number, end: number): void {
    // "event: <name>\ndata: <json>". Most events are content_block_* deltas and pings:
    // tell them apart by one byte before converting anything to a string.
    if (buf[start] !== 0x65 /* e */) return;
    const nameAt = buf[start + 6] === 0x20 ? start + 7 : start + 6;
    const first = buf[nameAt];
    if (first !== 0x6d /* m(essage_*) */ && first !== 0x65 /* e(rror) */) return;
    let lineEnd = buf.indexOf(0x0a, start);
    if (lineEnd < 0 || lineEnd > end) lineEnd = end;
    const line = buf.toString('latin1', start, lineEnd);
    if (!line.startsWith('event:')) return;
    const name = line.slice(6).trim();
    if (name !== 'message_start' && name !== 'message_delta' && name !== 'message_stop' && name !== 'error') return;
    if (name === 'message_stop') {
      this.complete = true;
      return;
    }
    // The usual shape is one "data: " line: parse it straight from the bytes. Anything
    // else (several data lines, CR line ends) takes the general path.
    let data: string;
    const dataAt = lineEnd + 1;
    const nextNewline = buf.indexOf(0x0a, dataAt);
    if ((nextNewline < 0 || nextNewline >= end) && buf[end - 1] !== 0x0d
      && buf[dataAt] === 0x64 && buf[dataAt + 1] === 0x61 && buf[dataAt + 2] === 0x74 && buf[dataAt + 3] === 0x61 && buf[dataAt + 4] === 0x3a) {
      data = buf.toString('utf8', buf[dataAt + 5] === 0x20 ? dataAt + 6 : dataAt + 5, end);
    } else {
      const block = buf.toString('utf8', dataAt, end);
      data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
    }
    let event: any;
    try {
      event = JSON.parse(data);
    } catch {
      return; // a malformed event is passed through untouched; usage stays as it was
    }
    if (name === 'message_start') {
      this.usage = emptyUsage();
      applyUsage(this.usage, event?.message?.usage);
      if (typeof event?.message?.model === 'string') this.model = event.message.model;
    } else if (name === 'message_delta') {
      this.usage ??= emptyUsage();
      applyUsage(this.usage, event?.usage);
    } else {
      this.error = {
        type: String(event?.error?.type ?? 'api_error'),
        message: String(event?.error?.message ?? 'error event in the stream'),
      };
    }
  }
}

/** Collects a non-streamed reply (small JSON) and reads its usage at the end. */
export class JsonUsageTap {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private overflow = false;

  constructor(private readonly limit = 16 * 1024 * 1024) {}

  push(chunk: Buffer): void {
    if (this.overflow) return;
    this.size += chunk.length;
    if (this.size > this.limit) {
      this.overflow = true;
      this.chunks.length = 0;
      return;
    }
    this.chunks.push(chunk);
  }

  outcome(): ReplyOutcome {
    if (this.overflow) return { usage: null, model: null, complete: true, error: null };
    let body: any;
    try {
      body = JSON.parse(Buffer.concat(this.chunks).toString('utf8'));
    } catch {
      return { usage: null, model: null, complete: false, error: null };
    }
    if (body?.type === 'error') {
      return { usage: null, model: null, complete: true, error: { type: String(body.error?.type ?? 'api_error'), message: String(body.error?.message ?? '') } };
    }
    let usage: TokenUsage | null = null;
    if (body?.usage) {
      usage = emptyUsage();
      applyUsage(usage, body.usage);
    }
    return { usage, model: typeof body?.model === 'string' ? body.model : null, complete: true, error: null };
  }
}
