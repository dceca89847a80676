// Which sync failures mean "the project refused these rows" (row-level security or a
// privilege check, SQLSTATE 42501), which the outbox answers by breaking a workspace link,
// and which are failures to retry with backoff (network, 5xx, no valid session, other
// errors). The Supabase target is run against a local stand-in for PostgREST that answers
// as PostgREST does.
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { INSUFFICIENT_PRIVILEGE, isRowRefusal, SyncTargetError } from '../../src/conduit/ledger/sync/syncErrors';
import { SupabaseSyncTarget } from '../../src/conduit/ledger/sync/supabaseSyncTarget';

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const token = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: '7d1f4c1e-2b7a-4e53-9c6f-5a4b3c2d1e0f', role: 'authenticated', exp: Math.floor(Date.now() / 1000) + 3600 })}.sig`;

describe('ledger: sync error classification', () => {
  describe('isRowRefusal', () => {
    /** node-postgres's DatabaseError: a message and the SQLSTATE in code, no HTTP status. */
    const pgError = (message: string, code: string) => Object.assign(new Error(message), { code, severity: 'ERROR' });
    /** A Node network error. */
    const netError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -111, syscall: 'connect' });

    it('is true for SQLSTATE 42501 from PostgreSQL, row-level security or privilege', () => {
      assert.equal(INSUFFICIENT_PRIVILEGE, '42501');
      assert.equal(isRowRefusal(pgError('new row violates row-level security policy for table "usage_tracking"', '42501')), true);
      assert.equal(isRowRefusal(pgError('new row violates row-level security policy (USING expression) for table "routing_decisions"', '42501')), true);
      assert.equal(isRowRefusal(pgError('permission denied for table usage_tracking', '42501')), true);
    });

    it('is true for PostgREST\'s 403 carrying 42501 (a signed-in caller refused)', () => {
      assert.equal(isRowRefusal(new SyncTargetError('Supabase refused the usage_tracking rows', '42501', 403)), true);
    });

    it('is false for other SQLSTATEs, PostgREST codes, statuses and network failures', () => {
      const cases: [string, unknown][] = [
        ['unique violation', pgError('duplicate key value violates unique constraint', '23505')],
        ['foreign key', pgError('insert or update violates foreign key constraint', '23503')],
        ['check', pgError('new row violates check constraint', '23514')],
        ['invalid authorization (28000)', pgError('role is not permitted to log in', '28000')],
        ['admin shutdown', pgError('terminating connection due to administrator command', '57P01')],
        ['42501 as an anonymous caller (no valid session): 401', new SyncTargetError('refused', '42501', 401)],
        ['42501 with a 5xx status', new SyncTargetError('refused', '42501', 500)],
        ['JWT expired', new SyncTargetError('JWT expired', 'PGRST301', 401)],
        ['PostgREST could not reach the database', new SyncTargetError('Could not connect', 'PGRST001', 503)],
        ['bad gateway without a code', new SyncTargetError('Bad Gateway', null, 502)],
        ['service unavailable', new SyncTargetError('Service Unavailable', null, 503)],
        ['fetch failed (no answer)', new SyncTargetError('TypeError: fetch failed', null, null)],
        ['connection refused', netError('ECONNREFUSED')],
        ['connection reset', netError('ECONNRESET')],
        ['timeout', netError('ETIMEDOUT')],
        ['a plain error', new Error('Connection terminated unexpectedly')],
        ['42501 in the message only', new Error('code 42501')],
        ['a numeric code', { code: 42501 }],
        ['a string', '42501'],
        ['null', null],
        ['undefined', undefined],
      ];
      for (const [what, err] of cases) assert.equal(isRowRefusal(err), false, what);
    });
  });

  describe('SupabaseSyncTarget errors, against a PostgREST stand-in', () => {
    let server: http.Server;
    let url: string;
    /** The next answer of /rest/v1/: status and JSON body, or 'hang up' to cut the connection. */
    let answer: { status: number; body?: unknown } | 'hang up' = { status: 201 };
    let member = false;
    const prefer: string[] = [];

    before(async () => {
      server = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          prefer.push(String(req.headers.prefer ?? ''));
          if (req.url!.startsWith('/rest/v1/rpc/is_project_member')) {
            res.writeHead(200, { 'content-type': 'application/json' });
            return res.end(JSON.stringify(member));
          }
          if (answer === 'hang up') return req.socket.destroy();
          res.writeHead(answer.status, answer.body === undefined ? {} : { 'content-type': 'application/json' });
          res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    async function failure(target: SupabaseSyncTarget): Promise<SyncTargetError> {
      try {
        await target.upsert('usage_tracking', [{ request_id: 'r1' }], 'request_id');
      } catch (err) {
        assert.ok(err instanceof SyncTargetError, String(err));
        return err;
      }
      assert.fail('the upsert succeeded');
    }

    it('a row-level security refusal (403, 42501) is one, with the code and status kept', async () => {
      const target = new SupabaseSyncTarget(url, 'anon', token);
      answer = { status: 403, body: { code: '42501', message: 'new row violates row-level security policy for table "usage_tracking"', details: null, hint: null } };
      const err = await failure(target);
      assert.equal(err.code, '42501');
      assert.equal(err.status, 403);
      assert.match(err.message, /Supabase refused the usage_tracking rows: new row violates row-level security.*code 42501; HTTP 403/);
      assert.equal(isRowRefusal(err), true);
      await target.close();
    });

    it('401 with 42501 (anonymous), an expired JWT, 5xx and a cut connection are not', async () => {
      const target = new SupabaseSyncTarget(url, 'anon', token);
      const answers: [string, typeof answer][] = [
        ['anonymous 42501', { status: 401, body: { code: '42501', message: 'permission denied for table usage_tracking', details: null, hint: null } }],
        ['JWT expired', { status: 401, body: { code: 'PGRST301', message: 'JWT expired', details: null, hint: null } }],
        ['database unreachable', { status: 503, body: { code: 'PGRST001', message: 'Database client error', details: null, hint: null } }],
        ['bad gateway', { status: 502, body: { message: 'An invalid response was received from the upstream server' } }],
        ['internal error', { status: 500, body: { code: 'XX000', message: 'internal error', details: null, hint: null } }],
        ['conflict', { status: 409, body: { code: '23505', message: 'duplicate key value', details: null, hint: null } }],
        ['cut connection', 'hang up'],
      ];
      for (const [what, a] of answers) {
        answer = a;
        assert.equal(isRowRefusal(await failure(target)), false, what);
      }
      await target.close();
    });

    it('an unreachable Supabase is not', async () => {
      const port = await new Promise<number>((resolve) => {
        const probe = net.createServer().listen(0, '127.0.0.1', () => {
          const p = (probe.address() as AddressInfo).port;
          probe.close(() => resolve(p));
        });
      });
      const target = new SupabaseSyncTarget(`http://127.0.0.1:${port}`, 'anon', token);
      const err = await failure(target);
      assert.equal(isRowRefusal(err), false, err.message);
      await target.close();
    });

    it('asks is_project_member, and pushes without updating existing rows when told to', async () => {
      const target = new SupabaseSyncTarget(url, 'anon', token);
      member = true;
      assert.equal(await target.isProjectMember('821ac498-20f1-5150-b9f6-6aa0e5c90319'), true);
      member = false;
      assert.equal(await target.isProjectMember('821ac498-20f1-5150-b9f6-6aa0e5c90319'), false);
      answer = { status: 201 };
      await target.upsert('usage_tracking', [{ request_id: 'r1' }], 'request_id', { ignoreDuplicates: true });
      assert.match(prefer.at(-1)!, /resolution=ignore-duplicates/);
      await target.upsert('usage_tracking', [{ request_id: 'r1' }], 'request_id');
      assert.match(prefer.at(-1)!, /resolution=merge-duplicates/);
      await target.close();
    });
  });
});
