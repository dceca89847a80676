// One process at a time opens a store (PGlite is single-process): a lock file beside the
// data folder names the holding process. The gateway's thread takes it before the ledger's
// worker opens the store and gives it back when the worker has ended. A holder that no
// longer runs left it stale, and it is taken; so is one naming this process that this
// process does not hold (a worker that was stopped).
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const held = new Set<string>();

export function lockStore(dataDir: string): () => void {
  const file = `${dataDir}.lock`;
  const token = `${process.pid} ${randomUUID()}`;
  if (held.has(file)) throw new Error(`the store ${dataDir} is already open in this process`);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, token, { flag: 'wx', mode: 0o600 });
      held.add(file);
      return () => {
        held.delete(file);
        try {
          if (readFileSync(file, 'utf8') === token) rmSync(file, { force: true });
        } catch { /* already gone */ }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder = NaN;
      try {
        holder = Number(readFileSync(file, 'utf8').split(' ')[0]);
      } catch { /* removed meanwhile */ }
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processRuns(holder)) {
        throw new Error(`the store ${dataDir} is in use by process ${holder} (lock ${file}); run one gateway per CONDUIT_HOME`);
      }
      rmSync(file, { force: true }); // stale
    }
  }
  throw new Error(`could not lock the store ${dataDir} (${file})`);
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
