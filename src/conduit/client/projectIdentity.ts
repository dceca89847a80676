/**
 * A project's identity, derived from the folder itself so that VS Code (any profile, any
 * machine), claude run in a terminal and another machine all name the same project:
 *
 *  1. `conduit.projectId` in the folder's committed `.vscode/settings.json`, when set;
 *  2. else the repository's normalised remote (origin, else its first remote), plus the
 *     folder's path inside the repository after a `#` when the folder is not its root:
 *     `github.com/acme/shop`, `github.com/acme/shop#packages/api`;
 *  3. else (no git, no remote, an unreadable repository) the folder's real path.
 *
 * The extension (src/extension/projects.ts) and conduit-claude (src/conduit/wrapper/context.ts)
 * both call this module. The repository is read without running git: `.git` is a folder,
 * or a file naming the git directory (worktrees, submodules), and the remote is read from
 * its config. Only a config with include sections that does not name the remote itself is
 * asked of `git config`, with a timeout. Nothing here throws or waits on a broken
 * repository: it falls back to the real path.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';

/** The setting (in a folder's .vscode/settings.json) that names the project explicitly. */
export const PROJECT_ID_SETTING = 'conduit.projectId';
/** As long as a session context's projectId may be (parseSessionContext). */
export const MAX_PROJECT_KEY_LENGTH = 200;
/** Files larger than this are not a config or settings file anyone wrote: not read. */
const MAX_FILE_BYTES = 1024 * 1024;
/** How long `git config` may take when the config's includes must be followed. */
const GIT_TIMEOUT_MS = 3_000;

export type ProjectIdentitySource = 'setting' | 'git-remote' | 'path';

export interface ProjectIdentity {
  /** The project key: SYNAPSE_PROJECT_ID, and the workspace key the store knows the project by. */
  key: string;
  source: ProjectIdentitySource;
  /** The folder's real path. */
  folder: string;
  /** The normalised remote, for source 'git-remote'. */
  remote?: string;
  /** The folder's path inside the repository (posix, '' for its root), when in one. */
  pathInRepository?: string;
  /** What was found wrong on the way (an invalid setting, an unreadable repository), for a log. */
  problems: string[];
}

export interface IdentityOptions {
  /** Whether `git config` may be run for a config whose includes must be followed (default true). */
  allowGit?: boolean;
}

/** The identity of a folder (a VS Code workspace folder, or the folder a terminal session belongs to). */
export function projectIdentityOf(folder: string, options: IdentityOptions = {}): ProjectIdentity {
  const problems: string[] = [];
  const real = realPathOf(folder);
  const setting = projectIdSetting(real, problems);
  if (setting) return { key: setting, source: 'setting', folder: real, problems };
  try {
    const repo = findRepository(real);
    if (repo) {
      const pathInRepository = toPosix(path.relative(repo.root, real));
      const url = remoteUrlOf(repo, options.allowGit !== false, problems);
      const remote = url === null ? null : normaliseRemoteUrl(url, repo.root);
      if (url !== null && remote === null) problems.push(`the repository's remote ${JSON.stringify(url.slice(0, 200))} is not a URL or path git would take`);
      if (remote) {
        return { key: boundedKey(pathInRepository ? `${remote}#${pathInRepository}` : remote), source: 'git-remote', folder: real, remote, pathInRepository, problems };
      }
      return { key: boundedKey(toPosix(real)), source: 'path', folder: real, pathInRepository, problems };
    }
  } catch (err) {
    problems.push(`the repository could not be read: ${(err as Error)?.message ?? String(err)}`);
  }
  return { key: boundedKey(toPosix(real)), source: 'path', folder: real, problems };
}

/**
 * The folder a session started in `cwd` belongs to (conduit-claude without SYNAPSE_PROJECT_ID):
 * inside a repository, the nearest folder from `cwd` up to the repository's root that has a
 * `.vscode` folder (a workspace folder inside a repository, or one with the setting), else the
 * root; outside one, `cwd` itself.
 */
