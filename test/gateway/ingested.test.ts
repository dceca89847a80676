// The event stream's 'ingested' event: the ledger says that its totals changed once a
// request's record is stored, so a view that reads the totals then finds the request there.
import assert from 'node:assert/strict';
import type { GatewayEvent } from '../../src/protocol/usage';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { EventSubscriber, smallRequest } from './helpers';

describe('gateway: the ingested event', () => {
  let t: TestGateway;
  let events: EventSubscriber;

  before(async () => {
    t = await startTestGateway({ config: { routing: { defaultModel: 'claude-sonnet-4-5' } } });
    events = await EventSubscriber.open(t.url, t.token);
  });
  after(async () => {
    events?.close();
    await t?.close();
  });

  async function summary(): Promise<{ requests: number; cost: number | null }> {
    const res = await fetch(`${t.url}/v1/conduit/analytics/summary?range=day`, { headers: { 'x-conduit-token': t.token } });
    assert.equal(res.status, 200);
    return (await res.json()) as { requests: number; cost: number | null };
  }

  it('follows a request\'s usage, and the totals read then include that request', async () => {
    t.fake.enqueue({ kind: 'message', usage: { input_tokens: 120, output_tokens: 30 } });
    const res = await t.messages(smallRequest({ stream: true }));
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const id = String(res.headers.get('x-conduit-request-id'));
    const usage = await events.usage(id, 30_000);
    const ingested = await events.next((e) => e.type === 'ingested' && events.events.indexOf(e) > events.events.findIndex((u) => u.type === 'usage' && u.record.id === id), 30_000) as Extract<GatewayEvent, { type: 'ingested' }>;
    assert.ok(ingested.inserted >= 1, 'it says how many records were stored');
    assert.ok(!Number.isNaN(Date.parse(ingested.at)), 'it says when');
    const s = await summary();
    assert.equal(s.requests, 1);
    assert.equal(s.cost, usage.cost.cost);
  });
});
