// CPU the usage journal costs per request: appends of a typical record in turns of 4 every
// millisecond (about the gateway's pace at 16 clients), the process's CPU (the thread
// pool's disk syncs included) over the same loop appending nothing. CPU time, not wall
// time: other work on a shared machine stretches it less.
//   node --import tsx bench/journalAppend.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { Journal } = require('../src/conduit/usage/journal.ts');

const N = 12_000;
const PER_TURN = 4;
const record = (i) => {
  const at = new Date().toISOString();
  return {
    id: `0b6c1c52-6a7c-4c1e-9b1e-${String(i).padStart(12, '0')}`, context: { sessionId: 'session-1', projectId: 'project', agentId: 'main' },
    decision: { model: 'claude-sonnet-4-5', provider: 'anthropic', source: 'default', rule: 'default model', tokenCount: 1200, requestedModel: 'claude-sonnet-4-5', timestamp: at },
    usage: { inputTokens: 1200, outputTokens: 12, cacheCreationTokens: 0, cacheCreation5mTokens: 0, cacheCreation1hTokens: 0, cacheReadTokens: 800 },
    cost: { cost: 0.0123, costSource: 'list', priceVersion: '2026-11' }, status: 200, stream: true, durationMs: 3, firstByteMs: 2,
    startedAt: at, endedAt: at, device: 'bench',
  };
};

/** CPU µs per record of the paced loop, appending to `journal` (or nothing). */
async function run(journal) {
  const records = Array.from({ length: N }, (_, i) => record(i));
  const t0 = process.cpuUsage();
  let i = 0;
  await new Promise((resolve) => {
    const turn = () => {
      for (let k = 0; k < PER_TURN && i < N; k++) {
        const r = records[i++];
        if (journal) journal.append(r);
      }
      if (i < N) setTimeout(turn, 1);
      else resolve();
    };
    turn();
  });
  if (journal) await journal.close();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / N;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'conduit-journal-bench-'));
try {
  await run(new Journal(path.join(dir, 'warm-up')));
  const loop = await run(null);
  const appending = await run(new Journal(path.join(dir, 'journal')));
  console.log(`journal: ${(appending - loop).toFixed(1)} µs of CPU per record (the loop alone ${loop.toFixed(1)} µs), ${N} records in turns of ${PER_TURN} per ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
