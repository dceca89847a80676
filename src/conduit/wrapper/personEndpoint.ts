/**
 * The person's own Claude Code environment. ANTHROPIC_BASE_URL may name their own
 * endpoint (a company proxy, an LLM gateway) in conduit-claude's environment or in the
 * `env` block of claude's settings files. conduit-claude points claude at the gateway, so
 * that URL becomes the upstream of the session instead: carried to the gateway in the
 * session context (anthropicBaseUrl), or refused when config.json says
 * "personEndpoint": "refuse". Never silently elsewhere.
 *
 * How claude 2.1 reads its environment (verified with the real CLI against stand-ins): the
 * `env` blocks of ~/.claude/settings.json (or $CLAUDE_CONFIG_DIR/settings.json), then the
 * project's .claude/settings.json, then .claude/settings.local.json are applied over the
 * process environment, key by key, each over the one before; `--settings <file>` is
 * applied over all three. So an ANTHROPIC_BASE_URL or ANTHROPIC_CUSTOM_HEADERS in a
 * settings file would override what conduit-claude sets (the gateway's address, the
 * access token and context headers): then the gateway's values go to claude in a
 * --settings file, with the person's custom headers kept in front of them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEndpointUrl, personEndpointRefusal, type PersonEndpointStatus } from '../../protocol/endpointUrl';
import { CONTEXT_HEADER, MAX_CONTEXT_HEADER_BYTES, encodeSessionContext, type SessionContext } from '../../protocol/sessionContext';
import { ValidationError, isPlainObject } from '../../protocol/validate';
import { call, type GatewayAccess } from '../client/call';
import { ROUTES } from '../../protocol/routes';

/** A value of claude's environment and where it comes from, in words. */
export interface ClaudeEnvValue {
  value: string;
  where: string;
}

/** claude's settings files whose `env` block it applies, lowest precedence first. */
export function claudeSettingsFiles(env: NodeJS.ProcessEnv, cwd: string): string[] {
  const userDir = env.CLAUDE_CONFIG_DIR || path.join(env.HOME || env.USERPROFILE || os.homedir(), '.claude');
  return [path.join(userDir, 'settings.json'), path.join(cwd, '.claude', 'settings.json'), path.join(cwd, '.claude', 'settings.local.json')];
}

/** The string values of a settings file's `env` block; none when the file is missing or not JSON (claude reports those itself). */
function settingsEnv(file: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
  const block = isPlainObject(value) && isPlainObject(value.env) ? value.env : {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(block)) if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * What claude would see for each of `names`: the last settings file that sets it, else the
 * process environment. A settings file's empty value is kept ('' unsets the variable for
 * claude, and still overrides what conduit-claude sets).
 */
export function claudeEnvironment<K extends string>(env: NodeJS.ProcessEnv, cwd: string, names: readonly K[]): Partial<Record<K, ClaudeEnvValue & { fromSettings: boolean }>> {
  const out: Partial<Record<K, ClaudeEnvValue & { fromSettings: boolean }>> = {};
  for (const name of names) {
    const v = env[name];
    if (v) out[name] = { value: v, where: `${name} in the environment`, fromSettings: false };
  }
  for (const file of claudeSettingsFiles(env, cwd)) {
    const block = settingsEnv(file);
    for (const name of names) {
      if (block[name] !== undefined) out[name] = { value: block[name], where: `env.${name} in ${file}`, fromSettings: true };
    }
  }
  return out;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether a base URL is this gateway's own address (claude already pointed at Conduit). */
export function isGatewayAddress(baseUrl: string, port: number): boolean {
  try {
    const u = new URL(baseUrl);
    return LOOPBACK.has(u.hostname.toLowerCase()) && Number(u.port || (u.protocol === 'https:' ? 443 : 80)) === port;
  } catch {
    return false;
  }
}

/** How claude is to be started around the person's environment. */
export interface ClaudeEnvironmentPlan {
  /** Why the session does not start (config.json refuses the person's endpoint). */
  refusal?: string;
  /** The person's endpoint this session's requests go to, and where it was set (said on stderr). */
  endpoint?: ClaudeEnvValue;
  /** The person's ANTHROPIC_CUSTOM_HEADERS as claude would see them (the gateway forwards them upstream). */
  customHeaders?: string;
  /** Arguments to put before claude's own: a --settings file when a settings file would override the gateway's values. */
  settingsArgs(gatewayEnv: Record<string, string>): string[];
}

const NAMES = ['ANTHROPIC_BASE_URL', 'ANTHROPIC_CUSTOM_HEADERS'] as const;

/**
 * Reads the person's Claude Code environment; when it names an endpoint other than the
 * gateway, asks the gateway's configuration whether to use it, and puts it in the
 * session context. Throws a ValidationError for a URL that cannot be an upstream.
 */
export async function planClaudeEnvironment(gw: GatewayAccess & { port: number }, env: NodeJS.ProcessEnv, cwd: string, ctx: SessionContext): Promise<ClaudeEnvironmentPlan> {
  const found = claudeEnvironment(env, cwd, NAMES);
  const base = found.ANTHROPIC_BASE_URL?.value ? found.ANTHROPIC_BASE_URL : undefined;
  const overridden = Boolean(found.ANTHROPIC_BASE_URL?.fromSettings || found.ANTHROPIC_CUSTOM_HEADERS?.fromSettings);
  const plan: ClaudeEnvironmentPlan = {
    customHeaders: found.ANTHROPIC_CUSTOM_HEADERS?.value || undefined,
    settingsArgs: (gatewayEnv) => (overridden ? settingsFileArgs(gatewayEnv) : []),
  };
  if (!base || isGatewayAddress(base.value, gw.port)) return plan;
  const baseUrl = parseEndpointUrl(base.value, base.where);
  if ((await personEndpointSetting(gw)) === 'refuse') return { ...plan, refusal: personEndpointRefusal(baseUrl, base.where) };
  ctx.anthropicBaseUrl = baseUrl;
  const encoded = encodeSessionContext(ctx).length;
  if (encoded > MAX_CONTEXT_HEADER_BYTES) {
    throw new ValidationError(base.where, `with the project and agent configurations it makes a session context of ${encoded} bytes in the ${CONTEXT_HEADER} request header, over its limit of ${MAX_CONTEXT_HEADER_BYTES}; shorten the configurations`);
  }
  return { ...plan, endpoint: { value: baseUrl, where: base.where } };
}

/** config.json's personEndpoint, from the gateway; 'use' when it does not say (it refuses requests itself when set to refuse). */
async function personEndpointSetting(gw: GatewayAccess): Promise<PersonEndpointStatus['setting']> {
  const status = await call(gw, ROUTES.status, {}).catch(() => null) as { personEndpoint?: PersonEndpointStatus } | null;
  return status?.personEndpoint?.setting ?? 'use';
}

/**
 * A --settings file with the gateway's values for claude's env (it holds the access token:
 * a private folder, mode 0600, removed when conduit-claude exits). A file rather than the
 * JSON itself on the command line, which other users of the machine can read.
 */
function settingsFileArgs(gatewayEnv: Record<string, string>): string[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'conduit-claude-'));
  const file = path.join(dir, 'settings.json');
  writeFileSync(file, JSON.stringify({ env: gatewayEnv }), { mode: 0o600 });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return ['--settings', file];
}
