/**
 * The prompt conduit-claude passes to claude on its command line (`claude -p "…"`,
 * `claude "…"`), read the way claude's option parser reads its arguments: options that take
 * a value skip it, variadic ones (<tools...>) take every argument up to the next option,
 * optional values ([value]) take the next argument unless it is an option; the first
 * argument left is the prompt, unless it names one of claude's commands (mcp, doctor, …).
 * A prompt given on stdin or typed in the interactive session is not seen: null.
 */

/** Options that take one value (<value>). */
const VALUE = new Set([
  '--agent', '--agents', '--append-system-prompt', '--append-system-prompt-file', '--autocompact', '--debug-file', '--effort',
  '--environment', '--fallback-model', '--input-format', '--json-schema', '--max-budget-usd', '--max-turns', '--model', '-n', '--name',
  '--output-format', '--permission-mode', '--permission-prompts', '--permission-prompt-tool', '--plugin-dir', '--plugin-url',
  '--remote-control-session-name-prefix', '--session-id', '--setting-sources', '--settings', '--system-prompt',
  '--system-prompt-file', '--system-prompt-snapshot',
]);
/** Options that take every value up to the next option (<values...>). */
const VARIADIC = new Set([
  '--add-dir', '--allowedTools', '--allowed-tools', '--betas', '--disallowedTools', '--disallowed-tools', '--file', '--mcp-config', '--tools',
]);
/** Options whose value is optional ([value]). */
const OPTIONAL = new Set(['--cloud', '-d', '--debug', '--from-pr', '--prompt-suggestions', '--remote-control', '-r', '--resume', '--teleport', '-w', '--worktree']);
/** claude's commands: a first argument naming one is not a prompt. */
const COMMANDS = new Set([
  'agents', 'attach', 'auth', 'auto-mode', 'config', 'doctor', 'gateway', 'help', 'import', 'install', 'logs', 'mcp', 'migrate-installer',
  'plugin', 'plugins', 'setup-token', 'update', 'upgrade',
]);

const isOption = (a: string) => a.startsWith('-') && a !== '-';

export function promptFromArgs(args: readonly string[]): string | null {
  let positional: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      positional = args[i + 1] ?? null;
      break;
    }
    if (isOption(a)) {
      if (a.includes('=')) continue; // --model=opus
      if (VALUE.has(a)) i++;
      else if (VARIADIC.has(a)) while (i + 1 < args.length && !isOption(args[i + 1])) i++;
      else if (OPTIONAL.has(a) && i + 1 < args.length && !isOption(args[i + 1])) i++;
      continue;
    }
    if (COMMANDS.has(a)) return null;
    positional = a;
    break;
  }
  return positional && positional.trim() ? positional : null;
}
