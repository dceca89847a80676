/**
 * Realistic Claude Code 2.x requests for tests and benchmarks, built from the real capture
 * in ../shared/fixtures/claude-code-request.json (its texts were elided there; they are
 * refilled here with deterministic prose and code of the same lengths).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const FIXTURES = path.resolve(__dirname, '../fixtures');
export const fixturePath = (name: string): string => path.join(process.env.CONDUIT_FIXTURES ?? FIXTURES, name);

const PROSE = 'The agent reads the repository, plans the change, edits files with care and runs the tests before it reports back. ';
const CODE = 'function route(request) {\n  const tokens = estimate(request.messages);\n  if (tokens > 60000) return "long";\n  return config.defaultModel ?? request.model;\n}\n';

/** Deterministic text of exactly `n` characters mixing prose and code. */
export function filler(n: number, seed = 0): string {
  let s = '';
  let k = seed;
  while (s.length < n) s += (k++ % 3 === 2 ? CODE : PROSE);
  return s.slice(0, n);
}

const SCHEMA = {
  type: 'object',
  properties: {
    command: { type: 'string', description: 'The command to run' },
    timeout: { type: 'number', description: 'Optional timeout in milliseconds' },
    description: { type: 'string', description: 'What the command does, in a few words' },
  },
  required: ['command'],
  additionalProperties: false,
  $schema: 'http://json-schema.org/draft-07/schema#',
};

function refill(value: unknown, seed: { n: number }): unknown {
  if (typeof value === 'string') {
    const m = /^<(\d+) chars of text>$/.exec(value);
    if (m) return filler(Number(m[1]), seed.n++);
    if (value === '<json schema>') return SCHEMA;
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => refill(v, seed));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, refill(v, seed)]));
  }
  return value;
}

export interface CapturedRequest {
  headers: Record<string, string>;
  body: Record<string, any>;
}

/** The captured "say hi" request (claude-sonnet-4-5, thinking on, 24 tools), refilled. */
export function claudeCodeRequest(sessionId = 'c120386e-56b1-4b31-b81e-93ceaad00c01'): CapturedRequest {
  const raw = JSON.parse(readFileSync(fixturePath('claude-code-request.json'), 'utf8'));
  const body = refill(raw.body, { n: 0 }) as Record<string, any>;
  body.metadata = { user_id: JSON.stringify({ device_id: 'd'.repeat(64), account_uuid: '', session_id: sessionId }) };
  const headers = { ...raw.headers, 'x-claude-code-session-id': sessionId } as Record<string, string>;
  delete headers['content-length'];
  delete headers.host;
  return { headers, body };
}

/**
 * Grows a request's conversation with tool calls and results (as a long session does)
 * until its JSON is at least `bytes` long.
 */
export function grownRequest(bytes: number, base = claudeCodeRequest().body): Record<string, any> {
  const body = structuredClone(base);
  let turn = 0;
  while (Buffer.byteLength(JSON.stringify(body)) < bytes) {
    const id = `toolu_${String(turn).padStart(6, '0')}`;
    body.messages.push(
      { role: 'assistant', content: [{ type: 'text', text: filler(400, turn) }, { type: 'tool_use', id, name: 'Read', input: { file_path: `/src/file${turn}.ts` } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: filler(6000, turn + 1) }] },
    );
    turn++;
  }
  return body;
}

/** Replaces the text of the last user message (where Claude Code puts the prompt). */
export function withPrompt(body: Record<string, any>, prompt: string): Record<string, any> {
  const b = structuredClone(body);
  b.messages.push({ role: 'user', content: [{ type: 'text', text: prompt }] });
  return b;
}

/** Adds Anthropic's server-side web search tool, as Claude Code's WebSearch sub-request does. */
export function withWebSearch(body: Record<string, any>): Record<string, any> {
  const b = structuredClone(body);
  b.tools = [{ type: 'web_search_20250305', name: 'web_search', max_uses: 8 }];
  return b;
}
