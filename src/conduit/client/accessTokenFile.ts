/**
 * Reading the gateway's access token file (~/.conduit/access-token): every client of the
 * gateway (the extension, the CLI, the wrapper) sends it with each request. The gateway
 * creates the file (src/conduit/core/secretFile.ts, ensureAccessToken).
 */
import { readFileSync } from 'node:fs';

/** The token, or null when there is no file yet or it is too short to be one. */
export function readAccessToken(file: string): string | null {
  try {
    const t = readFileSync(file, 'utf8').trim();
    return t.length >= 16 ? t : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
