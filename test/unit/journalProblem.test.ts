import assert from 'node:assert/strict';
import { journalProblem } from '../../src/extension/ui/journalProblem';

describe('status bar: the journal in words', () => {
  it('says nothing for a journal that writes, and why and how many wait for a degraded one', () => {
    assert.equal(journalProblem(undefined), null);
    assert.equal(journalProblem({ state: 'ok', error: null, pending: 0, lost: 0 }), null);
    assert.equal(
      journalProblem({ state: 'degraded', error: 'ENOSPC: no space left on device, write', pending: 3, lost: 0 }),
      'journal degraded: ENOSPC: no space left on device, write; 3 usage record(s) wait in memory until the disk takes them',
    );
    assert.equal(journalProblem({ state: 'ok', error: null, pending: 0, lost: 2 }), '2 usage record(s) lost');
    assert.match(journalProblem({ state: 'degraded', error: 'EROFS', pending: 1, lost: 4 }) ?? '', /EROFS; 1 usage record\(s\) wait .*; 4 usage record\(s\) lost$/);
  });
});
