/**
 * The gateway's HTTP server: loopback only, token-guarded, Anthropic-shaped errors.
 *
 *   HEAD /, GET /health                  open: liveness only, nothing secret
 *   POST /v1/messages                    routed and forwarded (streamed or not)
 *   POST /v1/messages/count_tokens       forwarded with the routed model; a local estimate if the provider has none
 *   GET  /v1/conduit/status              the gateway's state
 *   GET  /v1/conduit/models, /rules      the models a view offers; the routing rules config.json merged over the defaults
 *   GET  /v1/conduit/events              decisions and usage (SSE)
 *   GET  /v1/conduit/sessions/:id        a session's id (claude's, else Conduit's), records and totals, by either id
 *   PUT  /v1/conduit/sessions/:id/info   conduit-claude's run: claude's session id, first prompt (sessionInfoRoute.ts)
 *   PUT  /v1/conduit/prices/<model>      add a price to config.json and reload (pricesRoute.ts)
 *   GET  /v1/conduit/analytics/<query>   usage analytics from the ledger (analyticsRoute.ts)
 *   GET  /v1/conduit/analytics/view      an analytics view's queries in one answer (analyticsRoute.ts)
 *   GET  /v1/conduit/reports/usage       a usage report as NDJSON, in pages (reportsRoute.ts, src/protocol/reports.ts)
 *   *    /v1/conduit/sync/...            the Supabase sync session and status (syncRoute.ts)
 *   *    /v1/conduit/projects/:key[/agents[/:id]]  projects, agents and their model settings (projectsRoute.ts)
 *   *    /v1/conduit/budgets[/alerts[/:id/ack]]      budget statuses and alerts (budgetsRoute.ts, src/protocol/budgets.ts)
 *   *    /v1/conduit/team/...            team sharing on Supabase: projects, members, invitations (teamRoute.ts)
 *   *    /v1/conduit/leases[/:id], POST /v1/conduit/stop-when-idle  the clients holding the gateway (leasesRoute.ts)
 *
 * Every route but the open ones, Anthropic's and the event stream is a route of
 * src/protocol/routes.ts, dispatched from that table (routeTable.ts, servedRoutes() below)
 * to the handlers each *Route.ts module serves.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from '../core/log';
import type { EventHub } from '../usage/eventHub';
import { authenticate, isLoopbackHost } from './auth';
import { readBodyChunks, refuseUnreadBody } from './body';
import { GatewayError, sendError } from './errors';
import { handleEvents } from './eventsRoute';
import { headerOverflowResponse } from './headerOverflow';
import { analyticsRoutes } from './analyticsRoute';
import { dispatchRoute, sendJson, serve, type ServedRoute } from './routeTable';
import { ROUTES, type CatalogueModel } from '../../protocol/routes';
import { sessionInfoRoutes } from './sessionInfoRoute';
import { pricesRoutes } from './pricesRoute';
import { reportsRoutes } from './reportsRoute';
import { syncRoutes } from './syncRoute';
import { projectsRoutes } from './projectsRoute';
import { budgetsRoutes } from './budgetsRoute';
import { teamRoutes } from './teamRoute';
import { leasesRoutes, type GatewayClients } from './leasesRoute';
import { TeamAccess } from '../team/teamService';
import type { LedgerService } from '../ledger/service';
import { chooseRoute, handleMessages, parseRouted, sessionContextOf, type MessagesDeps } from './messagesRoute';
import { relayUpstream, upstreamHeaders } from './forward';
import type { BodyChunks } from '../routing/bodyChunks';
import { withModelChunks } from '../routing/requestFacts';
import { safeHeaderValue } from './safeHeader';
import { sessionIdOf } from '../../protocol/session';
import { modelCategoryOf } from '../../protocol/modelCategory';
import { modelNameOf } from '../../protocol/modelNames';

export interface ServerDeps extends MessagesDeps {
  /** The usage store (analytics, sync); null when the gateway runs without it. */
  ledger?: LedgerService | null;
  /** The signed-in person's Supabase access for team sharing (made here when not given). */
  team?: TeamAccess | null;
  /** The clients holding the gateway (VS Code windows, sessions) and its stop once none is left. */
  clients?: GatewayClients;
  token: string;
  maxBodyBytes: () => number;
  hub: EventHub;
  log: Logger;
  status: () => Record<string, unknown>;
  health: () => Record<string, unknown>;
  /** config.json and its reload, for the prices route (absent: the route is not served). */
  configFile?: string;
  reloadConfig?: () => void;
}

