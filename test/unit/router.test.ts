import assert from 'node:assert/strict';
import type { MessagesDeps } from '../../src/conduit/http/messagesRoute';
import { chooseRoute } from '../../src/conduit/http/messagesRoute';
import type { PluginRouter } from '../../src/conduit/plugins/pluginRouter';
import { readRequestFacts, type RequestFacts } from '../../src/conduit/routing/requestFacts';
import { routeByRules, routeBySession } from '../../src/conduit/routing/router';
import { DEFAULT_RULES, MODEL_CATEGORIES, mergeRules, rulesFor, type RoutingRules } from '../../src/conduit/routing/rules';
import type { ProjectModelConfig } from '../../src/protocol/modelConfig';
import type { SessionContext } from '../../src/protocol/sessionContext';
import { claudeCodeRequest, grownRequest, withPrompt, withWebSearch } from '../support/claudeRequest';

const factsOf = (body: unknown): RequestFacts => readRequestFacts(Buffer.from(JSON.stringify(body)));

/** The captured 2.1.197 request: claude-sonnet-4-5, thinking enabled with budget_tokens 31,999. */
const capturedBody = (): Record<string, any> => claudeCodeRequest().body;

/** What claude 2.1.332 sends on an ordinary turn. */
function currentBody(): Record<string, any> {
  const body = claudeCodeRequest().body;
  body.model = 'claude-opus-5-5';
  body.thinking = { type: 'adaptive', display: 'updates' };
  body.output_config = { effort: 'medium' };
  return body;
}

/** Every rule configured with a model of its own, so that the one that fires is plain to see. */
const ALL: RoutingRules = {
  ...DEFAULT_RULES,
  longContextModel: 'long-model',
  backgroundModel: 'background-model',
  webSearchModel: 'search-model',
  reasoningModel: 'reasoning-model',
  defaultModel: 'default-model',
};

