import assert from 'node:assert/strict';
import { RangeList } from '../../src/conduit/routing/rangeList';

describe('RangeList', () => {
  it('gives back every range pushed, across its blocks, and starts over when cleared', () => {
    const list = new RangeList();
    assert.equal(list.last(), null);
    const count = 20_000; // more than two blocks of 8,192
    for (let k = 0; k < count; k++) list.push(3 * k, 3 * k + 2);
    assert.equal(list.length, count);
    for (let k = 0; k < count; k++) assert.deepEqual(list.at(k), [3 * k, 3 * k + 2], `range ${k}`);
    assert.deepEqual(list.last(), [3 * (count - 1), 3 * (count - 1) + 2]);
    list.clear();
    assert.equal(list.length, 0);
    assert.equal(list.last(), null);
    list.push(7, 9);
    assert.deepEqual([list.length, list.at(0)], [1, [7, 9]]);
  });
});
