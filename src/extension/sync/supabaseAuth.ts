// Sign-in to Supabase for the extension (email and password, or a magic-link / one-time
// code sent by email), and what the gateway needs to check a handed-over session. No
// 'vscode' import: the extension keeps the session in SecretStorage and posts it to the
// gateway (ROUTES.syncSession). The session is never persisted here.
//
// Refresh: the extension owns it. Call refreshSession() before the access token expires
// (expiresAt) and post the result to the gateway again; the gateway never refreshes, since
// Supabase revokes a session whose refresh token is used twice.
import type { Session, SupabaseClient } from '@supabase/supabase-js';
import { createNodeSupabaseClient } from '../../conduit/client/supabaseClient';

export interface SupabaseProject {
  /** https://<ref>.supabase.co */
  url: string;
  anonKey: string;
}

/** What the extension stores and posts to the gateway (plus who and until when). */
export interface SupabaseSession {
  url: string;
  anonKey: string;
  accessToken: string;
  refreshToken: string;
  userId: string;
  email: string | null;
  /** Unix seconds. */
  expiresAt: number | null;
}

function client(project: SupabaseProject): SupabaseClient {
  return createNodeSupabaseClient(project.url, project.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
}

function sessionOf(project: SupabaseProject, session: Session | null, what: string): SupabaseSession {
  if (!session) throw new Error(`Supabase ${what}: no session returned`);
  return {
    url: project.url,
    anonKey: project.anonKey,
    accessToken: session.access_token,
    refreshToken: session.refresh_token,
    userId: session.user.id,
    email: session.user.email ?? null,
    expiresAt: session.expires_at ?? null,
  };
}

export async function signInWithPassword(project: SupabaseProject, email: string, password: string): Promise<SupabaseSession> {
  const { data, error } = await client(project).auth.signInWithPassword({ email, password });
  if (error) throw new Error(`Supabase sign-in failed: ${error.message}`);
  return sessionOf(project, data.session, 'sign-in');
}

/** Sends the magic link / one-time code to the address. */
export async function sendEmailOtp(project: SupabaseProject, email: string, options: { createUser?: boolean; redirectTo?: string } = {}): Promise<void> {
  const { error } = await client(project).auth.signInWithOtp({
    email,
    options: { shouldCreateUser: options.createUser ?? true, ...(options.redirectTo ? { emailRedirectTo: options.redirectTo } : {}) },
  });
  if (error) throw new Error(`Supabase could not send the sign-in email: ${error.message}`);
}

/** Signs in with the code from the email (type 'email'; 'magiclink' for a link's token). */
export async function verifyOtp(project: SupabaseProject, email: string, token: string, type: 'email' | 'magiclink' = 'email'): Promise<SupabaseSession> {
  const { data, error } = await client(project).auth.verifyOtp({ email, token, type });
  if (error) throw new Error(`Supabase rejected the code: ${error.message}`);
  return sessionOf(project, data.session, 'code check');
}

export async function refreshSession(project: SupabaseProject, refreshToken: string): Promise<SupabaseSession> {
  const { data, error } = await client(project).auth.refreshSession({ refresh_token: refreshToken });
  if (error) throw new Error(`Supabase could not refresh the session: ${error.message}`);
  return sessionOf(project, data.session, 'refresh');
}

export async function signOut(project: SupabaseProject, accessToken: string): Promise<void> {
  const { error } = await client(project).auth.admin.signOut(accessToken);
  if (error) throw new Error(`Supabase sign-out failed: ${error.message}`);
}

export { accessTokenClaims, type AccessTokenClaims } from '../../protocol/accessToken';
