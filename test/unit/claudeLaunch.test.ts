// How conduit-claude starts claude on Windows (decided here on any system, with the platform
// given): an npm shim's target run directly (claude.exe) or with node (a JavaScript entry),
// never the shim through cmd.exe when its target can be found; otherwise cmd.exe with every
// argument quoted (test/unit/cmdQuoting.test.ts reads those back).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { claudeLaunch } from '../../src/conduit/client/claudeLaunch';

const WIN = { platform: 'win32' as const, nodePath: 'C:\\node\\node.exe', comspec: 'C:\\Windows\\system32\\cmd.exe' };
const HOSTILE_ARGS = ['-p', 'say hi & whoami | %PATH% ^ "quoted"'];

/** npm's cmd-shim output for a JavaScript bin (run with node) and for a native one. */
const NODE_SHIM = (target: string) => [
  '@ECHO off', 'GOTO start', ':find_dp0', 'SET dp0=%~dp0', 'EXIT /b', ':start', 'SETLOCAL', 'CALL :find_dp0', '',
  'IF EXIST "%dp0%\\node.exe" (', '  SET "_prog=%dp0%\\node.exe"', ') ELSE (', '  SET "_prog=node"', '  SET PATHEXT=%PATHEXT:;.JS;=;%', ')', '',
  `endLocal & goto #_undefined_# 2>NUL || title %COMSPEC% & "%_prog%"  "%dp0%\\${target}" %*`, '',
].join('\r\n');
const EXE_SHIM = (target: string) => ['@ECHO off', 'GOTO start', ':find_dp0', 'SET dp0=%~dp0', 'EXIT /b', ':start', 'SETLOCAL', 'CALL :find_dp0', `"%dp0%\\${target}"   %*`, ''].join('\r\n');

describe('starting claude (claudeLaunch)', () => {
  let root: string;
  beforeEach(() => { root = mkdtempSync(path.join(os.tmpdir(), 'conduit-launch-')); });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** Writes files under root (paths with /) and returns the absolute path of the first. */
  function files(tree: Record<string, string>): string[] {
    return Object.entries(tree).map(([rel, text]) => {
      const file = path.join(root, ...rel.split('/'));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
      return file;
    });
  }

  it('anywhere but Windows, and for claude.exe, claude itself with the arguments as they are', () => {
    assert.deepEqual(claudeLaunch('/usr/bin/claude', HOSTILE_ARGS, { platform: 'linux' }), { file: '/usr/bin/claude', args: HOSTILE_ARGS });
    assert.deepEqual(claudeLaunch('/usr/bin/claude.cmd', HOSTILE_ARGS, { platform: 'darwin' }), { file: '/usr/bin/claude.cmd', args: HOSTILE_ARGS });
    assert.deepEqual(claudeLaunch('C:\\bin\\claude.exe', HOSTILE_ARGS, WIN), { file: 'C:\\bin\\claude.exe', args: HOSTILE_ARGS });
  });

  it('a global npm shim for a JavaScript entry: node runs the entry, no shell', () => {
    const [shim, cli] = files({
      'npm/claude.cmd': NODE_SHIM('node_modules\\@anthropic-ai\\claude-code\\cli.js'),
      'npm/node_modules/@anthropic-ai/claude-code/cli.js': '// claude',
    });
    assert.deepEqual(claudeLaunch(shim, HOSTILE_ARGS, WIN), { file: WIN.nodePath, args: [cli, ...HOSTILE_ARGS] });
  });

  it('a shim for the native claude.exe (claude-code 2.1): the exe itself, no shell', () => {
    const [shim, exe] = files({
      'npm/claude.cmd': EXE_SHIM('node_modules\\@anthropic-ai\\claude-code\\bin\\claude.exe'),
      'npm/node_modules/@anthropic-ai/claude-code/bin/claude.exe': 'MZ',
    });
    assert.deepEqual(claudeLaunch(shim, HOSTILE_ARGS, WIN), { file: exe, args: HOSTILE_ARGS });
  });

  it('a shim it cannot read: the bin entry of the package beside it (global and project layouts)', () => {
    const [globalShim, , globalCli] = files({
      'g/claude.cmd': '@"some other launcher" %*',
      'g/node_modules/@anthropic-ai/claude-code/package.json': JSON.stringify({ bin: { claude: 'cli.js' } }),
      'g/node_modules/@anthropic-ai/claude-code/cli.js': '// claude',
    });
    assert.deepEqual(claudeLaunch(globalShim, HOSTILE_ARGS, WIN), { file: WIN.nodePath, args: [globalCli, ...HOSTILE_ARGS] });
    const [projectShim, , projectExe] = files({
      'p/node_modules/.bin/claude.cmd': 'not a shim',
      'p/node_modules/@anthropic-ai/claude-code/package.json': JSON.stringify({ bin: 'bin/claude.exe' }),
      'p/node_modules/@anthropic-ai/claude-code/bin/claude.exe': 'MZ',
    });
    assert.deepEqual(claudeLaunch(projectShim, HOSTILE_ARGS, WIN), { file: projectExe, args: HOSTILE_ARGS });
  });

  it('no target to be found (missing, or neither .exe nor JavaScript): cmd.exe runs the shim, arguments quoted and passed verbatim', () => {
    const [missing, other] = files({
      'a/claude.cmd': NODE_SHIM('node_modules\\@anthropic-ai\\claude-code\\cli.js'), // the entry is not there
      'b/claude.bat': EXE_SHIM('claude.ps1'),
      'b/claude.ps1': '# powershell',
    });
    for (const shim of [missing, other]) {
      const launch = claudeLaunch(shim, HOSTILE_ARGS, WIN);
      assert.equal(launch.file, WIN.comspec);
      assert.equal(launch.windowsVerbatimArguments, true);
      assert.deepEqual(launch.args.slice(0, 3), ['/d', '/s', '/c']);
      assert.ok(launch.args[3].includes('^^^&^^^ whoami'), launch.args[3]);
    }
    assert.throws(() => claudeLaunch(missing, ['-p', 'two\nlines'], WIN), /argument 2 holds a line break/);
  });
});
