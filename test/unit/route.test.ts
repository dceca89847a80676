// The route table's pieces (src/protocol/route.ts, routes.ts): paths built from a route and
// its parameters (percent-encoded, the query after), paths matched back to parameters,
// and checks that name the offending value's path.
import assert from 'node:assert/strict';
import * as v from 'valibot';
import { check, closedObjectOf, matchPath, matchRawPath, urlOf, withoutControlCharacters } from '../../src/protocol/route';
import { ROUTES, routingRulesSchema } from '../../src/protocol/routes';
import { ValidationError } from '../../src/protocol/validate';

describe('route table', () => {
  it('builds a path from a route, its parameters percent-encoded, its query after', () => {
    assert.equal(urlOf(ROUTES.saveAgent, { params: { key: 'a/b c', agentId: 'x?y' }, body: {} }), '/v1/conduit/projects/a%2Fb%20c/agents/x%3Fy');
    assert.equal(urlOf(ROUTES.budgets, { query: { project: 'p&q' } }), '/v1/conduit/budgets?project=p%26q');
    assert.equal(urlOf(ROUTES.budgets, {}), '/v1/conduit/budgets', 'no query: no question mark');
    assert.equal(urlOf(ROUTES.analyticsView, { query: { range: '24h', project: undefined, tz: 'UTC' } }), '/v1/conduit/analytics/view?range=24h&tz=UTC');
  });

  it('matches a path back to its parameters, and only its own paths', () => {
    assert.deepEqual(matchPath(ROUTES.saveAgent, '/v1/conduit/projects/a%2Fb%20c/agents/x%3Fy'), { key: 'a/b c', agentId: 'x?y' });
    assert.equal(matchPath(ROUTES.saveAgent, '/v1/conduit/projects/a/agents'), null);
    assert.equal(matchPath(ROUTES.session, '/v1/conduit/sessions/s1/info'), null);
    assert.deepEqual(matchPath(ROUTES.session, '/v1/conduit/sessions/%E0%A4%A'), { id: '%E0%A4%A' }, 'bad percent-encoding is kept as it came');
    assert.deepEqual(matchPath(ROUTES.rules, '/v1/conduit/rules'), {});
    assert.deepEqual(matchRawPath(ROUTES.saveAgent, '/v1/conduit/projects/a%2Fb/agents/%E0%A4%A'), { key: 'a%2Fb', agentId: '%E0%A4%A' }, 'as it came');
  });

  it('a closed object names a missing field and an unknown one; control characters are refused naming the first', () => {
    const body = closedObjectOf({ name: v.pipe(v.string(), withoutControlCharacters), note: v.optional(v.string()) });
    assert.deepEqual(check(body, { name: 'a' }, 'body'), { name: 'a' });
    const refused = (value: unknown, message: string) => assert.throws(() => check(body, value, 'body'),
      (err: unknown) => err instanceof ValidationError && err.message === message);
    refused({}, 'body.name: required');
    refused({ name: 'a', colour: 'red' }, 'body.colour: unknown field "colour" (allowed: name, note)');
    refused({ name: 'a\u0000b' }, 'body.name: must not contain control characters (found U+0000 at position 1)');
    refused(null, 'body: expected an object, got null');
  });

  it('a failed check names the offending value\'s path, what was expected and what came', () => {
    const rules = {
      longContextThreshold: 1, longContextModel: null, backgroundModel: null, webSearchModel: null, reasoningModel: null,
      reasoningKeywords: [], reasoningBudgetThreshold: null, reasoningEfforts: [], fallbackModels: [], pluginsEnabled: true, defaultModel: null,
    };
    assert.deepEqual(check(routingRulesSchema, rules, 'rules'), rules);
    const refused = (value: unknown, message: string) => assert.throws(() => check(routingRulesSchema, value, 'rules'),
      (err: unknown) => err instanceof ValidationError && err.message === message);
    refused({ ...rules, longContextThreshold: -5 }, 'rules.longContextThreshold: expected a number ≥ 0, got number -5');
    refused({ ...rules, fallbackModels: ['a', 7] }, 'rules.fallbackModels.1: expected a model id, got number 7');
    refused({ ...rules, pluginsEnabled: 'yes' }, 'rules.pluginsEnabled: expected true or false, got the string "yes"');
    refused([], 'rules: expected an object, got a list');
  });
});
