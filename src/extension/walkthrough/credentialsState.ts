/**
 * Whether the gateway can reach the provider, read defensively from what the gateway says:
 * `credentials.state` of its status (and of the supervisor's state, which copies /health),
 * or, from a gateway that does not report it yet, whether its anthropic provider holds a key.
 * Undefined when the value says neither.
 */
import { CREDENTIALS_STATES, type CredentialsState } from '../../protocol/credentials';

export type { CredentialsState };

export function credentialsStateOf(value: unknown): CredentialsState | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const o = value as { credentials?: { state?: unknown }; providers?: unknown };
  const state = o.credentials?.state;
  if (typeof state === 'string' && (CREDENTIALS_STATES as readonly string[]).includes(state)) return state as CredentialsState;
  if (!Array.isArray(o.providers)) return undefined;
  const anthropic = o.providers.find((p) => (p as { name?: unknown })?.name === 'anthropic') as { hasKey?: unknown } | undefined;
  return anthropic?.hasKey === true ? 'api-key' : 'none';
}
