// A project's identity derived from its folder (src/conduit/client/projectIdentity.ts), on real
// repositories made with the git binary in temp folders: remotes written every way give one
// key; a sub-folder adds its path; worktrees and submodules read the right config; no remote
// or no git gives the real path; the committed conduit.projectId setting wins; a broken or
// hostile repository falls back to the real path without throwing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  MAX_PROJECT_KEY_LENGTH, normaliseRemoteUrl, parseGitConfig, projectFolderOf, projectIdentityOf, projectIdentityOfWorkingDirectory, stripJsonComments,
} from '../../src/conduit/client/projectIdentity';

const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'protocol.file.allow=always', ...args], { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('project identity (projectIdentity.ts)', function () {
  this.timeout(30_000);
  let root: string;
  beforeEach(() => {
    root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'conduit-identity-')));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** A new repository at root/<name> (with one commit), with `origin` set when given. */
  function repo(name: string, origin?: string): string {
    const dir = path.join(root, name);
    mkdirSync(dir, { recursive: true });
    git(dir, 'init', '-q');
    writeFileSync(path.join(dir, 'README'), name);
    git(dir, 'add', 'README');
    git(dir, 'commit', '-q', '-m', 'first');
    if (origin !== undefined) git(dir, 'remote', 'add', 'origin', origin);
    return dir;
  }

  describe('normaliseRemoteUrl', () => {
    it('gives one string for every way of writing a remote', () => {
      const same = [
        'git@github.com:acme/shop.git',
        'git@github.com:acme/shop',
        'github.com:acme/shop.git',
        'https://github.com/acme/shop.git',
        'https://github.com/acme/shop',
        'https://github.com/acme/shop/',
        'https://GitHub.COM/acme/shop.git',
        'https://user:secret@github.com/acme/shop.git',
        'https://token@github.com:443/acme/shop',
        'http://github.com:8080/acme/shop.git',
        'ssh://git@github.com/acme/shop.git',
        'ssh://git@github.com:22/acme/shop.git',
        'git+ssh://git@github.com/acme/shop',
        'git://github.com/acme/shop.git',
        '  https://github.com//acme/./shop.git  ',
      ];
      for (const url of same) assert.equal(normaliseRemoteUrl(url), 'github.com/acme/shop', url);
    });

    it('keeps the case of the path and the depth of sub-groups', () => {
      assert.equal(normaliseRemoteUrl('git@GitLab.example.org:Group/Sub/Repo.git'), 'gitlab.example.org/Group/Sub/Repo');
      assert.equal(normaliseRemoteUrl('ssh://git@[::1]:2222/o/r.git'), '::1/o/r');
      assert.equal(normaliseRemoteUrl('git@[fe80::1]:o/r.git'), 'fe80::1/o/r');
    });

    it('a local path or file:// URL gives the absolute path, resolved against the base', () => {
      assert.equal(normaliseRemoteUrl('/srv/git/shop.git'), '/srv/git/shop');
      assert.equal(normaliseRemoteUrl('file:///srv/git/shop.git/'), '/srv/git/shop');
      assert.equal(normaliseRemoteUrl('../shop.git', '/home/me/work'), '/home/me/shop');
      assert.equal(normaliseRemoteUrl('/srv/git/shop/.git'), '/srv/git/shop');
      // A drive letter is a path, not host "C".
      assert.equal(normaliseRemoteUrl('C:/repos/shop.git', '/base'), '/base/C:/repos/shop');
    });

    it('refuses what is not a remote', () => {
      for (const url of ['', '   ', 'https://', 'https:///o/r', 'ssh://git@/o/r', 'https://github.com', 'https://github.com/.git',
        'https://github.com/o/r\nhttps://evil.example/x', `https://github.com/${'x'.repeat(3000)}`, 'https://git hub.com/o/r',
        'git@:o/r']) {
        assert.equal(normaliseRemoteUrl(url), null, JSON.stringify(url));
      }
    });
  });

  describe('on real repositories', () => {
    it('the same repository cloned with remotes of every shape has one key', () => {
      const shapes = ['git@github.com:acme/shop.git', 'https://github.com/acme/shop', 'https://u:p@GITHUB.com:443/acme/shop.git', 'ssh://git@github.com:22/acme/shop'];
      const keys = shapes.map((url, i) => projectIdentityOf(repo(`clone${i}`, url)));
      for (const id of keys) {
        assert.equal(id.key, 'github.com/acme/shop');
        assert.equal(id.source, 'git-remote');
        assert.equal(id.pathInRepository, '');
        assert.deepEqual(id.problems, []);
      }
    });

    it('a folder inside the repository adds its posix path after #', () => {
      const dir = repo('mono', 'git@github.com:acme/mono.git');
      const api = path.join(dir, 'packages', 'api');
      mkdirSync(api, { recursive: true });
      const id = projectIdentityOf(api);
      assert.equal(id.key, 'github.com/acme/mono#packages/api');
      assert.equal(id.folder, api);
      assert.equal(id.pathInRepository, 'packages/api');
    });

    it('a folder reached through a symbolic link is the folder it points to', () => {
      const dir = repo('linked', 'git@github.com:acme/linked.git');
      mkdirSync(path.join(dir, 'app'));
      symlinkSync(path.join(dir, 'app'), path.join(root, 'shortcut'));
      assert.equal(projectIdentityOf(path.join(root, 'shortcut')).key, 'github.com/acme/linked#app');
    });

    it('origin wins over other remotes; without origin the first remote counts', () => {
      const dir = repo('many');
      git(dir, 'remote', 'add', 'upstream', 'https://github.com/upstream/many.git');
      assert.equal(projectIdentityOf(dir).key, 'github.com/upstream/many');
      git(dir, 'remote', 'add', 'origin', 'https://github.com/me/many.git');
      assert.equal(projectIdentityOf(dir).key, 'github.com/me/many');
    });

    it('a linked worktree reads the main repository\'s config', () => {
      const dir = repo('main-wt', 'git@github.com:acme/wt.git');
      const wt = path.join(root, 'feature-wt');
      git(dir, 'worktree', 'add', '-q', wt);
      mkdirSync(path.join(wt, 'docs'));
      assert.equal(projectIdentityOf(wt).key, 'github.com/acme/wt');
      assert.equal(projectIdentityOf(path.join(wt, 'docs')).key, 'github.com/acme/wt#docs');
    });

    it('a submodule is its own repository, with its own remote', () => {
      const lib = repo('lib-src', 'https://github.com/acme/lib.git');
      const app = repo('app', 'https://github.com/acme/app.git');
      git(app, 'submodule', 'add', '-q', lib, 'vendor/lib');
      const sub = path.join(app, 'vendor', 'lib');
      // Its origin is the path it was cloned from: the real path of that repository.
      assert.equal(projectIdentityOf(sub).key, lib);
      git(sub, 'remote', 'set-url', 'origin', 'git@github.com:acme/lib.git');
      assert.equal(projectIdentityOf(sub).key, 'github.com/acme/lib');
      assert.equal(projectIdentityOf(app).key, 'github.com/acme/app');
      assert.equal(projectIdentityOf(path.join(app, 'vendor')).key, 'github.com/acme/app#vendor');
    });

    it('a remote defined through an include is asked of git', () => {
      const dir = repo('included');
      writeFileSync(path.join(root, 'extra.gitconfig'), '[remote "origin"]\n\turl = git@github.com:acme/included.git\n');
      git(dir, 'config', 'include.path', path.join(root, 'extra.gitconfig'));
      assert.equal(projectIdentityOf(dir).key, 'github.com/acme/included');
      // Told not to run git: the real path.
      assert.equal(projectIdentityOf(dir, { allowGit: false }).key, dir);
    });

    it('no remote, or no repository: the real path', () => {
      const none = repo('no-remote');
      assert.deepEqual([projectIdentityOf(none).key, projectIdentityOf(none).source], [none, 'path']);
      const plain = path.join(root, 'plain', 'folder');
      mkdirSync(plain, { recursive: true });
      assert.deepEqual([projectIdentityOf(plain).key, projectIdentityOf(plain).source], [plain, 'path']);
      // A folder that does not exist (deleted under VS Code) still has a key.
      assert.equal(projectIdentityOf(path.join(root, 'gone')).key, path.join(root, 'gone'));
    });

    it('a very long identity is cut to the limit with a hash of the whole, still distinct', () => {
      const deep = path.join(root, 'd'.repeat(120), 'e'.repeat(120));
      mkdirSync(deep, { recursive: true });
      const other = path.join(root, 'd'.repeat(120), 'f'.repeat(120));
      mkdirSync(other, { recursive: true });
      const [a, b] = [projectIdentityOf(deep).key, projectIdentityOf(other).key];
      assert.ok(a.length <= MAX_PROJECT_KEY_LENGTH && b.length <= MAX_PROJECT_KEY_LENGTH);
      assert.notEqual(a, b);
      assert.equal(projectIdentityOf(deep).key, a, 'the same every time');
    });
  });

  describe('hostile or broken repositories fall back to the real path, never throwing', () => {
    function withConfig(name: string, config: string | Buffer): string {
      const dir = repo(name);
      writeFileSync(path.join(dir, '.git', 'config'), config);
      return dir;
    }

    it('garbage, binary, unterminated quotes, a remote with a newline, a huge file', () => {
      const cases: [string, string | Buffer][] = [
        ['garbage', '[[[ not ] a config\n=== \n[remote "origin"\nurl = \n'],
        ['binary', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))],
        ['unterminated', '[remote "origin"]\n\turl = "https://github.com/acme/x.git\n'],
        ['newline', '[remote "origin"]\n\turl = https://github.com/acme/x.git\\nhttps://evil.example/y\n'],
        ['empty-url', '[remote "origin"]\n\turl =\n'],
        ['huge', `[remote "origin"]\n\turl = https://github.com/acme/x.git\n${'#'.repeat(2 * 1024 * 1024)}\n`],
      ];
      for (const [name, config] of cases) {
        const dir = withConfig(name, config);
        const id = projectIdentityOf(dir, { allowGit: false });
        if (name === 'unterminated') {
          // git refuses the line; read to its end, the remote is still the one written.
          assert.equal(id.key, 'github.com/acme/x', name);
        } else {
          assert.equal(id.key, dir, `${name}: ${id.key}`);
          assert.equal(id.source, 'path', name);
        }
      }
    });

    it('a .git file naming nothing, or a folder that is not there; a config that is a folder', () => {
      const a = path.join(root, 'bad-gitfile');
      mkdirSync(a);
      writeFileSync(path.join(a, '.git'), 'this is not a gitdir line\n');
      const b = path.join(root, 'missing-gitdir');
      mkdirSync(b);
      writeFileSync(path.join(b, '.git'), 'gitdir: ../nowhere/.git/worktrees/x\n');
      const c = repo('config-folder');
      rmSync(path.join(c, '.git', 'config'));
      mkdirSync(path.join(c, '.git', 'config'));
      for (const dir of [a, b, c]) {
        const id = projectIdentityOf(dir);
        assert.equal(id.key, dir);
        assert.equal(id.source, 'path');
        assert.ok(id.problems.length > 0, `a problem is reported for ${dir}`);
      }
    });

    it('a config, .git file or settings file that is a named pipe is not read (reading would wait forever)', () => {
      const dir = repo('fifo-config');
      rmSync(path.join(dir, '.git', 'config'));
      execFileSync('mkfifo', [path.join(dir, '.git', 'config')]);
      mkdirSync(path.join(dir, '.vscode'));
      execFileSync('mkfifo', [path.join(dir, '.vscode', 'settings.json')]);
      assert.equal(projectIdentityOf(dir).key, dir);
      const pipeGit = path.join(root, 'fifo-gitfile');
      mkdirSync(pipeGit);
      execFileSync('mkfifo', [path.join(pipeGit, '.git')]);
      assert.equal(projectIdentityOf(pipeGit).key, pipeGit);
      assert.equal(projectFolderOf(pipeGit), pipeGit);
    });

    it('the old [remote.origin] form, quoted values and comments are read as git reads them', () => {
      const parsed = parseGitConfig([
        '# a comment', '[core]', '\tbare = false', '[remote.origin]', '\turl = "git@github.com:acme/old.git" ; trailing comment',
        '[remote "second"] url = https://example.org/a/b.git # inline', '[remote "origin"]', '\turl = https://ignored.example/x',
      ].join('\n'));
      assert.equal(parsed.remotes.get('origin'), 'git@github.com:acme/old.git');
      assert.equal(parsed.remotes.get('second'), 'https://example.org/a/b.git');
      assert.equal(parsed.hasIncludes, false);
    });
  });

  describe('the conduit.projectId setting', () => {
    it('in .vscode/settings.json (comments and trailing commas allowed) names the project', () => {
      const dir = repo('named', 'git@github.com:acme/named.git');
      mkdirSync(path.join(dir, '.vscode'));
      writeFileSync(path.join(dir, '.vscode', 'settings.json'), '{\n  // the team\'s project\n  "editor.tabSize": 2, /* "conduit.projectId": "no" */\n  "conduit.projectId": "shop-backend",\n}\n');
      const id = projectIdentityOf(dir);
      assert.deepEqual([id.key, id.source], ['shop-backend', 'setting']);
      // A terminal anywhere below agrees.
      mkdirSync(path.join(dir, 'src', 'deep'), { recursive: true });
      assert.equal(projectIdentityOfWorkingDirectory(path.join(dir, 'src', 'deep')).key, 'shop-backend');
    });

    it('an unusable value is ignored and said so; the remote counts', () => {
      const dir = repo('bad-setting', 'git@github.com:acme/bad.git');
      mkdirSync(path.join(dir, '.vscode'));
      for (const value of ['42', JSON.stringify('x'.repeat(201)), JSON.stringify('a\u0000b')]) {
        writeFileSync(path.join(dir, '.vscode', 'settings.json'), `{ "conduit.projectId": ${value} }`);
        const id = projectIdentityOf(dir);
        assert.equal(id.key, 'github.com/acme/bad', value);
        assert.match(id.problems.join('\n'), /conduit\.projectId/, value);
      }
      // Empty (the setting's default) is not set, and no problem.
      for (const value of ['""', '"   "', 'null']) {
        writeFileSync(path.join(dir, '.vscode', 'settings.json'), `{ "conduit.projectId": ${value} }`);
        assert.deepEqual([projectIdentityOf(dir).key, projectIdentityOf(dir).problems], ['github.com/acme/bad', []], value);
      }
      writeFileSync(path.join(dir, '.vscode', 'settings.json'), '{ "conduit.projectId": "x", oops }');
      assert.equal(projectIdentityOf(dir).key, 'github.com/acme/bad');
    });

    it('stripJsonComments leaves strings alone', () => {
      const text = '{ "a": "// not a comment", "b": "/* nor this */", "c": "x,}" , /* c */ "d": [1, 2, ], }';
      assert.deepEqual(JSON.parse(stripJsonComments(text)), { a: '// not a comment', b: '/* nor this */', c: 'x,}', d: [1, 2] });
    });
  });

  describe('a terminal\'s project (projectFolderOf)', () => {
    it('inside a repository: the root, or the nearest folder with a .vscode folder', () => {
      const dir = repo('term', 'git@github.com:acme/term.git');
      const deep = path.join(dir, 'packages', 'web', 'src', 'lib');
      mkdirSync(deep, { recursive: true });
      assert.equal(projectFolderOf(deep), dir);
      assert.equal(projectIdentityOfWorkingDirectory(deep).key, projectIdentityOf(dir).key);
      mkdirSync(path.join(dir, 'packages', 'web', '.vscode'));
      assert.equal(projectFolderOf(deep), path.join(dir, 'packages', 'web'));
      assert.equal(projectIdentityOfWorkingDirectory(deep).key, 'github.com/acme/term#packages/web');
    });

    it('outside a repository: the folder itself', () => {
      const plain = path.join(root, 'plain', 'sub');
      mkdirSync(plain, { recursive: true });
      mkdirSync(path.join(root, 'plain', '.vscode'));
      assert.equal(projectFolderOf(plain), plain);
      assert.equal(projectIdentityOfWorkingDirectory(plain).key, plain);
    });
  });
});
