/**
 * Reads token usage from a reply while it passes through, without holding it back.
 *
 * Streamed replies: Anthropic's SSE stream reports usage in message_start (input, cache
 * writes and reads, 1 output token) and in message_delta (cumulative totals, which
 * replace earlier figures). Only those events, and error events, are parsed; the many
 * content_block_delta events are only counted (for an output estimate when the stream
 * ends before message_delta), after a look at their first line.
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
  /** Present when usage.outputTokens is an estimate: the stream ended before its final usage. */
  outputEstimated?: true;
}

/**
 * The provider's JSON as this module reads it: a view the parsed value is declared as, not
 * a check of it (that would cost a walk per event on the hot path). Every value read is
 * still tested with typeof before use, so each leaf is unknown; an object on the way that
 * turns out to be a number or a string reads as undefined through ?. and typeof.
 */
interface RawUsage {
  input_tokens?: unknown;
  output_tokens?: unknown;
  cache_creation_input_tokens?: unknown;
  cache_read_input_tokens?: unknown;
  cache_creation?: { ephemeral_5m_input_tokens?: unknown; ephemeral_1h_input_tokens?: unknown } | null;
}

/** An error event's or error reply's error. */
interface RawError {
  type?: unknown;
  message?: unknown;
}

/** The data of the SSE events read: message_start (message.usage, message.model), message_delta (usage), error (error). */
interface RawStreamEvent {
  message?: { usage?: RawUsage | null; model?: unknown } | null;
  usage?: RawUsage | null;
  error?: RawError | null;
}

/** A non-streamed reply: a message (usage, model), or an error (type "error"). */
interface RawReply {
  type?: unknown;
  model?: unknown;
  usage?: RawUsage | null;
  error?: RawError | null;
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

const LF = 0x0a;
const CR = 0x0d;
const EVENT_END = Buffer.from('\n\n');
/** An event larger than this is not one we parse (its usage, if any, is lost). */
const MAX_READ_EVENT = 4 * 1024 * 1024;
/** Bytes of an event's start that tell how to treat it: "event: " and 15 bytes of its name. */
const HEAD_BYTES = 22;

// How the tap treats an event, told from its first line.
const UNKNOWN = 0; // too few bytes yet to tell
const SKIP = 1; // content_block_start/stop, ping, anything else: nothing to read
const DELTA = 2; // content_block_delta: counted for the output estimate, not parsed
const READ = 3; // message_start/delta/stop and error: parsed

/**
 * Output estimate for a stream that ended before its final usage (message_delta): each
 * content_block_delta carries at least one token, and its text (or partial JSON) takes
 * about four bytes a token. The text's length is the event's length less the framing
 * around it, taken as that of a text delta at index 0. JSON escapes and multi-byte
 * characters make this rough, which is why the record says it is an estimate.
 */
const DELTA_FRAMING = Buffer.byteLength('event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}');
const BYTES_PER_TOKEN = 4;

function classify(buf: Buffer, start: number, end: number, whole: boolean): number {
  if (!whole && end - start < HEAD_BYTES) return UNKNOWN;
  if (buf[start] !== 0x65 /* e */ || buf[start + 5] !== 0x3a /* : */) return SKIP;
  const nameAt = buf[start + 6] === 0x20 ? start + 7 : start + 6;
  const first = buf[nameAt];
  if (first === 0x6d /* m(essage_*) */ || first === 0x65 /* e(rror) */) return READ;
  if (first === 0x63 /* c(ontent_block_) */ && nameAt + 14 < end && buf[nameAt + 14] === 0x64 /* d(elta) */) return DELTA;
  return SKIP;
}

/**
 * Reads an SSE stream chunk by chunk. Line ends may be LF, CRLF or CR (as the SSE
 * specification allows); streams with CRs are rewritten to LF first, so the scan looks
 * for one event end, "\n\n". Each byte is scanned once: an event split over chunks is
 * kept as a list of copies (only while it may be one to read, and only up to
 * MAX_READ_EVENT) and joined once at its end, so a 20 MB event costs no more per byte
 * than small ones.
 */
export class SseUsageTap {
  private usage: TokenUsage | null = null;
  /** A message_delta has given the cumulative usage: the output figure is the provider's. */
  private finalUsage = false;
  private model: string | null = null;
  private complete = false;
  private error: ReplyOutcome['error'] = null;
  private deltas = 0;
  private deltaTextBytes = 0;

  // The event still open at the end of the last chunk.
  private eventBytes = 0;
  private kind = UNKNOWN;
  private head: Buffer | null = null;
  private headBytes = 0;
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** The last byte seen was LF: an LF first in the next chunk ends the open event. */
  private lastWasLf = false;
  /** The last byte seen was CR: an LF first in the next chunk belongs to it (CRLF). */
  private afterCr = false;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.scan(this.afterCr || chunk.indexOf(CR) >= 0 ? this.toLf(chunk) : chunk);
  }

  outcome(): ReplyOutcome {
    const usage = this.usage;
    if (!usage || this.finalUsage) return { usage, model: this.model, complete: this.complete, error: this.error };
    // Cut or abandoned before message_delta: the provider bills what it generated.
    const estimate = Math.max(this.deltas, Math.ceil(this.deltaTextBytes / BYTES_PER_TOKEN));
    return {
      usage: { ...usage, outputTokens: Math.max(usage.outputTokens, estimate) },
      model: this.model, complete: this.complete, error: this.error, outputEstimated: true,
    };
  }

