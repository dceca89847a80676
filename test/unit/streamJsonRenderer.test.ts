// The agent-session terminal's renderer (src/extension/tasks/streamJsonRenderer.ts): claude's
// stream-json lines and conduit_metadata lines become readable terminal lines; anything else
// is shown as it is, without the terminal control sequences that came with it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SessionRenderer, renderLine, sanitize } from '../../src/extension/tasks/streamJsonRenderer';
import type { ConduitMetadataLine } from '../../src/protocol/usage';
import { rng, type Rng } from './prng';

const FIXTURE = path.join(__dirname, '../fixtures/claude-code-stream-json.ndjson');

/** The renderer's own styling: SGR sequences only (ESC [ digits/; m). */
// eslint-disable-next-line no-control-regex -- terminal escape sequences are what it checks
const SGR = /\x1b\[[0-9;]*m/g;
/** What a terminal would act on: any C0/C1 control but tab and newline (the session terminal prints \n as a line break), and DEL. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

/** The lines as a person reads them: the renderer's colours removed. */
function plain(lines: string[]): string[] {
  return lines.map((l) => l.replace(SGR, ''));
}

/** Fails when a line holds a control character other than the renderer's own SGR colours. */
function assertNoForeignControls(lines: string[], input: string): void {
  for (const line of lines) {
    const rest = line.replace(SGR, '');
    assert.ok(!CONTROL.test(rest), `a control character reached the terminal: ${JSON.stringify(rest)} (input ${JSON.stringify(input).slice(0, 300)})`);
  }
}

/** A conduit_metadata line (data may be ill-typed on purpose). */
function metadataLine(data: Record<string, unknown>): string {
  return JSON.stringify({ type: 'conduit_metadata', data });
}

const DECISION: ConduitMetadataLine['data']['routingDecision'] = {
  model: 'claude-sonnet-5-5', source: 'default', rule: 'default model', requestedModel: 'claude-sonnet-4-5',
  tokenCount: 28_754, timestamp: '2026-11-27T10:00:00.000Z',
};

describe('streamJsonRenderer.renderLine', () => {
  describe('a real stream-json output (test/fixtures/claude-code-stream-json.ndjson)', () => {
    const lines = readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l);
    const [init, assistant, result] = lines.map((l) => renderLine(l));

    it('has the three lines of a "say hi" run', () => {
      assert.deepEqual(lines.map((l) => (JSON.parse(l) as { type: string }).type), ['system', 'assistant', 'result']);
    });

    it('system/init: one dim line with the session id, the model and the folder', () => {
      assert.deepEqual(plain(init.lines), ['● session c120386e-56b1-4b31-b81e-93ceaad00c01 · claude-sonnet-4-5 · /tmp/probe/fake']);
      assert.ok(init.lines[0].startsWith('\x1b[2m'), 'dim');
      assert.equal(init.metadata, undefined);
    });

    it("assistant: the assistant's text as it is", () => {
      assert.deepEqual(assistant.lines, ['hello']);
      assert.equal(assistant.metadata, undefined);
    });

    it("result: a blank line, then \"✓ done\" with the duration, turns and claude's cost, labelled as claude's", () => {
      assert.deepEqual(plain(result.lines), ['', "✓ done in 0.4 s · 1 turn · $0.0005 (claude's estimate)"]);
      // eslint-disable-next-line no-control-regex -- terminal escape sequences are what it checks
      assert.match(result.lines[1], /^\x1b\[32m\x1b\[1m✓ done/, 'green and bold');
    });

    it('the same with Windows line endings', () => {
      for (const l of lines) assert.deepEqual(renderLine(`${l}\r`), renderLine(l));
    });
  });

  describe('conduit_metadata lines', () => {
    it('become a routing line and hand their data back', () => {
      const data = {
        requestId: 'req-1', routingDecision: DECISION, projectContext: { projectId: 'p-1' },
        usage: { inputTokens: 1_000, outputTokens: 20, cacheCreationTokens: 100, cacheReadTokens: 300, cost: 0.00512 },
      };
      const r = renderLine(metadataLine(data));
      assert.deepEqual(plain(r.lines), ['⇄ claude-sonnet-5-5 (default: default model) · 1400 in / 20 out · $0.0051']);
      assert.deepEqual(r.metadata, data);
    });

    it('say "cost unknown" for a model without a price', () => {
      const r = renderLine(metadataLine({ requestId: 'req-2', routingDecision: DECISION, usage: { inputTokens: 5, outputTokens: 1, cacheCreationTokens: 0, cacheReadTokens: 0, cost: null } }));
      assert.deepEqual(plain(r.lines), ['⇄ claude-sonnet-5-5 (default: default model) · 5 in / 1 out · cost unknown']);
    });

    it('without usage (a request that failed first): the decision alone', () => {
      const r = renderLine(metadataLine({ requestId: 'req-3', routingDecision: { ...DECISION, rule: '' } }));
      assert.deepEqual(plain(r.lines), ['⇄ claude-sonnet-5-5 (default)']);
      assert.equal(r.metadata?.requestId, 'req-3');
    });

    it('without a routing decision: shown as it is, and no metadata', () => {
      for (const line of [
        '{"type":"conduit_metadata"}',
        '{"type":"conduit_metadata","data":null}',
        '{"type":"conduit_metadata","data":{"routingDecision":{"model":7}}}',
        '{"type":"conduit_metadata","data":"x"}',
      ]) {
        const r = renderLine(line);
        assert.deepEqual(r.lines, [line]);
        assert.equal(r.metadata, undefined, line);
      }
    });
  });

  describe('SessionRenderer: a whole run through conduit-claude (the real fixture plus metadata lines)', () => {
    const [init, assistant, result] = readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l);
    const SESSION = 'c120386e-56b1-4b31-b81e-93ceaad00c01';
    /** The fixture's reply as it comes through the gateway: it names the model the request was routed to. */
    const routedReply = (model: string) => {
      const o = JSON.parse(assistant) as { message: { model: string } };
      o.message.model = model;
      return JSON.stringify(o);
    };
    const usage = (cost: number | null) => ({ inputTokens: 120, outputTokens: 7, cacheCreationTokens: 0, cacheReadTokens: 0, cost });
    const meta = (requestId: string, requestedModel: string, model: string, cost: number | null) =>
      metadataLine({ requestId, routingDecision: { ...DECISION, requestedModel, model }, usage: usage(cost), sessionId: SESSION });

    /** Every line the terminal prints for these lines, then the end of the output. */
    function run(lines: string[]): string[] {
      const session = new SessionRenderer();
      const out = lines.flatMap((l) => session.push(l).lines);
      return plain([...out, ...session.finish()]);
    }

    it("the summary states Conduit's cost, the sum of the session's metadata lines, with claude's estimate beside it, labelled", () => {
      // conduit-claude writes the last request's line after claude's result line.
      const out = run([init, meta('req-1', 'claude-sonnet-4-5', 'claude-haiku-4-5', 0.000123), routedReply('claude-haiku-4-5'), result,
        meta('req-2', 'claude-sonnet-4-5', 'claude-haiku-4-5', 0.0001)]);
      assert.equal(out[out.length - 1], "✓ done in 0.4 s · 1 turn · $0.0002 (claude's estimate at the requested model: $0.0005)");
      assert.equal(out[out.length - 2], '', 'a blank line before it');
      assert.equal(out.filter((l) => l.startsWith('✓ done')).length, 1, 'one summary, after the last metadata line');
      assert.ok(out.indexOf('⇄ claude-haiku-4-5 (default: default model) · 120 in / 7 out · $0.0001') < out.length - 2);
    });

    it("claude's estimate on the same model that differs is labelled claude's, without \"at the requested model\"", () => {
      const out = run([init, assistant, meta('req-1', 'claude-sonnet-4-5', 'claude-sonnet-4-5', 0.0004), result]);
      assert.equal(out[out.length - 1], "✓ done in 0.4 s · 1 turn · $0.0004 (claude's estimate: $0.0005)");
    });

    it("where Conduit's cost and claude's agree (to the cent's hundredth), one figure", () => {
      const out = run([init, assistant, meta('req-1', 'claude-sonnet-4-5', 'claude-sonnet-4-5', 0.000465), result]);
      assert.equal(out[out.length - 1], '✓ done in 0.4 s · 1 turn · $0.0005');
    });

    it('a request without a known price makes the cost "+?"; a metadata line repeated (the final flush) counts once', () => {
      const out = run([init, meta('req-1', 'claude-sonnet-4-5', 'claude-x', null), assistant, meta('req-2', 'claude-sonnet-4-5', 'claude-sonnet-4-5', 0.0003),
        result, meta('req-2', 'claude-sonnet-4-5', 'claude-sonnet-4-5', 0.0003)]);
      assert.equal(out[out.length - 1], "✓ done in 0.4 s · 1 turn · $0.0003+? (claude's estimate at the requested model: $0.0005)");
    });

    it("without any metadata line (claude run without Conduit), claude's figure, labelled as claude's", () => {
      const out = run([init, assistant, result]);
      assert.deepEqual(out, [`● session ${SESSION} · claude-sonnet-4-5 · /tmp/probe/fake`, 'hello', '', "✓ done in 0.4 s · 1 turn · $0.0005 (claude's estimate)"]);
    });

    it('the header shows the model claude asked for and the one its request was routed to, from the first metadata line', () => {
      const out = run([init, meta('req-1', 'claude-opus-5-5', 'claude-sonnet-5-5', 0.001), routedReply('claude-sonnet-5-5'), result]);
      assert.equal(out[0], `● session ${SESSION} · claude-opus-5-5 → claude-sonnet-5-5 · /tmp/probe/fake`);
      assert.equal(out.filter((l) => l.startsWith('● session')).length, 1);
    });

    it('… or from the reply, when it comes before its metadata line', () => {
      const out = run([init, routedReply('claude-haiku-4-5'), meta('req-1', 'claude-sonnet-4-5', 'claude-haiku-4-5', 0.0001), result]);
      assert.deepEqual(out.slice(0, 2), [`● session ${SESSION} · claude-sonnet-4-5 → claude-haiku-4-5 · /tmp/probe/fake`, 'hello']);
    });

    it('the model once when routing kept it; the header alone when nothing followed it', () => {
      assert.equal(run([init, assistant])[0], `● session ${SESSION} · claude-sonnet-4-5 · /tmp/probe/fake`);
      assert.deepEqual(run([init]), [`● session ${SESSION} · claude-sonnet-4-5 · /tmp/probe/fake`]);
    });

    it("claude's own message without a request (not logged in, model \"<synthetic>\"): the model asked for alone, no routing arrow", () => {
      // What claude 2.x prints, not logged in, before it sends anything to the gateway.
      const notLoggedIn = JSON.stringify({
        type: 'assistant', parent_tool_use_id: null, session_id: SESSION, uuid: '5b0f2c1e-8d6a-4f3e-9c1b-2a7d4e6f8a90', error: 'authentication_failed',
        message: {
          id: '0c4d8f2a-7b1e-4e9a-8f3c-6d2b1a9e7c50', container: null, model: '<synthetic>', role: 'assistant', stop_reason: 'stop_sequence', stop_sequence: '', type: 'message',
          usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
          content: [{ type: 'text', text: 'Not logged in · Please run /login' }],
        },
      });
      const out = run([init, notLoggedIn]);
      assert.deepEqual(out.slice(0, 2), [`● session ${SESSION} · claude-sonnet-4-5 · /tmp/probe/fake`, 'Not logged in · Please run /login']);
      assert.ok(!out.some((l) => l.includes('synthetic')), out.join('\n'));
    });

    it('a run cut before claude\'s result still states what Conduit recorded', () => {
      const out = run([init, meta('req-1', 'claude-sonnet-4-5', 'claude-sonnet-4-5', 0.0012), 'conduit-claude: killed']);
      assert.deepEqual(out.slice(-2), ['conduit-claude: killed', '1 request · $0.0012']);
    });

    it('hostile metadata (controls in models, costs that are not numbers, a requestId with toString) neither throws nor reaches the terminal', () => {
      const lines = [init,
        metadataLine({ requestId: { toString: 1 }, routingDecision: { ...DECISION, requestedModel: 'a\x1b]0;t\x07b', model: 'c\u009b2Jd' }, usage: { ...usage(null), cost: 'lots' } }),
        metadataLine({ requestId: 'r2', routingDecision: { ...DECISION, requestedModel: { valueOf: 1 } }, usage: { ...usage(null), cost: 1e999 } }),
        result];
      const session = new SessionRenderer();
      const out = [...lines.flatMap((l) => session.push(l).lines), ...session.finish()];
      assertNoForeignControls(out, lines.join('\n'));
      assert.equal(plain(out)[0], `● session ${SESSION} · ab → cd · /tmp/probe/fake`);
      assert.equal(plain(out)[out.length - 1], "✓ done in 0.4 s · 1 turn · $0.0000+? (claude's estimate at the requested model: $0.0005)");
    });
  });

  describe('tool calls and results', () => {
    it('a tool call shows its name and main argument; its result the first line of output', () => {
      const call = renderLine(JSON.stringify({ type: 'assistant', message: { content: [
        { type: 'thinking', thinking: '...' },
        { type: 'text', text: 'Let me look.\nFirst the tests.' },
        { type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'npm test\nnpm run lint', description: 'Run the tests' } },
      ] } }));
      assert.deepEqual(plain(call.lines), ['✻ thinking…', 'Let me look.', 'First the tests.', '⏺ Bash(npm test)']);
      const result = renderLine(JSON.stringify({ type: 'user', message: { content: [
        { type: 'tool_result', tool_use_id: 't1', content: '\n\n  12 passing\n  0 failing' },
        { type: 'tool_result', tool_use_id: 't2', content: [{ type: 'text', text: 'boom' }], is_error: true },
        { type: 'tool_result', tool_use_id: 't3', content: '' },
        { type: 'text', text: 'not a tool result' },
      ] } }));
      assert.deepEqual(plain(result.lines), ['  ⎿   12 passing', '  ⎿ boom', '  ⎿ (no output)']);
      assert.ok(result.lines[1].includes('\x1b[31m'), 'an error result is red');
    });

    it('a long result line is cut at 160 characters', () => {
      const r = renderLine(JSON.stringify({ type: 'user', message: { content: [{ type: 'tool_result', content: 'x'.repeat(500) }] } }));
      assert.equal(plain(r.lines)[0], `  ⎿ ${'x'.repeat(159)}…`);
    });

    it('a failed result says so in red', () => {
      const r = renderLine(JSON.stringify({ type: 'result', subtype: 'error_max_turns', is_error: true, num_turns: 3 }));
      assert.deepEqual(plain(r.lines), ['', '✗ failed · 3 turns']);
      assert.deepEqual(plain(renderLine(JSON.stringify({ type: 'result', subtype: 'error_during_execution', is_error: true, total_cost_usd: 0.25 })).lines),
        ['', "✗ failed · $0.2500 (claude's estimate)"]);
      assert.ok(r.lines[1].startsWith('\x1b[31m'));
    });

    it('types it does not show (stream events, other system lines) print nothing', () => {
      assert.deepEqual(renderLine('{"type":"stream_event","event":{}}'), { lines: [] });
      assert.deepEqual(renderLine('{"type":"system","subtype":"compact_boundary"}'), { lines: [] });
      assert.deepEqual(renderLine(''), { lines: [] });
      assert.deepEqual(renderLine('   \r'), { lines: [] });
      // In a session too: such a line does not release the header, which waits for the reply.
      const [init, assistant] = readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l);
      const session = new SessionRenderer();
      assert.deepEqual(session.push(init), { lines: [] });
      assert.deepEqual(session.push('{"type":"stream_event","event":{"type":"message_start"}}'), { lines: [] });
      assert.deepEqual(plain(session.push(assistant).lines), ['● session c120386e-56b1-4b31-b81e-93ceaad00c01 · claude-sonnet-4-5 · /tmp/probe/fake', 'hello']);
    });
  });

  describe('malformed lines are shown as they are', () => {
    for (const line of [
      'conduit-claude: could not start the gateway',
      '{"type":"assistant","message":',
      '{not json}',
      '[1,2,3]',
      'null',
      '42',
      '"a string"',
      '{"no":"type"}',
      '{"type":7}',
    ]) {
      it(JSON.stringify(line), () => {
        assert.deepEqual(renderLine(line), { lines: [line] });
      });
    }

    it('shapes it knows with the wrong insides print what they can and never throw', () => {
      for (const line of [
        '{"type":"assistant"}',
        '{"type":"assistant","message":{"content":"text, not blocks"}}',
        '{"type":"assistant","message":{"content":[null,1,"x",{"type":"text","text":5},{"type":"tool_use"}]}}',
        '{"type":"user","message":{"content":[{"type":"tool_result","content":[null,{"text":3}]}]}}',
        '{"type":"result","total_cost_usd":"lots","duration_ms":null}',
        '{"type":"system","subtype":"init"}',
        '{"type":"assistant","message":"text, not a message"}',
        '{"type":"user","message":[{"type":"tool_result"}]}',
        '{"type":"assistant","message":{"model":7,"content":[{"type":"tool_result","content":"not an assistant block"}]}}',
        '{"type":"system","subtype":"init","session_id":{"id":1},"model":["m"],"cwd":null}',
      ]) {
        const r = renderLine(line);
        assert.ok(Array.isArray(r.lines), line);
        for (const l of r.lines) assert.equal(typeof l, 'string', line);
      }
      assert.deepEqual(plain(renderLine('{"type":"assistant","message":{"content":[{"type":"tool_use"}]}}').lines), ['⏺ undefined()']);
    });
  });

  describe('terminal control sequences in outside text are removed', () => {
    // What the terminal (xterm.js) would act on: CSI (7-bit and 8-bit), OSC (title, hyperlinks,
    // clipboard), other escapes, bare control characters.
    const HOSTILE = [
      '\x1b[2J\x1b[H', '\x1b[31m', '\x1b[?1049h', '\x1b]0;pwned\x07', '\x1b]52;c;ZXZpbA==\x07',
      '\x1b]8;;https://evil.example\x1b\\', '\x1bc', '\x1bP1$r\x1b\\', '\u009b2J', '\u009d0;pwned\u009c', '\u0090x\u009c',
      '\r', '\b', '\x07', '\x00', '\x7f',
    ];

    it('from a line that is not JSON', () => {
      for (const seq of HOSTILE) {
        const line = `before${seq}after`;
        const r = renderLine(line);
        assertNoForeignControls(r.lines, line);
        assert.match(r.lines[0], /^before.*after$/);
      }
    });

    it("from every field the renderer shows: assistant text, tool names and input, results, ids, models, rules, token counts", () => {
      for (const seq of HOSTILE) {
        const s = `x${seq}y`;
        const lines = [
          { type: 'system', subtype: 'init', session_id: s, model: s, cwd: s },
          { type: 'assistant', message: { content: [{ type: 'text', text: s }, { type: 'tool_use', name: s, input: { command: s } }, { type: 'tool_use', name: 'T', input: { other: s } }] } },
          { type: 'user', message: { content: [{ type: 'tool_result', content: s }, { type: 'tool_result', content: [{ type: 'text', text: s }] }] } },
          { type: 'result', subtype: s, total_cost_usd: 1, num_turns: 1 },
          { type: 'conduit_metadata', data: { requestId: s, routingDecision: { ...DECISION, model: s, source: s, rule: s } } },
          { type: 'conduit_metadata', data: { requestId: 'r', routingDecision: DECISION, usage: { inputTokens: s, outputTokens: s, cacheCreationTokens: s, cacheReadTokens: s, cost: s } } },
        ].map((o) => JSON.stringify(o));
        for (const line of lines) assertNoForeignControls(renderLine(line).lines, line);
      }
    });

    it('sanitize keeps the text around them, tabs and ordinary Unicode', () => {
      assert.equal(sanitize('a\x1b[1;31mb\x1b[0mc'), 'abc');
      assert.equal(sanitize('tab\there ✓ ⇄ é 漢字 🙂'), 'tab\there ✓ ⇄ é 漢字 🙂');
      assert.equal(sanitize('x\u009b2Jy'), 'xy');
      assert.equal(sanitize('a\x1b]0;pwned\x07b\x1b]8;;https://evil.example\x1b\\c'), 'abc', 'a string sequence goes with its payload');
      assert.equal(sanitize('a\x1b]0;no end'), 'a0;no end', 'an unterminated one loses only its introducer, not the rest of the line');
    });
  });

  describe('never throws', () => {
    function randomString(r: Rng): string {
      const alphabet = ['{', '}', '[', ']', '"', ':', ',', '\\', 'type', 'assistant', 'user', 'result', 'system', 'conduit_metadata', 'message', 'content', 'text',
        'tool_use', 'tool_result', 'data', 'routingDecision', 'model', 'usage', 'null', 'true', '0', '-1e999', '\x1b[', '\u009b', '\r', '\n', '\x00', '\ud800', ' ', 'é'];
      let s = '';
      for (let i = r.int(40); i > 0; i--) s += r.chance(0.8) ? r.pick(alphabet) : String.fromCharCode(r.int(0x10000));
      return s;
    }

    function randomValue(r: Rng, depth: number): unknown {
      const kinds = depth > 4 ? 5 : 8;
      switch (r.int(kinds)) {
        case 0: return null;
        case 1: return r.chance(0.5);
        case 2: return r.pick([0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER]);
        case 3: return randomString(r);
        case 4: return r.pick(['assistant', 'user', 'result', 'system', 'init', 'success', 'text', 'tool_use', 'tool_result', 'thinking', 'conduit_metadata']);
        case 5: return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
        default: {
          const keys = ['type', 'subtype', 'message', 'content', 'text', 'name', 'input', 'command', 'is_error', 'data', 'routingDecision', 'model', 'source', 'rule',
            'usage', 'inputTokens', 'outputTokens', 'cost', 'total_cost_usd', 'duration_ms', 'num_turns', 'session_id', '__proto__', 'constructor',
            'requestId', 'requestedModel', 'toString', 'valueOf'];
          const o: Record<string, unknown> = {};
          for (let i = r.int(6); i > 0; i--) Object.defineProperty(o, r.pick(keys), { value: randomValue(r, depth + 1), enumerable: true, configurable: true, writable: true });
          return o;
        }
      }
    }

    it('on 5,000 random strings and 5,000 random JSON values shaped like its input', () => {
      for (let seed = 1; seed <= 5_000; seed++) {
        const r = rng(seed);
        const inputs = [randomString(r), JSON.stringify({ type: r.pick(['assistant', 'user', 'result', 'system', 'conduit_metadata']), ...(randomValue(r, 0) as object) })];
        for (const input of inputs) {
          let out;
          try {
            out = renderLine(input);
          } catch (err) {
            assert.fail(`seed ${seed}: renderLine threw ${(err as Error).message} on ${JSON.stringify(input).slice(0, 500)}`);
          }
          assert.ok(Array.isArray(out.lines), `seed ${seed}`);
          for (const l of out.lines) assert.equal(typeof l, 'string', `seed ${seed}`);
          assertNoForeignControls(out.lines, input);
        }
      }
    });

    it('a SessionRenderer on 2,000 random runs of such lines, and their summary', () => {
      for (let seed = 1; seed <= 2_000; seed++) {
        const r = rng(seed);
        const session = new SessionRenderer();
        const out: string[] = [];
        const inputs = Array.from({ length: 1 + r.int(6) }, () => (r.chance(0.2) ? randomString(r)
          : JSON.stringify({ type: r.pick(['assistant', 'result', 'system', 'conduit_metadata']), ...(randomValue(r, 0) as object) })));
        try {
          for (const input of inputs) out.push(...session.push(input).lines);
          out.push(...session.finish());
        } catch (err) {
          assert.fail(`seed ${seed}: threw ${(err as Error).message} on ${JSON.stringify(inputs).slice(0, 500)}`);
        }
        for (const l of out) assert.equal(typeof l, 'string', `seed ${seed}`);
        assertNoForeignControls(out, JSON.stringify(inputs));
      }
    });
  });
});
