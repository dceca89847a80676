/** GET /v1/conduit/events: decisions and usage as Server-Sent Events, filterable by session. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventFilter, EventHub } from '../usage/eventHub';
import { errorBody, sendError } from './errors';

const HEARTBEAT_MS = 15_000;
/** A subscriber that stops reading is dropped once this much is waiting for it. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/**
 * A dropped subscriber that still does not read would hold its socket, and what is queued
 * for it, forever: it gets this long to read the reason, then the socket is closed.
 */
const DROPPED_GRACE_MS = 30_000;

// "ready" tells the subscriber that nothing published from now on will be missed.
const READY_FRAME = Buffer.from('retry: 1000\nevent: ready\ndata: {}\n\n');
const HEARTBEAT_FRAME = Buffer.from(': ping\n\n');

export function handleEvents(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, hub: EventHub): void {
  const filter: EventFilter = {};
  const session = query.get('session');
  const project = query.get('project');
  const claudeSession = query.get('claudeSession');
  if (session) filter.sessionId = session;
  if (project) filter.projectId = project;
  if (claudeSession) filter.claudeSessionId = claudeSession;

  let heartbeat: NodeJS.Timeout | undefined;
  let dropTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    clearInterval(heartbeat);
    remove?.();
  };
  const remove = hub.addStream({
    filter,
    send(frames) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        dropSlow();
        return;
      }
      // Corked, the chunk's size line, the frames and the chunk's end leave in one socket write.
      res.cork();
      res.write(frames);
      res.uncork();
    },
    end() {
      stop();
      res.end();
    },
  });
  if (!remove) {
    sendError(res, 'rate_limit_error', `${hub.maxStreams} event streams are open already, the most the gateway serves at once; close one (a VS Code window or a conduit-claude session with stream-json output) and subscribe again`);
    return;
  }

  function dropSlow(): void {
    stop();
    const mb = (res.writableLength / (1024 * 1024)).toFixed(1);
    const reason = `this event stream fell behind: ${mb} MB unread, over the limit of ${MAX_BUFFERED_BYTES / (1024 * 1024)} MB; the gateway stopped sending to it (subscribe again, and read as events arrive)`;
    res.end(`event: error\ndata: ${errorBody('overloaded_error', reason)}\n\n`);
    // The connection is not kept alive for another request: it ends once the reason is read.
    res.once('finish', () => req.socket.end());
    dropTimer = setTimeout(() => res.destroy(), DROPPED_GRACE_MS);
    dropTimer.unref();
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  req.socket.setNoDelay(true);
  res.write(READY_FRAME);
  heartbeat = setInterval(() => res.write(HEARTBEAT_FRAME), HEARTBEAT_MS);
  heartbeat.unref();
  res.once('close', () => {
    stop();
    clearTimeout(dropTimer);
  });
}
