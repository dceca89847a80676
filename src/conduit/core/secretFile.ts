/**
 * Files that hold secrets (the access token, credentials): created with mode 0600 so
 * only their owner reads them. On Windows the mode is not enforced by the file system;
 * the file lives under the user's profile, which only they can read.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readAccessToken } from '../client/accessTokenFile';

export function writeSecretFile(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  if (process.platform !== 'win32') chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Reads the access token, creating one (256 random bits) on first use. */
export function ensureAccessToken(file: string): string {
  const existing = readAccessToken(file);
  if (existing) return existing;
  const token = randomBytes(32).toString('base64url');
  try {
    // 'wx': if two processes race to create it, exactly one wins and the other reads it.
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    if (process.platform !== 'win32') chmodSync(file, 0o600);
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const winner = readAccessToken(file);
      if (winner) return winner;
    }
    throw err;
  }
}
