/**
 * Sign in to and out of Supabase, and choose the storage: local only, or local plus
 * Supabase. The session lives in SecretStorage; the gateway gets it over its local API.
 */
import * as vscode from 'vscode';
import path from 'node:path';
import type { SupabaseProject, SupabaseSession } from './supabaseAuth';

type SupabaseAuth = typeof import('./supabaseAuth');

/**
 * supabase-js is large: it lives in its own bundle (dist/supabase-auth.js), loaded on the
 * first sign-in or refresh, so that activation stays light.
 */
function loadAuth(extensionPath: string): SupabaseAuth {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(extensionPath, 'dist', 'supabase-auth.js')) as SupabaseAuth;
}
import { call } from '../../conduit/client/call';
import { ROUTES } from '../../protocol/routes';
import type { GatewayApi } from '../gateway/gatewayApi';
import type { GatewaySupervisor } from '../gateway/supervisor';
import { SessionKeeper } from './sessionKeeper';
import { acceptInvitations } from './teamFlow';

/** Where the Supabase session is kept (SecretStorage); its presence means signed in (ui/contextKeys.ts). */
export const SUPABASE_SESSION_SECRET = 'conduit.supabase.session';

export class SupabaseSync implements vscode.Disposable {
  private readonly keeper: SessionKeeper;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly api: GatewayApi,
    supervisor: GatewaySupervisor,
    private readonly log: vscode.LogOutputChannel,
    private readonly extensionPath: string,
  ) {
    this.keeper = new SessionKeeper({
      load: async () => {
        const raw = await this.secrets.get(SUPABASE_SESSION_SECRET);
        try { return raw ? (JSON.parse(raw) as SupabaseSession) : null; } catch { return null; }
      },
      save: async (s) => { if (s) await this.secrets.store(SUPABASE_SESSION_SECRET, JSON.stringify(s)); else await this.secrets.delete(SUPABASE_SESSION_SECRET); },
      refresh: (s) => this.auth().refreshSession(s, s.refreshToken),
      handOver: async (s) => { await call(this.api, ROUTES.syncSession, { body: { url: s.url, anonKey: s.anonKey, accessToken: s.accessToken, refreshToken: s.refreshToken } }); },
      now: () => Date.now(),
      setTimer: (fn, ms) => { const t = setTimeout(fn, ms); return { cancel: () => clearTimeout(t) }; },
      onProblem: (m) => { this.log.warn(`sync: ${m}`); void vscode.window.showWarningMessage(`Conduit: ${m}`); },
    });
    // Every (re)start of the gateway needs the session again: it keeps it in memory only.
    this.subscription = supervisor.onDidChange((s) => {
      if (s.health === 'running' && this.storage === 'supabase') void this.keeper.resume();
    });
  }

  private auth(): SupabaseAuth {
    return loadAuth(this.extensionPath);
  }

  get storage(): 'local' | 'supabase' {
    return vscode.workspace.getConfiguration('conduit').get('storage') === 'supabase' ? 'supabase' : 'local';
  }

  async signIn(): Promise<void> {
    const project = await this.project();
    if (!project) return;
    const email = await vscode.window.showInputBox({ prompt: 'Supabase account email', ignoreFocusOut: true, validateInput: (v) => (/^\S+@\S+$/.test(v) ? undefined : 'An email address') });
    if (!email) return;
    const how = await vscode.window.showQuickPick([
      { label: 'Password', id: 'password' as const },
      { label: 'One-time code by email', id: 'otp' as const },
    ], { placeHolder: 'Sign in with' });
    if (!how) return;
    let session: SupabaseSession;
    if (how.id === 'password') {
      const password = await vscode.window.showInputBox({ prompt: 'Password', password: true, ignoreFocusOut: true });
      if (!password) return;
      session = await this.auth().signInWithPassword(project, email, password);
    } else {
      await this.auth().sendEmailOtp(project, email);
      const code = await vscode.window.showInputBox({ prompt: `The code sent to ${email}`, ignoreFocusOut: true });
      if (!code) return;
      session = await this.auth().verifyOtp(project, email, code.trim());
    }
    await vscode.workspace.getConfiguration('conduit').update('storage', 'supabase', vscode.ConfigurationTarget.Global);
    await this.keeper.adopt(session);
    void vscode.window.showInformationMessage(`Signed in to Supabase as ${session.email ?? session.userId}: usage now syncs.`);
    // Team sharing: signing in with an invited address joins the projects it was invited to.
    const joined = await acceptInvitations(this.api);
    if (joined) {
      const link = 'Link Workspace…';
      void vscode.window.showInformationMessage(joined, link).then((choice) => {
        if (choice === link) void vscode.commands.executeCommand('conduit.linkSharedProject');
      });
    }
  }

  async signOut(): Promise<void> {
    const raw = await this.secrets.get(SUPABASE_SESSION_SECRET);
    this.keeper.stop();
    if (raw) {
      try {
        const s = JSON.parse(raw) as SupabaseSession;
        await this.auth().signOut(s, s.accessToken);
      } catch (err) {
        this.log.warn(`sync: sign-out at Supabase failed: ${(err as Error).message}`);
      }
    }
    await this.secrets.delete(SUPABASE_SESSION_SECRET);
    await call(this.api, ROUTES.endSyncSession, {}).catch(() => undefined);
    await vscode.workspace.getConfiguration('conduit').update('storage', 'local', vscode.ConfigurationTarget.Global);
    void vscode.window.showInformationMessage('Signed out of Supabase: usage stays on this machine.');
  }

  async chooseStorage(): Promise<void> {
    const pick = await vscode.window.showQuickPick([
      { label: 'Local only', description: 'usage stays in the embedded store on this machine', id: 'local' as const },
      { label: 'Local plus Supabase', description: 'and syncs to your Supabase project', id: 'supabase' as const },
    ], { placeHolder: `Storage (now: ${this.storage === 'supabase' ? 'local plus Supabase' : 'local only'})` });
    if (!pick) return;
    if (pick.id === 'local') {
      this.keeper.stop();
      await call(this.api, ROUTES.endSyncSession, {}).catch(() => undefined);
      await vscode.workspace.getConfiguration('conduit').update('storage', 'local', vscode.ConfigurationTarget.Global);
      return;
    }
    if (await this.keeper.resume()) {
      await vscode.workspace.getConfiguration('conduit').update('storage', 'supabase', vscode.ConfigurationTarget.Global);
    } else {
      await this.signIn();
    }
  }

  async status(): Promise<string> {
    const s = await call(this.api, ROUTES.syncStatus, {});
    // A broken workspace link (the shared project refused this person's rows) in its own sentence.
    const broken = (s.brokenLinks ?? []).map((l) => ` ${l.message}`).join('');
    return `storage ${s.mode === 'supabase' ? 'local plus Supabase' : 'local only'}; ${s.waiting} rows waiting; last sync ${s.lastSuccessAt ?? 'never'}${s.lastError ? `; last error: ${s.lastError}` : ''}.${broken}`;
  }

  private async project(): Promise<SupabaseProject | undefined> {
    const config = vscode.workspace.getConfiguration('conduit');
    let url = config.get<string>('supabase.url')?.trim();
    let anonKey = config.get<string>('supabase.anonKey')?.trim();
    if (!url) {
      url = (await vscode.window.showInputBox({ prompt: 'Supabase project URL (https://<ref>.supabase.co)', ignoreFocusOut: true, validateInput: (v) => (/^https?:\/\/\S+$/.test(v.trim()) ? undefined : 'An http(s) URL') }))?.trim();
      if (!url) return undefined;
      await config.update('supabase.url', url, vscode.ConfigurationTarget.Global);
    }
    if (!anonKey) {
      anonKey = (await vscode.window.showInputBox({ prompt: 'Supabase anon (public) key', ignoreFocusOut: true }))?.trim();
      if (!anonKey) return undefined;
      await config.update('supabase.anonKey', anonKey, vscode.ConfigurationTarget.Global);
    }
    return { url, anonKey };
  }

  dispose(): void {
    this.keeper.stop();
    this.subscription.dispose();
  }
}
