/**
 * POST /v1/messages: route, forward (with fallbacks), pass the reply through as it
 * arrives, and record its usage and cost when it ends.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RoutingDecision } from '../../protocol/routing';
import { CONTEXT_HEADER, decodeSessionContext, type SessionContext } from '../../protocol/sessionContext';
import type { CostBreakdown, RequestContext, UsageRecord } from '../../protocol/usage';
import { ValidationError } from '../../protocol/validate';
import type { Logger } from '../core/log';
import type { PriceTable } from '../pricing/priceTable';
import type { PluginRouter } from '../plugins/pluginRouter';
import { InvalidRequestError, readRequestFacts, withModel, type RequestFacts } from '../routing/requestFacts';
import { routeByRules, routeBySession, type RouteChoice } from '../routing/router';
import { rulesFor, type RoutingRules } from '../routing/rules';
import type { EventHub } from '../usage/eventHub';
import type { Journal } from '../usage/journal';
import { JsonUsageTap, SseUsageTap } from '../usage/usageTap';
import type { ClientAuth } from './auth';
import { GatewayError, errorBody, sendError } from './errors';
import { downstreamHeaders, isRetryableStatus, sendUpstream, upstreamHeaders } from './forward';
import type { ProviderRegistry, ResolvedModel } from './providers';

export interface MessagesDeps {
  rules: () => RoutingRules;
  providers: ProviderRegistry;
  prices: PriceTable;
  hub: EventHub;
  journal: Journal;
  plugins: PluginRouter | null;
  log: Logger;
  device: string;
  upstreamTimeoutMs: number;
}

const contextCache = new Map<string, SessionContext>();

/** The session context header, decoded once per distinct value (a session sends the same one). */
export function sessionContextOf(req: IncomingMessage): SessionContext {
  const raw = req.headers[CONTEXT_HEADER];
  if (typeof raw !== 'string' || raw === '') return {};
  let ctx = contextCache.get(raw);
  if (!ctx) {
    ctx = decodeSessionContext(raw);
    if (contextCache.size >= 256) contextCache.clear();
    contextCache.set(raw, ctx);
  }
  return ctx;
}

function requestContextOf(req: IncomingMessage, ctx: SessionContext): RequestContext {
  const claudeSession = req.headers['x-claude-code-session-id'];
  const out: RequestContext = {};
  if (ctx.sessionId) out.sessionId = ctx.sessionId;
  if (typeof claudeSession === 'string' && claudeSession.length <= 200) out.claudeSessionId = claudeSession;
  if (ctx.projectId) out.projectId = ctx.projectId;
  if (ctx.agentId) out.agentId = ctx.agentId;
  if (ctx.agentType) out.agentType = ctx.agentType;
  return out;
}

/** Reads the facts and context of a request, answering 400 itself when they are bad. */
export function parseRouted(req: IncomingMessage, res: ServerResponse, body: Buffer): { facts: RequestFacts; ctx: SessionContext } | null {
  try {
    return { facts: readRequestFacts(body), ctx: sessionContextOf(req) };
  } catch (err) {
    if (err instanceof InvalidRequestError || err instanceof ValidationError) {
      sendError(res, 'invalid_request_error', err.message);
      return null;
    }
    throw err;
  }
}

export async function chooseRoute(facts: RequestFacts, ctx: SessionContext, requestContext: RequestContext, deps: MessagesDeps): Promise<{ choice: RouteChoice; rules: RoutingRules }> {
  const rules = rulesFor(deps.rules(), ctx.projectModelConfig);
  let choice = routeBySession(facts, ctx);
  if (!choice && rules.pluginsEnabled && deps.plugins?.active) {
    const picked = await deps.plugins.route(facts, ctx, requestContext);
    if (picked) choice = { modelRef: picked.model, source: 'plugin', rule: `plugin ${picked.plugin}` };
  }
  return { choice: choice ?? routeByRules(facts, rules), rules };
}

