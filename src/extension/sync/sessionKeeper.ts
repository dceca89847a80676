/**
 * Keeps the Supabase session alive for the gateway's sync: the extension owns the
 * session (in SecretStorage), refreshes it before it expires, and hands every fresh one
 * to the gateway (which never refreshes it: two refreshers of one refresh token make
 * Supabase revoke the session). No 'vscode' here: the clock, the store, the refresh and
 * the hand-over are given, so this is tested with plain mocha.
 */
import type { SupabaseSession } from './supabaseAuth';

export interface SessionKeeperDeps {
  load(): Promise<SupabaseSession | null>;
  save(session: SupabaseSession | null): Promise<void>;
  refresh(session: SupabaseSession): Promise<SupabaseSession>;
  /** Posts the session to the gateway (ROUTES.syncSession). */
  handOver(session: SupabaseSession): Promise<void>;
  now(): number;
  setTimer(fn: () => void, ms: number): { cancel(): void };
  onProblem(message: string): void;
}

/** Refresh this long before the access token expires. */
export const REFRESH_MARGIN_S = 300;

export class SessionKeeper {
  private timer: { cancel(): void } | null = null;
  private stopped = false;

  constructor(private readonly deps: SessionKeeperDeps) {}

  /** A new session (after sign-in): stored, handed over, refreshed in time. */
  async adopt(session: SupabaseSession): Promise<void> {
    await this.deps.save(session);
    await this.keep(session);
  }

  /** The stored session, when there is one: refreshed if due, then handed over. */
  async resume(): Promise<SupabaseSession | null> {
    const session = await this.deps.load();
    if (!session) return null;
    await this.keep(session);
    return session;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private async keep(session: SupabaseSession): Promise<void> {
    this.stopped = false;
    let current = session;
    if (this.due(current)) {
      try {
        current = await this.deps.refresh(current);
        await this.deps.save(current);
      } catch (err) {
        this.deps.onProblem(`the Supabase session could not be refreshed: ${(err as Error).message}; sign in again to resume syncing`);
        return;
      }
    }
    try {
      await this.deps.handOver(current);
    } catch (err) {
      this.deps.onProblem(`the gateway did not take the Supabase session: ${(err as Error).message}`);
    }
    this.schedule(current);
  }

  private due(s: SupabaseSession): boolean {
    return s.expiresAt !== null && s.expiresAt - this.deps.now() / 1000 <= REFRESH_MARGIN_S;
  }

  private schedule(s: SupabaseSession): void {
    this.timer?.cancel();
    if (this.stopped || s.expiresAt === null) return;
    const ms = Math.max(1_000, (s.expiresAt - REFRESH_MARGIN_S) * 1000 - this.deps.now());
    this.timer = this.deps.setTimer(() => { void this.keep(s); }, ms);
  }
}