describe('routing rules', () => {
  describe('an ordinary Claude Code turn', () => {
    it('is not sent to the reasoning model: thinking on every request is no signal (captured 2.1.197 shape)', () => {
      const f = factsOf(capturedBody());
      assert.equal(f.thinkingType, 'enabled');
      assert.equal(f.thinkingBudget, 31999);
      const choice = routeByRules(f, ALL);
      assert.equal(choice.source, 'default');
      assert.equal(choice.modelRef, ALL.defaultModel);
      assert.equal(routeByRules(f, DEFAULT_RULES).source, 'passthrough');
      assert.equal(routeByRules(f, DEFAULT_RULES).modelRef, f.requestedModel);
    });

    it('is not sent to the reasoning model: adaptive thinking and effort medium (2.1.332 shape)', () => {
      const f = factsOf(currentBody());
      const choice = routeByRules(f, ALL);
      assert.equal(choice.source, 'default');
      assert.equal(routeByRules(f, DEFAULT_RULES).source, 'passthrough');
      assert.equal(routeByRules(f, DEFAULT_RULES).modelRef, 'claude-opus-5-5');
      assert.ok(f.tokenCount < DEFAULT_RULES.longContextThreshold, 'the fresh request is not long');
    });
  });

  describe('reasoning', () => {
    for (const prompt of ['ultrathink', 'Please ULTRATHINK about this', 'think harder on the edge cases', 'can you Think Deeply?']) {
      it(`fires for ${JSON.stringify(prompt)} in the last user message`, () => {
        for (const body of [capturedBody(), currentBody()]) {
          const choice = routeByRules(factsOf(withPrompt(body, prompt)), ALL);
          assert.equal(choice.source, 'reasoning');
          assert.equal(choice.modelRef, ALL.reasoningModel);
          assert.match(choice.rule, /asked to "/);
        }
      });
    }

    it('uses the default reasoning model of the powerful category', () => {
      const choice = routeByRules(factsOf(withPrompt(capturedBody(), 'ultrathink')), DEFAULT_RULES);
      assert.deepEqual([choice.source, choice.modelRef], ['reasoning', MODEL_CATEGORIES.powerful]);
    });

    it('does not fire for the keyword in a system reminder, an earlier prompt, or a tool result', () => {
      const reminder = capturedBody();
      reminder.messages.push({ role: 'user', content: [{ type: 'text', text: '<system-reminder>the user may ultrathink</system-reminder>' }, { type: 'text', text: 'go on' }] });
      const earlier = withPrompt(capturedBody(), 'ultrathink');
      earlier.messages.push({ role: 'assistant', content: 'ok' }, { role: 'user', content: 'now just list files' });
      const toolResult = withPrompt(capturedBody(), 'list files');
      toolResult.messages.push(
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ultrathink.md' }] },
      );
      for (const body of [reminder, earlier, toolResult]) assert.equal(routeByRules(factsOf(body), ALL).source, 'default');
    });

    it('keeps the reasoning model through the tool calls of a turn its prompt started', () => {
      const body = withPrompt(capturedBody(), 'ultrathink: why is the cache cold?');
      body.messages.push(
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'cache.ts' }] },
      );
      assert.equal(routeByRules(factsOf(body), ALL).source, 'reasoning');
    });

    it('does not look for keywords when none are configured', () => {
      const f = factsOf(withPrompt(capturedBody(), 'ultrathink'));
      assert.equal(routeByRules(f, { ...ALL, reasoningKeywords: [] }).source, 'default');
      assert.equal(routeByRules(f, { ...ALL, reasoningKeywords: ['deliberate'] }).source, 'default');
      assert.equal(routeByRules(factsOf(withPrompt(capturedBody(), 'please DELIBERATE')), { ...ALL, reasoningKeywords: ['deliberate'] }).source, 'reasoning');
    });

    for (const effort of ['high', 'max']) {
      it(`fires for output_config.effort ${JSON.stringify(effort)}`, () => {
        const body = currentBody();
        body.output_config = { effort };
        const choice = routeByRules(factsOf(body), ALL);
        assert.equal(choice.source, 'reasoning');
        assert.equal(choice.rule, `effort ${effort}`);
      });
    }

    for (const effort of ['low', 'medium']) {
      it(`does not fire for output_config.effort ${JSON.stringify(effort)}`, () => {
        const body = currentBody();
        body.output_config = { effort };
        assert.equal(routeByRules(factsOf(body), ALL).source, 'default');
      });
    }

    it('fires for a thinking budget at or above the threshold, not below', () => {
      const threshold = DEFAULT_RULES.reasoningBudgetThreshold!;
      const withBudget = (b: number) => {
        const body = capturedBody();
        body.thinking = { type: 'enabled', budget_tokens: b };
        return factsOf(body);
      };
      assert.equal(routeByRules(withBudget(threshold), ALL).source, 'reasoning');
      assert.equal(routeByRules(withBudget(threshold + 30_000), ALL).source, 'reasoning');
      assert.equal(routeByRules(withBudget(threshold - 1), ALL).source, 'default');
      assert.equal(routeByRules(withBudget(threshold), { ...ALL, reasoningBudgetThreshold: null }).source, 'default', 'no threshold: budgets are ignored');
      assert.equal(routeByRules(withBudget(1000), { ...ALL, reasoningBudgetThreshold: 1000 }).source, 'reasoning');
    });

    it('is skipped when no reasoning model is configured', () => {
      const f = factsOf(withPrompt(currentBody(), 'ultrathink'));
      assert.equal(routeByRules(f, { ...ALL, reasoningModel: null }).source, 'default');
    });
  });

  describe('long context', () => {
    it('fires just above the threshold and not at it', () => {
      const f = factsOf(capturedBody());
      const at = routeByRules(f, { ...ALL, longContextThreshold: f.tokenCount });
      assert.notEqual(at.source, 'long-context');
      const above = routeByRules(f, { ...ALL, longContextThreshold: f.tokenCount - 1 });
      assert.equal(above.source, 'long-context');
      assert.equal(above.modelRef, ALL.longContextModel);
      assert.equal(above.rule, `~${f.tokenCount.toLocaleString('en-US')} tokens > ${(f.tokenCount - 1).toLocaleString('en-US')}`);
    });

    it('fires with the default threshold for a long session', () => {
      const f = factsOf(grownRequest(400_000));
      assert.ok(f.tokenCount > DEFAULT_RULES.longContextThreshold, `${f.tokenCount} tokens`);
      const choice = routeByRules(f, DEFAULT_RULES);
      assert.deepEqual([choice.source, choice.modelRef], ['long-context', MODEL_CATEGORIES.balanced]);
    });

    it('beats background, web search and reasoning', () => {
      const body = withWebSearch(withPrompt(capturedBody(), 'ultrathink'));
      body.model = 'claude-haiku-4-5-20251001';
      body.output_config = { effort: 'max' };
      const f = factsOf(body);
      assert.equal(routeByRules(f, { ...ALL, longContextThreshold: f.tokenCount - 1 }).source, 'long-context');
      assert.equal(routeByRules(f, { ...ALL, longContextThreshold: f.tokenCount - 1, longContextModel: null }).source, 'background', 'a rule with a null model is skipped');
    });
  });

  describe('background', () => {
    for (const model of ['claude-haiku-4-5', 'claude-haiku-4-5-20251001', 'claude-3-5-haiku-latest', 'Claude-HAIKU-5']) {
      it(`fires for a request for ${model}`, () => {
        const body = capturedBody();
        body.model = model;
        const choice = routeByRules(factsOf(body), ALL);
        assert.equal(choice.source, 'background');
        assert.equal(choice.modelRef, ALL.backgroundModel);
        assert.match(choice.rule, new RegExp(model));
      });
    }

    it('does not fire for other models, and is skipped without a background model', () => {
      assert.notEqual(routeByRules(factsOf(currentBody()), ALL).source, 'background');
      const body = capturedBody();
      body.model = 'claude-haiku-4-5';
      assert.equal(routeByRules(factsOf(body), { ...ALL, backgroundModel: null }).source, 'default');
    });

    it('beats web search and reasoning', () => {
      const body = withWebSearch(withPrompt(capturedBody(), 'ultrathink'));
      body.model = 'claude-haiku-4-5';
      assert.equal(routeByRules(factsOf(body), ALL).source, 'background');
    });
  });

  describe('web search', () => {
    it('fires for a web_search_* server tool when a web search model is configured', () => {
      const f = factsOf(withWebSearch(currentBody()));
      const choice = routeByRules(f, ALL);
      assert.deepEqual([choice.source, choice.modelRef], ['web-search', ALL.webSearchModel]);
      assert.equal(routeByRules(f, DEFAULT_RULES).source, 'passthrough', 'no web search model by default');
    });

    it('beats reasoning', () => {
      const body = withWebSearch(withPrompt(currentBody(), 'ultrathink'));
      assert.equal(routeByRules(factsOf(body), ALL).source, 'web-search');
      assert.equal(routeByRules(factsOf(body), { ...ALL, webSearchModel: null }).source, 'reasoning');
    });
  });

  describe('default and passthrough', () => {
    it('uses the default model when one is set, else the requested model', () => {
      const f = factsOf(currentBody());
      assert.deepEqual(routeByRules(f, { ...DEFAULT_RULES, defaultModel: 'provider/some-model' }), { modelRef: 'provider/some-model', source: 'default', rule: 'default model' });
      assert.deepEqual(routeByRules(f, { ...DEFAULT_RULES, defaultModel: null }), { modelRef: f.requestedModel, source: 'passthrough', rule: 'requested model' });
    });

    it('with every rule model null, everything passes through', () => {
      const none: RoutingRules = { ...DEFAULT_RULES, longContextModel: null, backgroundModel: null, webSearchModel: null, reasoningModel: null, defaultModel: null };
      const body = withWebSearch(withPrompt(grownRequest(300_000), 'ultrathink'));
      body.model = 'claude-haiku-4-5';
      const choice = routeByRules(factsOf(body), { ...none, longContextThreshold: 1 });
      assert.deepEqual([choice.source, choice.modelRef], ['passthrough', 'claude-haiku-4-5']);
    });

    it('is pure: the same inputs give the same decision', () => {
      const f = factsOf(withPrompt(currentBody(), 'think harder'));
      assert.deepEqual(routeByRules(f, ALL), routeByRules(f, ALL));
    });
  });

  describe('session rules', () => {
    const project = (c: Partial<ProjectModelConfig>): ProjectModelConfig => ({ enabled: true, ...c });

    it('the agent override beats everything', () => {
      const body = withWebSearch(withPrompt(capturedBody(), 'ultrathink'));
      body.model = 'claude-haiku-4-5';
      const f = factsOf(body);
      const ctx: SessionContext = {
        agentId: 'agent-7',
        agentModelConfig: { useProjectDefaults: false, overrideModel: 'agent-model' },
        projectModelConfig: project({ enabled: false, defaultModel: 'project-model' }),
      };
      const choice = routeBySession(f, ctx);
      assert.deepEqual(choice, { modelRef: 'agent-model', source: 'agent', rule: 'agent agent-7 uses its own model' });
      assert.equal(routeBySession(f, { agentModelConfig: { useProjectDefaults: false, overrideModel: 'm' } })!.rule, 'agent uses its own model');
    });

    it('an agent that uses the project defaults has no say', () => {
      const f = factsOf(currentBody());
      assert.equal(routeBySession(f, { agentModelConfig: { useProjectDefaults: true, overrideModel: 'agent-model' } }), null);
      assert.equal(routeBySession(f, { agentModelConfig: { useProjectDefaults: false, overrideModel: null } }), null);
      assert.equal(routeBySession(f, {}), null);
    });

    it('routing disabled for the project: its default model, or the requested one without a default', () => {
      const f = factsOf(withPrompt(currentBody(), 'ultrathink'));
      assert.deepEqual(routeBySession(f, { projectModelConfig: project({ enabled: false, defaultModel: 'project-model' }) }),
        { modelRef: 'project-model', source: 'project', rule: 'routing disabled: project default model' });
      const passthrough = routeBySession(f, { projectModelConfig: project({ enabled: false }) })!;
      assert.deepEqual([passthrough.source, passthrough.modelRef], ['passthrough', f.requestedModel]);
      assert.equal(routeBySession(f, { projectModelConfig: project({ enabled: false, defaultModel: null }) })!.source, 'passthrough');
      assert.equal(routeBySession(f, { projectModelConfig: project({ enabled: true, defaultModel: 'project-model' }) }), null, 'enabled: the rules decide');
    });
  });

  describe('mergeRules and rulesFor', () => {
    it('project rules override the global ones, which stay as they were', () => {
      const global = mergeRules(DEFAULT_RULES, { reasoningModel: 'global-reasoning', longContextThreshold: 80_000 }, 'global-default');
      const before = structuredClone(global);
      const p: ProjectModelConfig = { enabled: true, defaultModel: 'project-default', rules: { reasoningModel: 'project-reasoning', reasoningEfforts: ['max'] } };
      const rules = rulesFor(global, p);
      assert.deepEqual(rules, { ...global, reasoningModel: 'project-reasoning', reasoningEfforts: ['max'], defaultModel: 'project-default' });
      assert.deepEqual(global, before);
      assert.equal(rulesFor(global, undefined), global);

      // ... and decide: effort high is no longer enough for this project.
      const body = currentBody();
      body.output_config = { effort: 'high' };
      assert.equal(routeByRules(factsOf(body), global).source, 'reasoning');
      const choice = routeByRules(factsOf(body), rules);
      assert.deepEqual([choice.source, choice.modelRef], ['default', 'project-default']);
      body.output_config = { effort: 'max' };
      assert.equal(routeByRules(factsOf(body), rules).modelRef, 'project-reasoning');
    });

    it('a project rule set to null switches the global rule off; an absent one keeps it', () => {
      const global = mergeRules(DEFAULT_RULES, { backgroundModel: 'global-background' });
      const off = rulesFor(global, { enabled: true, rules: { backgroundModel: null } });
      assert.equal(off.backgroundModel, null);
      const kept = rulesFor(global, { enabled: true, rules: {} });
      assert.equal(kept.backgroundModel, 'global-background');
      const body = capturedBody();
      body.model = 'claude-haiku-4-5';
      assert.equal(routeByRules(factsOf(body), off).source, 'passthrough');
      assert.equal(routeByRules(factsOf(body), kept).modelRef, 'global-background');
    });

    it('a null project default keeps the global default', () => {
      const global = mergeRules(DEFAULT_RULES, undefined, 'global-default');
      assert.equal(rulesFor(global, { enabled: true, defaultModel: null }).defaultModel, 'global-default');
      assert.equal(mergeRules(DEFAULT_RULES, undefined).defaultModel, DEFAULT_RULES.defaultModel);
    });

    it('the defaults: reasoning asks for more than Claude Code sends on every turn', () => {
      assert.ok(DEFAULT_RULES.reasoningBudgetThreshold! > 31999);
      assert.ok(!DEFAULT_RULES.reasoningEfforts.includes('medium'));
    });
  });

  describe('chooseRoute (session rules, then plugins, then content rules)', () => {
    const pluginsPicking = (model: string | null) => {
      const calls: RequestFacts[] = [];
      const router = {
        active: true,
        route: async (f: RequestFacts) => {
          calls.push(f);
          return model ? { model, plugin: 'my-plugin' } : null;
        },
      };
      return { router: router as unknown as PluginRouter, calls };
    };
    const deps = (rules: RoutingRules, plugins: PluginRouter | null) => ({ rules: () => rules, plugins } as unknown as MessagesDeps);

    it('a plugin\'s choice beats the content rules', async () => {
      const f = factsOf(withPrompt(currentBody(), 'ultrathink'));
      const { router, calls } = pluginsPicking('plugin-model');
      const { choice, rules } = await chooseRoute(f, {}, {}, deps(ALL, router));
      assert.deepEqual(choice, { modelRef: 'plugin-model', source: 'plugin', rule: 'plugin my-plugin' });
      assert.equal(rules, ALL);
      assert.equal(calls.length, 1);
      assert.equal(calls[0], f);
    });

    it('no plugin choice: the content rules decide', async () => {
      const f = factsOf(withPrompt(currentBody(), 'ultrathink'));
      const { router, calls } = pluginsPicking(null);
      const { choice } = await chooseRoute(f, {}, {}, deps(ALL, router));
      assert.equal(choice.source, 'reasoning');
      assert.equal(calls.length, 1);
    });

    it('plugins do not run when disabled, inactive or absent', async () => {
      const f = factsOf(currentBody());
      const { router, calls } = pluginsPicking('plugin-model');
      assert.equal((await chooseRoute(f, {}, {}, deps({ ...ALL, pluginsEnabled: false }, router))).choice.source, 'default');
      const projectOff: SessionContext = { projectModelConfig: { enabled: true, rules: { pluginsEnabled: false } } };
      assert.equal((await chooseRoute(f, projectOff, {}, deps(ALL, router))).choice.source, 'default');
      const inactive = { active: false, route: router.route } as unknown as PluginRouter;
      assert.equal((await chooseRoute(f, {}, {}, deps(ALL, inactive))).choice.source, 'default');
      assert.equal((await chooseRoute(f, {}, {}, deps(ALL, null))).choice.source, 'default');
      assert.equal(calls.length, 0);
    });

    it('the agent override and a disabled project beat plugins, which are not asked', async () => {
      const f = factsOf(currentBody());
      const { router, calls } = pluginsPicking('plugin-model');
      const agent = await chooseRoute(f, { agentModelConfig: { useProjectDefaults: false, overrideModel: 'agent-model' } }, {}, deps(ALL, router));
      assert.equal(agent.choice.source, 'agent');
      const disabled = await chooseRoute(f, { projectModelConfig: { enabled: false, defaultModel: 'project-model' } }, {}, deps(ALL, router));
      assert.deepEqual([disabled.choice.source, disabled.choice.modelRef], ['project', 'project-model']);
      assert.equal(calls.length, 0);
    });

    it('applies the project\'s rules over the gateway\'s', async () => {
      const f = factsOf(currentBody());
      const ctx: SessionContext = { projectModelConfig: { enabled: true, defaultModel: 'project-default', rules: { reasoningEfforts: ['medium'], reasoningModel: 'project-reasoning' } } };
      const { choice, rules } = await chooseRoute(f, ctx, {}, deps(ALL, null));
      assert.deepEqual([choice.source, choice.modelRef], ['reasoning', 'project-reasoning']);
      assert.equal(rules.defaultModel, 'project-default');
    });
  });
});