export async function handleMessages(req: IncomingMessage, res: ServerResponse, body: Buffer, auth: ClientAuth, deps: MessagesDeps): Promise<void> {
  const t0 = performance.now();
  const startedAt = new Date();
  const parsed = parseRouted(req, res, body);
  if (!parsed) return;
  const { facts, ctx } = parsed;
  const requestId = randomUUID();
  const context = requestContextOf(req, ctx);
  const { choice, rules } = await chooseRoute(facts, ctx, context, deps);

  let target: ResolvedModel;
  try {
    target = deps.providers.resolve(choice.modelRef);
  } catch (err) {
    sendError(res, 'invalid_request_error', (err as Error).message);
    return;
  }
  const decision: RoutingDecision = {
    model: target.model, provider: target.provider.name, source: choice.source, rule: choice.rule,
    tokenCount: facts.tokenCount, requestedModel: facts.requestedModel, timestamp: startedAt.toISOString(),
  };
  deps.hub.publish({ type: 'decision', requestId, context, decision });
  deps.log.debug(`${requestId} ${facts.requestedModel} → ${target.provider.name}/${target.model} (${choice.source}: ${choice.rule})`);

  const record = (status: number, usageOutcome: { usage: UsageRecord['usage']; error?: string }, firstByteMs: number | null): UsageRecord => {
    const cost: CostBreakdown = usageOutcome.usage
      ? deps.prices.cost(decision.model, usageOutcome.usage)
      : { cost: null, costSource: 'no-usage', priceVersion: null };
    const r: UsageRecord = {
      id: requestId, context, decision, usage: usageOutcome.usage, cost, status, stream: facts.stream,
      durationMs: Math.round(performance.now() - t0), firstByteMs, startedAt: startedAt.toISOString(),
      endedAt: new Date().toISOString(), device: deps.device,
    };
    if (usageOutcome.error) r.error = usageOutcome.error;
    return r;
  };
  const finish = (r: UsageRecord) => {
    deps.hub.publish({ type: 'usage', record: r });
    deps.journal.append(r).catch((err) => deps.log.error(`journal: could not write request ${r.id}: ${(err as Error).message}`));
  };

  // The chosen model, then the rule's fallbacks, each tried while nothing has reached the client.
  const candidates: ResolvedModel[] = [target];
  for (const ref of rules.fallbackModels) {
    try {
      const alt = deps.providers.resolve(ref);
      if (!candidates.some((c) => c.model === alt.model && c.provider === alt.provider)) candidates.push(alt);
    } catch { /* an unresolvable fallback is skipped */ }
  }

  let clientGone = false;
  let upstreamRequest: import('node:http').ClientRequest | null = null;
  res.once('close', () => {
    if (!res.writableFinished) {
      clientGone = true;
      upstreamRequest?.destroy();
    }
  });

  const failed: string[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const { provider, model } = candidates[i];
    const last = i === candidates.length - 1;
    const headers = upstreamHeaders(req.headers, provider, auth, 0);
    if ('missingKey' in headers) {
      if (!last) { failed.push(`${provider.name}/${model}`); continue; }
      sendError(res, 'authentication_error', `no API key for provider "${provider.name}": set ANTHROPIC_API_KEY (or the provider's apiKeyEnv) where the gateway runs, or sign in to claude so it sends its own credentials`);
      finish(record(401, { usage: null, error: 'missing_api_key' }, null));
      return;
    }
    const payload = withModel(body, facts, model);
    headers['content-length'] = payload.length;
    const result = await sendUpstream(provider, req.url ?? '/v1/messages', headers, payload, deps.upstreamTimeoutMs, (r) => { upstreamRequest = r; });
    if (clientGone) {
      if (result.kind === 'response') result.response.destroy();
      finish(record(499, { usage: null, error: 'client_closed' }, null));
      return;
    }
    if (result.kind === 'failed') {
      deps.log.warn(`${requestId} ${provider.name}/${model}: ${result.error.message}`);
      if (!last) { failed.push(`${provider.name}/${model}`); continue; }
      sendError(res, 'api_error', `provider ${provider.name} could not be reached for ${model}: ${result.error.message}`, 502);
      finish(record(502, { usage: null, error: 'upstream_unreachable' }, null));
      return;
    }
    const up = result.response;
    const status = up.statusCode ?? 502;
    if (isRetryableStatus(status) && !last) {
      deps.log.warn(`${requestId} ${provider.name}/${model} answered ${status}; trying ${candidates[i + 1].model}`);
      up.resume();
      failed.push(`${provider.name}/${model}`);
      continue;
    }
    if (i > 0) {
      decision.model = model;
      decision.provider = provider.name;
      decision.fallbacks = failed;
    }
    await pipeReply(up, res, status, facts.stream, decision, requestId, (outcome, firstByteMs) => finish(record(status, outcome, firstByteMs)), t0);
    return;
  }
}

function pipeReply(
  up: IncomingMessage, res: ServerResponse, status: number, streamRequested: boolean, decision: RoutingDecision, requestId: string,
  done: (outcome: { usage: UsageRecord['usage']; error?: string }, firstByteMs: number | null) => void, t0: number,
): Promise<void> {
  const isSse = String(up.headers['content-type'] ?? '').startsWith('text/event-stream');
  const tap = isSse ? new SseUsageTap() : new JsonUsageTap();
  res.writeHead(status, downstreamHeaders(up.headers, {
    'x-conduit-request-id': requestId,
    'x-conduit-model': decision.model,
    'x-conduit-route': decision.source,
  }));
  let firstByteMs: number | null = null;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (error?: string) => {
      if (settled) return;
      settled = true;
      const outcome = tap.outcome();
      const err = error ?? (outcome.error?.type || (status >= 400 ? `http_${status}` : undefined));
      done(err ? { usage: outcome.usage, error: err } : { usage: outcome.usage }, firstByteMs);
      resolve();
    };
    up.on('data', (chunk: Buffer) => {
      if (firstByteMs === null) firstByteMs = Math.round(performance.now() - t0);
      tap.push(chunk);
      if (!res.write(chunk)) {
        up.pause();
        res.once('drain', () => up.resume());
      }
    });
    up.once('end', () => {
      const outcome = tap.outcome();
      if (isSse && streamRequested && !outcome.complete && !outcome.error) {
        // The provider closed the stream cleanly but before message_stop: tell the client.
        res.write(sseError('api_error', 'the provider ended the stream before message_stop'));
        settle('stream_incomplete');
      } else {
        settle();
      }
      res.end();
    });
    up.once('close', () => {
      if (settled) return;
      // The provider's connection broke mid-reply: bytes already reached the client, so
      // no fallback is possible; end the stream with an error event claude understands.
      if (isSse && !res.writableEnded && !res.destroyed) {
        res.end(sseError('api_error', 'the provider connection broke during the reply'));
      } else {
        res.destroy();
      }
      settle('stream_cut');
    });
    up.on('error', () => { /* handled by 'close' */ });
    res.once('close', () => {
      if (!res.writableFinished) {
        up.destroy();
        settle('client_closed');
      }
    });
  });
}

function sseError(type: string, message: string): string {
  return `event: error\ndata: ${errorBody(type, message)}\n\n`;
}

export { GatewayError };
