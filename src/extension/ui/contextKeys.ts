/**
 * The context keys package.json's when-clauses read, so that the command palette offers only
 * what applies now: no "Stop Gateway" while it is stopped, no "Start Gateway" while it runs,
 * no team commands without a Supabase sign-in (menus.commandPalette).
 */
import * as vscode from 'vscode';
import type { GatewaySupervisor } from '../gateway/supervisor';
import { SUPABASE_SESSION_SECRET } from '../sync/supabaseCommands';

/** The gateway's health as the supervisor sees it: stopped, starting, running or error. */
export const GATEWAY_STATE_KEY = 'conduit.gatewayState';
/** A Supabase session is kept in this VS Code's secret storage. */
export const SUPABASE_SIGNED_IN_KEY = 'conduit.supabaseSignedIn';

function setContext(key: string, value: unknown): void {
  void vscode.commands.executeCommand('setContext', key, value);
}

export class ContextKeys implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private gatewayState: string | null = null;

  constructor(supervisor: GatewaySupervisor, private readonly secrets: vscode.SecretStorage) {
    this.setGatewayState(supervisor.state.health);
    void this.readSignIn();
    this.disposables.push(
      // The supervisor fires on every health check too: the key is set only when the health changes.
      supervisor.onDidChange((s) => this.setGatewayState(s.health)),
      // Sign-in, sign-out and a session that expired for good all go through the secret.
      secrets.onDidChange((e) => { if (e.key === SUPABASE_SESSION_SECRET) void this.readSignIn(); }),
    );
  }

  private setGatewayState(health: string): void {
    if (health === this.gatewayState) return;
    this.gatewayState = health;
    setContext(GATEWAY_STATE_KEY, health);
  }

  private async readSignIn(): Promise<void> {
    setContext(SUPABASE_SIGNED_IN_KEY, Boolean(await this.secrets.get(SUPABASE_SESSION_SECRET)));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