export function createGatewayServer(deps: ServerDeps): http.Server {
  // The sync route hands it the Supabase session; the team and analytics routes use it.
  deps.team ??= new TeamAccess();
  // The request being answered on each connection (see clientError below).
  const responding = new WeakMap<object, { req: IncomingMessage; res: ServerResponse }>();
  const table = servedRoutes(deps);
  const server = http.createServer({ requestTimeout: 120_000, headersTimeout: 30_000, keepAliveTimeout: 65_000 }, (req, res) => {
    responding.set(req.socket, { req, res });
    handle(req, res, deps, table).catch((err) => {
      // A SyntaxError comes from parsing a field of the client's JSON that the body scan
      // let through (a number with a leading zero, say): the client's error, not ours.
      const e = err instanceof GatewayError ? err
        : err instanceof SyntaxError ? new GatewayError('invalid_request_error', `request body is not valid JSON: ${err.message}`)
        : null;
      if (!e) deps.log.error(`unhandled error on ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
      if (e?.type === 'request_too_large') refuseUnreadBody(req, res, e);
      else sendError(res, e?.type ?? 'api_error', e?.message ?? 'internal gateway error (see the gateway log)', e?.status);
    });
  });
  // Malformed HTTP (bad request line, oversized headers): answer and close, never throw.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    // Bytes past a whole request (beyond its content-length, or a garbage request pipelined
    // after it) fail to parse while that request is still being answered. A bare 400
    // written now would reach the client first, as the answer to the request the gateway
    // is still serving (and may have forwarded). Let that answer finish, then close.
    const pending = responding.get(socket);
    if (pending && pending.req.complete && !pending.res.writableFinished) {
      pending.res.once('close', () => socket.end());
      return;
    }
    // An answer is already on the wire while the request's body is still arriving (a
    // refused body being read to its end, see refuseUnreadBody): a status line now would
    // land inside it. Let what was written go out, then close.
    if (pending && !pending.req.complete && pending.res.headersSent) {
      socket.end(() => socket.destroy());
      return;
    }
    // Too large headers get a reason in Anthropic's shape (naming the session context when it is the cause).
    if (err.code === 'HPE_HEADER_OVERFLOW') return void socket.end(headerOverflowResponse((err as { rawPacket?: Buffer }).rawPacket));
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  return server;
}

/** The routes of the API table, each with its handler. */
function servedRoutes(deps: ServerDeps): ServedRoute[] {
  return [
    serve(ROUTES.models, () => ({ models: modelCatalogue(deps) })),
    serve(ROUTES.status, () => deps.status()),
    serve(ROUTES.rules, () => deps.rules()),
    serve(ROUTES.session, ({ params }) => {
      const { id } = params;
      const s = deps.hub.session(id);
      if (!s) throw new GatewayError('not_found_error', `no requests recorded for session ${id} since the gateway started`);
      // The id the session is known by everywhere (claude's, else Conduit's), whichever was asked.
      const last = s.records[s.records.length - 1];
      return { sessionId: last ? sessionIdOf(last.context) ?? id : id, ...s };
    }),
    ...sessionInfoRoutes(deps),
    ...pricesRoutes(deps),
    ...analyticsRoutes(deps),
    ...reportsRoutes(deps),
    ...projectsRoutes(deps),
    ...budgetsRoutes(deps),
    ...syncRoutes(deps),
    ...teamRoutes(deps),
    ...leasesRoutes(deps),
  ];
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: ServerDeps, table: readonly ServedRoute[]): Promise<void> {
  if (!isLoopbackHost(req.headers.host)) {
    sendError(res, 'permission_error', 'the Host header must name the loopback interface (127.0.0.1 or localhost)');
    return;
  }
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const method = req.method ?? 'GET';

  if (path === '/' && (method === 'HEAD' || method === 'GET')) {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(method === 'HEAD' ? undefined : 'conduit\n');
    return;
  }
  if (path === '/health' && (method === 'GET' || method === 'HEAD')) {
    sendJson(res, 200, deps.health());
    return;
  }

  const auth = authenticate(req.headers, deps.token);
  if (!auth.ok) {
    refuseUnreadBody(req, res, new GatewayError('authentication_error', 'missing or wrong Conduit access token (send it in x-conduit-token; it is in CONDUIT_HOME/token)'));
    return;
  }

  if (path === '/v1/messages') {
    if (method !== 'POST') return sendError(res, 'invalid_request_error', `${method} is not allowed on /v1/messages; use POST`, 405);
    const body = await readBodyChunks(req, deps.maxBodyBytes());
    await handleMessages(req, res, body, auth, deps);
    return;
  }
  if (path === '/v1/messages/count_tokens') {
    if (method !== 'POST') return sendError(res, 'invalid_request_error', `${method} is not allowed here; use POST`, 405);
    const body = await readBodyChunks(req, deps.maxBodyBytes());
    await handleCountTokens(req, res, body, deps, auth);
    return;
  }
  if (method === 'GET' && path === '/v1/conduit/events') {
    handleEvents(req, res, new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1)), deps.hub);
    return;
  }
  if (await dispatchRoute(table, req, res, path, q < 0 ? '' : rawUrl.slice(q + 1))) return;
  sendError(res, 'not_found_error', `no route ${method} ${path}`);
}

async function handleCountTokens(req: IncomingMessage, res: ServerResponse, body: BodyChunks, deps: ServerDeps, auth: ReturnType<typeof authenticate>): Promise<void> {
  const parsed = parseRouted(req, res, body);
  if (!parsed) return;
  const { facts } = parsed;
  const ctx = sessionContextOf(req);
  const { choice } = await chooseRoute(facts, ctx, {}, deps);
  const estimate = () => sendJson(res, 200, { input_tokens: facts.tokenCount, conduit_estimate: true });
  let target;
  try {
    target = deps.providers.resolve(choice.modelRef, ctx.anthropicBaseUrl);
  } catch {
    return estimate();
  }
  const headers = upstreamHeaders(req.headers, target.provider, auth);
  if (!headers) return estimate();
  relayUpstream(res, target.provider, req.url ?? '/v1/messages/count_tokens', headers, withModelChunks(body, facts, target.model),
    deps.upstreamTimeoutMs, ['x-conduit-model', safeHeaderValue(target.model)], estimate);
}

/**
 * The models a configuration view offers: those the price table knows (current Claude
 * families) and those config.json prices, each with its category (haiku, sonnet, opus), plus the
 * routing rules' own choices; "provider/model" for models of other configured providers;
 * each with its list price (input/output per million tokens) or null when none is known.
 */
function modelCatalogue(deps: ServerDeps): CatalogueModel[] {
  // Input and output USD per million tokens, as requests are costed (config.json's prices first); null: unknown.
  const price = (id: string) => { const p = deps.prices.lookup(id)?.price; return p ? { input: p.input, output: p.output } : null; };
  const out = deps.prices.models().map((m) => ({ id: m.id, name: modelNameOf(m.id, m.name), category: modelCategoryOf(m.id), price: price(m.id) }));
  const rules = deps.rules();
  for (const ref of [rules.defaultModel, rules.longContextModel, rules.backgroundModel, rules.reasoningModel, rules.webSearchModel, ...rules.fallbackModels]) {
    if (ref && !out.some((m) => m.id === ref)) out.push({ id: ref, name: modelNameOf(ref), category: modelCategoryOf(ref), price: price(ref) });
  }
  return out;
}
