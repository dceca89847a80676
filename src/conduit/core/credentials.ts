/**
 * What the gateway knows of its credentials (src/protocol/credentials.ts): whether the
 * default provider has a key, whether a client's own login has come through, and the
 * provider's last refusal of either. Kept in memory: after a restart a subscription login
 * shows again with the session's first request.
 */
import type { GatewayCredentials } from '../../protocol/credentials';

export type CredentialsSource = 'api-key' | 'client-login';

export class CredentialsTracker {
  private clientLoginSeen: number | null = null;
  private readonly refusals = new Map<CredentialsSource, { at: string; message: string }>();

  constructor(
    /** The default provider's name and whether it has a key, as the current configuration says. */
    private readonly provider: () => { name: string; hasKey: boolean },
    private readonly now: () => number = Date.now,
  ) {}

  /** A request carrying the client's own credentials is being forwarded. */
  clientLogin(): void {
    this.clientLoginSeen = this.now();
  }

  /** The provider answered a request sent with `source`'s credentials: 401 refuses them, a success clears a refusal. */
  answered(source: CredentialsSource, status: number, message: string): void {
    if (status === 401) this.refusals.set(source, { at: new Date(this.now()).toISOString(), message });
    else if (status >= 200 && status < 300) this.refusals.delete(source);
  }

  get current(): GatewayCredentials {
    const { name, hasKey } = this.provider();
    const state = hasKey ? 'api-key' : this.clientLoginSeen !== null ? 'client-login' : 'none';
    return {
      state,
      provider: name,
      clientLoginSeenAt: this.clientLoginSeen === null ? null : new Date(this.clientLoginSeen).toISOString(),
      refused: state === 'none' ? null : this.refusals.get(state) ?? null,
    };
  }
}
