/** GET /v1/conduit/events: decisions and usage as Server-Sent Events, filterable by session. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayEvent } from '../../protocol/usage';
import { matchesFilter, type EventFilter, type EventHub } from '../usage/eventHub';

const HEARTBEAT_MS = 15_000;
/** A subscriber that stops reading is dropped once this much is waiting for it. */
const MAX_BUFFERED = 4 * 1024 * 1024;

export function handleEvents(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, hub: EventHub): void {
  const filter: EventFilter = {};
  const session = query.get('session');
  const project = query.get('project');
  const claudeSession = query.get('claudeSession');
  if (session) filter.sessionId = session;
  if (project) filter.projectId = project;
  if (claudeSession) filter.claudeSessionId = claudeSession;

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  req.socket.setNoDelay(true);
  // "ready" tells the subscriber that nothing published from now on will be missed.
  res.write(`retry: 1000\nevent: ready\ndata: {}\n\n`);

  const unsubscribe = hub.subscribe((event: GatewayEvent) => {
    if (!matchesFilter(event, filter)) return;
    if (res.writableLength > MAX_BUFFERED) {
      res.destroy();
      return;
    }
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  });
  const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  const unregister = hub.onShutdown(() => res.end());
  res.once('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
    unregister();
  });
}
