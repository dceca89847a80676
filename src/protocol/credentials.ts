/**
 * Whether the gateway can answer a session: the credentials it sends its provider.
 *
 *   'api-key'       the default provider has a key (the extension's secret storage puts it
 *                   in ANTHROPIC_API_KEY, or config.json's apiKey / apiKeyEnv): every
 *                   client works, with or without a login of its own;
 *   'client-login'  no key, but a client's own credentials (a Claude subscription's
 *                   `authorization: Bearer sk-ant-oat…`, or the person's x-api-key) have
 *                   reached the gateway and are forwarded: those clients work;
 *   'none'          neither: a claude that is not logged in fails with "Not logged in ·
 *                   Please run /login" before it sends anything to the gateway.
 *
 * GET /health (open) carries `{state}` only; GET /v1/conduit/status (token) the whole of it.
 * No key or token is ever part of it.
 */

export const CREDENTIALS_STATES = ['api-key', 'client-login', 'none'] as const;
export type CredentialsState = (typeof CREDENTIALS_STATES)[number];

/** What /health says (nothing but the state: the route is open). */
export interface CredentialsHealth {
  state: CredentialsState;
}

export interface GatewayCredentials extends CredentialsHealth {
  /** The provider whose credentials these are (the default one, for unprefixed model ids). */
  provider: string;
  /** When a client's own credentials last reached the gateway (ISO time), or null. */
  clientLoginSeenAt: string | null;
  /**
   * The provider's last refusal (401) of the credentials in use, with its message; null when
   * none, or once a later request with them succeeded.
   */
  refused: { at: string; message: string } | null;
}

/** The two ways to give the gateway credentials, in words for a message or notification. */
export const CREDENTIALS_FIXES =
  'set a provider API key (VS Code: "Conduit: Set Provider API Key"; terminal: ANTHROPIC_API_KEY where the gateway runs) '
  + 'or use your Claude subscription (run `claude /login`, then start the session again)';

/** One sentence for a person: what is missing and how to fix it; null when nothing is missing. */
export function credentialsProblem(c: CredentialsHealth | null | undefined): string | null {
  if (!c || c.state !== 'none') {
    const refused = (c as GatewayCredentials | undefined)?.refused;
    return refused ? `the provider refused the credentials (${refused.message}): ${CREDENTIALS_FIXES}` : null;
  }
  return `no credentials: the gateway has no provider API key and no Claude login has come through it; ${CREDENTIALS_FIXES}`;
}

export function isCredentialsState(v: unknown): v is CredentialsState {
  return typeof v === 'string' && (CREDENTIALS_STATES as readonly string[]).includes(v);
}