export function projectFolderOf(cwd: string): string {
  const real = realPathOf(cwd);
  let repo: Repository | null = null;
  try {
    repo = findRepository(real);
  } catch {
    return real;
  }
  if (!repo) return real;
  for (let dir = real; ; dir = path.dirname(dir)) {
    if (isDirectory(path.join(dir, '.vscode'))) return dir;
    if (dir === repo.root || path.dirname(dir) === dir) return repo.root;
  }
}

/** The identity of the project a session started in `cwd` belongs to. */
export function projectIdentityOfWorkingDirectory(cwd: string, options: IdentityOptions = {}): ProjectIdentity {
  return projectIdentityOf(projectFolderOf(cwd), options);
}

/**
 * A git remote as one string, the same for every way of writing it: `git@github.com:o/r.git`,
 * `ssh://git@github.com:22/o/r`, `https://user:pw@GitHub.com/o/r.git/` all give
 * `github.com/o/r`. Credentials, ports, the scheme and a trailing `.git` go; the host is
 * lowercased (its path keeps its case). A local path (or file:// URL) gives the absolute
 * path, resolved against `base`. Null for what is not a remote.
 */
export function normaliseRemoteUrl(raw: string, base?: string): string | null {
  const url = raw.trim();
  // eslint-disable-next-line no-control-regex
  if (!url || url.length > 2000 || /[\x00-\x1f\x7f]/.test(url)) return null;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(url);
  if (scheme) {
    const protocol = scheme[1].toLowerCase();
    if (protocol === 'file') return localRemote(decodeSafely(scheme[2].replace(/^[^/]*/, '')), base);
    const rest = scheme[2];
    const slash = rest.indexOf('/');
    const authority = slash < 0 ? rest : rest.slice(0, slash);
    const host = hostOf(authority);
    return host ? joinRemote(host, slash < 0 ? '' : rest.slice(slash)) : null;
  }
  // scp-like: [user@]host:path, a colon before any slash (and not a Windows drive letter).
  const scp = /^(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+):(.*)$/.exec(url);
  if (scp && !/^[a-z]$/i.test(scp[1])) {
    const host = scp[1].replace(/^\[|\]$/g, '').toLowerCase();
    return host && !/[\s@\\]/.test(host) ? joinRemote(host, scp[2]) : null;
  }
  return localRemote(url, base);
}

/** The host of a URL's authority: no credentials, no port, lowercased. */
function hostOf(authority: string): string | null {
  const at = authority.lastIndexOf('@');
  const hostPort = at < 0 ? authority : authority.slice(at + 1);
  const v6 = /^\[([^\]]*)\](?::\d*)?$/.exec(hostPort);
  const host = v6 ? v6[1] : hostPort.replace(/:\d*$/, '');
  return host && !/[\s/\\@]/.test(host) ? host.toLowerCase() : null;
}

function joinRemote(host: string, repoPath: string): string | null {
  const p = stripGitSuffix(repoPath.replace(/\\/g, '/').split('/').filter((s) => s && s !== '.').join('/'));
  return p ? `${host}/${p}` : null;
}

function localRemote(p: string, base: string | undefined): string | null {
  if (!p) return null;
  const absolute = path.resolve(base ?? '/', p);
  const normalised = stripGitSuffix(toPosix(absolute).replace(/\/+$/, ''));
  return normalised || null;
}

function stripGitSuffix(p: string): string {
  return p.replace(/\/+$/, '').replace(/\/\.git$/i, '').replace(/\.git$/i, '').replace(/\/+$/, '');
}

