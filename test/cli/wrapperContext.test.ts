// conduit-claude (the built dist/conduit-claude.js) and the size of the session context it
// sends in a request header: a context the gateway could not read is refused before claude
// runs, naming the variable and the limit; the largest one allowed goes through the real
// claude (node_modules/.bin/claude) to a real gateway process. Without SYNAPSE_PROJECT_ID,
// the context names the project of the working directory, derived as VS Code derives a
// workspace folder's (src/conduit/client/projectIdentity.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CONTEXT_HEADER, MAX_CONTEXT_HEADER_BYTES, decodeSessionContext, encodeSessionContext, type SessionContext } from '../../src/protocol/sessionContext';
import type { ProjectModelConfig } from '../../src/protocol/modelConfig';
import { ROOT, WRAPPER, run, useCliSandbox, type RunResult } from './support';

const CLAUDE = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'claude.cmd' : 'claude');
const UPSTREAM_KEY = 'sk-test-wrapper-context';
const SESSION_ID = '2b7f0c55-3f0e-4a52-9a57-7d1e0c8f6a10';
const PROJECT_ID = 'proj-big-config';

/** A valid project configuration whose JSON is at least `size` bytes (reasoning keywords). */
function projectConfigOfSize(size: number): ProjectModelConfig {
  const config: ProjectModelConfig = { enabled: true, defaultModel: 'claude-haiku-4-5', rules: { reasoningKeywords: [] } };
  while (JSON.stringify(config).length < size) config.rules!.reasoningKeywords!.push(`think hard about item ${config.rules!.reasoningKeywords!.length}`);
  return config;
}

/** The context conduit-claude sends for SESSION_ID, PROJECT_ID and this configuration. */
function contextFor(projectModelConfig: ProjectModelConfig): SessionContext {
  return { sessionId: SESSION_ID, projectId: PROJECT_ID, projectModelConfig };
}

