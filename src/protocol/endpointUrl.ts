/**
 * The person's own Anthropic endpoint (ANTHROPIC_BASE_URL in their Claude Code
 * environment: a company proxy, an LLM gateway), as conduit-claude carries it to the
 * gateway in the session context. Checked on both sides: the gateway sends the session's
 * requests there, so it must be a plain http(s) base URL, and it must carry no
 * credentials (those travel in the request's own headers, never in a URL that is shown
 * in decisions, logs and `conduit status`).
 */
import { ValidationError } from './validate';

export const MAX_ENDPOINT_URL_LENGTH = 2048;

/** scheme://authority[/path]: no user info (no "@"), no query, no fragment, no spaces or control characters. */
const BASE_URL = /^https?:\/\/[^/?#@\s\\]+(\/[^?#\s\\]*)?$/i;

/** The URL without trailing slashes; throws a ValidationError naming `path` when it is not an acceptable base URL. */
export function parseEndpointUrl(value: string, path: string): string {
  if (value.length > MAX_ENDPOINT_URL_LENGTH) throw new ValidationError(path, `longer than ${MAX_ENDPOINT_URL_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new ValidationError(path, 'holds control characters');
  if (!/^https?:\/\//i.test(value)) throw new ValidationError(path, `not an http(s) URL: ${JSON.stringify(value)}`);
  if (value.slice(value.indexOf('//') + 2).split(/[/?#]/)[0].includes('@')) {
    throw new ValidationError(path, 'holds credentials (user:password@): put the token in ANTHROPIC_AUTH_TOKEN or ANTHROPIC_CUSTOM_HEADERS instead');
  }
  if (!BASE_URL.test(value)) throw new ValidationError(path, `not a base URL (scheme, host and an optional path; no query or fragment): ${JSON.stringify(value)}`);
  return value.replace(/\/+$/, '');
}

/**
 * config.json's "personEndpoint": what a session whose Claude Code environment names its
 * own endpoint gets. "use" (the default): that endpoint is the Anthropic provider's base
 * URL for the session. "refuse": conduit-claude refuses to start it, and the gateway
 * refuses its requests, so they go nowhere rather than elsewhere.
 */
export const PERSON_ENDPOINT_SETTINGS = ['use', 'refuse'] as const;
export type PersonEndpointSetting = (typeof PERSON_ENDPOINT_SETTINGS)[number];

/** The person's endpoints in GET /v1/conduit/status: the setting, and the endpoints sessions sent requests to since the gateway (or its configuration) started. */
export interface PersonEndpointStatus {
  setting: PersonEndpointSetting;
  inUse: { baseUrl: string; lastRoutedAt: string }[];
}

/** Why a session that names its own endpoint is refused (the wrapper's message and the gateway's). */
export function personEndpointRefusal(baseUrl: string, where: string): string {
  return `Claude Code is set to send its requests to ${baseUrl} (${where}), and Conduit's config.json says "personEndpoint": "refuse", so this session is not started: `
    + 'nothing is sent there or anywhere else. Remove ANTHROPIC_BASE_URL from that place to go through Conduit to its configured provider, '
    + 'or set "personEndpoint": "use" in config.json to let Conduit route and measure the requests and send them to that endpoint.';
}
