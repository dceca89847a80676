/**
 * POST /v1/messages: route, forward (with fallbacks), pass the reply through as it
 * arrives, and record its usage and cost when it ends.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { BUDGET_REFUSAL } from '../../protocol/budgets';
import { CREDENTIALS_FIXES } from '../../protocol/credentials';
import { REFUSED_COST_SOURCE } from '../../protocol/measures';
import type { RoutingDecision } from '../../protocol/routing';
import type { BudgetTracker } from '../budgets/budgetTracker';
import { CONTEXT_HEADER, decodeSessionContext, type SessionContext } from '../../protocol/sessionContext';
import type { CostBreakdown, RequestContext, UsageRecord } from '../../protocol/usage';
import { ValidationError } from '../../protocol/validate';
import type { Logger } from '../core/log';
import type { CredentialsSource, CredentialsTracker } from '../core/credentials';
import type { LedgerService } from '../ledger/service';
import type { PriceTable } from '../pricing/priceTable';
import type { PluginRouter } from '../plugins/pluginRouter';
import type { BodyChunks } from '../routing/bodyChunks';
import { InvalidRequestError, readRequestFacts, withModelChunks, type RequestFacts } from '../routing/requestFacts';
import { routeByRules, routeBySession, type RouteChoice } from '../routing/router';
import { rulesFor, type RoutingRules } from '../routing/rules';
import type { EventHub } from '../usage/eventHub';
import type { Journal } from '../usage/journal';
import { DecodingTap, isDecodable, type DecodedListener } from '../usage/decodingTap';
import { JsonUsageTap, SseUsageTap, type ReplyOutcome } from '../usage/usageTap';
import type { ClientAuth } from './auth';
import { GatewayError, errorBody, sendError } from './errors';
import { sendBudgetRefusal } from './budgetsRoute';
import {
  downstreamHeaders, headerValue, isRetryableStatus, responseSlot, sendUpstream, upstreamErrorMessage, upstreamHeaders, withBodyHeaders,
} from './forward';
import { ErrorReplyBody, credentialsRefusal, judgeErrorReply } from './providerError';
import type { ProviderRegistry, ResolvedModel } from './providers';
import { safeHeaderValue } from './safeHeader';

const REFUSED_COST: CostBreakdown = { cost: 0, costSource: REFUSED_COST_SOURCE, priceVersion: null };

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
  /** The usage store: its saved project and agent model settings override the session's (routingContext). */
  ledger?: LedgerService | null;
  /** Budgets: a soft limit changes the model, a hard limit refuses (memory only). */
  budgets?: BudgetTracker | null;
  /** The clock of records and budgets (tests move it); Date.now by default. */
  now?: () => number;
  /** Notes client logins passing through and the provider's refusals (the credentials state of /health). */
  credentials?: CredentialsTracker | null;
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
export function parseRouted(req: IncomingMessage, res: ServerResponse, body: BodyChunks): { facts: RequestFacts; ctx: SessionContext } | null {
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

export async function chooseRoute(facts: RequestFacts, sessionCtx: SessionContext, requestContext: RequestContext, deps: MessagesDeps): Promise<{ choice: RouteChoice; rules: RoutingRules }> {
  // A configuration saved through /v1/conduit/projects is newer than the one the session
  // started with (a lookup in memory; the session's own until the store has opened).
  const ctx = deps.ledger ? deps.ledger.routingContext(sessionCtx) : sessionCtx;
  const rules = rulesFor(deps.rules(), ctx.projectModelConfig);
  let choice = routeBySession(facts, ctx);
  if (!choice && rules.pluginsEnabled && deps.plugins?.active) {
    const picked = await deps.plugins.route(facts, ctx, requestContext);
    if (picked) choice = { modelRef: picked.model, source: 'plugin', rule: `plugin ${picked.plugin}` };
  }
  return { choice: choice ?? routeByRules(facts, rules), rules };
}

export async function handleMessages(req: IncomingMessage, res: ServerResponse, body: BodyChunks, auth: ClientAuth, deps: MessagesDeps): Promise<void> {
  const t0 = performance.now();
  const clock = deps.now ?? Date.now;
  const startedAt = new Date(clock());
  const parsed = parseRouted(req, res, body);
  if (!parsed) return;
  const { facts, ctx } = parsed;
  if (auth.clientCredentials) deps.credentials?.clientLogin();
  const requestId = randomUUID();
  const context = requestContextOf(req, ctx);
  const routed = await chooseRoute(facts, ctx, context, deps);
  const rules = routed.rules;
  let choice = routed.choice;
  let refusal: string | null = null;
  if (deps.budgets?.active) {
    const verdict = deps.budgets.verdict(context.projectId, context.agentId, choice.modelRef, rules);
    if (verdict?.kind === 'downgrade') choice = { modelRef: verdict.modelRef, source: 'budget', rule: verdict.rule };
    else if (verdict?.kind === 'refuse') {
      refusal = verdict.message;
      choice = { modelRef: choice.modelRef, source: 'budget', rule: verdict.rule };
    }
  }

  let target: ResolvedModel;
  try {
    target = deps.providers.resolve(choice.modelRef, ctx.anthropicBaseUrl);
  } catch (err) {
    sendError(res, 'invalid_request_error', (err as Error).message);
    return;
  }
  const decision: RoutingDecision = {
    model: target.model, provider: target.provider.name, source: choice.source, rule: choice.rule,
    tokenCount: facts.tokenCount, requestedModel: facts.requestedModel, timestamp: startedAt.toISOString(),
  };
  if (target.provider.personEndpoint) decision.upstream = target.provider.personEndpoint;
  deps.hub.publish({ type: 'decision', requestId, context, decision });
  deps.log.debug(`${requestId} ${facts.requestedModel} → ${target.provider.name}/${target.model} (${choice.source}: ${choice.rule})`);

  // `final`: the decision as the exchange ended it (the model that answered, or failed last, after fallbacks).
  const record = (status: number, usageOutcome: Outcome, firstByteMs: number | null, final: RoutingDecision = decision): UsageRecord => {
    const cost: CostBreakdown = usageOutcome.usage
      ? deps.prices.cost(final.model, usageOutcome.usage)
      : { cost: null, costSource: 'no-usage', priceVersion: null };
    const r: UsageRecord = {
      id: requestId, context, decision: final, usage: usageOutcome.usage, cost, status, stream: facts.stream,
      durationMs: Math.round(performance.now() - t0), firstByteMs, startedAt: startedAt.toISOString(),
      endedAt: new Date(clock()).toISOString(), device: deps.device,
    };
    if (usageOutcome.error) r.error = usageOutcome.error;
    if (usageOutcome.outputEstimated) r.outputEstimated = true;
    return r;
  };
  const finish = (r: UsageRecord) => {
    // The line is in the journal file when this returns: ingestion, woken by the event, finds it.
    deps.journal.append(r).catch((err) => deps.log.error(`journal: could not write request ${r.id}: ${(err as Error).message}`));
    deps.hub.publish({ type: 'usage', record: r });
    deps.budgets?.record(r);
  };

  if (refusal) {
    sendBudgetRefusal(res, refusal);
    const refused = record(BUDGET_REFUSAL.status, { usage: null, error: 'budget_exceeded' }, null);
    refused.cost = { ...REFUSED_COST }; // the provider was never called: nothing to pay, not an unknown price
    finish(refused);
    return;
  }

  // The chosen model, then the rule's fallbacks, each tried while nothing has reached the client.
  const candidates: ResolvedModel[] = [target];
  for (const ref of rules.fallbackModels) {
    try {
      const alt = deps.providers.resolve(ref, ctx.anthropicBaseUrl);
      if (!candidates.some((c) => c.model === alt.model && c.provider === alt.provider)) candidates.push(alt);
    } catch { /* an unresolvable fallback is skipped */ }
  }

  if (res.destroyed) {
    finish(record(499, { usage: null, error: 'client_closed' }, null));
    return;
  }
  new Exchange({
    req, res, body, auth, facts, decision, requestId, candidates, deps, t0,
    done: (status, outcome, firstByteMs, final) => finish(record(status, outcome, firstByteMs, final)),
  }).attempt();
}

type Outcome = { usage: UsageRecord['usage']; error?: string; outputEstimated?: true };

/** What an exchange needs: the request, where it goes, and whom to tell how it ended. */
interface ExchangeOptions {
  req: IncomingMessage;
  res: ServerResponse;
  body: BodyChunks;
  auth: ClientAuth;
  facts: RequestFacts;
  /** The decision as published: the first candidate. */
  decision: RoutingDecision;
  requestId: string;
  /** The chosen model, then its fallbacks. */
  candidates: ResolvedModel[];
  deps: MessagesDeps;
  /** performance.now() when the request arrived. */
  t0: number;
  /** Called once, when the exchange ended, with the decision it ended with. */
  done: (status: number, outcome: Outcome, firstByteMs: number | null, decision: RoutingDecision) => void;
}

/**
 * Where an exchange is:
 *  waiting        for the reply's headers: nothing reached the client, a fallback is still possible
 *  discarding     a retryable error reply, read to its end before the next candidate is tried
 *  piping         the reply is passing through to the client
 *  holding-error  the final error reply, read whole: passed on as sent when it is Anthropic's JSON, wrapped otherwise
 *  done
 */
type ExchangePhase = 'waiting' | 'discarding' | 'piping' | 'holding-error' | 'done';

/** The exchange of each client response, for the response's listeners. */
const exchanges = responseSlot<Exchange>('conduit.exchange');

/**
 * One request's way to a provider and back: tries the candidates in turn while nothing
 * has reached the client, then passes the reply through as it arrives. It is itself the
 * undici dispatch handler of each attempt, and finds itself from the client's response
 * in the listeners (module functions, so that no closure is made per request).
 */
class Exchange implements Dispatcher.DispatchHandler, DecodedListener {
  private i = 0;
  private phase: ExchangePhase = 'waiting';
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private status = 0;
  private isSse = false;
  private tap: SseUsageTap | JsonUsageTap | null = null;
  /** The reply is compressed (whatever was asked): nothing may be added to its bytes. */
  private encoded = false;
  /** Decodes a compressed reply for the tap. */
  private decoder: DecodingTap | null = null;
  /** How the reply ended, for `decoded()`: cut (provider or client gone) or complete. */
  private cut = false;
  private errorReply: ErrorReplyBody | null = null;
  private replyHeaders: string[] | null = null;
  private firstByteMs: number | null = null;
  private clientGone = false;
  private draining = false;
  /** The reply's writes of this turn are held together (onData). */
  private corked = false;
  private failed: string[] | null = null;
  private readonly req: IncomingMessage;
  private readonly res: ServerResponse;
  private readonly body: BodyChunks;
  private readonly auth: ClientAuth;
  private readonly facts: RequestFacts;
  /** The published decision, replaced (never changed) when a fallback answers or fails last. */
  private decision: RoutingDecision;
  private readonly requestId: string;
  private readonly candidates: ResolvedModel[];
  private readonly deps: MessagesDeps;
  private readonly t0: number;
  private readonly onDone: ExchangeOptions['done'];

  constructor(options: ExchangeOptions) {
    this.req = options.req;
    this.res = options.res;
    this.body = options.body;
    this.auth = options.auth;
    this.facts = options.facts;
    this.decision = options.decision;
    this.requestId = options.requestId;
    this.candidates = options.candidates;
    this.deps = options.deps;
    this.t0 = options.t0;
    this.onDone = options.done;
    exchanges.attach(this.res, this);
    this.res.on('close', exchangeClientClosed);
  }

  /** Tells how the exchange ended, with the decision it ended with. */
  private done(status: number, outcome: Outcome, firstByteMs: number | null): void {
    this.onDone(status, outcome, firstByteMs, this.decision);
  }

  /** Sends the request to the current candidate. */
  attempt(): void {
    const { provider, model } = this.candidates[this.i];
    const headers = upstreamHeaders(this.req.headers, provider, this.auth);
    if (!headers) {
      if (this.moveOn()) return this.attempt();
      sendError(this.res, 'authentication_error', `no credentials for provider "${provider.name}": the gateway has no API key for it and the client sent no login of its own; ${CREDENTIALS_FIXES}`);
      this.phase = 'done';
      this.recordCandidate();
      this.done(401, { usage: null, error: 'missing_api_key' }, null);
      return;
    }
    this.phase = 'waiting';
    this.abortUpstream = null;
    this.resumeUpstream = null;
    sendUpstream(provider, this.req.url ?? '/v1/messages', headers, withModelChunks(this.body, this.facts, model), this.deps.upstreamTimeoutMs, this);
  }

  /** Whose credentials went to the provider: the client's own, or the gateway's key. */
  private credentialsSource(): CredentialsSource {
    return this.auth.clientCredentials ? 'client-login' : 'api-key';
  }

  /** Notes the current candidate as failed and moves to the next; false when it was the last. */
  private moveOn(): boolean {
    if (this.i === this.candidates.length - 1) return false;
    const { provider, model } = this.candidates[this.i++];
    (this.failed ??= []).push(`${provider.name}/${model}`);
    return true;
  }

  /** The record names the model that answered, or failed last, and the ones that failed before it. */
  private recordCandidate(): void {
    if (this.i === 0) return;
    const { provider, model } = this.candidates[this.i];
    // The upstream is the person's endpoint only when the answering provider is theirs (a fallback may be another provider).
    const { upstream: _first, ...decision } = this.decision;
    this.decision = { ...decision, model, provider: provider.name, fallbacks: this.failed ?? [], ...(provider.personEndpoint ? { upstream: provider.personEndpoint } : {}) };
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.clientGone) abort();
    else this.abortUpstream = abort;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    if (status < 200) return true; // informational (103): the real reply follows
    const { provider, model } = this.candidates[this.i];
    if (isRetryableStatus(status) && this.i < this.candidates.length - 1) {
      this.deps.log.warn(`${this.requestId} ${provider.name}/${model} answered ${status}; trying ${this.candidates[this.i + 1].model}`);
      this.phase = 'discarding';
      return true;
    }
    this.status = status;
    this.resumeUpstream = resume;
    if (status < 300) this.deps.credentials?.answered(this.credentialsSource(), status, '');
    this.recordCandidate();
    const decision = this.decision;
    const headers = downstreamHeaders(raw);
    headers.push('x-conduit-request-id', this.requestId, 'x-conduit-model', safeHeaderValue(decision.model), 'x-conduit-route', decision.source);
    if (status >= 400) {
      this.replyHeaders = headers;
      this.errorReply = new ErrorReplyBody();
      this.phase = 'holding-error';
      return true;
    }
    this.isSse = headerValue(headers, 'content-type').startsWith('text/event-stream');
    this.tap = this.isSse ? new SseUsageTap() : new JsonUsageTap();
    const encoding = headerValue(headers, 'content-encoding');
    if (encoding !== '' && encoding !== 'identity') {
      // Asked for identity, sent compressed: the client gets the bytes as sent, the tap decoded ones.
      this.encoded = true;
      if (isDecodable(encoding)) this.decoder = new DecodingTap(encoding, this.tap);
    }
    // Should Node refuse a header the provider sent, this throws, undici aborts the
    // request and onError answers 502 (or tries the next model): nothing was sent yet.
    this.res.writeHead(status, headers);
    this.phase = 'piping';
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.phase !== 'piping') {
      if (this.phase === 'holding-error') this.errorReply!.push(chunk);
      return true; // else an error reply being discarded
    }
    if (this.firstByteMs === null) this.firstByteMs = Math.round(performance.now() - this.t0);
    if (!this.encoded) this.tap!.push(chunk);
    else if (this.decoder) this.decoder.push(chunk);
    if (!this.corked) {
      // The pieces that arrive together (a whole short reply and its end, read at once)
      // leave in one write at the end of this turn, not one system call each.
      this.corked = true;
      this.res.cork();
      process.nextTick(exchangeUncork, this);
    }
    if (this.res.write(chunk)) return true;
    // The client reads slower than the provider sends: pause the provider until it drains.
    if (!this.draining) {
      this.draining = true;
      this.res.on('drain', exchangeClientDrained);
    }
    return false;
  }

  onComplete(): void {
    if (this.phase === 'discarding') {
      this.moveOn();
      this.attempt();
      return;
    }
    if (this.phase === 'holding-error') return this.passError(false);
    if (this.phase !== 'piping') return;
    this.phase = 'done';
    this.endReply(false);
  }

  /** Ends the reply once the tap has every byte: at once, or when the decoder has caught up. */
  private endReply(cut: boolean): void {
    this.cut = cut;
    if (this.decoder) this.decoder.end(this);
    else this.decoded();
  }

  /** The tap has had every byte of the reply (DecodedListener): record it and end it. */
  decoded(): void {
    const outcome = this.tap!.outcome();
    if (this.cut) return this.endCutReply(outcome);
    let error: string | undefined;
    if (this.isSse && this.facts.stream && !outcome.complete && !outcome.error) {
      // The provider closed the stream cleanly but before message_stop: tell the client
      // (no text can be added to compressed bytes: the record says it).
      if (!this.encoded) this.res.write(sseErrorAfter(this.tap as SseUsageTap, 'api_error', 'the provider ended the stream before message_stop'));
      error = 'stream_incomplete';
    }
    // Recorded (its journal line written) before the reply's last byte: a reply that
    // ended is never missing from the journal, whatever happens to the gateway next.
    this.settle(outcome, error);
    this.res.end();
  }

  private endCutReply(outcome: ReplyOutcome): void {
    if (this.clientGone) return this.settle(outcome, 'client_closed');
    // The provider's connection broke mid-reply: bytes already reached the client, so
    // no fallback is possible; end the stream with an error event claude understands.
    this.settle(outcome, 'stream_cut');
    if (this.isSse && !this.encoded && !this.res.writableEnded && !this.res.destroyed) {
      this.res.end(sseErrorAfter(this.tap as SseUsageTap, 'api_error', 'the provider connection broke during the reply'));
    } else {
      this.res.destroy();
    }
  }

  /**
   * Passes the final error reply on: as the provider sent it when it is Anthropic's error
   * JSON, else wrapped in that shape (the provider's other headers kept). `broken`: the
   * reply broke off before its end.
   */
  private passError(broken: boolean): void {
    this.phase = 'done';
    const headers = this.replyHeaders!;
    const reply = this.errorReply!;
    if (broken) reply.cutShort();
    const provider = this.candidates[this.i].provider.name;
    let judged = judgeErrorReply(this.status, headerValue(headers, 'content-type'), headerValue(headers, 'content-encoding'), reply, provider);
    if (this.status === 401) {
      // claude shows its own words for a 401; the gateway's reply and log name both ways to fix it.
      const refusal = credentialsRefusal(provider, this.credentialsSource(), headerValue(headers, 'content-type'), headerValue(headers, 'content-encoding'), reply);
      this.deps.credentials?.answered(this.credentialsSource(), 401, refusal.providerMessage);
      this.deps.log.warn(`${this.requestId}: ${refusal.message}`);
      judged = { type: 'authentication_error', wrapped: refusal.body };
    }
    const body = judged.wrapped === null ? reply.whole()! : Buffer.from(judged.wrapped);
    try {
      this.res.writeHead(this.status, judged.wrapped === null ? headers : withBodyHeaders(headers, 'application/json', body.length));
    } catch (err) {
      // A header Node refuses: nothing was sent yet.
      sendError(this.res, 'api_error', `the reply of provider ${this.candidates[this.i].provider.name} could not be passed on: ${(err as Error).message}`, 502);
      this.done(502, { usage: null, error: 'upstream_headers_refused' }, null);
      return;
    }
    this.firstByteMs = Math.round(performance.now() - this.t0);
    this.done(this.status, { usage: null, error: judged.type }, this.firstByteMs);
    this.res.end(body);
  }

  onError(error: Error): void {
    const phase = this.phase;
    if (phase === 'done') {
      // Only a throw in this handler's own callbacks (undici reports it here) comes this late.
      this.deps.log.error(`${this.requestId}: passing the reply through failed: ${error.stack ?? error.message}`);
      return;
    }
    if (phase === 'piping') {
      this.phase = 'done';
      this.endReply(true);
      return;
    }
    if (this.clientGone) {
      this.phase = 'done';
      this.done(499, { usage: null, error: 'client_closed' }, null);
      return;
    }
    if (phase === 'holding-error') return this.passError(true);
    if (phase === 'discarding') {
      // The error reply being discarded broke off: it was failed already.
      this.moveOn();
      return this.attempt();
    }
    const { provider, model } = this.candidates[this.i];
    const message = upstreamErrorMessage(error, provider, this.deps.upstreamTimeoutMs);
    this.deps.log.warn(`${this.requestId} ${provider.name}/${model}: ${message}`);
    if (this.moveOn()) return this.attempt();
    this.phase = 'done';
    this.recordCandidate();
    sendError(this.res, 'api_error', `provider ${provider.name} could not be reached for ${model}: ${message}`, 502);
    this.done(502, { usage: null, error: 'upstream_unreachable' }, null);
  }

  private settle(outcome: ReplyOutcome, error: string | undefined): void {
    const status = this.status;
    const err = error ?? (outcome.error?.type || (status >= 400 ? `http_${status}` : undefined));
    const recorded: Outcome = err ? { usage: outcome.usage, error: err } : { usage: outcome.usage };
    if (outcome.outputEstimated) recorded.outputEstimated = true;
    this.done(status, recorded, this.firstByteMs);
  }

  clientClosed(): void {
    if (this.res.writableFinished || this.clientGone) return;
    this.clientGone = true;
    if (this.phase !== 'done') this.abortUpstream?.();
  }

  clientDrained(): void {
    this.resumeUpstream?.();
  }

  uncork(): void {
    this.corked = false;
    this.res.uncork(); // (nothing left to do when the reply was ended meanwhile: end uncorks)
  }
}

function exchangeUncork(exchange: Exchange): void {
  exchange.uncork();
}

function exchangeClientClosed(this: ServerResponse): void {
  exchanges.of(this)?.clientClosed();
}

function exchangeClientDrained(this: ServerResponse): void {
  exchanges.of(this)?.clientDrained();
}

function sseError(type: string, message: string): string {
  return `event: error\ndata: ${errorBody(type, message)}\n\n`;
}

/** The gateway's error event, after a blank line when the stream stopped inside an event (so it arrives as its own event). */
function sseErrorAfter(tap: SseUsageTap, type: string, message: string): string {
  return tap.partialEventPending() ? `\n\n${sseError(type, message)}` : sseError(type, message);
}

export { GatewayError };
