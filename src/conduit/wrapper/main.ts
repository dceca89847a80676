/**
 * `conduit-claude`: runs the real claude through the gateway.
 *  - every argument goes to claude unchanged; its exit code and signals come back;
 *  - the gateway is started if it is not running;
 *  - claude is pointed at it (ANTHROPIC_BASE_URL) with the access token and the session
 *    context (SYNAPSE_*) in custom headers;
 *  - with --output-format stream-json, a conduit_metadata line is added for every API
 *    request of the session; otherwise stdout is claude's alone;
 *  - the prompt given on the command line is reported to the gateway with claude's session
 *    id (sessionInfoReport.ts), for the sessions view.
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
import { connectSse, type SseConnection } from '../client/sseClient';
import { holdLease } from '../client/leaseClient';
import { startInBackground } from '../client/daemon';
import { findClaude, metadataLine, sessionContextFromEnv, wantsStreamJson } from './context';
import { claudeLaunch, type ClaudeLaunch } from '../client/claudeLaunch';
import { LineMerger } from './lineMerger';
import { ClaudeResultWatcher, SessionReport } from './sessionSummary';
import { promptFromArgs } from './firstPrompt';
import { SessionInfoReport } from './sessionInfoReport';

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

  const paths = conduitPaths();
  let gw = await findRunningGateway(paths);
  if (!gw) {
    const started = await startInBackground(paths, path.join(__dirname, 'conduit.js'), undefined, env);
    if (started.kind === 'failed') fail(`could not start the gateway: ${started.message}`, 1);
    gw = await findRunningGateway(paths);
    if (!gw) fail('the gateway started but does not answer', 1);
  }
  if (!gw.token) fail(`no access token at ${paths.token}`, 1);
  const { port, token } = gw as { port: number; token: string };
  // The session holds the gateway while claude runs: closing the VS Code window that started
  // it does not stop it under the session (src/protocol/leases.ts).
  const lease = holdLease({ port, token }, `conduit-claude-${randomUUID()}`, 'conduit-claude', SESSION_LEASE_SECONDS);
  await lease.taken;

  const childEnv: NodeJS.ProcessEnv = { ...env, ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}` };
  const headers = [env.ANTHROPIC_CUSTOM_HEADERS, `${TOKEN_HEADER}: ${token}`, `${CONTEXT_HEADER}: ${encodeSessionContext(ctx)}`].filter(Boolean);
  childEnv.ANTHROPIC_CUSTOM_HEADERS = headers.join('\n');
  // Without credentials of its own, claude uses the access token and the gateway its key;
  // with them (a key, or a Claude subscription), the gateway forwards them instead.
  if (!env.ANTHROPIC_API_KEY && !env.ANTHROPIC_AUTH_TOKEN && (await gatewayHasKey(port, token))) childEnv.ANTHROPIC_AUTH_TOKEN = token;

  const streamJson = wantsStreamJson(args);
  const merger = new LineMerger((t) => process.stdout.write(t));
  const report = new SessionReport(ctx.sessionId!);
  // The first prompt (for the sessions view) goes to the gateway with claude's session id as
  // soon as claude's init line names it; without stream-json, as claude starts.
  const info = new SessionInfoReport({ port, token }, ctx.sessionId!, promptFromArgs(args));
  const claudeResult = new ClaudeResultWatcher((claudeSessionId) => info.send(claudeSessionId));
  const emit = (r: UsageRecord) => {
    if (report.add(r)) merger.pushExtra(JSON.stringify(metadataLine(r)));
  };

  let events: SseConnection | null = null;
  // Requests routed but not yet ended. claude can exit on message_stop, a moment before
  // the gateway sees the reply end and records it: the flush waits for those.
  const inFlight = new Set<string>();
  let allSettled: (() => void) | null = null;
  if (streamJson) {
    events = connectSse(port, `/v1/conduit/events?session=${encodeURIComponent(ctx.sessionId!)}`, token, (e) => {
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

  const forward = (signal: NodeJS.Signals) => () => {
    // In a terminal, Ctrl-C already reached claude (same process group): don't send it twice.
    if (signal === 'SIGINT' && process.stdin.isTTY) return;
    child.kill(signal);
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, forward(s));

  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('error', (err) => fail(`could not run ${claude}: ${err.message}`, 127));
    child.once('close', (c, s) => resolve([c, s]));
  });

  if (streamJson) {
    // Records whose events were still on the way when claude exited.
    if (inFlight.size > 0) {
      await new Promise<void>((resolve) => {
        allSettled = resolve;
        setTimeout(resolve, 10_000); // at most: a gateway gone silent must not hold the exit
      });
    }
    // A busy gateway may be slow to answer: a few tries before giving up on the flush.
    // undefined: no answer; null: the gateway answered with a refusal (no such session).
    let session: SessionAnswer | null | undefined;
    for (let attempt = 0; attempt < 3 && session === undefined; attempt++) {
      session = await call({ port, token }, ROUTES.session, { params: { id: ctx.sessionId! } }, { timeoutMs: 5_000 })
        .catch((err: unknown) => (err instanceof GatewayHttpError ? null : undefined));
    }
    if (session) for (const rec of session.records) emit(rec);
    else if (session === undefined) process.stderr.write('conduit-claude: the gateway did not answer; some conduit_metadata lines may be missing\n');
    // Last: the session's id and Conduit's cost of it, with claude's own estimate beside it.
    claudeResult.end();
    merger.pushExtra(JSON.stringify(report.line(claudeResult.result)));
    merger.end();
    events?.close();
  }
  await info.finish(claudeResult.initSessionId ?? claudeResult.result?.sessionId ?? null);
  await lease.release();
  await new Promise<void>((resolve) => (process.stdout.writableNeedDrain ? process.stdout.once('drain', resolve) : resolve()));
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
}

async function gatewayHasKey(port: number, token: string): Promise<boolean> {
  const status = await call({ port, token }, ROUTES.status, {}).catch(() => null) as { providers?: { name: string; hasKey: boolean }[] } | null;
  if (!status) return false;
  return status.providers?.some((p) => p.name === 'anthropic' && p.hasKey) ?? false;
}

main().catch((err) => fail((err as Error).message, 1));
