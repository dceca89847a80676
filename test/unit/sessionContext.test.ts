import assert from 'node:assert/strict';
import { metadataLine, sessionContextFromEnv, wantsStreamJson } from '../../src/conduit/wrapper/context';
import { parseAgentModelConfig, parseJsonVariable, parseProjectModelConfig, parseRoutingRules } from '../../src/protocol/modelConfig';
import { CONTEXT_HEADER, decodeSessionContext, encodeSessionContext, parseSessionContext, type SessionContext } from '../../src/protocol/sessionContext';
import type { UsageRecord } from '../../src/protocol/usage';
import { ValidationError } from '../../src/protocol/validate';

/** Asserts a ValidationError at `path` (and a message that starts with it). */
function failsAt(fn: () => unknown, path: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ValidationError, `a ValidationError, got ${String(err)}`);
    assert.equal(err.path, path);
    assert.ok(err.message.startsWith(`${path}: `), err.message);
    return true;
  });
}

describe('model configuration (the seed\'s SYNAPSE_* shapes)', () => {
  it('reads a project config {enabled, defaultModel}', () => {
    assert.deepEqual(parseProjectModelConfig({ enabled: true, defaultModel: 'claude-sonnet-5-5' }), { enabled: true, defaultModel: 'claude-sonnet-5-5' });
    assert.deepEqual(parseProjectModelConfig({ enabled: false, defaultModel: null }), { enabled: false, defaultModel: null });
    assert.deepEqual(parseProjectModelConfig({ enabled: false }), { enabled: false });
    const rules = { reasoningModel: null, reasoningKeywords: ['deliberate'], reasoningBudgetThreshold: null, longContextThreshold: 10 };
    assert.deepEqual(parseProjectModelConfig({ enabled: true, rules }), { enabled: true, rules });
  });

  it('reads an agent config {useProjectDefaults, overrideModel}', () => {
    assert.deepEqual(parseAgentModelConfig({ useProjectDefaults: false, overrideModel: 'claude-opus-5-5' }), { useProjectDefaults: false, overrideModel: 'claude-opus-5-5' });
    assert.deepEqual(parseAgentModelConfig({ useProjectDefaults: true, overrideModel: null }), { useProjectDefaults: true, overrideModel: null });
    assert.deepEqual(parseAgentModelConfig({ useProjectDefaults: true }), { useProjectDefaults: true });
  });

  it('names the field of a wrong project or agent config', () => {
    failsAt(() => parseProjectModelConfig({ defaultModel: 'm' }), 'projectModelConfig.enabled');
    failsAt(() => parseProjectModelConfig({ enabled: 'yes' }), 'projectModelConfig.enabled');
    failsAt(() => parseProjectModelConfig({ enabled: true, defaultModel: 5 }), 'projectModelConfig.defaultModel');
    failsAt(() => parseProjectModelConfig({ enabled: true, model: 'm' }), 'projectModelConfig.model');
    failsAt(() => parseProjectModelConfig({ enabled: true, rules: { longContextThreshold: 1.5 } }), 'projectModelConfig.rules.longContextThreshold');
    failsAt(() => parseProjectModelConfig({ enabled: true, rules: { fallbackModels: 'm' } }), 'projectModelConfig.rules.fallbackModels');
    failsAt(() => parseProjectModelConfig([]), 'projectModelConfig');
    failsAt(() => parseAgentModelConfig({ overrideModel: 'm' }), 'agentModelConfig.useProjectDefaults');
    failsAt(() => parseAgentModelConfig({ useProjectDefaults: 0 }), 'agentModelConfig.useProjectDefaults');
    failsAt(() => parseAgentModelConfig({ useProjectDefaults: false }), 'agentModelConfig.overrideModel');
    failsAt(() => parseAgentModelConfig({ useProjectDefaults: false, overrideModel: '' }), 'agentModelConfig.overrideModel');
    failsAt(() => parseAgentModelConfig({ useProjectDefaults: true, overrideModel: ['m'] }), 'agentModelConfig.overrideModel');
    failsAt(() => parseAgentModelConfig(null), 'agentModelConfig');
    failsAt(() => parseRoutingRules({ reasoningBudgetThreshold: 0 }, 'r'), 'r.reasoningBudgetThreshold');
  });

  describe('parseJsonVariable', () => {
    it('parses the variable\'s JSON', () => {
      assert.deepEqual(parseJsonVariable('SYNAPSE_PROJECT_MODEL_CONFIG', '{"enabled":true,"defaultModel":"m"}', parseProjectModelConfig), { enabled: true, defaultModel: 'm' });
      assert.deepEqual(parseJsonVariable('SYNAPSE_AGENT_MODEL_CONFIG', ' {"useProjectDefaults":false,"overrideModel":"o"} ', parseAgentModelConfig), { useProjectDefaults: false, overrideModel: 'o' });
    });

    it('names the variable when its JSON is malformed', () => {
      for (const text of ['{enabled:true}', '', '{"enabled":true', 'true false']) {
        failsAt(() => parseJsonVariable('SYNAPSE_PROJECT_MODEL_CONFIG', text, parseProjectModelConfig), 'SYNAPSE_PROJECT_MODEL_CONFIG');
      }
      assert.throws(() => parseJsonVariable('X_VAR', '{', parseProjectModelConfig), /^ValidationError: X_VAR: is not valid JSON/);
    });

    it('names the variable and the field when a value has the wrong type', () => {
      failsAt(() => parseJsonVariable('SYNAPSE_PROJECT_MODEL_CONFIG', '{"enabled":"true"}', parseProjectModelConfig), 'SYNAPSE_PROJECT_MODEL_CONFIG.enabled');
      failsAt(() => parseJsonVariable('SYNAPSE_PROJECT_MODEL_CONFIG', '[]', parseProjectModelConfig), 'SYNAPSE_PROJECT_MODEL_CONFIG');
      failsAt(() => parseJsonVariable('SYNAPSE_AGENT_MODEL_CONFIG', '{"useProjectDefaults":false,"overrideModel":7}', parseAgentModelConfig), 'SYNAPSE_AGENT_MODEL_CONFIG.overrideModel');
    });
  });
});

