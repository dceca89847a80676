// The gateway's clients (core/leases.ts) and when a gateway VS Code started stops for want of
// them (core/idleStop.ts), on a clock the tests move by hand.
import assert from 'node:assert/strict';
import { IdleStop } from '../../src/conduit/core/idleStop';
import { LeaseRegistry, TooManyLeasesError } from '../../src/conduit/core/leases';
import type { GatewayStarter } from '../../src/protocol/leases';
import { parseLeaseId, parseLeaseRenewal, parseStopWhenIdle } from '../../src/protocol/leases';
import { ValidationError } from '../../src/protocol/validate';

/** A clock and timers moved by hand: advance(ms) runs what falls due, in order. */
class ManualClock {
  time = 1_000;
  private timers: { at: number; fn: () => void }[] = [];
  readonly now = () => this.time;
  readonly schedule = (fn: () => void, ms: number) => {
    const timer = { at: this.time + ms, fn };
    this.timers.push(timer);
    return () => { this.timers = this.timers.filter((t) => t !== timer); };
  };
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
    }
    this.time = end;
  }
  get pending(): number { return this.timers.length; }
}

describe('lease registry', () => {
  let clock: ManualClock;
  let leases: LeaseRegistry;
  beforeEach(() => {
    clock = new ManualClock();
    leases = new LeaseRegistry(clock.now);
  });

  it('holds a lease until its time is up, and a renewal extends it', () => {
    leases.renew('w1', 'vscode-window', 30_000);
    clock.advance(20_000);
    assert.deepEqual(leases.live(), [{ id: 'w1', client: 'vscode-window', expiresInSeconds: 10 }]);
    leases.renew('w1', 'vscode-window', 30_000);
    clock.advance(20_000);
    assert.deepEqual(leases.live().map((l) => l.id), ['w1'], 'renewed 20 s ago for 30 s');
    clock.advance(10_000);
    assert.deepEqual(leases.live(), [], 'expired: it no longer counts');
  });

  it('is idle from when the last lease ended, released or expired; never idle before a first lease', () => {
    assert.equal(leases.idleSince(), null, 'no client yet');
    leases.renew('w1', 'vscode-window', 30_000);
    leases.renew('s1', 'conduit-claude', 60_000);
    clock.advance(5_000);
    assert.equal(leases.release('w1'), true);
    assert.equal(leases.release('w1'), false, 'released twice');
    assert.equal(leases.idleSince(), null, 'the session still holds it');
    clock.advance(60_000);
    assert.equal(leases.idleSince(), 61_000, 'the session lease expired at 1 s + 60 s');
    leases.renew('w2', 'vscode-window', 30_000);
    assert.equal(leases.idleSince(), null);
    clock.advance(1_000);
    leases.release('w2');
    assert.equal(leases.idleSince(), clock.time);
  });

  it('says when the next lease expires, and tells listeners of renewals and releases', () => {
    const changes: string[] = [];
    leases.onChange(() => changes.push(leases.live().map((l) => l.id).join(',')));
    assert.equal(leases.nextExpiry(), null);
    leases.renew('a', 'vscode-window', 30_000);
    leases.renew('b', 'vscode-window', 10_000);
    assert.equal(leases.nextExpiry(), 11_000);
    leases.release('b');
    assert.deepEqual(changes, ['a', 'b,a', 'a']);
  });

  it('refuses new leases past its limit, but still renews the ones it holds', () => {
    const small = new LeaseRegistry(clock.now, 2);
    small.renew('a', 'vscode-window', 30_000);
    small.renew('b', 'vscode-window', 30_000);
    assert.throws(() => small.renew('c', 'vscode-window', 30_000), TooManyLeasesError);
    small.renew('a', 'vscode-window', 30_000);
    clock.advance(30_000);
    small.renew('c', 'conduit-claude', 30_000); // the expired ones made room
  });
});

