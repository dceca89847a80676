/**
 * The facts about a request that routing needs, read from one scan of its bytes. Only
 * small fields are parsed; the last message is parsed lazily, when a rule asks for it.
 */
import { modelIdProblem } from '../../protocol/modelId';
import { splice, withContiguous, type BodyChunks } from './bodyChunks';
import type { RangeList } from './rangeList';
import { RequestBodyError, scanObjectFields, scanRequestBody, type ByteRange, type ObjectOutline, type RecentRoles, type ScannedRequest } from './requestScan';

export interface RequestFacts {
  requestedModel: string;
  stream: boolean;
  /** Estimated prompt tokens: system, tools, messages, thinking and tool blocks. */
  tokenCount: number;
  /** thinking.type ("enabled", "adaptive", ...) or null when absent or disabled. */
  thinkingType: string | null;
  /** thinking.budget_tokens, when given. */
  thinkingBudget: number | null;
  /** output_config.effort ("low", "medium", "high", "max"), when given. */
  effort: string | null;
  /** A server-side web search tool (type web_search_*) is offered. */
  hasWebSearchTool: boolean;
  /** Text of the person's latest prompt (see readLatestPrompt), parsed on first use. */
  lastUserText(): string;
  /** Where things are in the original bytes, for splicing a new model in. */
  scan: ScannedRequest;
}

export class InvalidRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

const WEB_SEARCH_TYPE = Buffer.from('"web_search_');

/**
 * The facts of a request body, one Buffer or the chunks it arrived in (read through one
 * reused contiguous copy: see bodyChunks.ts).
 */
export function readRequestFacts(body: Buffer | BodyChunks): RequestFacts {
  const chunks: BodyChunks = Buffer.isBuffer(body) ? [body] : body;
  return withContiguous(chunks, (view) => factsOf(view, chunks));
}

function factsOf(body: Buffer, chunks: BodyChunks): RequestFacts {
  let scan: ScannedRequest;
  try {
    scan = scanRequestBody(body);
  } catch (err) {
    if (err instanceof RequestBodyError) throw new InvalidRequestError(`request body is not valid JSON: ${err.message}`);
    throw err;
  }
  const { fields } = scan;
  const model = parseField(body, fields.get('model'));
  if (typeof model !== 'string' || model.length === 0) throw new InvalidRequestError('model: field required (a non-empty string)');
  // Checked here, before anything is sent: the id is echoed in a reply header, which
  // cannot carry it once the provider has answered (and billed).
  const modelProblem = modelIdProblem(model);
  if (modelProblem) throw new InvalidRequestError(`model: ${modelProblem}`);
  const messagesRange = fields.get('messages');
  if (!messagesRange || body[messagesRange[0]] !== 0x5b) throw new InvalidRequestError('messages: field required (an array)');
  const maxTokens = parseField(body, fields.get('max_tokens'));
  if (maxTokens !== undefined && (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1)) {
    throw new InvalidRequestError('max_tokens: must be a positive integer');
  }
  const stream = parseField(body, fields.get('stream'));
  if (stream !== undefined && typeof stream !== 'boolean') throw new InvalidRequestError('stream: must be a boolean');

  const thinking = parseField(body, fields.get('thinking'));
  let thinkingType: string | null = null;
  let thinkingBudget: number | null = null;
  if (thinking && typeof thinking === 'object' && !Array.isArray(thinking)) {
    const t = thinking as { type?: unknown; budget_tokens?: unknown };
    if (typeof t.type === 'string' && t.type !== 'disabled') thinkingType = t.type;
    if (typeof t.budget_tokens === 'number') thinkingBudget = t.budget_tokens;
  }

  const outputConfig = parseField(body, fields.get('output_config')) as { effort?: unknown } | undefined;
  const effort = outputConfig && typeof outputConfig === 'object' && typeof outputConfig.effort === 'string' ? outputConfig.effort : null;

  const tools = fields.get('tools');
  // The bytes are a cheap first look; only a tool whose type is web_search_* counts (not a
  // custom tool named "web_search_..." or a description that quotes one).
  const hasWebSearchTool = tools ? indexWithin(body, WEB_SEARCH_TYPE, tools) >= 0 && offersWebSearch(parseField(body, tools)) : false;

  let lastUserText: string | undefined;
  return {
    requestedModel: model,
    stream: stream === true,
    tokenCount: scan.tokenEstimate,
    thinkingType,
    thinkingBudget,
    effort,
    hasWebSearchTool,
    scan,
    // Read when a rule asks, through the contiguous view again (the one of the scan is gone by then).
    lastUserText: () => (lastUserText ??= withContiguous(chunks, (view) => readLatestPrompt(view, scan.messages, scan.roles))),
  };
}

