// `npm start [folder]` (scripts/run-product.mjs): which folder it opens, read from where npm
// was started; and the profile it writes: conduit.claude.path set to the repository's claude
// unless the profile has a path of its own.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as StartOptions from '../../scripts/start-options.mjs' with { 'resolution-mode': 'import' };
import type * as CodeServerHelpers from '../../scripts/code-server.mjs' with { 'resolution-mode': 'import' };

describe('npm start [folder]', () => {
  let root: string;
  let options: typeof StartOptions;
  let helpers: typeof CodeServerHelpers;
  before(async () => {
    options = await import('../../scripts/start-options.mjs');
    helpers = await import('../../scripts/code-server.mjs');
  });
  beforeEach(() => { root = mkdtempSync(path.join(os.tmpdir(), 'conduit-start-')); });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const where = () => ({ cwd: path.join(root, 'shell'), defaultFolder: path.join(root, 'repo') });

  it('opens the repository without a folder, and the folder given, relative to where npm was started', () => {
    mkdirSync(path.join(root, 'shell/project'), { recursive: true });
    mkdirSync(path.join(root, 'elsewhere'));
    assert.equal(options.productFolder([], where()), path.join(root, 'repo'));
    assert.equal(options.productFolder(['project'], where()), path.join(root, 'shell/project'));
    assert.equal(options.productFolder(['../elsewhere'], where()), path.join(root, 'elsewhere'));
    assert.equal(options.productFolder([path.join(root, 'elsewhere')], where()), path.join(root, 'elsewhere'));
  });

  it('refuses a folder that does not exist, a file, an option and a second folder, with the usage', () => {
    mkdirSync(path.join(root, 'shell'));
    writeFileSync(path.join(root, 'shell/file.txt'), 'x');
    const refused = (args: string[], message: RegExp) => assert.throws(() => options.productFolder(args, where()), (err: Error) => {
      assert.match(err.message, message);
      assert.ok(err.message.endsWith(options.START_USAGE), err.message);
      return true;
    });
    refused(['missing'], new RegExp(`^${path.join(root, 'shell/missing').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not exist`));
    refused(['file.txt'], /file\.txt is not a folder/);
    refused(['--help'], /^--help: npm start takes no options/);
    refused(['a', 'b'], /^one folder at most, got 2: "a" "b"/);
  });

  it('the profile gets conduit.claude.path as a default: kept when the person set one, filled when empty', () => {
    const userDataDir = path.join(root, 'user');
    const settingsFile = () => JSON.parse(readFileSync(path.join(userDataDir, 'User/settings.json'), 'utf8')) as Record<string, unknown>;
    const claude = { 'conduit.claude.path': '/repo/node_modules/.bin/claude' };
    helpers.writeSettings(userDataDir, {}, claude);
    assert.equal(settingsFile()['conduit.claude.path'], '/repo/node_modules/.bin/claude');
    assert.equal(settingsFile()['security.workspace.trust.enabled'], false);

    writeFileSync(path.join(userDataDir, 'User/settings.json'), JSON.stringify({ 'conduit.claude.path': '/opt/claude/bin/claude' }));
    helpers.writeSettings(userDataDir, {}, claude);
    assert.equal(settingsFile()['conduit.claude.path'], '/opt/claude/bin/claude');

    writeFileSync(path.join(userDataDir, 'User/settings.json'), JSON.stringify({ 'conduit.claude.path': '' }));
    helpers.writeSettings(userDataDir, {}, claude);
    assert.equal(settingsFile()['conduit.claude.path'], '/repo/node_modules/.bin/claude');
  });

  it('the repository\'s claude is the one npm ci installed in node_modules/.bin', () => {
    assert.equal(helpers.repositoryClaude(), path.join(helpers.repoRoot, 'node_modules/.bin/claude'));
  });
});
