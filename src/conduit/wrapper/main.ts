/**
 * `conduit-claude`: runs the real claude through the gateway.
 *  - every argument goes to claude unchanged; its exit code and signals come back;
 *  - the gateway is started if it is not running;
 *  - claude is pointed at it (ANTHROPIC_BASE_URL; through failoverRelay.ts unless
 *    CONDUIT_FALLBACK=fail) with the access token and the session context (SYNAPSE_*) in custom headers;
 *  - with --output-format stream-json, a conduit_metadata line is added for every API
 *    request of the session; otherwise stdout is claude's alone;
 *  - the prompt given on the command line is reported to the gateway with claude's session
 *    id (sessionInfoReport.ts), for the sessions view;
 *  - with SYNAPSE_TELEMETRY_ENDPOINT, each conduit_metadata line is also POSTed there (telemetry.ts);
 *  - a gateway that cannot be started or reached: claude runs directly (fallback.ts);
 *    claude set to Bedrock or Vertex runs as is, with a notice (cloudProviders.ts).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { encodeSessionContext, CONTEXT_HEADER, TOKEN_HEADER } from '../../protocol/sessionContext';
import type { GatewayEvent, UsageRecord } from '../../protocol/usage';
import { ValidationError } from '../../protocol/validate';
import { claudeMissingMessage } from '../client/claudeLocator';
import { conduitPaths } from '../client/paths';
import { findRunningGateway } from '../client/gatewayClient';
import { GatewayHttpError, call } from '../client/call';
import { ROUTES, type SessionAnswer } from '../../protocol/routes';
import { connectSse, eventsPath, type SseConnection } from '../client/sseClient';
import { holdLease } from '../client/leaseClient';
import { startInBackground } from '../client/daemon';
import { findClaude, metadataLine, sessionContextFromEnv, wantsStreamJson } from './context';
import { planClaudeEnvironment } from './personEndpoint';
import { claudeLaunch, type ClaudeLaunch } from '../client/claudeLaunch';
import { LineMerger } from './lineMerger';
import { ClaudeResultWatcher, SessionReport } from './sessionSummary';
import { promptFromArgs } from './firstPrompt';
import { SessionInfoReport } from './sessionInfoReport';
import { TelemetrySender } from './telemetry';
import { FallbackRecorder, fallbackMode, fallbackNotice } from './fallback';
import { cloudProviderNotice, cloudProviderOf } from './cloudProviders';
import { runDirect } from './directRun';
import { childEnd, exitAs, forwardSignals } from './childExit';
import { startRelay } from './failoverRelay';

/** Renewed every 20 s; a session that ended without releasing it (killed) lets go within a minute. */
const SESSION_LEASE_SECONDS = 60;

