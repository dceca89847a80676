/**
 * Request bodies shaped to find the worst case of the gateway's request scan: text with
 * many escapes and few double quotes, nothing but escapes, surrogate pairs, a great many
 * tiny messages, a large base64 image, deep nesting and one long string. Each is a valid
 * Messages API request of about `bytes` bytes (as JSON.stringify writes it), so that the
 * unit tests can check the scan's work at two sizes and bench/gateway.mjs can send them.
 */

export interface AdversarialShape {
  name: string;
  /** The size the benchmark sends. */
  benchBytes: number;
  build(bytes: number): Buffer;
}

const MODEL = 'claude-sonnet-4-5';
const MB = 1024 * 1024;

const request = (messages: unknown[], extra: Record<string, unknown> = {}): Buffer =>
  Buffer.from(JSON.stringify({ model: MODEL, max_tokens: 1024, stream: true, ...extra, messages }));

/** `unit` repeated to about `chars` characters. */
const repeatTo = (unit: string, chars: number): string => unit.repeat(Math.max(1, Math.ceil(chars / unit.length)));

/** An agentic turn: the prompt, a tool call, and its result (a string or content blocks). */
function toolTurn(result: unknown): unknown[] {
  return [
    { role: 'user', content: 'look at the logs' },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01', name: 'Bash', input: { command: 'cat app.log' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: result }] },
  ];
}

// A log line of 68 characters with a tab and no double quote, as Read and Bash return them.
const LOG_LINE = '2026-12-03T17:00:00Z\tINFO worker-3 processed batch 1234 in 12 ms ok\n';

// Each character escaped: newlines, tabs, quotes, backslashes, control and non-ASCII \uXXXX.
const ESCAPED = '\n\t"\\\u0001\u001b\r\b\f';

// Astral characters: JSON.stringify writes them raw (4 UTF-8 bytes); lone halves escaped.
const ASTRAL = '😀🚀𝕏\ud800🎉\udc00';

export const ADVERSARIAL_SHAPES: readonly AdversarialShape[] = [
  {
    name: 'tool result, 30k lines, no double quotes',
    benchBytes: 2 * MB,
    build: (bytes) => request(toolTurn(repeatTo(LOG_LINE, bytes - 300))),
  },
  {
    name: 'every character escaped',
    benchBytes: 2 * MB,
    // Each source character becomes two to six bytes; about 2.9 on average.
    build: (bytes) => request(toolTurn(repeatTo(ESCAPED, (bytes - 300) / 2.9))),
  },
  {
    name: 'surrogate pairs, escaped and raw',
    benchBytes: 2 * MB,
    // Every other astral character is written as an escaped pair, as some clients do.
    build: (bytes) => {
      let k = 0;
      return Buffer.from(request(toolTurn(repeatTo(ASTRAL, (bytes - 300) / 5))).toString('latin1')
        .replace(/[\x80-\xff]{4}/g, (utf8) => (k++ % 2 ? utf8 : escapeUtf16(Buffer.from(utf8, 'latin1').toString('utf8')))), 'latin1');
    },
  },
  {
    name: '200k tiny messages',
    benchBytes: 6 * MB,
    build: (bytes) => {
      const messages: unknown[] = [];
      for (let k = 0; k < Math.round(bytes / 31); k++) messages.push({ role: k % 2 ? 'assistant' : 'user', content: 'ok' });
      return request(messages);
    },
  },
  {
    name: 'base64 image, 5 MB',
    benchBytes: 5 * MB,
    build: (bytes) => request([{ role: 'user', content: [
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: base64Of(bytes - 300) } },
      { type: 'text', text: 'what is in this picture?' },
    ] }]),
  },
  {
    name: 'nesting 256 deep',
    benchBytes: 2 * MB,
    // Tool inputs nested to the limit (the body is level 1, messages 2, ... input 6), repeated.
    build: (bytes) => {
      const nested = (levels: number): unknown => (levels === 0 ? 'leaf' : { a: [nested(levels - 2)] });
      const block = { type: 'tool_use', id: 'toolu_01', name: 'Deep', input: nested(250) };
      const blockBytes = JSON.stringify(block).length + 1;
      return request([{ role: 'user', content: 'go' },
        { role: 'assistant', content: Array.from({ length: Math.max(1, Math.round(bytes / blockBytes)) }, () => block) }]);
    },
  },
  {
    name: 'one 1 MB string',
    benchBytes: 1 * MB,
    build: (bytes) => request([{ role: 'user', content: repeatTo('plain prose without any quote or escape ', bytes - 200) }]),
  },
];

function escapeUtf16(s: string): string {
  let out = '';
  for (let k = 0; k < s.length; k++) out += `\\u${s.charCodeAt(k).toString(16).padStart(4, '0')}`;
  return out;
}

/** Deterministic base64 of about `chars` characters. */
function base64Of(chars: number): string {
  const raw = Buffer.alloc(Math.floor((chars * 3) / 4));
  for (let k = 0; k < raw.length; k++) raw[k] = (k * 2654435761) >>> 24;
  return raw.toString('base64');
}
