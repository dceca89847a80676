/** `conduit logs [-n N] [--follow]`: the end of the gateway's log, optionally followed. */
import { createReadStream, existsSync, readFileSync, statSync, watchFile } from 'node:fs';
import type { ConduitPaths } from '../client/paths';
import { given, lastValue, readArgs } from './args';

export async function printLogs(paths: ConduitPaths, args: string[]): Promise<number> {
  // Usage first: a bad -n is exit 2 whether or not there is a log yet.
  const read = readArgs(args, { lines: { type: 'string', short: 'n' }, follow: { type: 'boolean', short: 'f' } });
  const lines = lastValue(read, 'lines');
  const n = lines === undefined ? 100 : Number(lines ?? undefined);
  if (!Number.isInteger(n) || n < 1) {
    console.error('conduit: -n takes a positive whole number');
    return 2;
  }
  if (!existsSync(paths.logFile)) {
    console.error(`conduit: no log yet at ${paths.logFile}`);
    return 1;
  }
  const text = readFileSync(paths.logFile, 'utf8').split('\n');
  if (text[text.length - 1] === '') text.pop();
  process.stdout.write(text.slice(-n).map((l) => `${l}\n`).join(''));
  if (!given(read, 'follow')) return 0;
  let offset = statSync(paths.logFile).size;
  return new Promise(() => {
    watchFile(paths.logFile, { interval: 250 }, (cur) => {
      if (cur.size < offset) offset = 0; // rotated or truncated
      if (cur.size === offset) return;
      createReadStream(paths.logFile, { start: offset, end: cur.size - 1 }).pipe(process.stdout, { end: false });
      offset = cur.size;
    });
  });
}
