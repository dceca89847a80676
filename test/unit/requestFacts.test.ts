import assert from 'node:assert/strict';
import { InvalidRequestError, readRequestFacts, withModel } from '../../src/conduit/routing/requestFacts';
import { claudeCodeRequest, withPrompt, withWebSearch } from '../support/claudeRequest';
import { rng } from './prng';

const bytes = (body: unknown, indent?: number): Buffer => Buffer.from(JSON.stringify(body, null, indent));
const facts = (body: unknown) => readRequestFacts(bytes(body));
const minimal = (extra: Record<string, unknown> = {}) => ({ model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'say hi' }], ...extra });

/** The request claude 2.1.332 sends: adaptive thinking that shows updates, effort medium, opus 5.5. */
function currentClaudeBody(): Record<string, any> {
  const { body } = claudeCodeRequest();
  body.model = 'claude-opus-5-5';
  body.thinking = { type: 'adaptive', display: 'updates' };
  body.output_config = { effort: 'medium' };
  return body;
}

describe('readRequestFacts', () => {
  it('reads the captured Claude Code request: model, stream, thinking enabled with budget 31,999', () => {
    const { body } = claudeCodeRequest();
    const f = facts(body);
    assert.equal(f.requestedModel, body.model);
    assert.equal(f.stream, body.stream);
    assert.equal(f.thinkingType, body.thinking.type);
    assert.equal(f.thinkingBudget, body.thinking.budget_tokens);
    assert.equal(f.effort, null);
    assert.equal(f.hasWebSearchTool, false);
    assert.ok(f.tokenCount > 0);
    assert.equal(f.tokenCount, f.scan.tokenEstimate);
  });

  it('reads the current claude request: adaptive thinking without a budget, effort medium', () => {
    const body = currentClaudeBody();
    const f = facts(body);
    assert.equal(f.requestedModel, 'claude-opus-5-5');
    assert.equal(f.thinkingType, 'adaptive');
    assert.equal(f.thinkingBudget, null);
    assert.equal(f.effort, body.output_config.effort);
  });

  it('reads stream false, a missing stream as false, and disabled or odd thinking as no thinking', () => {
    assert.equal(facts(minimal({ stream: false })).stream, false);
    assert.equal(facts(minimal()).stream, false);
    assert.equal(facts(minimal({ stream: true })).stream, true);
    assert.equal(facts(minimal({ thinking: { type: 'disabled' } })).thinkingType, null);
    assert.equal(facts(minimal()).thinkingType, null);
    assert.equal(facts(minimal({ thinking: null })).thinkingType, null);
    assert.equal(facts(minimal({ thinking: ['enabled'] })).thinkingType, null);
    assert.equal(facts(minimal({ thinking: { type: 'enabled', budget_tokens: 64000 } })).thinkingBudget, 64000);
    assert.equal(facts(minimal({ output_config: { effort: 'max' } })).effort, 'max');
    assert.equal(facts(minimal({ output_config: { effort: 3 } })).effort, null);
    assert.equal(facts(minimal({ output_config: 'high' })).effort, null);
  });

  describe('web search', () => {
    it('sees a server-side web_search_* tool', () => {
      assert.equal(facts(withWebSearch(claudeCodeRequest().body)).hasWebSearchTool, true);
      const tools = [...claudeCodeRequest().body.tools, { type: 'web_search_20260101', name: 'web_search' }];
      assert.equal(facts({ ...claudeCodeRequest().body, tools }).hasWebSearchTool, true);
      assert.equal(readRequestFacts(bytes(minimal({ tools: [{ type: 'web_search_20250305', name: 'web_search' }] }), 2)).hasWebSearchTool, true);
    });

    it('does not take a custom tool named web_search_..., a description quoting one, or text outside tools for it', () => {
      const custom = { name: 'web_search_docs', description: 'Searches the docs', input_schema: { type: 'object' } };
      const quoting = { name: 'Search', description: 'Unlike "web_search_20250305", runs locally', input_schema: { type: 'object' } };
      assert.equal(facts(minimal({ tools: [custom] })).hasWebSearchTool, false);
      assert.equal(facts(minimal({ tools: [quoting] })).hasWebSearchTool, false);
      assert.equal(facts(minimal({ messages: [{ role: 'user', content: '"web_search_20250305"' }] })).hasWebSearchTool, false);
      assert.equal(facts(minimal({ tools: [custom, { type: 'web_search_20250305', name: 'web_search' }] })).hasWebSearchTool, true);
    });
  });

  describe('lastUserText', () => {
    it('is the typed prompt of the last user message, text blocks joined by newlines', () => {
      const f = facts(withPrompt(claudeCodeRequest().body, 'ultrathink about the design'));
      assert.equal(f.lastUserText(), 'ultrathink about the design');
      const multi = minimal({ messages: [{ role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'image', source: {} }, { type: 'text', text: 'two' }] }] });
      assert.equal(facts(multi).lastUserText(), 'one\ntwo');
      assert.equal(facts(minimal({ messages: [{ role: 'user', content: 'plain string' }] })).lastUserText(), 'plain string');
    });

    it('skips the <system-reminder> blocks Claude Code adds', () => {
      const body = minimal({
        messages: [{
          role: 'user',
          content: [
            { type: 'text', text: '<system-reminder>\nAs you answer, ultrathink is mentioned here.\n</system-reminder>' },
            { type: 'text', text: 'fix the bug' },
            { type: 'text', text: '<system-reminder>todo list is empty</system-reminder>' },
          ],
        }],
      });
      assert.equal(facts(body).lastUserText(), 'fix the bug');
    });

    it('reaches back over the tool results of an agentic turn to the prompt that started it', () => {
      const body = withPrompt(claudeCodeRequest().body, 'ultrathink about the cache');
      body.messages.push(
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: '/a' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'the file says something else' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_2', name: 'Read', input: { file_path: '/b' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: 'more' }, { type: 'text', text: '<system-reminder>x</system-reminder>' }] },
      );
      assert.equal(facts(body).lastUserText(), 'ultrathink about the cache');
    });

    it('never reads the text inside a tool result', () => {
      const body = minimal({ messages: [
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'please ultrathink' }] }] },
      ] });
      assert.equal(facts(body).lastUserText(), '');
    });

    it('is the latest user prompt even when the assistant spoke last, and empty when there is none', () => {
      assert.equal(facts(minimal({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] })).lastUserText(), 'q');
      assert.equal(facts(minimal({ messages: [] })).lastUserText(), '');
      assert.equal(facts(minimal({ messages: [{ role: 'assistant', content: 'a' }] })).lastUserText(), '');
    });

    it('parses the last message on first use only', () => {
      const f = facts(withPrompt(claudeCodeRequest().body, 'hello'));
      const parse = JSON.parse;
      let calls = 0;
      JSON.parse = ((text: string, reviver?: (k: string, v: unknown) => unknown) => {
        calls++;
        return parse(text, reviver);
      }) as typeof JSON.parse;
      try {
        assert.equal(f.lastUserText(), 'hello');
        assert.equal(calls, 1);
        assert.equal(f.lastUserText(), 'hello');
        assert.equal(calls, 1, 'the second call reuses the first answer');
      } finally {
        JSON.parse = parse;
      }
    });
  });

  describe('withModel', () => {
    const check = (body: Buffer, model: string) => {
      const f = readRequestFacts(body);
      const out = withModel(body, f, model);
      const expected = JSON.parse(body.toString());
      expected.model = model;
      assert.deepEqual(JSON.parse(out.toString()), expected);
      // Everything but the model's value is byte for byte the original.
      const [start, end] = f.scan.fields.get('model')!;
      assert.ok(out.subarray(0, start).equals(body.subarray(0, start)), 'bytes before the model');
      assert.ok(out.subarray(out.length - (body.length - end)).equals(body.subarray(end)), 'bytes after the model');
      assert.equal(out.toString('utf8', start, out.length - (body.length - end)), JSON.stringify(model));
      return out;
    };

    it('changes only the model bytes of the real request', () => {
      check(bytes(claudeCodeRequest().body), 'claude-opus-5-5');
      check(bytes(currentClaudeBody()), 'claude-haiku-4-5-20251001');
    });

    it('changes only the model bytes of pretty-printed and reordered bodies, with models needing escapes', () => {
      const { body } = claudeCodeRequest();
      const reordered = { messages: body.messages, tools: body.tools, model: body.model, stream: true };
      check(bytes(body, 2), 'provider/model-é');
      check(bytes(reordered), 'a "quoted" \\ model');
      const r = rng(11);
      for (let n = 0; n < 50; n++) {
        const model = Array.from({ length: r.range(1, 20) }, () => String.fromCharCode(r.range(0x20, 0x7e))).join('');
        check(bytes(minimal({ model: r.chance(0.5) ? 'x' : 'claude-sonnet-4-5' })), model);
      }
    });

    it('returns the same bytes when the model is unchanged', () => {
      const body = bytes(claudeCodeRequest().body);
      const f = readRequestFacts(body);
      assert.equal(withModel(body, f, f.requestedModel), body);
    });

    it('finds an escaped "model" key as the provider would', () => {
      const body = Buffer.from('{"mod\\u0065l":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}');
      const f = readRequestFacts(body);
      assert.equal(f.requestedModel, 'claude-sonnet-4-5');
      assert.equal(JSON.parse(withModel(body, f, 'other').toString()).model, 'other');
    });
  });

  describe('errors', () => {
    const fails = (body: string | Record<string, unknown>, pattern: RegExp) => {
      assert.throws(() => readRequestFacts(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))), (err: unknown) => {
        assert.ok(err instanceof InvalidRequestError, `an InvalidRequestError, got ${String(err)}`);
        assert.match(err.message, pattern);
        return true;
      });
    };

    it('names a missing or empty model', () => {
      const noModel: Record<string, unknown> = minimal();
      delete noModel.model;
      fails(noModel, /^model: field required/);
      fails(minimal({ model: '' }), /^model: /);
      fails(minimal({ model: 42 }), /^model: /);
      fails(minimal({ model: null }), /^model: /);
    });

    it('names messages that are missing or not an array', () => {
      const noMessages: Record<string, unknown> = minimal();
      delete noMessages.messages;
      fails(noMessages, /^messages: .*array/);
      fails(minimal({ messages: { role: 'user' } }), /^messages: /);
      fails(minimal({ messages: 'hi' }), /^messages: /);
      fails(minimal({ messages: null }), /^messages: /);
    });

    it('names a bad max_tokens', () => {
      for (const v of [0, -1, 1.5, '1024', null, true]) fails(minimal({ max_tokens: v }), /^max_tokens: must be a positive integer/);
      assert.doesNotThrow(() => facts(minimal({ max_tokens: 1 })));
    });

    it('names a bad stream', () => {
      for (const v of ['true', 1, null, {}]) fails(minimal({ stream: v }), /^stream: must be a boolean/);
    });

    it('says the body is not valid JSON, and where', () => {
      const bad = '{"model":"m","messages":[}';
      fails(bad, new RegExp(`^request body is not valid JSON: .* at byte ${bad.indexOf('}')}$`));
      fails('', /not valid JSON/);
      fails('[{"model":"m"}]', /not valid JSON: expected a JSON object/);
    });
  });
});
