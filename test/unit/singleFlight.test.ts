// SingleFlight (src/conduit/core/singleFlight.ts): one run at a time; asked during a run,
// it runs once more after it; drain() runs until nothing was asked meanwhile.
import assert from 'node:assert/strict';
import { SingleFlight } from '../../src/conduit/core/singleFlight';

/** Work whose runs end when the test says so. */
function controlledWork() {
  const runs: Array<{ resolve: (n: number) => void; reject: (e: Error) => void }> = [];
  let started = 0;
  const work = () => {
    started++;
    return new Promise<number>((resolve, reject) => { runs.push({ resolve, reject }); });
  };
  return { work, runs, started: () => started };
}

describe('SingleFlight', () => {
  it('runs one at a time: a run asked for during one joins it and marks it to be followed', async () => {
    const w = controlledWork();
    const settled: PromiseSettledResult<number>[] = [];
    const flight = new SingleFlight(w.work, (r) => settled.push(r));
    const first = flight.run();
    const joined = flight.run();
    assert.equal(joined, first, 'the same run');
    assert.equal(w.started(), 1);
    assert.equal(flight.askedAgain, true);
    w.runs[0].resolve(7);
    assert.equal(await first, 7);
    assert.deepEqual(settled, [{ status: 'fulfilled', value: 7 }]);
    assert.equal(flight.current, null);
    flight.run();
    assert.equal(flight.askedAgain, false, 'a new run clears the mark');
    w.runs[1].reject(new Error('boom'));
    await assert.rejects(flight.current!, /boom/);
    assert.equal(settled[1].status, 'rejected');
  });

  it('askAgain marks only a run in flight', () => {
    const w = controlledWork();
    const flight = new SingleFlight(w.work);
    assert.equal(flight.askAgain(), false);
    assert.equal(flight.askedAgain, false);
    flight.run();
    assert.equal(flight.askAgain(), true);
    assert.equal(flight.askedAgain, true);
    w.runs[0].resolve(0);
  });

  it('settled runs before those awaiting the run go on (they see the flight free)', async () => {
    const w = controlledWork();
    let freeWhenSettled: boolean | null = null;
    const flight: SingleFlight<number> = new SingleFlight(w.work, () => { freeWhenSettled = flight.current === null; });
    const run = flight.run();
    w.runs[0].resolve(1);
    await run;
    assert.equal(freeWhenSettled, true);
    assert.equal(flight.current, null);
  });

  it('drain joins a run in flight, then runs until nobody asked for another meanwhile', async () => {
    const w = controlledWork();
    const flight = new SingleFlight(w.work);
    flight.run(); // in flight before drain: it may have started before what drain is about
    const seen: number[] = [];
    const drained = flight.drain((n) => seen.push(n));
    w.runs[0].resolve(1);
    while (w.runs.length < 2) await new Promise((r) => setImmediate(r));
    flight.run(); // asked during drain's own run: one more
    w.runs[1].resolve(2);
    while (w.runs.length < 3) await new Promise((r) => setImmediate(r));
    w.runs[2].resolve(3);
    await drained;
    assert.deepEqual(seen, [2, 3], 'the joined run is not counted as its own');
    assert.equal(w.started(), 3);
  });

  it('drain rejects with a run\'s error', async () => {
    const w = controlledWork();
    const flight = new SingleFlight(w.work);
    const drained = flight.drain(() => undefined);
    while (w.runs.length < 1) await new Promise((r) => setImmediate(r));
    w.runs[0].reject(new Error('store gone'));
    await assert.rejects(drained, /store gone/);
  });
});