describe('idle stop of a gateway VS Code started', () => {
  let clock: ManualClock;
  let leases: LeaseRegistry;
  let stops: string[];
  let idle: IdleStop;
  const start = (startedBy: GatewayStarter, graceMs = 15_000) => {
    idle = new IdleStop({ leases, startedBy, stop: (reason) => stops.push(reason), graceMs, schedule: clock.schedule });
  };
  beforeEach(() => {
    clock = new ManualClock();
    leases = new LeaseRegistry(clock.now);
    stops = [];
  });
  afterEach(() => idle.close());

  it('stays while another window holds a lease, and stops a grace period after the last one leaves', () => {
    start('vscode');
    leases.renew('window-a', 'vscode-window', 45_000);
    leases.renew('window-b', 'vscode-window', 45_000);
    leases.release('window-a');
    assert.equal(idle.request(15_000), true);
    clock.advance(40_000);
    leases.renew('window-b', 'vscode-window', 45_000);
    clock.advance(40_000);
    assert.deepEqual(stops, [], 'window b still holds it');
    assert.equal(idle.stopsIn(), null);

    leases.release('window-b');
    assert.equal(idle.request(15_000), true);
    assert.equal(idle.stopsIn(), 15_000);
    clock.advance(14_999);
    assert.deepEqual(stops, []);
    clock.advance(2);
    assert.equal(stops.length, 1);
    assert.match(stops[0], /no client has held the gateway for 15 s/);
  });

  it('does not stop when a window comes back within the grace period (a reload)', () => {
    start('vscode');
    leases.renew('old-window', 'vscode-window', 45_000);
    leases.release('old-window');
    idle.request(15_000);
    clock.advance(5_000);
    leases.renew('reloaded-window', 'vscode-window', 45_000);
    clock.advance(30_000);
    assert.deepEqual(stops, []);
    assert.equal(idle.stopsIn(), null);
  });

  it('a running session keeps it after every window closed; it stops once the session ends', () => {
    start('vscode');
    leases.renew('window', 'vscode-window', 45_000);
    leases.renew('session', 'conduit-claude', 60_000);
    leases.release('window');
    idle.request(15_000);
    clock.advance(50_000);
    leases.renew('session', 'conduit-claude', 60_000);
    clock.advance(50_000);
    assert.deepEqual(stops, []);
    leases.release('session');
    clock.advance(15_001);
    assert.equal(stops.length, 1);
  });

  it('counts an expired lease as gone: windows that crashed without releasing theirs still let it stop', () => {
    start('vscode');
    leases.renew('crashed-window', 'vscode-window', 45_000);
    clock.advance(45_000 + 14_999);
    assert.deepEqual(stops, [], 'expired at 45 s; the grace runs until 60 s');
    clock.advance(2);
    assert.equal(stops.length, 1);
    assert.equal(clock.pending, 0, 'nothing left scheduled');
  });

  it('stops once, however many windows ask', () => {
    start('vscode');
    idle.request(0);
    idle.request(0);
    clock.advance(10);
    assert.equal(stops.length, 1);
  });

  it('never stops a gateway the person started, whoever asks', () => {
    start('person');
    leases.renew('window', 'vscode-window', 45_000);
    leases.release('window');
    assert.equal(idle.request(0), false);
    clock.advance(3_600_000);
    assert.deepEqual(stops, []);
    assert.equal(idle.stopsIn(), null);
    assert.equal(clock.pending, 0);
  });

  it('never stops by itself before its first client (the window that started it is about to take a lease)', () => {
    start('vscode');
    clock.advance(3_600_000);
    assert.deepEqual(stops, []);
  });
});

describe('lease requests', () => {
  it('accept the two kinds of client and a time in seconds', () => {
    assert.deepEqual(parseLeaseRenewal({ client: 'conduit-claude', ttlSeconds: 60 }), { client: 'conduit-claude', ttlSeconds: 60 });
    assert.equal(parseLeaseId('vscode-window-1b4e28ba-2fa1-11d2-883f-0016d3cca427'), 'vscode-window-1b4e28ba-2fa1-11d2-883f-0016d3cca427');
    assert.deepEqual(parseStopWhenIdle({ graceSeconds: 0 }), { graceSeconds: 0 });
  });

  it('name what is wrong', () => {
    assert.throws(() => parseLeaseRenewal({ client: 'browser', ttlSeconds: 60 }), /body\.client: expected one of vscode-window, conduit-claude/);
    assert.throws(() => parseLeaseRenewal({ client: 'vscode-window' }), /body\.ttlSeconds: is required/);
    assert.throws(() => parseLeaseRenewal({ client: 'vscode-window', ttlSeconds: 0 }), /body\.ttlSeconds: expected a number from 1 to 3600/);
    assert.throws(() => parseLeaseRenewal([]), ValidationError);
    assert.throws(() => parseLeaseId('a/b'), /lease id/);
    assert.throws(() => parseLeaseId('x'.repeat(201)), /lease id/);
    assert.throws(() => parseStopWhenIdle({ graceSeconds: -1 }), /body\.graceSeconds/);
  });
});
