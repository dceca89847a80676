// Reading a Supabase access token (a JWT) for whose rows the outbox pushes and until when
// the token is good. No dependency: the gateway's thread uses it to check a posted session,
// the extension's sign-in to report whose session it holds.
import { decodeBase64url } from './base64url';

export interface AccessTokenClaims {
  sub: string;
  exp: number | null;
  role: string | null;
}

/**
 * The claims of a Supabase access token, read without checking its signature (Supabase
 * checks it on every request; the gateway only needs to know whose rows it pushes).
 */
export function accessTokenClaims(token: string): AccessTokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('not a JWT (expected three dot-separated parts)');
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(decodeBase64url(parts[1])) as Record<string, unknown>;
  } catch {
    throw new Error('the JWT payload is not JSON');
  }
  if (typeof claims.sub !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(claims.sub)) {
    throw new Error('the JWT has no user id (sub)');
  }
  return {
    sub: claims.sub.toLowerCase(),
    exp: typeof claims.exp === 'number' ? claims.exp : null,
    role: typeof claims.role === 'string' ? claims.role : null,
  };
}