function fail(message: string, code: number): never {
  process.stderr.write(`conduit-claude: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const env = process.env;
  let ctx;
  try {
    ctx = sessionContextFromEnv(env);
  } catch (err) {
    if (err instanceof ValidationError) fail(err.message, 2);
    throw err;
  }
  const located = await findClaude(env);
  if (!located.found) fail(claudeMissingMessage(located), 127);
  const claude = located.path;
  let launch: ClaudeLaunch;
  try {
    launch = claudeLaunch(claude, args);
  } catch (err) {
    fail(`${(err as Error).message}: ${claude} runs only through cmd.exe, as neither claude.exe nor claude's JavaScript entry was found beside it (set CONDUIT_CLAUDE_PATH to claude.exe)`, 2);
  }

  const streamJson = wantsStreamJson(args);
  const onSpawnError = (err: Error) => fail(`could not run ${claude}: ${err.message}`, 127);
  const cloud = cloudProviderOf(env);
  if (cloud) {
    process.stderr.write(`conduit-claude: ${cloudProviderNotice(cloud)}\n`);
    return runDirect({ launch, env, fallback: null, onSpawnError });
  }
  const warn = (message: string) => process.stderr.write(`conduit-claude: ${message}\n`);
  const telemetry = TelemetrySender.fromEnv(env, warn);
  let mode: ReturnType<typeof fallbackMode> = 'direct';
  try {
    mode = fallbackMode(env);
  } catch (err) {
    fail((err as Error).message, 2);
  }
  const unavailable = (reason: string): Promise<void> => {
    if (mode === 'fail') fail(reason, 1);
    warn(fallbackNotice(reason));
    return runDirect({ launch, env, fallback: { streamJson, context: ctx, telemetry }, onSpawnError });
  };

  const paths = conduitPaths();
  let gw = await findRunningGateway(paths);
  if (!gw) {
    const started = await startInBackground(paths, path.join(__dirname, 'conduit.js'), undefined, env)
      .catch((err: unknown) => ({ kind: 'failed' as const, message: (err as Error).message }));
    if (started.kind === 'failed') return unavailable(`could not start the gateway: ${started.message}`);
    gw = await findRunningGateway(paths);
    if (!gw) return unavailable('the gateway started but does not answer');
  }
  if (!gw.token) return unavailable(`no access token at ${paths.token}`);
  const { port, token } = gw as { port: number; token: string };
  // The session holds the gateway while claude runs: closing the VS Code window that started
  // it does not stop it under the session (src/protocol/leases.ts).
  const lease = holdLease({ port, token }, `conduit-claude-${randomUUID()}`, 'conduit-claude', SESSION_LEASE_SECONDS);
  await lease.taken;

  // The person's own endpoint (ANTHROPIC_BASE_URL here or in claude's settings files) becomes the session's upstream, or is refused.
  const own = await planClaudeEnvironment({ port, token }, env, process.cwd(), ctx).catch((err: unknown) => fail((err as Error).message, 2));
  if (own.refusal) await lease.release().then(() => fail(own.refusal!, 2));
  if (own.endpoint) process.stderr.write(`conduit-claude: this session's requests go through Conduit to ${own.endpoint.value} (${own.endpoint.where})\n`);
  // With CONDUIT_FALLBACK=direct, claude reaches the gateway through a relay that goes to the provider if the gateway dies.
  const relay = mode === 'direct' ? await startRelay(port, token, own.endpoint?.value, () => childEnv.ANTHROPIC_AUTH_TOKEN === token) : null;
  const childEnv: NodeJS.ProcessEnv = { ...env, ANTHROPIC_BASE_URL: relay?.url ?? `http://127.0.0.1:${port}` };
  const headers = [own.customHeaders, `${TOKEN_HEADER}: ${token}`, `${CONTEXT_HEADER}: ${encodeSessionContext(ctx)}`].filter(Boolean);
  childEnv.ANTHROPIC_CUSTOM_HEADERS = headers.join('\n');
  const settingsArgs = own.settingsArgs({ ANTHROPIC_BASE_URL: childEnv.ANTHROPIC_BASE_URL!, ANTHROPIC_CUSTOM_HEADERS: childEnv.ANTHROPIC_CUSTOM_HEADERS });
  if (settingsArgs.length) launch = claudeLaunch(claude, [...settingsArgs, ...args]);
  // Without credentials of its own, claude uses the access token and the gateway its key;
  // with them (a key, or a Claude subscription), the gateway forwards them instead.
  if (!env.ANTHROPIC_API_KEY && !env.ANTHROPIC_AUTH_TOKEN && (await gatewayHasKey(port, token))) childEnv.ANTHROPIC_AUTH_TOKEN = token;

  const merger = new LineMerger((t) => process.stdout.write(t));
  const report = new SessionReport(ctx.sessionId!);
  // The first prompt (for the sessions view) goes to the gateway with claude's session id as
  // soon as claude's init line names it; without stream-json, as claude starts.
  const info = new SessionInfoReport({ port, token }, ctx.sessionId!, promptFromArgs(args));
  // Replies that came from the provider directly once the gateway was gone (failoverRelay.ts).
  const recorder = new FallbackRecorder(ctx, (line) => {
    if (streamJson) merger.pushExtra(JSON.stringify(line));
    telemetry?.send(line);
  });
  const claudeResult = new ClaudeResultWatcher((claudeSessionId) => info.send(claudeSessionId), (line) => relay?.failedOver && recorder.assistantLine(line));
  const emit = (r: UsageRecord) => {
    if (!report.add(r)) return;
    const line = metadataLine(r);
    if (streamJson) merger.pushExtra(JSON.stringify(line));
    telemetry?.send(line);
  };
  // The session's records are followed for stream-json's lines and for the telemetry endpoint.
  const collect = streamJson || telemetry !== null;

  let events: SseConnection | null = null;
  // Requests routed but not yet ended. claude can exit on message_stop, a moment before
  // the gateway sees the reply end and records it: the flush waits for those.
  const inFlight = new Set<string>();
  let allSettled: (() => void) | null = null;
  if (collect) {
    events = connectSse(port, eventsPath(ctx.sessionId!), token, (e) => {
      try {
        if (e.event === 'decision') {
          inFlight.add((JSON.parse(e.data) as Extract<GatewayEvent, { type: 'decision' }>).requestId);
        } else if (e.event === 'usage') {
          const record = (JSON.parse(e.data) as Extract<GatewayEvent, { type: 'usage' }>).record;
          inFlight.delete(record.id);
          emit(record);
          if (inFlight.size === 0) allSettled?.();
        }
      } catch { /* a malformed event is dropped; the final flush catches up */ }
    });
    // Subscribed before claude starts, so no request of the session is missed.
    await events.ready.catch(() => undefined);
  }

  const child = spawn(launch.file, launch.args, {
    env: childEnv,
    stdio: ['inherit', streamJson ? 'pipe' : 'inherit', 'inherit'],
    windowsVerbatimArguments: launch.windowsVerbatimArguments,
  });
  if (!streamJson) info.send(null);
  if (streamJson) {
    child.stdout!.on('data', (c: Buffer) => {
      merger.pushChild(c);
      claudeResult.push(c);
    });
  }

  forwardSignals(child);
  const [code, signal] = await childEnd(child, onSpawnError);

  if (collect) {
    // Records whose events were still on the way when claude exited.
    if (inFlight.size > 0 && !relay?.failedOver) {
      await new Promise<void>((resolve) => {
        allSettled = resolve;
        setTimeout(resolve, 10_000); // at most: a gateway gone silent must not hold the exit
      });
    }
    // A busy gateway may be slow to answer: a few tries before giving up on the flush.
    // undefined: no answer; null: the gateway answered with a refusal (no such session).
    let session: SessionAnswer | null | undefined;
    for (let attempt = 0; attempt < 3 && session === undefined && !relay?.failedOver; attempt++) {
      session = await call({ port, token }, ROUTES.session, { params: { id: ctx.sessionId! } }, { timeoutMs: 5_000 })
        .catch((err: unknown) => (err instanceof GatewayHttpError ? null : undefined));
    }
    if (session) for (const rec of session.records) emit(rec);
    else if (session === undefined && !relay?.failedOver) process.stderr.write('conduit-claude: the gateway did not answer; some conduit_metadata lines may be missing\n');
    events?.close();
  }
  if (streamJson) {
    // Last: the session's id and Conduit's cost of it, with claude's own estimate beside it.
    claudeResult.end();
    merger.pushExtra(JSON.stringify(report.line(claudeResult.result)));
    merger.end();
  }
  const telemetryFlushed = telemetry?.flush();
  await info.finish(claudeResult.initSessionId ?? claudeResult.result?.sessionId ?? null);
  await lease.release();
  await telemetryFlushed;
  relay?.close();
  await exitAs(code, signal);
}

async function gatewayHasKey(port: number, token: string): Promise<boolean> {
  const status = await call({ port, token }, ROUTES.status, {}).catch(() => null) as { providers?: { name: string; hasKey: boolean }[] } | null;
  if (!status) return false;
  return status.providers?.some((p) => p.name === 'anthropic' && p.hasKey) ?? false;
}

main().catch((err) => fail((err as Error).message, 1));
