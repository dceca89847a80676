/**
 * The environment the plugin thread starts with: the gateway's, without anything that
 * looks secret. A plugin needs PATH, HOME, locale and the like; it never needs the
 * provider keys the gateway forwards with, nor the user's other tokens.
 *
 * This narrows what a plugin sees by accident (a logged process.env, a dependency that
 * reports its environment); it is not a sandbox: plugins run in the gateway's process
 * with the user's rights (see the README).
 */

/** Names that usually hold a secret: API keys, tokens, passwords, credentials, sessions. */
const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|SUPABASE/i;

/** A URL with a password in it (postgres://user:password@host/db). */
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i;

/**
 * env without secrets. providerKeyNames are the variables config.json names as provider
 * keys (apiKeyEnv), which may be called anything.
 */
export function pluginEnvironment(env: NodeJS.ProcessEnv, providerKeyNames: Iterable<string>): Record<string, string> {
  const providerKeys = new Set(providerKeyNames);
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || providerKeys.has(name) || SECRET_NAME.test(name) || URL_WITH_PASSWORD.test(value)) continue;
    kept[name] = value;
  }
  return kept;
}