describe('session context header', () => {
  const full: SessionContext = {
    sessionId: 'c3d1b0a4-0000-4000-8000-000000000001',
    projectId: 'proj-é-1',
    agentId: 'agent-42',
    agentType: 'code-reviewer',
    projectModelConfig: { enabled: true, defaultModel: 'claude-sonnet-5-5', rules: { reasoningEfforts: ['max'], backgroundModel: null } },
    agentModelConfig: { useProjectDefaults: false, overrideModel: 'claude-opus-5-5' },
  };

  it('round-trips through encode and decode', () => {
    const header = encodeSessionContext(full);
    assert.match(header, /^[A-Za-z0-9_-]+$/, 'base64url: safe in an HTTP header');
    assert.deepEqual(decodeSessionContext(header), full);
    assert.deepEqual(decodeSessionContext(encodeSessionContext({})), {});
    assert.deepEqual(decodeSessionContext(encodeSessionContext({ projectId: 'p' })), { projectId: 'p' });
  });

  it('refuses a header that is not base64url JSON, naming the header', () => {
    const valid = encodeSessionContext({ sessionId: 's' });
    for (const bad of ['!!!', Buffer.from('{"a":').toString('base64url'), Buffer.from('not json').toString('base64url'), `${valid}$$$`, `${valid}=`, ` ${valid}`]) {
      failsAt(() => decodeSessionContext(bad), CONTEXT_HEADER);
    }
  });

  it('refuses unknown keys and wrong types, naming them under the header', () => {
    failsAt(() => decodeSessionContext(Buffer.from('{"project":"p"}').toString('base64url')), `${CONTEXT_HEADER}.project`);
    failsAt(() => decodeSessionContext(Buffer.from('{"agentId":5}').toString('base64url')), `${CONTEXT_HEADER}.agentId`);
    failsAt(() => decodeSessionContext(Buffer.from('[1]').toString('base64url')), CONTEXT_HEADER);
    failsAt(() => decodeSessionContext(encodeSessionContext({ projectModelConfig: { enabled: 'x' } } as unknown as SessionContext)), `${CONTEXT_HEADER}.projectModelConfig.enabled`);
    failsAt(() => decodeSessionContext(encodeSessionContext({ agentModelConfig: { useProjectDefaults: false } } as SessionContext)), `${CONTEXT_HEADER}.agentModelConfig.overrideModel`);
  });

  it('accepts ids of 200 characters and refuses longer ones', () => {
    for (const k of ['sessionId', 'projectId', 'agentId', 'agentType'] as const) {
      assert.equal(parseSessionContext({ [k]: 'x'.repeat(200) })[k], 'x'.repeat(200));
      failsAt(() => parseSessionContext({ [k]: 'x'.repeat(201) }), `context.${k}`);
      failsAt(() => decodeSessionContext(encodeSessionContext({ [k]: 'y'.repeat(1000) })), `${CONTEXT_HEADER}.${k}`);
    }
  });
});

