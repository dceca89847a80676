// The store as the build leaves it: PGlite's data folder initialised (initdb) and migrated
// once, at build time (esbuild.mjs runs `node dist/ledger-worker.js --make-snapshot dist`),
// dumped with PGlite's dumpDataDir and gzipped into dist/store-snapshot.tar.gz. A first
// start unpacks it into CONDUIT_HOME/data/pglite instead of running initdb (seconds, and
// PGlite's initdb alone took the gateway's memory to ~700 MB); migrations newer than the
// snapshot then apply on top as on any open.
//
// The snapshot holds no user: the local user is created at the first open, as before.
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import type { PGliteInterface } from '@electric-sql/pglite';
import { applyMigrations, readSqlFiles } from './migrations';
import { ledgerDbFromPglite } from './ledgerDb';
import { applyLocalSchema } from './localSchema';
import { fromPglite } from './sqlClient';

export const SNAPSHOT_FILE = 'store-snapshot.tar.gz';
/** Beside the tarball: the migrations it holds (name → checksum), read before unpacking. */
export const SNAPSHOT_MANIFEST = 'store-snapshot.json';

export interface SnapshotManifest {
  /** What the snapshot was made from (esbuild.mjs skips making it again while this holds). */
  key?: string;
  migrations: Record<string, string>;
  /** The local shim's files (supabase/local) it ran: the same ones need not run again on the first open. */
  shim?: Record<string, string>;
}

/** The snapshot shipped with the code: beside the bundle, or the repository's dist/ from source; null when there is none. */
export function defaultSnapshotPath(): string | null {
  const candidates = [path.join(__dirname, SNAPSHOT_FILE), path.resolve(__dirname, '../../../../dist', SNAPSHOT_FILE)];
  return candidates.find((f) => existsSync(f) && existsSync(manifestPathOf(f))) ?? null;
}

function manifestPathOf(tarball: string): string {
  return path.join(path.dirname(tarball), SNAPSHOT_MANIFEST);
}

/** Build time: migrates `pglite` (a new, in-memory one) and writes the snapshot and its manifest into `outDir`. */
export async function writeStoreSnapshot(pglite: PGliteInterface & { dumpDataDir(c: 'gzip'): Promise<Blob> }, migrationsDir: string, outDir: string, key?: string): Promise<{ bytes: number; migrations: number }> {
  await applyMigrations(fromPglite(pglite), { includeShim: true, dir: migrationsDir });
  await applyLocalSchema(ledgerDbFromPglite(pglite));
  await pglite.exec('checkpoint'); // the first open then replays next to nothing
  const tarball = Buffer.from(await (await pglite.dumpDataDir('gzip')).arrayBuffer());
  const checksums = (folder: string) => Object.fromEntries(readSqlFiles(path.join(migrationsDir, folder)).map((f) => [f.name, f.checksum]));
  const migrations = checksums('migrations');
  mkdirSync(outDir, { recursive: true });
  const manifest: SnapshotManifest = { ...(key ? { key } : {}), migrations, shim: checksums('local') };
  // Each file whole or not at all: a gateway or another build may read them meanwhile.
  const put = (name: string, content: string | Buffer) => {
    const temp = path.join(outDir, `.${name}.${process.pid}.tmp`);
    writeFileSync(temp, content);
    renameSync(temp, path.join(outDir, name));
  };
  put(SNAPSHOT_FILE, tarball);
  put(SNAPSHOT_MANIFEST, JSON.stringify(manifest, null, 2) + '\n');
  return { bytes: tarball.length, migrations: Object.keys(migrations).length };
}

/**
 * Whether the snapshot can serve this code's migrations: `mismatch` says why not (a
 * migration it holds is gone or was edited since: applying the rest on top would be
 * refused); `shimCurrent`: it ran the same local shim as this code has.
 */
