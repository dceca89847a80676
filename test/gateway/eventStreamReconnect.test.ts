// The extension's event stream (src/extension/gateway/eventStream.ts) against a real
// gateway: refused with 429 while the gateway serves all the streams it will, it tries
// again with growing waits and subscribes once a stream is free; closed by a gateway that
// stops, it comes back when the gateway is up again on the same port. Either way the
// events published afterwards arrive.
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/conduit/core/log';
import { startGateway } from '../../src/conduit/gateway';
import type { GatewayEvent } from '../../src/protocol/usage';
import { ReconnectingEventStream } from '../../src/extension/gateway/eventStream';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { EventSubscriber, smallRequest } from './helpers';

const INITIAL_MS = 20;
const MAX_MS = 160;

/** A ReconnectingEventStream whose drops, readiness and events the test can await. */
class Probe {
  readonly drops: { reason: string; retryInMs: number }[] = [];
  readonly events: GatewayEvent[] = [];
  readyCount = 0;
  private waiters: (() => boolean)[] = [];
  readonly stream: ReconnectingEventStream;

  constructor(target: () => { port: number; token: string } | null) {
    this.stream = new ReconnectingEventStream({
      path: '/v1/conduit/events',
      target,
      initialDelayMs: INITIAL_MS,
      maxDelayMs: MAX_MS,
      random: () => 1,
      onEvent: (e) => { this.events.push(JSON.parse(e.data) as GatewayEvent); this.wake(); },
      onReady: () => { this.readyCount++; this.wake(); },
      onDrop: (reason, retryInMs) => { this.drops.push({ reason, retryInMs }); this.wake(); },
    });
  }

  /** Resolves once `done` holds, checked after each thing the stream reports. */
  until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(() => (done() ? (resolve(), true) : false)));
  }

  private wake(): void {
    this.waiters = this.waiters.filter((check) => !check());
  }
}

describe('the extension\'s event stream reconnects', () => {
  let t: TestGateway;
  let probe: Probe | undefined;
  const held: EventSubscriber[] = [];

  before(async () => { t = await startTestGateway({ env: { CONDUIT_LEDGER: 'off' } }); });
  afterEach(() => {
    probe?.stream.stop();
    for (const s of held.splice(0)) s.close();
  });
  after(async () => { await t?.close(); });

  async function usageOfOneRequest(p: Probe): Promise<void> {
    const res = await t.messages(smallRequest());
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const id = res.headers.get('x-conduit-request-id');
    await p.until(() => p.events.some((e) => e.type === 'usage' && e.record.id === id));
  }

  it('after a 429 (every stream slot taken): waits longer each time, then subscribes once a slot is free', async () => {
    const hub = t.gateway.hub;
    while (hub.subscriberCount < hub.maxStreams) held.push(await EventSubscriber.open(t.url, t.token));
    probe = new Probe(() => ({ port: t.gateway.port, token: t.token }));
    probe.stream.start();

    // Refused four times in a row: each refusal names the 429 and its reason, and the wait doubles up to the cap.
    await probe.until(() => probe!.drops.length >= 5);
    for (const drop of probe.drops) assert.match(drop.reason, /answered 429: \d+ event streams are open already/);
    assert.deepEqual(probe.drops.slice(0, 5).map((d) => d.retryInMs), [20, 40, 80, 160, 160]);
    assert.equal(probe.readyCount, 0);

    held.pop()!.close();
    await probe.until(() => probe!.readyCount === 1);
    await usageOfOneRequest(probe);
  });

  it('after the gateway stops and starts again on the same port: connects again, and the wait starts over', async () => {
    probe = new Probe(() => ({ port: t.gateway.port, token: t.token }));
    probe.stream.start();
    await probe.until(() => probe!.readyCount === 1);

    const port = t.gateway.port;
    await t.gateway.close();
    await probe.until(() => probe!.drops.length >= 3);
    assert.match(probe.drops[0].reason, /closed the event stream|ECONNRESET|socket hang up/);
    for (const drop of probe.drops.slice(1)) assert.match(drop.reason, /ECONNREFUSED/);

    t.gateway = await startGateway({ home: t.home, port, env: { CONDUIT_ANTHROPIC_URL: t.fake.url, ANTHROPIC_API_KEY: 'sk-test-upstream-key', CONDUIT_LEDGER: 'off' }, log: silentLogger });
    await probe.until(() => probe!.readyCount === 2);
    await usageOfOneRequest(probe);

    // Once subscribed, the next failure waits the first delay again.
    const before = probe.drops.length;
    await t.gateway.close();
    await probe.until(() => probe!.drops.length > before);
    assert.equal(probe.drops[before].retryInMs, INITIAL_MS);
    t.gateway = await startGateway({ home: t.home, port, env: { CONDUIT_ANTHROPIC_URL: t.fake.url, ANTHROPIC_API_KEY: 'sk-test-upstream-key', CONDUIT_LEDGER: 'off' }, log: silentLogger });
    await probe.until(() => probe!.readyCount === 3);
  });

  it('while the port or token is not known: tries again with backoff; start() begins again from the first wait', async () => {
    probe = new Probe(() => null);
    probe.stream.start();
    await probe.until(() => probe!.drops.length >= 3);
    assert.match(probe.drops[0].reason, /port or access token is not known/);
    assert.deepEqual(probe.drops.slice(0, 3).map((d) => d.retryInMs), [20, 40, 80]);
    const count = probe.drops.length;
    probe.stream.start();
    await probe.until(() => probe!.drops.length > count);
    assert.equal(probe.drops[count].retryInMs, INITIAL_MS);
  });
});
