// End to end with the REAL claude CLI (node_modules/.bin/claude, 2.1.x): conduit-claude
// runs it through a real gateway process (dist/conduit.js) whose upstream is the
// Anthropic stand-in; the same prompts are also run directly against the stand-in to
// compare what claude prints with and without Conduit in between.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PriceTable } from '../../src/conduit/pricing/priceTable';
import { SessionRenderer } from '../../src/extension/tasks/streamJsonRenderer';
import type { ConduitSessionLine } from '../../src/protocol/session';
import type { UsageRecord } from '../../src/protocol/usage';
import { startFakeAnthropic, type FakeAnthropic, type FakeUsage, type RecordedRequest } from '../support/fakeAnthropic';
import { ROOT, Sandbox, WRAPPER, ensureBuilt, processAlive, run, type RunResult } from '../cli/support';

const CLAUDE = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'claude.cmd' : 'claude');
const UPSTREAM_KEY = 'sk-test-e2e-upstream';
const STREAM_JSON = ['-p', 'say hi', '--output-format', 'stream-json', '--verbose'];
/** The lines conduit-claude adds: conduit_metadata per request, and conduit_session last. */
const ADDED_PREFIX = Buffer.from('{"type":"conduit_');

interface MetadataLine {
  type: 'conduit_metadata';
  data: {
    requestId: string;
    routingDecision: { model: string; source: string; tokenCount: number; timestamp: string };
    projectContext?: { projectId: string; agentId?: string };
    usage?: { inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number; cost: number | null };
  };
}

interface Parsed {
  /** Every line of stdout, parsed. */
  all: { type: string; [k: string]: unknown }[];
  claude: { type: string; [k: string]: unknown }[];
  metadata: MetadataLine[];
  sessions: ConduitSessionLine[];
}

/** Splits NDJSON output into lines (each must end with "\n" and be one JSON value). */
function parseNdjson(out: Buffer): Parsed {
  const text = out.toString('utf8');
  assert.ok(text.length > 0, 'some output');
  assert.ok(text.endsWith('\n'), 'the output ends with a whole line');
  const all = text.slice(0, -1).split('\n').map((line, i) => {
    try {
      return JSON.parse(line) as { type: string };
    } catch {
      assert.fail(`line ${i + 1} is not one JSON value (split or merged?): ${line.slice(0, 300)}`);
    }
  });
  return {
    all,
    claude: all.filter((l) => !l.type.startsWith('conduit_')),
    metadata: all.filter((l) => l.type === 'conduit_metadata') as unknown as MetadataLine[],
    sessions: all.filter((l) => l.type === 'conduit_session') as unknown as ConduitSessionLine[],
  };
}

/** The bytes of out without the lines conduit-claude added, and how many were removed. */
function withoutMetadata(out: Buffer): { rest: Buffer; removed: number } {
  const kept: Buffer[] = [];
  let removed = 0;
  let start = 0;
  while (start < out.length) {
    const nl = out.indexOf(0x0a, start);
    const end = nl < 0 ? out.length : nl + 1;
    const line = out.subarray(start, end);
    if (line.subarray(0, ADDED_PREFIX.length).equals(ADDED_PREFIX)) {
      assert.equal(line[line.length - 1], 0x0a, 'an added line is a whole line');
      removed++;
    } else {
      kept.push(line);
    }
    start = end;
  }
  return { rest: Buffer.concat(kept), removed };
}

function messagePosts(requests: RecordedRequest[]): RecordedRequest[] {
  return requests.filter((r) => r.method === 'POST' && new URL(r.url, 'http://x').pathname === '/v1/messages');
}

function expectedCost(model: string, u: FakeUsage): number | null {
  const cacheCreation = u.cache_creation_input_tokens ?? 0;
  return new PriceTable().cost(model, {
    inputTokens: u.input_tokens, outputTokens: u.output_tokens,
    cacheCreationTokens: cacheCreation, cacheCreation5mTokens: cacheCreation, cacheCreation1hTokens: 0,
    cacheReadTokens: u.cache_read_input_tokens ?? 0,
  }).cost;
}

