/** `conduit logs [-n N] [--follow]`: the end of the gateway's log, optionally followed. */
import { createReadStream, existsSync, readFileSync, statSync, watchFile } from 'node:fs';
import type { ConduitPaths } from '../client/paths';

export async function printLogs(paths: ConduitPaths, args: string[]): Promise<number> {
  // Usage first: a bad -n is exit 2 whether or not there is a log yet.
  const i = args.indexOf('-n');
  const n = i >= 0 ? Number(args[i + 1]) : 100;
  if (!Number.isInteger(n) || n < 1) {
    console.error('conduit: -n takes a positive whole number');
    return 2;
  }
  if (!existsSync(paths.logFile)) {
    console.error(`conduit: no log yet at ${paths.logFile}`);
    return 1;
  }
  const lines = readFileSync(paths.logFile, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  process.stdout.write(lines.slice(-n).map((l) => `${l}\n`).join(''));
  if (!args.includes('--follow') && !args.includes('-f')) return 0;
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