describe('conduit-claude: the size of the session context', function () {
  this.timeout(90_000);
  const cli = useCliSandbox(UPSTREAM_KEY);

  function wrapper(args: string[], extra: NodeJS.ProcessEnv): Promise<RunResult> {
    const env = cli.sb.env({ CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', CONDUIT_SESSION_ID: SESSION_ID, SYNAPSE_PROJECT_ID: PROJECT_ID, ...extra });
    return run(process.execPath, [WRAPPER, ...args], { env, cwd: cli.sb.work, timeoutMs: 60_000 });
  }

  it('a configuration too large for the header: exit 2 naming the variable and the limit, before a gateway or claude starts', async () => {
    const marker = path.join(cli.sb.root, 'claude-ran');
    const claude = path.join(cli.sb.root, 'claude-marker');
    writeFileSync(claude, '#!/bin/sh\ntouch "$MARKER"\n');
    chmodSync(claude, 0o755);
    const cases: [string, string, string][] = [
      // Just over the limit: every API call would get a 431 from the gateway.
      ['SYNAPSE_PROJECT_MODEL_CONFIG', 'over the header limit', JSON.stringify(projectConfigOfSize(MAX_CONTEXT_HEADER_BYTES * 0.76))],
      // Within the variable's limit, but over the header's once encoded with the ids.
      ['SYNAPSE_PROJECT_MODEL_CONFIG', 'just under the variable\'s limit', JSON.stringify(projectConfigOfSize(MAX_CONTEXT_HEADER_BYTES * 0.75 - 40))],
      // Over 128 KB once encoded into ANTHROPIC_CUSTOM_HEADERS: spawning claude would fail with E2BIG.
      ['SYNAPSE_PROJECT_MODEL_CONFIG', '120 KB', JSON.stringify(projectConfigOfSize(120_000))],
      // Small once parsed, but the variable itself is passed on to claude.
      ['SYNAPSE_AGENT_MODEL_CONFIG', '130 KB of spaces', `{"useProjectDefaults": true${' '.repeat(130_000)}}`],
    ];
    for (const [name, what, value] of cases) {
      const w = await wrapper(['-p', 'say hi'], { CONDUIT_CLAUDE_PATH: claude, MARKER: marker, [name]: value });
      assert.equal(w.code, 2, `${name} ${what}: exit ${w.code}, ${w.stderr.slice(0, 500)}`);
      const message = w.stderr.trim();
      assert.equal(message.split('\n').length, 1, `one line: ${message.slice(0, 500)}`);
      assert.ok(message.startsWith(`conduit-claude: ${name}: `), `names ${name}: ${message}`);
      assert.ok(message.includes(`${MAX_CONTEXT_HEADER_BYTES}`) || message.includes(`${MAX_CONTEXT_HEADER_BYTES * 3 / 4}`), `states the limit: ${message}`);
      assert.doesNotMatch(message, /E2BIG/);
      assert.equal(w.stdout, '');
      assert.equal(existsSync(marker), false, `${what}: claude never ran`);
    }
    assert.equal(cli.fake.requests.length, 0);
    assert.equal(existsSync(cli.sb.pidFile), false, 'no gateway was started for it');
  });

  it('the largest context the limit allows reaches the gateway through the real claude', async () => {
    assert.ok(existsSync(CLAUDE), `${CLAUDE} (npm install puts it there)`);
    // The largest configuration whose context still fits.
    let size = MAX_CONTEXT_HEADER_BYTES * 0.7;
    while (encodeSessionContext(contextFor(projectConfigOfSize(size + 20))).length <= MAX_CONTEXT_HEADER_BYTES) size += 20;
    const config = projectConfigOfSize(size);
    const encoded = encodeSessionContext(contextFor(config)).length;
    assert.ok(encoded <= MAX_CONTEXT_HEADER_BYTES && encoded > MAX_CONTEXT_HEADER_BYTES - 100, `context of ${encoded} bytes`);

    const start = await cli.sb.conduit(['start', '--port', '0'], cli.sb.env({ CONDUIT_ANTHROPIC_URL: cli.fake.url, ANTHROPIC_API_KEY: UPSTREAM_KEY }));
    assert.equal(start.code, 0, start.stderr);
    const w = await wrapper(['-p', 'say hi'], { CONDUIT_CLAUDE_PATH: CLAUDE, SYNAPSE_PROJECT_MODEL_CONFIG: JSON.stringify(config) });
    assert.equal(w.code, 0, `exit ${w.code}: ${w.stderr}${w.stdout}`);
    const posts = cli.fake.requests.filter((r) => r.method === 'POST' && new URL(r.url, 'http://x').pathname === '/v1/messages');
    assert.ok(posts.length >= 1, 'claude\'s requests reached the stand-in');
    for (const p of posts) assert.equal(p.body.model, 'claude-haiku-4-5', 'routed by the project configuration the context carried');
  });

  it('without SYNAPSE_PROJECT_ID, the session belongs to the project of its working directory (as VS Code derives it)', async () => {
    // A claude that records the context conduit-claude gave it.
    const claude = path.join(cli.sb.root, 'claude-context');
    const seen = path.join(cli.sb.root, 'context-seen');
    writeFileSync(claude, '#!/bin/sh\nprintf "%s" "$ANTHROPIC_CUSTOM_HEADERS" > "$SEEN"\n');
    chmodSync(claude, 0o755);
    const repo = path.join(cli.sb.root, 'shop');
    const deep = path.join(repo, 'src', 'lib');
    mkdirSync(deep, { recursive: true });
    execFileSync('git', ['init', '-q', repo], { stdio: 'pipe' });
    execFileSync('git', ['-C', repo, 'remote', 'add', 'origin', 'git@github.com:acme/shop.git'], { stdio: 'pipe' });
    const contextIn = async (cwd: string, extra: NodeJS.ProcessEnv = {}): Promise<SessionContext> => {
      const env = cli.sb.env({ CONDUIT_CLAUDE_PATH: claude, SEEN: seen, CONDUIT_SESSION_ID: SESSION_ID, ...extra });
      delete env.SYNAPSE_PROJECT_ID;
      Object.assign(env, extra);
      const w = await run(process.execPath, [WRAPPER, '-p', 'say hi'], { env, cwd, timeoutMs: 60_000 });
      assert.equal(w.code, 0, `exit ${w.code}: ${w.stderr}`);
      const line = readFileSync(seen, 'utf8').split('\n').find((l) => l.toLowerCase().startsWith(`${CONTEXT_HEADER.toLowerCase()}:`));
      assert.ok(line, 'the context header was passed to claude');
      return decodeSessionContext(line.slice(line.indexOf(':') + 1).trim());
    };
    // Anywhere in the repository: the project its remote names (the repository's root).
    assert.equal((await contextIn(deep)).projectId, 'github.com/acme/shop');
    assert.equal((await contextIn(repo)).projectId, 'github.com/acme/shop');
    // A sub-folder opened in VS Code (it has a .vscode folder) is its own project.
    mkdirSync(path.join(repo, 'src', '.vscode'));
    assert.equal((await contextIn(deep)).projectId, 'github.com/acme/shop#src');
    // The committed setting wins.
    writeFileSync(path.join(repo, 'src', '.vscode', 'settings.json'), '{ "conduit.projectId": "shop-frontend", }');
    assert.equal((await contextIn(deep)).projectId, 'shop-frontend');
    // Outside a repository: the real path. Set, the variable wins; set but empty, no project.
    const plain = realpathSync(cli.sb.work);
    assert.equal((await contextIn(plain)).projectId, plain);
    assert.equal((await contextIn(deep, { SYNAPSE_PROJECT_ID: 'from-vscode' })).projectId, 'from-vscode');
    assert.equal((await contextIn(deep, { SYNAPSE_PROJECT_ID: '' })).projectId, undefined);
  });
});
