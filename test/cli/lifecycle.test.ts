// The `conduit` CLI as people run it: the built dist/conduit.js as real processes, each
// test with its own CONDUIT_HOME, the gateway pointed at the Anthropic stand-in.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import path from 'node:path';
import { connectSse } from '../../src/conduit/client/sseClient';
import { PriceTable } from '../../src/conduit/pricing/priceTable';
import type { UsageRecord } from '../../src/protocol/usage';
import { CONTEXT_HEADER, encodeSessionContext } from '../../src/protocol/sessionContext';
import { formatUsd } from '../../src/protocol/format';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fakeAnthropic';
import { CONDUIT, Sandbox, ensureBuilt, freePort, processAlive, run, waitForDir } from './support';

const UPSTREAM_KEY = 'sk-test-cli-lifecycle';

describe('conduit CLI lifecycle (built dist/conduit.js)', function () {
  this.timeout(60_000);
  let fake: FakeAnthropic;
  let sb: Sandbox;
  /** Environment of a gateway: the stand-in as Anthropic, and an upstream key. */
  let gwEnv: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];

  before(async () => {
    ensureBuilt();
    fake = await startFakeAnthropic({ requireApiKey: UPSTREAM_KEY });
  });
  after(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    sb = new Sandbox();
    gwEnv = sb.env({ CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: UPSTREAM_KEY });
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGKILL');
        await once(c, 'exit');
      }
    }
    await sb.cleanup();
    fake.reset();
  });

  /** `conduit start --port 0` in the background; returns where it runs. */
  async function startGateway(env = gwEnv): Promise<{ pid: number; port: number }> {
    const r = await sb.conduit(['start', '--port', '0'], env);
    assert.equal(r.code, 0, `start failed: ${r.stderr}`);
    const m = /Conduit started on http:\/\/127\.0\.0\.1:(\d+) \(pid (\d+)\)/.exec(r.stdout);
    assert.ok(m, `unexpected start output: ${r.stdout}`);
    return { port: Number(m[1]), pid: Number(m[2]) };
  }

  it('start runs the gateway in the background; status --json reports it; /health answers', async () => {
    const { pid, port } = await startGateway();
    assert.ok(processAlive(pid), 'the gateway process is alive');
    assert.notEqual(pid, process.pid);

    const { code, json } = await sb.status();
    assert.equal(code, 0);
    assert.equal(json.running, true);
    assert.equal(json.pid, pid);
    assert.equal(json.port, port);
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string };
    assert.equal(json.version, pkg.version);
    assert.equal(typeof json.uptimeSeconds, 'number');
    assert.ok((json.uptimeSeconds as number) >= 0);

    assert.equal(sb.pid(), pid, 'pid file');
    assert.equal(sb.port(), port, 'port file');

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200);
    const h = (await health.json()) as { status: string; service: string; pid: number };
    assert.equal(h.service, 'conduit');
    assert.equal(h.pid, pid);

    // The plain status line says the same in words.
    const plain = await sb.conduit(['status'], sb.env());
    assert.equal(plain.code, 0);
    assert.match(plain.stdout, new RegExp(`running on http://127\\.0\\.0\\.1:${port} \\(pid ${pid}`));
  });

  it('start when already running says so, exits 0 and keeps the same gateway', async () => {
    const first = await startGateway();
    const again = await sb.conduit(['start', '--port', '0'], gwEnv);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already running/);
    assert.match(again.stdout, new RegExp(`pid ${first.pid}\\b`));
    const { json } = await sb.status();
    assert.equal(json.pid, first.pid);
    assert.equal(json.port, first.port);

    // Same for `start --foreground` in a second terminal: it says so and exits 0.
    const fg = await sb.conduit(['start', '--foreground', '--port', '0'], gwEnv);
    assert.equal(fg.code, 0, fg.stderr);
    assert.match(fg.stdout, /already running/);
    assert.equal(sb.pid(), first.pid);
  });

  it('stop ends the process and removes the pid and port files; status then exits 3', async () => {
    const { pid, port } = await startGateway();
    const stop = await sb.conduit(['stop'], sb.env());
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, new RegExp(`stopped \\(pid ${pid}\\)`));
    assert.equal(processAlive(pid), false, 'the gateway process is gone');
    assert.equal(existsSync(sb.pidFile), false, 'pid file removed');
    assert.equal(existsSync(sb.portFile), false, 'port file removed');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), 'nothing listens on the port any more');

    const { code, json } = await sb.status();
    assert.equal(code, 3);
    assert.equal(json.running, false);
    assert.equal(json.pid, null);
    const plain = await sb.conduit(['status'], sb.env());
    assert.equal(plain.code, 3);
    assert.match(plain.stdout, /not running/);

    // Stopping again is not an error.
    const again = await sb.conduit(['stop'], sb.env());
    assert.equal(again.code, 0);
    assert.match(again.stdout, /not running/);
  });

  it('restart replaces the gateway with a new process (and starts one when none runs)', async () => {
    const first = await startGateway();
    const r = await sb.conduit(['restart', '--port', '0'], gwEnv);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /restarted/);
    const { code, json } = await sb.status();
    assert.equal(code, 0);
    assert.equal(json.running, true);
    assert.notEqual(json.pid, first.pid, 'a new pid');
    assert.equal(processAlive(first.pid), false, 'the old process is gone');
    assert.ok(processAlive(json.pid!));

    await sb.conduit(['stop'], sb.env());
    const fromNothing = await sb.conduit(['restart', '--port', '0'], gwEnv);
    assert.equal(fromNothing.code, 0, fromNothing.stderr);
    assert.equal((await sb.status()).json.running, true);
  });

  it('--port 0 picks a free port; --port N uses N', async () => {
    const { port } = await startGateway();
    assert.ok(port > 0 && port !== 3460, `port ${port}`);
    assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
    await sb.conduit(['stop'], sb.env());

    const wanted = await freePort();
    const r = await sb.conduit(['start', '--port', String(wanted)], gwEnv);
    assert.equal(r.code, 0, r.stderr);
    const { json } = await sb.status();
    assert.equal(json.port, wanted);
    assert.equal(sb.port(), wanted);
  });

  it('a stale pid file (its process is dead) is detected and replaced on start', async () => {
    const dead = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const [exitCode] = (await once(dead, 'exit')) as [number];
    assert.equal(exitCode, 0);
    const stalePid = dead.pid!;
    assert.equal(processAlive(stalePid), false);
    writeFileSync(sb.pidFile, `${stalePid}\n`);
    writeFileSync(sb.portFile, `${await freePort()}\n`);

    const before = await sb.status();
    assert.equal(before.code, 3);
    assert.equal(before.json.running, false);

    const { pid } = await startGateway();
    assert.notEqual(pid, stalePid);
    assert.equal(sb.pid(), pid, 'the pid file now names the new gateway');
    assert.equal((await sb.status()).json.pid, pid);
  });

  it('a pid file naming a live process that is not the gateway does not block start', async () => {
    // The pid was reused by another program (here: this test process); nothing answers on the port.
    writeFileSync(sb.pidFile, `${process.pid}\n`);
    writeFileSync(sb.portFile, `${await freePort()}\n`);
    assert.equal((await sb.status()).code, 3);
    const { pid } = await startGateway();
    assert.equal(sb.pid(), pid);
    assert.equal((await sb.status()).json.pid, pid);
  });

  it('a port taken by another server: exit 1 and one clear line on stderr naming the port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      for (const args of [['start', '--port', String(taken)], ['start', '--foreground', '--port', String(taken)]]) {
        const r = await sb.conduit(args, gwEnv);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
        assert.equal(lines.length, 1, `one line on stderr, got: ${JSON.stringify(r.stderr)}`);
        assert.match(lines[0], new RegExp(`\\b${taken}\\b`));
        assert.match(lines[0], /in use/);
        assert.equal(existsSync(sb.pidFile), false, 'no pid file left behind');
        assert.equal((await sb.status()).code, 3);
      }
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('start --foreground runs until SIGTERM, then exits 0 and removes its state files', async () => {
    const child = spawn(process.execPath, [CONDUIT, 'start', '--foreground', '--port', '0'], { env: gwEnv, cwd: sb.work, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.stdout!.resume();
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    await Promise.race([
      waitForDir(sb.home, () => sb.pid() === child.pid && sb.port() !== null, 'the foreground gateway to write its pid file'),
      exited.then(([c]) => { throw new Error(`exited early with ${c}: ${stderr}`); }),
    ]);

    const { code, json } = await sb.status();
    assert.equal(code, 0);
    assert.equal(json.pid, child.pid);
    assert.equal((await fetch(`http://127.0.0.1:${json.port}/health`)).status, 200);

    child.kill('SIGTERM');
    const [exitCode, signal] = await exited;
    assert.equal(signal, null, 'it handles SIGTERM and exits by itself');
    assert.equal(exitCode, 0, stderr);
    assert.equal(existsSync(sb.pidFile), false, 'pid file removed');
    assert.equal(existsSync(sb.portFile), false, 'port file removed');
    assert.equal((await sb.status()).code, 3);
  });

  it('creates the access token with mode 0600 on first start and reuses it afterwards', async () => {
    assert.equal(existsSync(sb.tokenFile), false);
    const { port } = await startGateway();
    assert.ok(existsSync(sb.tokenFile), 'token file created');
    if (process.platform !== 'win32') assert.equal(statSync(sb.tokenFile).mode & 0o777, 0o600);
    const token = sb.token();
    assert.ok(token.length >= 32, 'a long random token');

    // It is the token the gateway accepts, and nothing else is.
    const status = (t: string) => fetch(`http://127.0.0.1:${port}/v1/conduit/status`, { headers: { 'x-conduit-token': t } });
    assert.equal((await status(token)).status, 200);
    assert.equal((await status('not-the-token-at-all')).status, 401);

    const r = await sb.conduit(['restart', '--port', '0'], gwEnv);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sb.token(), token, 'the same token after a restart');
    if (process.platform !== 'win32') assert.equal(statSync(sb.tokenFile).mode & 0o777, 0o600);
    const { json } = await sb.status();
    assert.equal((await fetch(`http://127.0.0.1:${json.port}/v1/conduit/status`, { headers: { 'x-conduit-token': token } })).status, 200);
  });

  it('logs prints the gateway log', async () => {
    const { port } = await startGateway();
    const r = await sb.conduit(['logs'], sb.env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`listening on http://127\\.0\\.0\\.1:${port}`));
    assert.equal(r.stdout, readFileSync(sb.logFile, 'utf8'), 'short log: printed whole');
    assert.ok(!r.stdout.includes(UPSTREAM_KEY), 'the key is never logged');

    const one = await sb.conduit(['logs', '-n', '1'], sb.env());
    assert.equal(one.code, 0);
    assert.equal(one.stdout.split('\n').filter(Boolean).length, 1);
  });

  it('install-wrapper creates CONDUIT_HOME/bin/conduit-claude, an executable that runs claude through the gateway', async () => {
    const { port } = await startGateway();
    const r = await sb.conduit(['install-wrapper'], sb.env());
    assert.equal(r.code, 0, r.stderr);
    const isWin = process.platform === 'win32';
    const wrapper = path.join(sb.home, 'bin', isWin ? 'conduit-claude.cmd' : 'conduit-claude');
    assert.ok(r.stdout.includes(wrapper), `names the installed file: ${r.stdout}`);
    assert.match(r.stdout, /PATH/, 'says how to put it on PATH');
    assert.ok(statSync(wrapper).isFile());
    if (!isWin) assert.ok((statSync(wrapper).mode & 0o111) !== 0, 'executable');

    // A stand-in for claude that shows what it was given, and exits with its own code.
    const fakeClaude = path.join(sb.root, 'fake-claude');
    writeFileSync(fakeClaude, [
      '#!/bin/sh',
      'for a in "$@"; do printf "arg:%s\\n" "$a"; done',
      'printf "base:%s\\n" "$ANTHROPIC_BASE_URL"',
      'exit 7',
      '',
    ].join('\n'));
    chmodSync(fakeClaude, 0o755);
    // CONDUIT_FALLBACK=fail: claude is pointed at the gateway itself, not at conduit-claude's failover relay.
    const w = await run(wrapper, ['-p', 'two words', '--model', 'x'], { env: sb.env({ CONDUIT_CLAUDE_PATH: fakeClaude, CONDUIT_FALLBACK: 'fail' }), cwd: sb.work, shell: isWin });
    assert.equal(w.code, 7, `the exit code of claude passes through: ${w.stderr}`);
    assert.equal(w.stdout, `arg:-p\narg:two words\narg:--model\narg:x\nbase:http://127.0.0.1:${port}\n`);

    // The `conduit` launcher installed beside it works too.
    const launcher = path.join(sb.home, 'bin', isWin ? 'conduit.cmd' : 'conduit');
    const s = await run(launcher, ['status', '--json'], { env: sb.env(), cwd: sb.work });
    assert.equal(s.code, 0, s.stderr);
    assert.equal((JSON.parse(s.stdout) as { port: number }).port, port);
  });

  it('bad usage exits 2 with a message', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command "frobnicate"/],
      [['start', '--port', 'abc'], /--port/],
      [['start', '--port', '70000'], /--port/],
      [['start', '--port'], /--port/],
      [['restart', '--port', '-1'], /--port/],
      [['logs', '-n', 'abc'], /-n/],
    ];
    for (const [args, message] of cases) {
      const r = await sb.conduit(args, gwEnv);
      assert.equal(r.code, 2, `conduit ${args.join(' ')} → ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, message, `conduit ${args.join(' ')}`);
      assert.equal(r.stdout, '', 'usage errors go to stderr');
    }
    assert.equal(existsSync(sb.pidFile), false, 'nothing was started');
  });

  it('statusline prints the routed model and cost of the session, and "not running" when stopped', async () => {
    const { port } = await startGateway();
    const token = sb.token();
    const sessionId = randomUUID();
    const usage = { input_tokens: 10_000, output_tokens: 2_000, cache_creation_input_tokens: 4_000, cache_read_input_tokens: 20_000 };
    fake.enqueue({ kind: 'message', text: 'hi', usage });

    // Wait for the gateway's own "usage recorded" event rather than for a while.
    let onUsage!: (r: UsageRecord) => void;
    const recorded = new Promise<UsageRecord>((resolve) => (onUsage = resolve));
    const events = connectSse(port, `/v1/conduit/events?claudeSession=${sessionId}`, token, (e) => {
      if (e.event === 'usage') onUsage((JSON.parse(e.data) as { record: UsageRecord }).record);
    });
    try {
      await events.ready;
      const res = await fetch(`http://127.0.0.1:${port}/v1/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-conduit-token': token, 'x-claude-code-session-id': sessionId,
          // The project routes every request to haiku: the line shows the model asked for and the routed one.
          [CONTEXT_HEADER]: encodeSessionContext({ projectId: 'statusline-project', projectModelConfig: { enabled: true, defaultModel: 'claude-haiku-4-5' } }),
        },
        body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: 'say hi' }] }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      await res.json();
      await recorded;
    } finally {
      events.close();
    }
    const [upstream] = await fake.waitForRequests(1);
    const routed = upstream.body.model as string;
    const cost = new PriceTable().cost(routed, {
      inputTokens: usage.input_tokens, outputTokens: usage.output_tokens,
      cacheCreationTokens: usage.cache_creation_input_tokens, cacheCreation5mTokens: usage.cache_creation_input_tokens, cacheCreation1hTokens: 0,
      cacheReadTokens: usage.cache_read_input_tokens,
    }).cost;
    assert.ok(cost !== null && cost > 0, `${routed} has a price`);

    const input = JSON.stringify({ session_id: sessionId, model: { id: 'claude-sonnet-4-5' }, workspace: { current_dir: sb.work } });
    const line = await sb.conduit(['statusline'], sb.env(), { input });
    assert.equal(line.code, 0, line.stderr);
    const out = line.stdout.trim();
    assert.equal(out.split('\n').length, 1, 'one line');
    assert.ok(out.includes(routed.replace(/^claude-/, '')), `names the routed model ${routed}: ${out}`);
    assert.notEqual(routed, 'claude-sonnet-4-5', 'the request was routed to another model');
    assert.ok(out.startsWith(`⇄ sonnet-4-5 → ${routed.replace(/^claude-/, '')} · `), `the model asked for, then the routed one: ${out}`);
    assert.ok(out.includes(formatUsd(cost)), `shows the cost ${formatUsd(cost)}: ${out}`);

    // Another session has no requests yet.
    const other = await sb.conduit(['statusline'], sb.env(), { input: JSON.stringify({ session_id: randomUUID() }) });
    assert.equal(other.code, 0);
    assert.ok(!other.stdout.includes(formatUsd(cost)));

    await sb.conduit(['stop'], sb.env());
    const stopped = await sb.conduit(['statusline'], sb.env(), { input });
    assert.equal(stopped.code, 0);
    assert.match(stopped.stdout, /not running/);
  });
});