  /** The bytes seen so far end inside an event (an SSE parser holds them, waiting for its end). */
  partialEventPending(): boolean {
    return this.eventBytes > 0;
  }

  private scan(buf: Buffer): void {
    const len = buf.length;
    if (len === 0) return; // the LF of a CRLF split across chunks, and nothing else
    let at = 0;
    if (this.eventBytes > 0 && this.lastWasLf && buf[0] === LF) {
      this.endSpanningEvent(buf, 0, 0, 1); // "\n\n" split across the two chunks
      at = 1;
    }
    while (at < len) {
      if (this.eventBytes === 0) {
        while (at < len && buf[at] === LF) at++; // blank lines between events
        if (at === len) break;
      }
      const end = buf.indexOf(EVENT_END, at);
      if (end < 0) {
        this.keepPartial(buf, at, len);
        break;
      }
      if (this.eventBytes === 0) this.endEvent(buf, at, end);
      else this.endSpanningEvent(buf, at, end, 0);
      at = end + 2;
    }
    this.lastWasLf = buf[len - 1] === LF;
  }

  /** Copies `chunk` with every CRLF and lone CR turned into LF. */
  private toLf(chunk: Buffer): Buffer {
    const out = Buffer.allocUnsafe(chunk.length);
    let n = 0;
    let at = this.afterCr && chunk[0] === LF ? 1 : 0;
    this.afterCr = false;
    for (let cr = chunk.indexOf(CR, at); cr >= 0; cr = chunk.indexOf(CR, at)) {
      n += chunk.copy(out, n, at, cr);
      out[n++] = LF;
      at = cr + 1;
      if (at === chunk.length) this.afterCr = true;
      else if (chunk[at] === LF) at++;
    }
    n += chunk.copy(out, n, at);
    return out.subarray(0, n);
  }

  /** The start or middle of an event whose end is in a later chunk. */
  private keepPartial(buf: Buffer, from: number, to: number): void {
    this.eventBytes += to - from;
    if (this.kind === UNKNOWN) {
      const head = (this.head ??= Buffer.allocUnsafe(HEAD_BYTES));
      this.headBytes += buf.copy(head, this.headBytes, from, Math.min(to, from + HEAD_BYTES - this.headBytes));
      this.kind = classify(head, 0, this.headBytes, false);
    }
    if (this.kind === SKIP || this.kind === DELTA) {
      this.dropParts();
      return;
    }
    if (this.partsBytes + to - from > MAX_READ_EVENT) {
      this.dropParts();
      this.kind = SKIP;
      return;
    }
    // A copy: the chunk's memory is the client's to keep.
    this.parts.push(Buffer.from(buf.subarray(from, to)));
    this.partsBytes += to - from;
  }

  /** The end of an event begun in an earlier chunk: buf[from, to), less `trim` bytes kept before. */
  private endSpanningEvent(buf: Buffer, from: number, to: number, trim: number): void {
    const total = this.eventBytes + (to - from) - trim;
    if (this.kind === DELTA) this.countDelta(total);
    else if ((this.kind === UNKNOWN || this.kind === READ) && total <= MAX_READ_EVENT) {
      this.parts.push(buf.subarray(from, to));
      const whole = Buffer.concat(this.parts, this.partsBytes + (to - from));
      this.endEvent(whole, 0, total);
    }
    this.eventBytes = 0;
    this.kind = UNKNOWN;
    this.headBytes = 0;
    this.dropParts();
  }

  private dropParts(): void {
    if (this.partsBytes === 0 && this.parts.length === 0) return;
    this.parts = [];
    this.partsBytes = 0;
  }

  /** A whole event, buf[start, end) (without its blank line). */
  private endEvent(buf: Buffer, start: number, end: number): void {
    const kind = classify(buf, start, end, true);
    if (kind === DELTA) this.countDelta(end - start);
    else if (kind === READ) this.readEvent(buf, start, end);
  }

  private countDelta(eventBytes: number): void {
    this.deltas++;
    if (eventBytes > DELTA_FRAMING) this.deltaTextBytes += eventBytes - DELTA_FRAMING;
  }

  private readEvent(buf: Buffer, start: number, end: number): void {
    // "event: <name>\ndata: <json>": classify() told it is message_* or error by one byte.
    let lineEnd = buf.indexOf(LF, start);
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
    // else (several data lines) takes the general path.
    let data: string;
    const dataAt = lineEnd + 1;
    const nextNewline = buf.indexOf(LF, dataAt);
    if ((nextNewline < 0 || nextNewline >= end)
      && buf[dataAt] === 0x64 && buf[dataAt + 1] === 0x61 && buf[dataAt + 2] === 0x74 && buf[dataAt + 3] === 0x61 && buf[dataAt + 4] === 0x3a) {
      data = buf.toString('utf8', buf[dataAt + 5] === 0x20 ? dataAt + 6 : dataAt + 5, end);
    } else {
      const block = buf.toString('utf8', dataAt, end);
      data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(l[5] === ' ' ? 6 : 5)).join('\n');
    }
    let event: RawStreamEvent | null;
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
      if (event?.usage && typeof event.usage.output_tokens === 'number') this.finalUsage = true;
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
    let body: RawReply | null;
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