function decodeSafely(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A key within MAX_PROJECT_KEY_LENGTH: a longer one keeps its start and a hash of the whole. */
export function boundedKey(key: string): string {
  if (key.length <= MAX_PROJECT_KEY_LENGTH) return key;
  const hash = createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16);
  return `${key.slice(0, MAX_PROJECT_KEY_LENGTH - hash.length - 1)}~${hash}`;
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

function realPathOf(p: string): string {
  const absolute = path.resolve(p);
  try {
    return realpathSync.native(absolute);
  } catch {
    return absolute;
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A small text file, or null when absent, unreadable, not a file or too large. */
function readSmallFile(file: string): string | null {
  let fd: number | null = null;
  try {
    const st = statSync(file);
    if (!st.isFile() || st.size > MAX_FILE_BYTES) return null;
    fd = openSync(file, 'r');
    const buffer = Buffer.alloc(st.size);
    const n = readSync(fd, buffer, 0, st.size, 0);
    return buffer.subarray(0, n).toString('utf8');
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

// ---- the setting --------------------------------------------------------------------

/** `conduit.projectId` of the folder's .vscode/settings.json, or null (with a problem when set but unusable). */
function projectIdSetting(folder: string, problems: string[]): string | null {
  const file = path.join(folder, '.vscode', 'settings.json');
  const text = readSmallFile(file);
  if (text === null) return null;
  let settings: unknown;
  try {
    settings = JSON.parse(stripJsonComments(text));
  } catch {
    if (text.includes(PROJECT_ID_SETTING)) problems.push(`${file} is not valid JSON: ${PROJECT_ID_SETTING} in it is not read`);
    return null;
  }
  if (!settings || typeof settings !== 'object' || Array.isArray(settings)) return null;
  const value = (settings as Record<string, unknown>)[PROJECT_ID_SETTING];
  // Empty is the setting's default: not set.
  if (value === undefined || value === null || (typeof value === 'string' && !value.trim())) return null;
  const id = typeof value === 'string' ? value.trim() : '';
  // eslint-disable-next-line no-control-regex
  if (!id || id.length > MAX_PROJECT_KEY_LENGTH || /[\x00-\x1f\x7f]/.test(id)) {
    problems.push(`${PROJECT_ID_SETTING} in ${file} must be a text of 1 to ${MAX_PROJECT_KEY_LENGTH} characters without control characters; it is ignored`);
    return null;
  }
  return id;
}

/** JSON with comments and trailing commas (VS Code's settings files) as plain JSON. */
export function stripJsonComments(text: string): string {
  /** The index of the next character that is not whitespace nor inside a comment. */
  const skipTrivia = (from: number): number => {
    let i = from;
    for (;;) {
      while (i < text.length && /\s/.test(text[i])) i++;
      if (text[i] === '/' && text[i + 1] === '/') {
        while (i < text.length && text[i] !== '\n') i++;
      } else if (text[i] === '/' && text[i + 1] === '*') {
        const end = text.indexOf('*/', i + 2);
        i = end < 0 ? text.length : end + 2;
      } else {
        return i;
      }
    }
  };
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      out += ' ';
      i = skipTrivia(i);
    } else if (c === ',') {
      const next = skipTrivia(i + 1);
      if (text[next] !== '}' && text[next] !== ']') out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

// ---- the repository -----------------------------------------------------------------

interface Repository {
  /** The working tree's root (real path). */
  root: string;
  /** Where the config is: the git directory, or for a linked worktree the common one. */
  configDir: string;
}

/** The repository `dir` is in, found by walking up to a `.git`; null outside one. */
function findRepository(dir: string): Repository | null {
  for (let d = dir; ; d = path.dirname(d)) {
    const dotGit = path.join(d, '.git');
    let st;
    try {
      st = statSync(dotGit);
    } catch {
      st = null;
    }
    if (st?.isDirectory()) return { root: d, configDir: commonDirOf(dotGit) };
    if (st?.isFile()) {
      // A linked worktree or a submodule: "gitdir: <path>", relative to the file's folder.
      const text = readSmallFile(dotGit);
      const m = text ? /^gitdir:\s*(.+?)\s*$/m.exec(text) : null;
      if (!m) throw new Error(`${dotGit} does not name a git directory`);
      const gitDir = path.resolve(d, m[1]);
      if (!isDirectory(gitDir)) throw new Error(`${dotGit} names ${gitDir}, which is not a folder`);
      return { root: d, configDir: commonDirOf(gitDir) };
    }
    if (path.dirname(d) === d) return null;
  }
}

/** A linked worktree's git directory names the main one in `commondir`; the config is there. */
function commonDirOf(gitDir: string): string {
  const common = readSmallFile(path.join(gitDir, 'commondir'))?.trim();
  return common ? path.resolve(gitDir, common) : gitDir;
}

/** The remote's URL from the config (origin, else the first remote); null when it has none. */
function remoteUrlOf(repo: Repository, allowGit: boolean, problems: string[]): string | null {
  const configFile = path.join(repo.configDir, 'config');
  const text = readSmallFile(configFile);
  if (text === null) {
    problems.push(`${configFile} could not be read`);
    return null;
  }
  const config = parseGitConfig(text);
  const url = config.remotes.get('origin') ?? config.remotes.values().next().value ?? null;
  if (url !== null && config.remotes.has('origin')) return url;
  // An include may define (or redefine) the remote: only git knows how to follow every kind.
  if (config.hasIncludes && allowGit) return gitRemoteUrl(repo.root, problems) ?? url;
  return url;
}

export interface ParsedGitConfig {
  /** Each remote's first url, in the order the remotes appear. */
  remotes: Map<string, string>;
  hasIncludes: boolean;
}

/** The parts of a git config file this module needs; unreadable lines are skipped. */
export function parseGitConfig(text: string): ParsedGitConfig {
  const remotes = new Map<string, string>();
  let hasIncludes = false;
  let section = '';
  let subsection: string | null = null;
  for (const rawLine of text.split(/\r?\n/)) {
    let line = rawLine.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\](.*)$/.exec(line);
    if (header) {
      const name = header[1].toLowerCase();
      if (header[2] !== undefined) {
        section = name;
        subsection = header[2].replace(/\\(.)/g, '$1');
      } else {
        // The old form [remote.origin]: the subsection is lowercased.
        const dot = name.indexOf('.');
        section = dot < 0 ? name : name.slice(0, dot);
        subsection = dot < 0 ? null : name.slice(dot + 1);
      }
      if (section === 'include' || section === 'includeif') hasIncludes = true;
      line = header[3].trim();
      if (!line) continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(line);
    if (!kv) continue;
    if (section === 'remote' && subsection !== null && kv[1].toLowerCase() === 'url' && kv[2] !== undefined && !remotes.has(subsection)) {
      const value = configValue(kv[2]);
      if (value) remotes.set(subsection, value);
    }
  }
  return { remotes, hasIncludes };
}

/** A config value: quotes joined, escapes read, a comment outside quotes dropped. */
function configValue(raw: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\' && i + 1 < raw.length) {
      const n = raw[++i];
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'b' ? '' : n;
    } else if (c === '"') {
      quoted = !quoted;
    } else if ((c === '#' || c === ';') && !quoted) {
      break;
    } else {
      out += c;
    }
  }
  return out.trim();
}

/** `git config --get remote.origin.url`, never waiting more than GIT_TIMEOUT_MS; null on any failure. */
function gitRemoteUrl(root: string, problems: string[]): string | null {
  try {
    const r = spawnSync('git', ['-C', root, 'config', '--get', 'remote.origin.url'], {
      encoding: 'utf8', timeout: GIT_TIMEOUT_MS, windowsHide: true,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' },
      stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024,
    });
    if (r.error) {
      problems.push(`git config could not be run: ${r.error.message}`);
      return null;
    }
    return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
  } catch (err) {
    problems.push(`git config could not be run: ${(err as Error).message}`);
    return null;
  }
}