export function checkSnapshot(tarball: string, migrationsDir: string): { mismatch: string | null; shimCurrent: boolean } {
  let manifest: SnapshotManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPathOf(tarball), 'utf8')) as SnapshotManifest;
  } catch (err) {
    return { mismatch: `its manifest cannot be read (${(err as Error).message})`, shimCurrent: false };
  }
  const current = new Map(readSqlFiles(path.join(migrationsDir, 'migrations')).map((f) => [f.name, f.checksum]));
  for (const [name, checksum] of Object.entries(manifest.migrations ?? {})) {
    if (current.get(name) !== checksum) {
      return { mismatch: `it holds migration ${name} ${current.has(name) ? 'as it was before an edit' : 'that this code does not have'}`, shimCurrent: false };
    }
  }
  const shim = readSqlFiles(path.join(migrationsDir, 'local'));
  const shimCurrent = !!manifest.shim && shim.length === Object.keys(manifest.shim).length && shim.every((f) => manifest.shim![f.name] === f.checksum);
  return { mismatch: null, shimCurrent };
}

/**
 * Unpacks the snapshot into `dataDir` (which must not hold a store). Streamed, file by
 * file: PGlite's own loadDataDir reads the whole tarball into memory and through the
 * WebAssembly heap, which took the store's process to ~290 MB where a plain open stays
 * under ~200 MB.
 */
export async function unpackSnapshot(tarball: string, dataDir: string): Promise<number> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  let files = 0;
  let pending: Buffer = Buffer.alloc(0);
  let fd: number | null = null;
  let remaining = 0;
  let padding = 0;
  try {
    for await (const chunk of createReadStream(tarball, { highWaterMark: 1 << 18 }).pipe(createGunzip({ chunkSize: 1 << 18 })) as AsyncIterable<Buffer>) {
      const data = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      pending = Buffer.alloc(0);
      let off = 0;
      while (off < data.length) {
        if (remaining > 0) {
          const n = Math.min(remaining, data.length - off);
          writeSync(fd!, data, off, n);
          off += n;
          remaining -= n;
          if (remaining === 0) { closeSync(fd!); fd = null; }
          continue;
        }
        if (padding > 0) {
          const n = Math.min(padding, data.length - off);
          off += n;
          padding -= n;
          continue;
        }
        if (data.length - off < 512) { pending = data.subarray(off); break; }
        const header = data.subarray(off, off + 512);
        off += 512;
        if (header.every((b) => b === 0)) continue; // the end-of-archive blocks
        const entry = tarEntry(header);
        const target = safeTarget(dataDir, entry.name);
        if (entry.type === 'dir') {
          mkdirSync(target, { recursive: true, mode: 0o700 });
          continue;
        }
        mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
        fd = openSync(target, 'w', 0o600);
        files++;
        remaining = entry.size;
        padding = (512 - (entry.size % 512)) % 512;
        if (remaining === 0) { closeSync(fd); fd = null; }
      }
    }
    if (remaining > 0 || pending.length) throw new Error('the snapshot is cut short');
  } finally {
    if (fd !== null) closeSync(fd);
  }
  return files;
}

/** A ustar header (what PGlite's dumpDataDir writes): regular files and folders only. */
function tarEntry(header: Buffer): { name: string; size: number; type: 'file' | 'dir' } {
  const text = (start: number, length: number) => {
    const field = header.subarray(start, start + length);
    const end = field.indexOf(0);
    return field.subarray(0, end < 0 ? length : end).toString('utf8');
  };
  const name = text(0, 100);
  const prefix = header.subarray(257, 262).toString('latin1') === 'ustar' ? text(345, 155) : '';
  const size = parseInt(text(124, 12).trim() || '0', 8);
  const flag = String.fromCharCode(header[156]);
  const full = prefix ? `${prefix}/${name}` : name;
  if (!Number.isFinite(size) || size < 0) throw new Error(`the snapshot's entry ${full} has no valid size`);
  if (flag === '5') return { name: full, size: 0, type: 'dir' };
  if (flag === '0' || flag === '\0') return { name: full, size, type: 'file' };
  throw new Error(`the snapshot's entry ${full} is of a kind a data folder does not hold (type ${JSON.stringify(flag)})`);
}

/** The entry's path inside `dir`; an entry pointing outside it is refused. */
function safeTarget(dir: string, name: string): string {
  const parts = name.split('/').filter((p) => p && p !== '.');
  if (!parts.length || parts.includes('..')) throw new Error(`the snapshot's entry "${name}" points outside the data folder`);
  return path.join(dir, ...parts);
}
