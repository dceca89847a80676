// RefreshThrottle (src/extension/views/refreshThrottle.ts): many changes, few refreshes, none lost.
import assert from 'node:assert/strict';
import { RefreshThrottle, type Timers } from '../../src/extension/views/refreshThrottle';

/** Timers that fire only when the test says so. */
function manualTimers(): Timers & { fire(): Promise<void>; pending(): number } {
  let queue: { fn: () => void; ms: number; cleared: boolean }[] = [];
  return {
    setTimeout(fn, ms) { const t = { fn, ms, cleared: false }; queue.push(t); return t; },
    clearTimeout(t) { (t as { cleared: boolean }).cleared = true; },
    pending: () => queue.filter((t) => !t.cleared).length,
    async fire() {
      const due = queue.filter((t) => !t.cleared);
      queue = [];
      for (const t of due) t.fn();
      await new Promise((resolve) => setImmediate(resolve)); // the refresh's own promise settles
    },
  };
}

describe('views: refresh throttle', () => {
  it('a burst of 500 changes is one refresh', async () => {
    const timers = manualTimers();
    let refreshes = 0;
    const t = new RefreshThrottle(() => { refreshes++; }, 250, timers);
    for (let i = 0; i < 500; i++) t.request();
    assert.equal(timers.pending(), 1);
    await timers.fire();
    assert.equal(refreshes, 1);
    assert.equal(timers.pending(), 0);
  });

  it('a change during a refresh brings one more refresh after it, not one per change', async () => {
    const timers = manualTimers();
    let refreshes = 0;
    let finish: () => void = () => {};
    const t = new RefreshThrottle(() => { refreshes++; return new Promise<void>((resolve) => { finish = resolve; }); }, 250, timers);
    t.request();
    await timers.fire();
    assert.equal(refreshes, 1);
    for (let i = 0; i < 10; i++) t.request(); // while the first refresh still waits for its data
    assert.equal(timers.pending(), 0);
    finish();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(timers.pending(), 1);
    await timers.fire();
    assert.equal(refreshes, 2);
  });

  it('a steady stream of changes still refreshes on every beat (a debounce would wait for quiet)', async () => {
    const timers = manualTimers();
    let refreshes = 0;
    const t = new RefreshThrottle(() => { refreshes++; }, 250, timers);
    for (let beat = 1; beat <= 5; beat++) {
      t.request();
      t.request();
      await timers.fire();
      assert.equal(refreshes, beat);
    }
  });

  it('a failing refresh does not stop later ones; nothing runs after dispose', async () => {
    const timers = manualTimers();
    let calls = 0;
    const t = new RefreshThrottle(() => { calls++; throw new Error('the gateway is not running'); }, 250, timers);
    t.request();
    await timers.fire();
    t.request();
    await timers.fire();
    assert.equal(calls, 2);
    t.request();
    t.dispose();
    assert.equal(timers.pending(), 0);
    t.request();
    assert.equal(timers.pending(), 0);
  });
});
