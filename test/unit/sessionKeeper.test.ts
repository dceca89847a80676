import assert from 'node:assert/strict';
import type { SupabaseSession } from '../../src/extension/sync/supabaseAuth';
import { REFRESH_MARGIN_S, SessionKeeper, type SessionKeeperDeps } from '../../src/extension/sync/sessionKeeper';

/** A keeper over fakes: a clock the test moves, timers it fires, a store, a refresher. */
function harness(stored: SupabaseSession | null, { refreshFails = false, handOverFails = false } = {}) {
  let now = 1_000_000_000_000;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  const log = { saved: [] as (SupabaseSession | null)[], handed: [] as string[], refreshed: [] as string[], problems: [] as string[] };
  let store = stored;
  let n = 0;
  const deps: SessionKeeperDeps = {
    load: async () => store,
    save: async (s) => { store = s; log.saved.push(s); },
    refresh: async (s) => {
      if (refreshFails) throw new Error('invalid refresh token');
      log.refreshed.push(s.refreshToken);
      n++;
      return { ...s, accessToken: `access-${n}`, refreshToken: `refresh-${n}`, expiresAt: Math.floor(now / 1000) + 3600 };
    },
    handOver: async (s) => {
      if (handOverFails) throw new Error('gateway not running');
      log.handed.push(s.accessToken);
    },
    now: () => now,
    setTimer: (fn, ms) => {
      const t = { at: now + ms, fn, cancelled: false };
      timers.push(t);
      return { cancel: () => { t.cancelled = true; } };
    },
    onProblem: (m) => log.problems.push(m),
  };
  return {
    keeper: new SessionKeeper(deps),
    log,
    get store() { return store; },
    nowSeconds: () => Math.floor(now / 1000),
    /** Moves the clock and fires the timers that came due, awaiting what they start. */
    async advance(ms: number) {
      now += ms;
      for (const t of timers.filter((x) => !x.cancelled && x.at <= now)) {
        t.cancelled = true;
        t.fn();
        await new Promise((r) => setImmediate(r));
        await new Promise((r) => setImmediate(r));
      }
    },
    pendingTimers: () => timers.filter((t) => !t.cancelled).length,
  };
}

const session = (expiresAt: number | null, access = 'access-0'): SupabaseSession => ({
  url: 'https://x.supabase.co', anonKey: 'anon', accessToken: access, refreshToken: 'refresh-0', userId: 'u', email: 'a@b.c', expiresAt,
});

describe('SessionKeeper (Supabase session for the gateway)', () => {
  it('hands a fresh session over as it is and refreshes it shortly before it expires', async () => {
    const h = harness(null);
    const expiresIn = 3600;
    await h.keeper.adopt(session(h.nowSeconds() + expiresIn));
    assert.deepEqual(h.log.handed, ['access-0']);
    assert.deepEqual(h.log.refreshed, []);
    await h.advance((expiresIn - REFRESH_MARGIN_S - 1) * 1000);
    assert.deepEqual(h.log.refreshed, [], 'not refreshed before the margin');
    await h.advance(2_000);
    assert.deepEqual(h.log.refreshed, ['refresh-0'], 'refreshed within the margin');
    assert.deepEqual(h.log.handed, ['access-0', 'access-1'], 'the refreshed session reaches the gateway');
    assert.equal(h.store?.accessToken, 'access-1', 'and is stored');
    assert.equal(h.pendingTimers(), 1, 'the next refresh is scheduled');
  });

  it('refreshes a stored session that is about to expire before handing it over', async () => {
    const h = harness(session(1_000_000_000 + 60));
    const resumed = await h.keeper.resume();
    assert.ok(resumed);
    assert.deepEqual(h.log.refreshed, ['refresh-0']);
    assert.deepEqual(h.log.handed, ['access-1']);
  });

  it('resumes nothing when no session is stored', async () => {
    const h = harness(null);
    assert.equal(await h.keeper.resume(), null);
    assert.deepEqual(h.log.handed, []);
  });

  it('reports a refused refresh and stops handing over the dead session', async () => {
    const h = harness(session(1_000_000_000 + 10), { refreshFails: true });
    await h.keeper.resume();
    assert.deepEqual(h.log.handed, []);
    assert.match(h.log.problems[0], /could not be refreshed: invalid refresh token; sign in again/);
    assert.equal(h.pendingTimers(), 0);
  });

  it('reports a gateway that does not take the session, and still keeps it fresh', async () => {
    const h = harness(null, { handOverFails: true });
    await h.keeper.adopt(session(h.nowSeconds() + 3600));
    assert.match(h.log.problems[0], /gateway did not take the Supabase session: gateway not running/);
    assert.equal(h.pendingTimers(), 1);
  });

  it('stops refreshing after stop() (sign-out, local only)', async () => {
    const h = harness(null);
    await h.keeper.adopt(session(h.nowSeconds() + 3600));
    h.keeper.stop();
    await h.advance(3600 * 1000);
    assert.deepEqual(h.log.refreshed, []);
  });
});