function toUsage(u: FakeUsage) {
  return { inputTokens: u.input_tokens, outputTokens: u.output_tokens, cacheCreationTokens: u.cache_creation_input_tokens ?? 0, cacheReadTokens: u.cache_read_input_tokens ?? 0 };
}

/** A small executable script (POSIX sh or bash) at file. */
function script(file: string, lines: string[]): string {
  writeFileSync(file, `${lines.join('\n')}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('conduit-claude with the real claude CLI', function () {
  this.timeout(90_000);
  let fake: FakeAnthropic;
  let sb: Sandbox;

  before(async () => {
    ensureBuilt();
    assert.ok(existsSync(CLAUDE), `${CLAUDE} (npm install puts it there)`);
    // The stand-in insists on the upstream key, so a request that arrives came through a
    // gateway holding that key (or a direct run given it).
    fake = await startFakeAnthropic({ requireApiKey: UPSTREAM_KEY });
  });
  after(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    sb = new Sandbox();
  });
  afterEach(async () => {
    await sb.cleanup();
    fake.reset();
  });

  /** `conduit start --port 0` with the upstream key in its environment (and only there). */
  async function startGateway(): Promise<{ pid: number; port: number }> {
    const r = await sb.conduit(['start', '--port', '0'], sb.env({ CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: UPSTREAM_KEY }));
    assert.equal(r.code, 0, r.stderr);
    const { json } = await sb.status();
    assert.equal(json.running, true);
    return { pid: json.pid!, port: json.port! };
  }

  /** conduit-claude with an environment that holds no Anthropic credentials at all. */
  function wrapper(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    const env = sb.env({ CONDUIT_CLAUDE_PATH: CLAUDE, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', ...extra });
    for (const k of ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL']) assert.equal(env[k], undefined);
    return run(process.execPath, [WRAPPER, ...args], { env, cwd: sb.work, timeoutMs: 60_000 });
  }

  /** The same claude, directly at the stand-in, with its own HOME. */
  function direct(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    const home = path.join(sb.root, 'direct-home');
    mkdirSync(home, { recursive: true });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '', HOME: home, ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_AUTH_TOKEN: UPSTREAM_KEY,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', ...extra,
    };
    return run(CLAUDE, args, { env, cwd: sb.work, timeoutMs: 60_000 });
  }

  /** Checks one metadata line against the request the stand-in received and the usage it sent. */
  function checkMetadata(m: MetadataLine, upstream: RecordedRequest, sent: FakeUsage): void {
    const model = upstream.body.model as string;
    assert.equal(m.data.routingDecision.model, model, 'the routed model is the one the stand-in received');
    assert.equal(typeof m.data.routingDecision.source, 'string');
    assert.ok(Number.isInteger(m.data.routingDecision.tokenCount) && m.data.routingDecision.tokenCount > 0, 'a token estimate');
    assert.ok(!Number.isNaN(Date.parse(m.data.routingDecision.timestamp)), 'an ISO timestamp');
    assert.ok(m.data.usage, 'usage present');
    const { cost, ...tokens } = m.data.usage;
    assert.deepEqual(tokens, toUsage(sent), 'usage as the stand-in sent it');
    const expected = expectedCost(model, sent);
    assert.notEqual(expected, null, `${model} is in the price table`);
    assert.equal(cost, expected, 'cost from the price table');
  }

  it('stream-json: every line of claude unchanged plus one conduit_metadata line per API request', async () => {
    const sent: FakeUsage = { input_tokens: 1234, output_tokens: 56, cache_creation_input_tokens: 700, cache_read_input_tokens: 9000 };

    fake.enqueue({ kind: 'message', text: 'hi from the stand-in', usage: sent });
    const d = await direct(STREAM_JSON);
    assert.equal(d.code, 0, d.stderr);
    const directLines = parseNdjson(d.stdoutBytes);
    assert.equal(directLines.metadata.length, 0);
    fake.reset();

    await startGateway();
    fake.enqueue({ kind: 'message', text: 'hi from the stand-in', usage: sent });
    const w = await wrapper(STREAM_JSON);
    assert.equal(w.code, 0, w.stderr);
    const posts = messagePosts(fake.requests);
    assert.ok(posts.length >= 1);
    for (const p of posts) {
      assert.equal(p.headers['x-api-key'], UPSTREAM_KEY, 'the gateway sends its own key upstream');
      assert.equal(p.headers['x-conduit-token'], undefined, 'the access token never goes upstream');
      assert.equal(p.headers['x-conduit-context'], undefined);
    }

    const out = parseNdjson(w.stdoutBytes);
    assert.deepEqual(new Set(out.claude.map((l) => l.type)), new Set(directLines.all.map((l) => l.type)), 'the same kinds of lines as claude alone');
    assert.deepEqual(out.claude.map((l) => l.type), directLines.all.map((l) => l.type), 'in the same order');
    const result = out.claude.find((l) => l.type === 'result') as { result?: string; is_error?: boolean } | undefined;
    assert.equal(result?.is_error, false);
    assert.equal(result?.result, 'hi from the stand-in');

    // Byte level: without the metadata lines, only claude's whole lines are left.
    const { rest, removed } = withoutMetadata(w.stdoutBytes);
    assert.equal(removed, out.metadata.length + 1, 'the metadata lines and the session line');
    assert.equal(out.all[out.all.length - 1].type, 'conduit_session', 'the session line comes last');
    assert.ok(rest.toString('utf8').endsWith('\n'));
    for (const line of rest.toString('utf8').slice(0, -1).split('\n')) assert.notEqual((JSON.parse(line) as { type: string }).type, 'conduit_metadata');

    assert.equal(out.metadata.length, posts.length, 'exactly one metadata line per POST /v1/messages');
    checkMetadata(out.metadata[0], posts[0], sent);
    // No SYNAPSE_PROJECT_ID: the project of the working directory (not a repository: its real path).
    assert.deepEqual(out.metadata[0].data.projectContext, { projectId: realpathSync(sb.work) });
  });

  it('stream-json byte for byte: removing the metadata lines leaves exactly what claude wrote (a two-request turn)', async () => {
    await startGateway();
    // A tool call makes claude send a second request with the tool's result.
    const first: FakeUsage = { input_tokens: 2100, output_tokens: 40, cache_creation_input_tokens: 3000, cache_read_input_tokens: 0 };
    const second: FakeUsage = { input_tokens: 150, output_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 5100 };
    writeFileSync(path.join(sb.work, 'notes.txt'), 'conduit e2e\n');
    fake.enqueue(
      { kind: 'message', usage: first, toolUse: { name: 'Read', input: { file_path: path.join(sb.work, 'notes.txt') } } },
      { kind: 'message', text: 'read it', usage: second },
    );
    // claude's stdout is copied to a file on its way to conduit-claude.
    const tee = path.join(sb.root, 'claude-stdout.ndjson');
    const shim = script(path.join(sb.root, 'claude-tee'), ['#!/bin/bash', 'set -o pipefail', '"$REAL_CLAUDE" "$@" | tee "$TEE_FILE"']);
    const w = await wrapper(STREAM_JSON, { CONDUIT_CLAUDE_PATH: shim, REAL_CLAUDE: CLAUDE, TEE_FILE: tee });
    assert.equal(w.code, 0, w.stderr);

    const claudeWrote = readFileSync(tee);
    const { rest, removed } = withoutMetadata(w.stdoutBytes);
    assert.ok(rest.equals(claudeWrote), 'the output minus the added lines is byte for byte what claude printed');
    const posts = messagePosts(fake.requests);
    assert.equal(posts.length, 2, 'claude sent the tool result back');
    assert.equal(removed, posts.length + 1, 'one metadata line per request, and the session line');

    const { metadata } = parseNdjson(w.stdoutBytes);
    // Each line matches one request; the usages tell them apart.
    const byInput = new Map(metadata.map((m) => [m.data.usage?.inputTokens, m]));
    checkMetadata(byInput.get(first.input_tokens)!, posts[0], first);
    checkMetadata(byInput.get(second.input_tokens)!, posts[1], second);
    assert.equal(new Set(metadata.map((m) => m.data.requestId)).size, 2, 'distinct request ids');
  });

  /** The records of a Conduit session in the gateway's journal (CONDUIT_HOME/journal/*.ndjson). */
  function journalRecords(conduitSessionId: string): UsageRecord[] {
    const dir = path.join(sb.home, 'journal');
    return readdirSync(dir).filter((f) => f.endsWith('.ndjson'))
      .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as UsageRecord))
      .filter((r) => r.context.sessionId === conduitSessionId);
  }

  it("one session, one id and one cost: the summary states the sum of the session's records in the journal, and claude's estimate at the requested model beside it, labelled", async () => {
    await startGateway();
    // claude asks for its default model; the project routes every request to haiku, which
    // costs less: claude's own total_cost_usd is priced at the model it asked for.
    const first: FakeUsage = { input_tokens: 2100, output_tokens: 40, cache_creation_input_tokens: 3000, cache_read_input_tokens: 0 };
    const second: FakeUsage = { input_tokens: 150, output_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 5100 };
    writeFileSync(path.join(sb.work, 'notes.txt'), 'conduit e2e\n');
    fake.enqueue(
      { kind: 'message', usage: first, toolUse: { name: 'Read', input: { file_path: path.join(sb.work, 'notes.txt') } } },
      { kind: 'message', text: 'read it', usage: second },
    );
    const w = await wrapper(STREAM_JSON, {
      SYNAPSE_PROJECT_ID: 'proj-e2e-cost',
      SYNAPSE_PROJECT_MODEL_CONFIG: '{"enabled":true,"defaultModel":"claude-haiku-4-5"}',
    });
    assert.equal(w.code, 0, w.stderr);
    const out = parseNdjson(w.stdoutBytes);
    const posts = messagePosts(fake.requests);
    assert.equal(posts.length, 2);
    for (const p of posts) assert.equal(p.body.model, 'claude-haiku-4-5');

    // One id: claude's, as its own lines and the header the gateway received name it.
    const asked = (out.claude.find((l) => l.type === 'system') as unknown as { model: string }).model;
    assert.notEqual(asked, 'claude-haiku-4-5', 'claude asks for a model the project routes elsewhere');
    const result = out.claude.find((l) => l.type === 'result') as unknown as { session_id: string; total_cost_usd: number };
    const claudeSession = result.session_id;
    assert.match(claudeSession, /^[0-9a-f-]{36}$/);
    for (const p of posts) assert.equal(p.headers['x-claude-code-session-id'], claudeSession);
    assert.equal(out.sessions.length, 1, 'one session line');
    const summary = out.sessions[0].data;
    assert.equal(summary.sessionId, claudeSession, "the session line names claude's session id");
    for (const m of out.metadata) assert.equal((m.data as { sessionId?: string }).sessionId, claudeSession, "each metadata line names claude's session id");

    // One cost: Conduit's is the sum of the session's records in the journal.
    const records = journalRecords(summary.conduitSessionId);
    assert.equal(records.length, 2, 'two records in the journal');
    for (const r of records) assert.equal(r.context.claudeSessionId, claudeSession);
    const sum = Math.round(records.reduce((a, r) => a + r.cost.cost!, 0) * 1e6) / 1e6;
    assert.equal(summary.cost, sum);
    assert.equal(summary.requests, 2);
    assert.equal(summary.unknownCostRequests, 0);
    assert.deepEqual(summary.models, [{ requestedModel: asked, model: 'claude-haiku-4-5', requests: 2 }]);
    assert.equal(summary.claudeEstimateUsd, result.total_cost_usd);
    assert.ok(result.total_cost_usd > sum * 2, `claude priced it at the model it asked for (${result.total_cost_usd} vs ${sum})`);

    // The session's route answers to claude's id with the same records.
    const { port } = (await sb.status()).json as { port: number };
    const token = readFileSync(sb.tokenFile, 'utf8').trim();
    const route = await fetch(`http://127.0.0.1:${port}/v1/conduit/sessions/${claudeSession}`, { headers: { 'x-conduit-token': token } });
    assert.equal(route.status, 200);
    const bySession = await route.json() as { sessionId: string; cost: number; records: { id: string }[] };
    assert.equal(bySession.sessionId, claudeSession);
    assert.deepEqual(bySession.records.map((r) => r.id).sort(), records.map((r) => r.id).sort());

    // What the session terminal prints for this output.
    const terminal = new SessionRenderer();
    // eslint-disable-next-line no-control-regex -- terminal escape sequences are what it checks
    const printed = [...w.stdout.split('\n').flatMap((l) => terminal.push(l).lines), ...terminal.finish()].map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
    assert.ok(printed[0].startsWith(`● session ${claudeSession} · ${asked} → claude-haiku-4-5 · `), printed[0]);
    const last = printed[printed.length - 1];
    assert.match(last, /^✓ done in \d+\.\d s · 2 turns · /);
    assert.ok(last.endsWith(` · $${sum.toFixed(4)} (claude's estimate at the requested model: $${result.total_cost_usd.toFixed(4)})`), last);
  });

  it('a project whose configuration picks a haiku-class default: the stand-in receives claude-haiku-4-5', async () => {
    await startGateway();
    const sent: FakeUsage = { input_tokens: 800, output_tokens: 20, cache_creation_input_tokens: 100, cache_read_input_tokens: 300 };
    fake.enqueue({ kind: 'message', usage: sent });
    const w = await wrapper(STREAM_JSON, {
      SYNAPSE_PROJECT_ID: 'proj-e2e-1',
      SYNAPSE_PROJECT_MODEL_CONFIG: '{"enabled":true,"defaultModel":"claude-haiku-4-5"}',
    });
    assert.equal(w.code, 0, w.stderr);
    const posts = messagePosts(fake.requests);
    assert.ok(posts.length >= 1);
    for (const p of posts) assert.equal(p.body.model, 'claude-haiku-4-5');
    const { metadata } = parseNdjson(w.stdoutBytes);
    assert.equal(metadata.length, posts.length);
    checkMetadata(metadata[0], posts[0], sent);
    assert.deepEqual(metadata[0].data.projectContext, { projectId: 'proj-e2e-1' });
  });

  it("an agent that does not use the project's defaults: the stand-in receives the agent's model", async () => {
    await startGateway();
    const sent: FakeUsage = { input_tokens: 500, output_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    fake.enqueue({ kind: 'message', usage: sent });
    const w = await wrapper(STREAM_JSON, {
      SYNAPSE_PROJECT_ID: 'proj-e2e-2',
      SYNAPSE_PROJECT_MODEL_CONFIG: '{"enabled":true,"defaultModel":"claude-haiku-4-5"}',
      SYNAPSE_AGENT_ID: 'agent-7',
      SYNAPSE_AGENT_TYPE: 'backend',
      SYNAPSE_AGENT_MODEL_CONFIG: '{"useProjectDefaults":false,"overrideModel":"claude-sonnet-4-6"}',
    });
    assert.equal(w.code, 0, w.stderr);
    const posts = messagePosts(fake.requests);
    assert.ok(posts.length >= 1);
    for (const p of posts) assert.equal(p.body.model, 'claude-sonnet-4-6');
    const { metadata } = parseNdjson(w.stdoutBytes);
    assert.equal(metadata.length, posts.length);
    checkMetadata(metadata[0], posts[0], sent);
    assert.deepEqual(metadata[0].data.projectContext, { projectId: 'proj-e2e-2', agentId: 'agent-7' });
  });

  it('a malformed SYNAPSE_*_MODEL_CONFIG: exit 2 with a message naming the variable; claude never runs', async () => {
    const marker = path.join(sb.root, 'claude-ran');
    const shim = script(path.join(sb.root, 'claude-marker'), ['#!/bin/sh', 'touch "$MARKER"', 'exec "$REAL_CLAUDE" "$@"']);
    const cases: [string, string][] = [
      ['SYNAPSE_PROJECT_MODEL_CONFIG', '{"enabled":true,"defaultModel":'],
      ['SYNAPSE_PROJECT_MODEL_CONFIG', '{"enabled":"yes"}'],
      ['SYNAPSE_PROJECT_MODEL_CONFIG', '["claude-haiku-4-5"]'],
      ['SYNAPSE_AGENT_MODEL_CONFIG', 'overrideModel=claude-sonnet-4-6'],
    ];
    for (const [name, value] of cases) {
      const w = await wrapper(STREAM_JSON, { CONDUIT_CLAUDE_PATH: shim, REAL_CLAUDE: CLAUDE, MARKER: marker, SYNAPSE_PROJECT_ID: 'p', [name]: value });
      assert.equal(w.code, 2, `${name}=${value}: exit ${w.code}, ${w.stderr}`);
      assert.ok(w.stderr.includes(name), `the message names ${name}: ${w.stderr}`);
      assert.equal(w.stdout, '', 'nothing on stdout');
      assert.equal(existsSync(marker), false, 'claude never ran');
    }
    assert.equal(fake.requests.length, 0, 'nothing reached the stand-in');
    assert.equal(existsSync(sb.pidFile), false, 'no gateway was started for it');
  });

  it("claude's exit code passes through (authentication failures)", async () => {
    // No retries, so that claude gives up at once (2.1.x otherwise retries for minutes).
    const noRetries = { CLAUDE_CODE_MAX_RETRIES: '0' };
    fake.setDefault({ kind: 'error', status: 401, type: 'authentication_error', message: 'invalid x-api-key' });
    const d = await direct(STREAM_JSON, noRetries);
    assert.notEqual(d.code, 0, 'claude fails on its own');
    assert.ok(messagePosts(fake.requests).length >= 1);
    fake.reset();
    fake.setDefault({ kind: 'error', status: 401, type: 'authentication_error', message: 'invalid x-api-key' });

    await startGateway();
    const w = await wrapper(STREAM_JSON, noRetries);
    assert.equal(w.code, d.code, `the same exit code as claude alone: ${w.stderr}`);
    assert.equal(w.signal, null);
    const posts = messagePosts(fake.requests);
    assert.ok(posts.length >= 1);
    const out = parseNdjson(w.stdoutBytes);
    assert.deepEqual(out.claude.map((l) => l.type), parseNdjson(d.stdoutBytes).all.map((l) => l.type));
    assert.equal(out.metadata.length, posts.length, 'failed requests get their metadata line too');
    for (const m of out.metadata) assert.equal(m.data.usage, undefined, 'no usage for a refused request');
  });

  it('a signal sent to conduit-claude reaches claude, and claude\'s ending comes back', async () => {
    // Direct: how claude itself ends on SIGTERM while it waits for an answer.
    fake.setDefault({ kind: 'hang' });
    const directEnd = await endBySigterm(CLAUDE, STREAM_JSON, {
      PATH: process.env.PATH ?? '', HOME: path.join(sb.root, 'direct-home'), ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_AUTH_TOKEN: UPSTREAM_KEY,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    });
    fake.reset();
    fake.setDefault({ kind: 'hang' });

    await startGateway();
    const wrapperEnd = await endBySigterm(process.execPath, [WRAPPER, ...STREAM_JSON], sb.env({ CONDUIT_CLAUDE_PATH: CLAUDE, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' }));
    assert.ok(directEnd.signal === 'SIGTERM' || (directEnd.code !== null && directEnd.code !== 0), `claude stopped on SIGTERM: ${JSON.stringify(directEnd)}`);
    assert.deepEqual(wrapperEnd, directEnd, 'conduit-claude ends the way claude ended');
    fake.setDefault({ kind: 'message' });
  });

  /** Starts a program, waits until its request reached the stand-in, sends SIGTERM, returns how it ended. */
  async function endBySigterm(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    mkdirSync(env.HOME!, { recursive: true });
    const child = spawn(command, args, { env, cwd: sb.work, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const ended = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      await fake.waitForRequests(1, 30_000);
      child.kill('SIGTERM');
      const [code, signal] = await ended;
      return { code, signal };
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await ended.catch(() => undefined);
        assert.fail(`did not end: ${stderr}`);
      }
    }
  }

  it('without --output-format stream-json, stdout is exactly claude\'s', async () => {
    fake.setDefault({ kind: 'message', text: 'plain answer' });
    const d = await direct(['-p', 'say hi']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout, 'plain answer\n');

    await startGateway();
    const w = await wrapper(['-p', 'say hi']);
    assert.equal(w.code, 0, w.stderr);
    assert.ok(w.stdoutBytes.equals(d.stdoutBytes), `stdout is claude's alone: ${JSON.stringify(w.stdout)}`);
    assert.ok(messagePosts(fake.requests).some((p) => p.headers['x-api-key'] === UPSTREAM_KEY), 'it went through the gateway');

    // --output-format json: claude's one JSON document, nothing added.
    const j = await wrapper(['-p', 'say hi', '--output-format', 'json']);
    assert.equal(j.code, 0, j.stderr);
    assert.ok(!j.stdout.includes('conduit_metadata'));
    const doc = JSON.parse(j.stdout) as { type: string; result: string };
    assert.equal(doc.type, 'result');
    assert.equal(doc.result, 'plain answer');
  });

  it('starts the gateway itself when none is running (key from config.json)', async () => {
    sb = await replaceSandbox(sb, { port: 0, providers: { anthropic: { apiKey: UPSTREAM_KEY } } });
    assert.equal((await sb.status()).code, 3, 'nothing runs yet');
    const sent: FakeUsage = { input_tokens: 42, output_tokens: 7, cache_creation_input_tokens: 11, cache_read_input_tokens: 13 };
    fake.enqueue({ kind: 'message', usage: sent });

    const w = await wrapper(STREAM_JSON, { CONDUIT_ANTHROPIC_URL: fake.url });
    sb.remember();
    assert.equal(w.code, 0, w.stderr);

    const { code, json } = await sb.status();
    assert.equal(code, 0, 'the gateway it started keeps running');
    assert.ok(processAlive(json.pid!));
    if (process.platform !== 'win32') assert.equal(statSync(sb.tokenFile).mode & 0o777, 0o600);
    const posts = messagePosts(fake.requests);
    assert.ok(posts.length >= 1);
    assert.equal(posts[0].headers['x-api-key'], UPSTREAM_KEY, "the configured key went upstream");
    const { metadata } = parseNdjson(w.stdoutBytes);
    assert.equal(metadata.length, posts.length);
    checkMetadata(metadata[0], posts[0], sent);
  });
});

/** A fresh sandbox with another config.json (the old one is cleaned up). */
async function replaceSandbox(old: Sandbox, config: Record<string, unknown>): Promise<Sandbox> {
  await old.cleanup();
  return new Sandbox({ config });
}