describe('conduit-claude context', () => {
  describe('sessionContextFromEnv', () => {
    it('reads the SYNAPSE_* variables in the seed\'s shapes', () => {
      const env = {
        CONDUIT_SESSION_ID: 'session-1',
        SYNAPSE_PROJECT_ID: 'project-1',
        SYNAPSE_AGENT_ID: 'agent-1',
        SYNAPSE_AGENT_TYPE: 'planner',
        SYNAPSE_PROJECT_MODEL_CONFIG: JSON.stringify({ enabled: false, defaultModel: 'claude-sonnet-5-5' }),
        SYNAPSE_AGENT_MODEL_CONFIG: JSON.stringify({ useProjectDefaults: false, overrideModel: 'claude-haiku-4-5' }),
      };
      const ctx = sessionContextFromEnv(env);
      assert.deepEqual(ctx, {
        sessionId: env.CONDUIT_SESSION_ID,
        projectId: env.SYNAPSE_PROJECT_ID,
        agentId: env.SYNAPSE_AGENT_ID,
        agentType: env.SYNAPSE_AGENT_TYPE,
        projectModelConfig: JSON.parse(env.SYNAPSE_PROJECT_MODEL_CONFIG),
        agentModelConfig: JSON.parse(env.SYNAPSE_AGENT_MODEL_CONFIG),
      });
      // ... and what it reads, the gateway accepts.
      assert.deepEqual(decodeSessionContext(encodeSessionContext(ctx)), ctx);
    });

    it('makes up a session id and leaves out what is unset or empty', () => {
      const a = sessionContextFromEnv({ SYNAPSE_PROJECT_ID: '', SYNAPSE_PROJECT_MODEL_CONFIG: '' });
      assert.deepEqual(Object.keys(a), ['sessionId']);
      assert.match(a.sessionId!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.notEqual(sessionContextFromEnv({}).sessionId, a.sessionId);
    });

    it('names the variable holding malformed JSON or a wrong type', () => {
      failsAt(() => sessionContextFromEnv({ SYNAPSE_PROJECT_MODEL_CONFIG: '{"enabled":tru}' }), 'SYNAPSE_PROJECT_MODEL_CONFIG');
      failsAt(() => sessionContextFromEnv({ SYNAPSE_AGENT_MODEL_CONFIG: 'useProjectDefaults=false' }), 'SYNAPSE_AGENT_MODEL_CONFIG');
      failsAt(() => sessionContextFromEnv({ SYNAPSE_PROJECT_MODEL_CONFIG: '{"enabled":1}' }), 'SYNAPSE_PROJECT_MODEL_CONFIG.enabled');
      failsAt(() => sessionContextFromEnv({ SYNAPSE_AGENT_MODEL_CONFIG: '{"useProjectDefaults":false}' }), 'SYNAPSE_AGENT_MODEL_CONFIG.overrideModel');
    });

    it('refuses an id the gateway would refuse, naming its variable', () => {
      for (const name of ['CONDUIT_SESSION_ID', 'SYNAPSE_PROJECT_ID', 'SYNAPSE_AGENT_ID', 'SYNAPSE_AGENT_TYPE']) {
        failsAt(() => sessionContextFromEnv({ [name]: 'z'.repeat(201) }), name);
        assert.doesNotThrow(() => decodeSessionContext(encodeSessionContext(sessionContextFromEnv({ [name]: 'z'.repeat(200) }))));
      }
    });
  });

  describe('wantsStreamJson', () => {
    const cases: [string[], boolean][] = [
      [['-p', 'hi', '--output-format', 'stream-json', '--verbose'], true],
      [['--output-format=stream-json', '-p', 'hi'], true],
      [['-p', 'hi', '--output-format', 'json'], false],
      [['--output-format=json'], false],
      [['-p', 'stream-json'], false],
      [['--output-format'], false],
      [[], false],
      [['-p', '--output-format stream-json'], false],
    ];
    for (const [args, expected] of cases) it(`${JSON.stringify(args)} → ${expected}`, () => assert.equal(wantsStreamJson(args), expected));
  });

  describe('metadataLine', () => {
    const record = (over: Partial<UsageRecord> = {}): UsageRecord => ({
      id: 'req-1',
      context: { sessionId: 's', projectId: 'project-1', agentId: 'agent-1', agentType: 'planner', claudeSessionId: 'cs' },
      decision: {
        model: 'claude-opus-5-5', provider: 'anthropic', source: 'reasoning', rule: 'effort max', tokenCount: 12345,
        requestedModel: 'claude-sonnet-5-5', timestamp: '2026-03-01T10:00:00.000Z', fallbacks: ['x'],
      },
      usage: { inputTokens: 10, outputTokens: 20, cacheCreationTokens: 30, cacheCreation5mTokens: 25, cacheCreation1hTokens: 5, cacheReadTokens: 40 },
      cost: { cost: 0.0123, costSource: 'table:claude-opus-5-5', priceVersion: 'v' },
      status: 200, stream: true, durationMs: 5, firstByteMs: 1,
      startedAt: '2026-03-01T10:00:00.000Z', endedAt: '2026-03-01T10:00:01.000Z', device: 'host',
      ...over,
    });

    it('has the seed\'s shape: routingDecision, projectContext and usage under data', () => {
      const r = record();
      const line = metadataLine(r);
      assert.deepEqual(line, {
        type: 'conduit_metadata',
        data: {
          requestId: r.id,
          sessionId: 'cs',
          routingDecision: {
            model: r.decision.model, source: r.decision.source, tokenCount: r.decision.tokenCount, timestamp: r.decision.timestamp,
            rule: r.decision.rule, requestedModel: r.decision.requestedModel,
          },
          projectContext: { projectId: r.context.projectId, agentId: r.context.agentId },
          usage: {
            inputTokens: r.usage!.inputTokens, outputTokens: r.usage!.outputTokens,
            cacheCreationTokens: r.usage!.cacheCreationTokens, cacheReadTokens: r.usage!.cacheReadTokens, cost: r.cost.cost,
          },
        },
      });
      // One JSON line: type first, then data.
      const text = JSON.stringify(line);
      assert.ok(text.startsWith('{"type":"conduit_metadata","data":{'), text);
      assert.ok(!text.includes('\n'));
    });

    it('leaves out projectContext without a project, agentId without an agent, and usage without usage', () => {
      const noProject = metadataLine(record({ context: { agentId: 'a' } }));
      assert.equal('projectContext' in noProject.data, false);
      assert.deepEqual(metadataLine(record({ context: { projectId: 'p' } })).data.projectContext, { projectId: 'p' });
      const noUsage = metadataLine(record({ usage: null, cost: { cost: null, costSource: 'no-usage', priceVersion: null } }));
      assert.equal('usage' in noUsage.data, false);
    });

    it("names the session by claude's session id, else Conduit's, else not at all", () => {
      assert.equal(metadataLine(record()).data.sessionId, 'cs');
      assert.equal(metadataLine(record({ context: { sessionId: 's' } })).data.sessionId, 's');
      assert.equal('sessionId' in metadataLine(record({ context: {} })).data, false);
    });

    it('a request with a cost but no usage (a refusal: 0) states its cost, with no tokens', () => {
      const line = metadataLine(record({ usage: null, cost: { cost: 0, costSource: 'refused', priceVersion: null } }));
      assert.deepEqual(line.data.usage, { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, cost: 0 });
    });

    it('passes an unknown cost as null, not 0', () => {
      const line = metadataLine(record({ cost: { cost: null, costSource: 'unknown', priceVersion: null } }));
      assert.equal(line.data.usage!.cost, null);
    });
  });
});
