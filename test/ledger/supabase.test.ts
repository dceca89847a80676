// The Supabase client side, against a local stand-in for Supabase's HTTP APIs (no Supabase
// can run here): sign-in answers become the session the extension stores, and the outbox's
// target sends PostgREST upserts as the signed-in user, on Node 20 (no global WebSocket).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { accessTokenClaims } from '../../src/protocol/accessToken';
import { deterministicUuid, remoteAgentId, remoteProjectId } from '../../src/conduit/ledger/sync/outbox';
import { refreshSession, signInWithPassword, verifyOtp } from '../../src/extension/sync/supabaseAuth';
import { SupabaseSyncTarget } from '../../src/conduit/ledger/sync/supabaseSyncTarget';

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }

const USER = '7d1f4c1e-2b7a-4e53-9c6f-5a4b3c2d1e0f';
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (exp: number) => `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: USER, role: 'authenticated', exp })}.sig`;

describe('ledger: Supabase client (against a local stand-in)', () => {
  let server: http.Server;
  let url: string;
  const seen: Seen[] = [];
  let refuse: string | null = null;

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        const json = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        if (req.url!.startsWith('/auth/v1/token') || req.url!.startsWith('/auth/v1/verify')) {
          const exp = Math.floor(Date.now() / 1000) + 3600;
          return json(200, {
            access_token: jwt(exp), refresh_token: `refresh-${seen.length}`, token_type: 'bearer', expires_in: 3600, expires_at: exp,
            user: { id: USER, aud: 'authenticated', role: 'authenticated', email: 'me@example.com', app_metadata: {}, user_metadata: {}, created_at: new Date().toISOString() },
          });
        }
        if (req.url!.startsWith('/rest/v1/')) {
          if (refuse) return json(403, { code: '42501', message: refuse, details: null, hint: null });
          res.writeHead(201);
          return res.end();
        }
        json(404, { message: 'not here' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('turns a password sign-in, a one-time code and a refresh into the session the extension keeps', async () => {
    const project = { url, anonKey: 'anon-key' };
    const session = await signInWithPassword(project, 'me@example.com', 'secret');
    assert.equal(session.userId, USER);
    assert.equal(session.email, 'me@example.com');
    assert.equal(accessTokenClaims(session.accessToken).sub, USER);
    assert.match(seen.at(-1)!.url, /^\/auth\/v1\/token\?grant_type=password/);
    assert.equal(seen.at(-1)!.headers.apikey, 'anon-key');
    assert.deepEqual(JSON.parse(seen.at(-1)!.body).email, 'me@example.com');

    const byCode = await verifyOtp(project, 'me@example.com', '123456');
    assert.equal(byCode.userId, USER);
    assert.match(seen.at(-1)!.url, /^\/auth\/v1\/verify/);

    const refreshed = await refreshSession(project, session.refreshToken);
    assert.notEqual(refreshed.refreshToken, session.refreshToken);
    assert.match(seen.at(-1)!.url, /grant_type=refresh_token/);
  });

  it('upserts through PostgREST as the signed-in user, with a refreshed token when given one', async () => {
    const first = jwt(Math.floor(Date.now() / 1000) + 600);
    const target = new SupabaseSyncTarget(url, 'anon-key', first);
    const rows = [{ request_id: 'r1', model: 'm', input_tokens: 1 }, { request_id: 'r2', model: 'm', input_tokens: 2 }];
    await target.upsert('usage_tracking', rows, 'request_id');
    const req = seen.at(-1)!;
    assert.equal(req.method, 'POST');
    assert.match(req.url, /^\/rest\/v1\/usage_tracking\?/);
    assert.equal(new URL(req.url, url).searchParams.get('on_conflict'), 'request_id');
    assert.match(String(req.headers.prefer), /resolution=merge-duplicates/);
    assert.equal(req.headers.authorization, `Bearer ${first}`);
    assert.equal(req.headers.apikey, 'anon-key');
    assert.deepEqual(JSON.parse(req.body), rows);

    const second = jwt(Math.floor(Date.now() / 1000) + 3600);
    target.setAccessToken(second);
    await target.upsert('projects', [{ id: 'p' }], 'id');
    assert.equal(seen.at(-1)!.headers.authorization, `Bearer ${second}`);

    refuse = 'new row violates row-level security policy for table "usage_tracking"';
    try {
      await assert.rejects(target.upsert('usage_tracking', rows, 'request_id'), /Supabase refused the usage_tracking rows: new row violates row-level security.*code 42501/);
    } finally {
      refuse = null;
    }
    await target.close();
  });

  it('derives the same project and agent ids on every device of a user, and different ones for another user', () => {
    assert.equal(remoteProjectId(USER, 'file:///work/a'), remoteProjectId(USER, 'file:///work/a'));
    assert.notEqual(remoteProjectId(USER, 'file:///work/a'), remoteProjectId('00000000-0000-4000-8000-000000000001', 'file:///work/a'));
    assert.notEqual(remoteProjectId(USER, 'file:///work/a'), remoteProjectId(USER, 'file:///work/b'));
    const p = remoteProjectId(USER, 'k');
    assert.equal(remoteAgentId(p, 'reviewer', 'local-1'), remoteAgentId(p, 'reviewer', 'local-2'));
    assert.notEqual(remoteAgentId(p, null, 'local-1'), remoteAgentId(p, null, 'local-2'));
    assert.match(deterministicUuid('x'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
