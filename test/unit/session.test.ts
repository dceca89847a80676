// One session, one id and one cost (src/protocol/session.ts): the id a session is known by,
// the requests that belong to it, the model shown for it and its cost as the terminal states it.
import assert from 'node:assert/strict';
import { SessionTally, isOfSession, modelRoute, sessionCostText, sessionIdOf } from '../../src/protocol/session';

describe('session: one id, one cost', () => {
  it("a session is known by claude's session id, else Conduit's", () => {
    assert.equal(sessionIdOf({ sessionId: 'conduit-1', claudeSessionId: 'claude-1' }), 'claude-1');
    assert.equal(sessionIdOf({ sessionId: 'conduit-1' }), 'conduit-1');
    assert.equal(sessionIdOf({ sessionId: 'conduit-1', claudeSessionId: '' }), 'conduit-1');
    assert.equal(sessionIdOf({}), null);
  });

  it("a request belongs to the session named by its id, or by Conduit's id of its run", () => {
    const ctx = { sessionId: 'conduit-1', claudeSessionId: 'claude-1' };
    assert.equal(isOfSession(ctx, 'claude-1'), true);
    assert.equal(isOfSession(ctx, 'conduit-1'), true);
    assert.equal(isOfSession(ctx, 'claude-2'), false);
    assert.equal(isOfSession({ claudeSessionId: 'claude-1' }, 'claude-1'), true);
  });

  it('the model asked for → the one routed to, once when they are the same', () => {
    assert.equal(modelRoute('claude-opus-5-5', 'claude-sonnet-5-5'), 'claude-opus-5-5 → claude-sonnet-5-5');
    assert.equal(modelRoute('claude-sonnet-5-5', 'claude-sonnet-5-5'), 'claude-sonnet-5-5');
    assert.equal(modelRoute('', 'claude-sonnet-5-5'), 'claude-sonnet-5-5');
  });

  it("the cost: Conduit's sum, claude's estimate labelled beside it only where it differs", () => {
    const tally = new SessionTally();
    tally.add('r1', 'claude-opus-5-5', 'claude-sonnet-5-5', 0.0061);
    tally.add('r2', 'claude-opus-5-5', 'claude-sonnet-5-5', 0.0036);
    assert.equal(sessionCostText(tally.totals(), 0.0189), "$0.0097 (claude's estimate at the requested model: $0.0189)");
    assert.equal(sessionCostText(tally.totals(), 0.00971), '$0.0097', 'the same to four decimals: one figure');
    assert.equal(sessionCostText(tally.totals(), null), '$0.0097');
    const same = new SessionTally();
    same.add('r1', 'claude-sonnet-5-5', 'claude-sonnet-5-5', 0.002);
    assert.equal(sessionCostText(same.totals(), 0.003), "$0.0020 (claude's estimate: $0.0030)");
    assert.equal(sessionCostText(new SessionTally().totals(), 0.003), "$0.0030 (claude's estimate)");
    assert.equal(sessionCostText(new SessionTally().totals(), null), '');
  });

  it('the tally counts each request once and keeps unknown costs apart', () => {
    const tally = new SessionTally();
    assert.equal(tally.add('r1', 'a', 'b', 0.1), true);
    assert.equal(tally.add('r1', 'a', 'b', 0.1), false);
    tally.add('r2', 'a', 'b', null);
    tally.add('r3', 'c', 'c', Number.NaN);
    assert.deepEqual(tally.totals(), {
      requests: 3, cost: 0.1, unknownCostRequests: 2,
      models: [{ requestedModel: 'a', model: 'b', requests: 2 }, { requestedModel: 'c', model: 'c', requests: 1 }],
    });
    assert.equal(sessionCostText(tally.totals(), 0.5), "$0.1000+? (claude's estimate at the requested model: $0.5000)");
  });
});
