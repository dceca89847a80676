// A real gateway (in this process, its usage store included) in front of the Anthropic
// stand-in, for webview tests whose data is what the host reads from it: requests are sent
// through it with a project's and an agent's context, and the host's loaders
// (src/extension/views/*Data.ts) read the store's answers over HTTP as the extension does.
import assert from 'node:assert/strict';
import { CONTEXT_HEADER, encodeSessionContext, type SessionContext } from '../../src/protocol/sessionContext';
import type { GatewayEvent } from '../../src/protocol/usage';
import type { GatewayAccess } from '../../src/conduit/client/call';
import { EventSubscriber, smallRequest } from '../gateway/helpers';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from '../support/gatewayHarness';

export interface RealGateway {
  t: TestGateway;
  /**
   * The gateway's local API: where the host's loaders call it (call() of
   * src/conduit/client/call.ts, over HTTP), and a test's own call by method and path
   * (throws on a status >= 400).
   */
  api: GatewayAccess & { call<T>(method: string, path: string, body?: unknown): Promise<T> };
  /** Sends `count` requests with this context, each answered with this usage, and waits until the store has them all. */
  send(context: SessionContext, count: number, usage?: { input_tokens: number; output_tokens: number }): Promise<void>;
  close(): Promise<void>;
}

export async function startRealGateway(options: TestGatewayOptions = {}): Promise<RealGateway> {
  const t = await startTestGateway(options);
  await t.gateway.budgets.whenReady(); // the usage store is open (and the budgets have read it)
  const events = await EventSubscriber.open(t.url, t.token);
  let sent = 0;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${t.url}${path}`, {
      method, headers: { 'x-conduit-token': t.token, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  };
  const stored = () => events.events.reduce((n, e) => n + (e.type === 'ingested' ? e.inserted : 0), 0);
  return {
    t,
    api: { port: t.gateway.port, token: t.token, call },
    async send(context, count, usage = { input_tokens: 120_000, output_tokens: 30_000 }) {
      for (let i = 0; i < count; i++) {
        t.fake.enqueue({ kind: 'message', usage });
        const res = await t.messages(smallRequest(), { [CONTEXT_HEADER]: encodeSessionContext(context) });
        assert.equal(res.status, 200, await res.clone().text());
        await res.arrayBuffer();
        await events.usage(String(res.headers.get('x-conduit-request-id')), 30_000);
        sent += 1;
      }
      const total = sent;
      if (stored() < total) await events.next((e: GatewayEvent) => e.type === 'ingested' && stored() >= total, 60_000);
    },
    async close() {
      events.close();
      await t.close();
    },
  };
}
