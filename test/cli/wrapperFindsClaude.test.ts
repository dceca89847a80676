// conduit-claude (the built dist/conduit-claude.js) when it cannot find claude: exit 127 with
// a message that names what a person can set, the conduit.claude.path setting (and
// CONDUIT_CLAUDE_PATH in a terminal), before any gateway starts. The bundle runs from a copy
// in a temp folder: next to this checkout it would find the repository's own claude
// (node_modules/.bin, an install place it searches).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Sandbox, WRAPPER, ensureBuilt, run } from './support';

describe('conduit-claude: finding claude', function () {
  this.timeout(60_000);
  let sb: Sandbox;
  let copy: string;
  let empty: string;

  before(() => ensureBuilt());
  beforeEach(() => {
    sb = new Sandbox();
    const dist = mkdtempSync(path.join(os.tmpdir(), 'conduit-wrapper-copy-'));
    mkdirSync(path.join(dist, 'dist'));
    copy = path.join(dist, 'dist', 'conduit-claude.js');
    copyFileSync(WRAPPER, copy);
    empty = path.join(sb.root, 'empty');
    mkdirSync(empty);
  });
  afterEach(async () => {
    rmSync(path.dirname(path.dirname(copy)), { recursive: true, force: true });
    await sb.cleanup();
  });

  /** No claude anywhere: PATH and npm's global prefix are empty folders, HOME the sandbox's. */
  const nowhere = (extra: NodeJS.ProcessEnv = {}) => sb.env({ PATH: empty, npm_config_prefix: empty, ...extra });

  it('none anywhere: exit 127 naming the conduit.claude.path setting and CONDUIT_CLAUDE_PATH, and no gateway started', async () => {
    const r = await run(process.execPath, [copy, '-p', 'say hi'], { env: nowhere(), cwd: sb.work, timeoutMs: 30_000 });
    assert.equal(r.code, 127, r.stderr);
    assert.match(r.stderr, /^conduit-claude: claude was not found on PATH nor in /);
    assert.match(r.stderr, /set the conduit\.claude\.path setting to it \(CONDUIT_CLAUDE_PATH in a terminal\)/);
    assert.ok(r.stderr.includes(path.join(sb.userHome, '.local', 'bin', 'claude')), r.stderr);
    assert.ok(r.stderr.includes(path.join(sb.work, 'node_modules', '.bin', 'claude')), r.stderr);
    assert.ok(!existsSync(sb.pidFile), 'a gateway was started for a session that cannot run');
  });

  it('CONDUIT_CLAUDE_PATH pointing nowhere: exit 127 saying so, and that VS Code passes conduit.claude.path that way', async () => {
    const gone = path.join(sb.root, 'gone', 'claude');
    const r = await run(process.execPath, [copy, '-p', 'say hi'], { env: nowhere({ CONDUIT_CLAUDE_PATH: gone }), cwd: sb.work, timeoutMs: 30_000 });
    assert.equal(r.code, 127, r.stderr);
    assert.equal(r.stderr, `conduit-claude: CONDUIT_CLAUDE_PATH (VS Code passes its conduit.claude.path setting this way) points at ${gone}, which does not exist. Set it to the claude program, or clear it to search PATH and the usual install places.\n`);
  });
});
