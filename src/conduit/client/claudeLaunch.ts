/**
 * How conduit-claude starts claude. On Windows an npm install puts a claude.cmd shim on PATH,
 * and a .cmd runs only through cmd.exe, which would read a prompt's & | % ^ as its own
 * syntax. So the shim's target is run instead (claude.exe itself, or a JavaScript entry with
 * node); only when it cannot be found does cmd.exe run the shim, every argument quoted for it.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { cmdInvocation } from './cmdQuoting';

export interface ClaudeLaunch {
  file: string;
  args: string[];
  /** For cmd.exe: the arguments are quoted already, Node must not quote them again. */
  windowsVerbatimArguments?: boolean;
}

export interface LaunchOptions {
  platform?: NodeJS.Platform;
  /** The node that runs a JavaScript entry (this process's own by default). */
  nodePath?: string;
  comspec?: string;
}

/** Throws when claude can only be run through cmd.exe and an argument cannot pass it (a line break). */
export function claudeLaunch(claude: string, args: string[], options: LaunchOptions = {}): ClaudeLaunch {
  const platform = options.platform ?? process.platform;
  if (platform !== 'win32' || !/\.(cmd|bat)$/i.test(claude)) return { file: claude, args };
  const target = shimTarget(claude) ?? packageBin(claude);
  if (target && /\.exe$/i.test(target)) return { file: target, args };
  if (target && /\.[cm]?js$/i.test(target)) return { file: options.nodePath ?? process.execPath, args: [target, ...args] };
  return { file: options.comspec ?? process.env.ComSpec ?? 'cmd.exe', args: cmdInvocation(claude, args), windowsVerbatimArguments: true };
}

const MAX_SHIM_BYTES = 64 * 1024;

/**
 * The program a shim runs: npm's (cmd-shim) and pnpm's name it relative to the shim's own
 * folder, "%dp0%\node_modules\...\cli.js" or "%~dp0\..\...". The last such path is the
 * target (npm's shim names "%dp0%\node.exe" first, as the node to run it with).
 */
function shimTarget(shim: string): string | null {
  let text: string;
  try {
    if (statSync(shim).size > MAX_SHIM_BYTES) return null;
    text = readFileSync(shim, 'utf8');
  } catch {
    return null;
  }
  const relative = [...text.matchAll(/"%~?dp0%?\\([^"%]+)"/gi)].map((m) => m[1]).filter((p) => !/(^|\\)node\.exe$/i.test(p)).pop();
  return relative === undefined ? null : existingFile(path.dirname(shim), relative);
}

/**
 * The bin entry of @anthropic-ai/claude-code next to the shim: a global install keeps the
 * package in <prefix>\node_modules beside the shims, a project's in node_modules around .bin.
 */
function packageBin(shim: string): string | null {
  const dir = path.dirname(shim);
  for (const packageDir of [path.join(dir, 'node_modules', '@anthropic-ai', 'claude-code'), path.join(dir, '..', '@anthropic-ai', 'claude-code')]) {
    let bin: unknown;
    try {
      bin = (JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { bin?: unknown }).bin;
    } catch {
      continue;
    }
    const entry = typeof bin === 'string' ? bin : (bin as Record<string, unknown> | undefined)?.claude;
    if (typeof entry === 'string') return existingFile(packageDir, entry);
  }
  return null;
}

/** `relative` (with \ or / separators) under `dir`, when it is a file. */
function existingFile(dir: string, relative: string): string | null {
  const file = path.join(dir, ...relative.split(/[\\/]+/));
  try {
    return statSync(file).isFile() ? file : null;
  } catch {
    return null;
  }
}
