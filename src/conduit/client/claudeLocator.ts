/**
 * Where the real claude CLI is, searched the way a person expects: the path they set
 * (VS Code's conduit.claude.path, CONDUIT_CLAUDE_PATH in a terminal), then PATH, then the
 * places its installers put it. One search for both conduit-claude and the extension: the
 * extension host's PATH is often not the person's shell's (code-server resets it to the
 * login shell's, a desktop VS Code started from the dock never read ~/.bashrc), so PATH
 * alone misses a claude that works in their terminal.
 *
 * Plain Node, no 'vscode'.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Where the install instructions are, for a person who has no claude yet. */
export const CLAUDE_INSTALL_URL = 'https://docs.anthropic.com/en/docs/claude-code/setup';
export const CLAUDE_INSTALL_COMMAND = 'npm install -g @anthropic-ai/claude-code';

export type ClaudeSource = 'setting' | 'PATH' | 'npm global' | 'claude local install' | '~/.local/bin' | 'project' | 'extension';

export interface ClaudeSearch {
  /** The path the person set; when given, the only answer (a stale setting is reported, never silently replaced). */
  configured?: string;
  /** The name of what `configured` came from, for messages: "conduit.claude.path" or "CONDUIT_CLAUDE_PATH". */
  configuredName?: string;
  /** PATH, and npm_config_prefix / NPM_CONFIG_PREFIX (npm's global prefix as npm passes it to scripts, or as set by hand). */
  env: NodeJS.ProcessEnv;
  homeDir: string;
  /**
   * Folders whose node_modules/.bin is searched: the workspace's. Only trusted ones: a
   * cloned repository must not get a program of its own run by opening it.
   */
  projectDirs?: string[];
  /** The extension's (or conduit-claude's package's) own folder: its node_modules/.bin. */
  ownDir?: string;
  platform?: NodeJS.Platform;
  /** npm's global prefix when the environment does not name it (default: `npm prefix -g`, once per process). */
  npmGlobalPrefix?: () => Promise<string | null>;
}

export interface ClaudeFound {
  found: true;
  path: string;
  source: ClaudeSource;
}

export interface ClaudeMissing {
  found: false;
  /** Set when the configured path is what failed: the value and why. */
  configured?: { name: string; value: string; problem: string };
  /** The places searched after PATH, in order, for the message. */
  searched: string[];
}

export type ClaudeLocation = ClaudeFound | ClaudeMissing;

export async function locateClaude(s: ClaudeSearch): Promise<ClaudeLocation> {
  const platform = s.platform ?? process.platform;
  const configured = s.configured?.trim();
  if (configured) {
    const name = s.configuredName ?? 'conduit.claude.path';
    const file = expandHome(configured, s.homeDir);
    const problem = !path.isAbsolute(file) ? 'which is not an absolute path' : runnableProblem(file, platform);
    return problem ? { found: false, configured: { name, value: configured, problem }, searched: [file] } : { found: true, path: file, source: 'setting' };
  }

  const searched: string[] = [];
  const look = (dir: string, source: ClaudeSource): ClaudeFound | null => {
    for (const name of commandNames(platform)) {
      const file = path.join(dir, name);
      if (source !== 'PATH') searched.push(file);
      if (!runnableProblem(file, platform)) return { found: true, path: file, source };
    }
    return null;
  };

  // Relative PATH entries ("." or "node_modules/.bin") would run whatever the current
  // folder holds: a shell may, an editor opening someone's repository must not.
  for (const dir of (s.env.PATH ?? s.env.Path ?? '').split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue;
    const hit = look(dir, 'PATH');
    if (hit) return hit;
  }
  const prefix = s.env.npm_config_prefix || s.env.NPM_CONFIG_PREFIX || await (s.npmGlobalPrefix ?? npmGlobalPrefix)();
  // npm puts global commands in <prefix>/bin, on Windows in the prefix itself.
  const places: [string, ClaudeSource][] = [
    ...(prefix ? [[platform === 'win32' ? prefix : path.join(prefix, 'bin'), 'npm global'] as [string, ClaudeSource]] : []),
    [path.join(s.homeDir, '.claude', 'local'), 'claude local install'], // `claude migrate-installer`
    [path.join(s.homeDir, '.local', 'bin'), '~/.local/bin'], // the native installer
    ...(s.projectDirs ?? []).map((dir) => [path.join(dir, 'node_modules', '.bin'), 'project'] as [string, ClaudeSource]),
    ...(s.ownDir ? [[path.join(s.ownDir, 'node_modules', '.bin'), 'extension'] as [string, ClaudeSource]] : []),
  ];
  for (const [dir, source] of places) {
    const hit = look(dir, source);
    if (hit) return hit;
  }
  return { found: false, searched };
}

/**
 * What to tell a person when claude was not found: what failed, and the two ways out
 * (install it; or point the setting, or the variable in a terminal, at it).
 */
export function claudeMissingMessage(m: ClaudeMissing): string {
  if (m.configured) {
    const c = m.configured;
    const where = c.name === 'CONDUIT_CLAUDE_PATH' ? 'CONDUIT_CLAUDE_PATH (VS Code passes its conduit.claude.path setting this way)' : `The setting ${c.name}`;
    return `${where} points at ${c.value}, ${c.problem}. Set it to the claude program, or clear it to search PATH and the usual install places.`;
  }
  return `claude was not found on PATH nor in ${m.searched.join(', ')}. Install it (${CLAUDE_INSTALL_COMMAND}, see ${CLAUDE_INSTALL_URL}) ` +
    'or set the conduit.claude.path setting to it (CONDUIT_CLAUDE_PATH in a terminal).';
}

function commandNames(platform: NodeJS.Platform): string[] {
  return platform === 'win32' ? ['claude.exe', 'claude.cmd', 'claude'] : ['claude'];
}

function expandHome(p: string, homeDir: string): string {
  return p === '~' || p.startsWith('~/') || p.startsWith('~\\') ? path.join(homeDir, p.slice(1)) : p;
}

/** Why `file` cannot be run as claude, or null when it can: a file, and executable outside Windows. */
function runnableProblem(file: string, platform: NodeJS.Platform): string | null {
  try {
    if (!statSync(file).isFile()) return 'which is not a file';
  } catch {
    return 'which does not exist';
  }
  if (platform === 'win32') return null;
  try {
    accessSync(file, constants.X_OK);
    return null;
  } catch {
    return 'which is not executable';
  }
}

let npmPrefix: Promise<string | null> | undefined;

/** `npm prefix -g`, asked once per process (npm takes a few hundred ms to start); null without npm. */
export function npmGlobalPrefix(): Promise<string | null> {
  npmPrefix ??= new Promise((resolve) => {
    // npm is npm.cmd on Windows, which runs only through a shell; the arguments are fixed.
    execFile(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['prefix', '-g'], { timeout: 10_000, shell: process.platform === 'win32', windowsHide: true }, (err, stdout) => {
      const prefix = String(stdout ?? '').trim();
      resolve(!err && path.isAbsolute(prefix) ? prefix : null);
    });
  });
  return npmPrefix;
}
