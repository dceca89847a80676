// Finding the real claude (src/conduit/client/claudeLocator.ts): the configured path alone when
// set, then PATH in its order, then npm's global bin, ~/.claude/local, ~/.local/bin, the
// project's and the extension's node_modules/.bin. Every install place is a temp folder.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { claudeMissingMessage, locateClaude, type ClaudeSearch } from '../../src/conduit/client/claudeLocator';

describe('finding claude (locateClaude)', () => {
  let root: string;
  let home: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'conduit-locator-'));
    home = path.join(root, 'home');
    mkdirSync(home);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** An executable `claude` in root/<dir> (mode 0755 unless said otherwise); returns its path. */
  function claudeIn(dir: string, mode = 0o755): string {
    const file = path.join(root, dir, 'claude');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '#!/bin/sh\necho claude\n');
    chmodSync(file, mode);
    return file;
  }

  /** A search with nothing anywhere: no PATH, no npm (unless given), the temp home. */
  function search(o: Partial<ClaudeSearch> & { PATH?: string[] } = {}): ClaudeSearch {
    const { PATH, ...rest } = o;
    return { env: { PATH: (PATH ?? []).map((d) => path.join(root, d)).join(path.delimiter) }, homeDir: home, platform: 'linux', npmGlobalPrefix: async () => null, ...rest };
  }

  it('takes the first claude on PATH, in PATH order', async () => {
    claudeIn('b');
    const first = claudeIn('c');
    claudeIn('d');
    const found = await locateClaude(search({ PATH: ['a', 'c', 'b', 'd'] }));
    assert.deepEqual(found, { found: true, path: first, source: 'PATH' });
  });

  it('skips a PATH entry whose claude is a folder or not executable, and relative PATH entries', async () => {
    mkdirSync(path.join(root, 'dir/claude'), { recursive: true });
    claudeIn('plain', 0o644);
    const real = claudeIn('real');
    const cwdClaude = claudeIn('.');
    const env = { PATH: ['.', 'dir', 'plain'].map((d) => (d === '.' ? '.' : path.join(root, d))).join(path.delimiter) };
    const previous = process.cwd();
    process.chdir(path.dirname(cwdClaude)); // "." would find this one
    try {
      assert.deepEqual(await locateClaude(search({ env })), { found: false, searched: [path.join(home, '.claude/local/claude'), path.join(home, '.local/bin/claude')] });
      assert.deepEqual(await locateClaude(search({ env: { PATH: `${env.PATH}${path.delimiter}${path.join(root, 'real')}` } })), { found: true, path: real, source: 'PATH' });
    } finally {
      process.chdir(previous);
    }
  });

  it('after PATH: npm\'s global bin (npm_config_prefix, else `npm prefix -g`), ~/.claude/local, ~/.local/bin, the project, the extension', async () => {
    const ownDir = path.join(root, 'extension');
    const projectDirs = [path.join(root, 'project-a'), path.join(root, 'project-b')];
    const places = [
      { claude: claudeIn('extension/node_modules/.bin'), source: 'extension' },
      { claude: claudeIn('project-b/node_modules/.bin'), source: 'project' },
      { claude: claudeIn('project-a/node_modules/.bin'), source: 'project' },
      { claude: claudeIn('home/.local/bin'), source: '~/.local/bin' },
      { claude: claudeIn('home/.claude/local'), source: 'claude local install' },
      { claude: claudeIn('asked-prefix/bin'), source: 'npm global' },
    ];
    const askNpm = async () => path.join(root, 'asked-prefix');
    // Each place wins over the ones after it: remove the winner, the next one is found.
    for (let i = places.length - 1; i >= 0; i--) {
      const found = await locateClaude(search({ projectDirs, ownDir, npmGlobalPrefix: askNpm }));
      assert.deepEqual(found, { found: true, path: places[i].claude, source: places[i].source });
      rmSync(places[i].claude);
    }
    // npm_config_prefix (set by npm for scripts) is used without asking npm.
    const fromEnv = claudeIn('env-prefix/bin');
    let asked = false;
    const found = await locateClaude(search({ env: { npm_config_prefix: path.join(root, 'env-prefix') }, npmGlobalPrefix: async () => { asked = true; return null; } }));
    assert.deepEqual(found, { found: true, path: fromEnv, source: 'npm global' });
    assert.equal(asked, false);
  });

  it('PATH comes before every install place', async () => {
    claudeIn('home/.local/bin');
    claudeIn('project/node_modules/.bin');
    const onPath = claudeIn('bin');
    assert.deepEqual(await locateClaude(search({ PATH: ['bin'], projectDirs: [path.join(root, 'project')] })), { found: true, path: onPath, source: 'PATH' });
  });

  it('uses the configured path alone: one that points nowhere is reported, not replaced by another claude', async () => {
    claudeIn('bin');
    const configured = claudeIn('chosen');
    const base = { PATH: ['bin'], configuredName: 'conduit.claude.path' };
    assert.deepEqual(await locateClaude(search({ ...base, configured: `  ${configured}  ` })), { found: true, path: configured, source: 'setting' });

    const nowhere = path.join(root, 'nowhere/claude');
    const missing = await locateClaude(search({ ...base, configured: nowhere }));
    assert.deepEqual(missing, { found: false, configured: { name: 'conduit.claude.path', value: nowhere, problem: 'which does not exist' }, searched: [nowhere] });
    assert.ok(!missing.found);
    assert.equal(claudeMissingMessage(missing), `The setting conduit.claude.path points at ${nowhere}, which does not exist. Set it to the claude program, or clear it to search PATH and the usual install places.`);

    const folder = await locateClaude(search({ ...base, configured: path.join(root, 'bin') }));
    assert.equal(!folder.found && folder.configured?.problem, 'which is not a file');
    const relative = await locateClaude(search({ ...base, configured: 'node_modules/.bin/claude' }));
    assert.equal(!relative.found && relative.configured?.problem, 'which is not an absolute path');
  });

  it('expands ~ in the configured path', async () => {
    const inHome = claudeIn('home/tools');
    assert.deepEqual(await locateClaude(search({ configured: '~/tools/claude' })), { found: true, path: inHome, source: 'setting' });
  });

  it('says where it looked and names the setting (and the variable for terminals) when none is found', async () => {
    const missing = await locateClaude(search({ projectDirs: [path.join(root, 'project')], npmGlobalPrefix: async () => path.join(root, 'npm') }));
    assert.ok(!missing.found);
    assert.deepEqual(missing.searched, [
      path.join(root, 'npm/bin/claude'), path.join(home, '.claude/local/claude'), path.join(home, '.local/bin/claude'), path.join(root, 'project/node_modules/.bin/claude'),
    ]);
    const message = claudeMissingMessage(missing);
    assert.match(message, /^claude was not found on PATH nor in /);
    assert.match(message, /set the conduit\.claude\.path setting to it \(CONDUIT_CLAUDE_PATH in a terminal\)/);
    assert.match(message, /npm install -g @anthropic-ai\/claude-code/);
  });

  it('names the variable when CONDUIT_CLAUDE_PATH is what points nowhere', async () => {
    const missing = await locateClaude(search({ configured: path.join(root, 'gone'), configuredName: 'CONDUIT_CLAUDE_PATH' }));
    assert.ok(!missing.found);
    assert.match(claudeMissingMessage(missing), /^CONDUIT_CLAUDE_PATH \(VS Code passes its conduit\.claude\.path setting this way\) points at .*gone, which does not exist\./);
  });

  it('on Windows looks for claude.exe, then claude.cmd, and takes npm\'s prefix itself as its bin', async () => {
    const prefix = path.join(root, 'npm');
    mkdirSync(prefix);
    writeFileSync(path.join(prefix, 'claude.cmd'), '@echo off\r\n');
    const found = await locateClaude(search({ platform: 'win32', npmGlobalPrefix: async () => prefix }));
    assert.deepEqual(found, { found: true, path: path.join(prefix, 'claude.cmd'), source: 'npm global' });
  });
});