/**
 * The value of a field the scan found. The common small shapes (a literal, a number, a
 * plain ASCII string such as a model id) are read from the bytes directly; anything else
 * goes through JSON.parse. The scan has already checked their syntax.
 */
function parseField(body: Buffer, range: ByteRange | undefined): unknown {
  if (!range) return undefined;
  const [start, end] = range;
  const first = body[start];
  if (first === 0x74 && end - start === 4) return true;
  if (first === 0x66 && end - start === 5) return false;
  if (first === 0x6e && end - start === 4) return null;
  if ((first >= 0x30 && first <= 0x39) || first === 0x2d) return Number(body.toString('latin1', start, end));
  if (first === 0x22 && end - start <= 258) {
    let plain = true;
    for (let k = start + 1; k < end - 1; k++) {
      const b = body[k];
      if (b === 0x5c || b >= 0x80 || b < 0x20) { plain = false; break; }
    }
    if (plain) return body.toString('latin1', start + 1, end - 1);
  }
  return JSON.parse(body.toString('utf8', start, end));
}

function offersWebSearch(tools: unknown): boolean {
  return Array.isArray(tools) && tools.some((t) => typeof t?.type === 'string' && t.type.startsWith('web_search_'));
}

function indexWithin(body: Buffer, needle: Buffer, [start, end]: ByteRange): number {
  const at = body.indexOf(needle, start);
  return at >= 0 && at + needle.length <= end ? at : -1;
}

/**
 * What the person last typed: the text of the latest user message that has any, skipping
 * the tool results of an agentic turn (so a turn started with "ultrathink" keeps its
 * reasoning model through its tool calls) and Claude Code's <system-reminder> blocks.
 * Read from the end, message by message, only as far back as needed; of each message only
 * its role (where the request's scan found it) and its text are parsed, never its tool
 * results, images or tool inputs (a message may hold megabytes of them).
 */
function readLatestPrompt(body: Buffer, messages: RangeList, roles: RecentRoles): string {
  for (let k = messages.length - 1; k >= 0; k--) {
    const range = messages.at(k);
    if (body[range[0]] !== 0x7b) continue; // not an object: no role
    // Another role's message, as the request's scan found its role, is not outlined.
    const role = roles.at(k);
    if (role[0] >= 0 && parseField(body, role) !== 'user') continue;
    const message = scanObjectFields(body, range, 'content', true);
    if (parseField(body, message.fields.get('role')) !== 'user') continue;
    const content = message.fields.get('content');
    if (!content) continue;
    if (body[content[0]] === 0x22) return parseText(body, content);
    if (body[content[0]] !== 0x5b) continue;
    const texts: string[] = [];
    for (let b = 0; b < message.list.length; b++) {
      const text = blockText(body, message.elements![b]);
      if (text !== null && !text.startsWith('<system-reminder>')) texts.push(text);
    }
    const text = texts.join('\n');
    if (text) return text;
  }
  return '';
}

/** The text of a content block of type "text" (null for any other block), from its outline (null: not an object). */
function blockText(body: Buffer, block: ObjectOutline | null): string | null {
  if (!block) return null;
  const { fields } = block;
  if (parseField(body, fields.get('type')) !== 'text') return null;
  const text = fields.get('text');
  return text && body[text[0]] === 0x22 ? parseText(body, text) : null;
}

/** A string value (a prompt, of any length and escapes), decoded by JSON.parse. */
function parseText(body: Buffer, [start, end]: ByteRange): string {
  return JSON.parse(body.toString('utf8', start, end)) as string;
}

/** The body with its top-level "model" replaced, everything else byte for byte the same. */
export function withModel(body: Buffer, facts: RequestFacts, model: string): Buffer {
  if (model === facts.requestedModel) return body;
  return Buffer.concat(withModelChunks([body], facts, model));
}

/**
 * The body's chunks with its top-level "model" replaced: the same chunks where the model
 * is unchanged, else new ones around the model's bytes (the rest is the same memory).
 */
export function withModelChunks(chunks: BodyChunks, facts: RequestFacts, model: string): BodyChunks {
  if (model === facts.requestedModel) return chunks;
  const range = facts.scan.fields.get('model');
  if (!range) throw new Error('withModel: the request has no model field');
  return splice(chunks, range[0], range[1], Buffer.from(JSON.stringify(model)));
}
