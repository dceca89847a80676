// One throw-away PostgreSQL cluster per test run, on a free loopback port: initdb into a
// temporary folder, start `postgres`, wait until it accepts a connection. Tests ask it for
// fresh empty databases. Stopped by the root hook (test/support/rootHooks.ts), and killed
// at process exit if something skipped that.
//
// CONDUIT_TEST_POSTGRES_URL (a superuser connection string) uses an existing server instead;
// CONDUIT_TEST_PG_BINDIR names the folder of initdb and postgres when they are elsewhere.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** Superuser connection string of the cluster's `postgres` database. */
  connectionString: string;
  /** Creates an empty database and returns its connection string. */
  newDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'PostgreSQL 15 server binaries (initdb, postgres) are needed for the SQL tests. ' +
  'Install them with `apt-get install -y postgresql-15` (CI installs it), or point CONDUIT_TEST_PG_BINDIR ' +
  'at the folder that holds them.';

const READY_DEADLINE_MS = 30_000;
const STOP_DEADLINE_MS = 10_000;

// Kept on globalThis: mocha may load this file once through require (root hook) and once
// through import (test files); there must still be only one cluster.
const SINGLETON = Symbol.for('conduit.test.postgres');
type Holder = { started?: Promise<TestPostgres> };
const holder: Holder = ((globalThis as Record<symbol, Holder>)[SINGLETON] ??= {});

/** The run's cluster, started on first use. */
export function getTestPostgres(): Promise<TestPostgres> {
  holder.started ??= process.env.CONDUIT_TEST_POSTGRES_URL
    ? Promise.resolve(external(process.env.CONDUIT_TEST_POSTGRES_URL))
    : startCluster();
  // A failed start is reported to every caller, and retried by none.
  return holder.started;
}

/** Stops the cluster if one was started (the root hook's afterAll). */
export async function stopTestPostgres(): Promise<void> {
  const started = holder.started;
  if (!started) return;
  holder.started = undefined;
  const server = await started.catch(() => undefined);
  await server?.stop();
}

function findBinDir(): string {
  const override = process.env.CONDUIT_TEST_PG_BINDIR;
  const candidates = override ? [override] : ['/usr/lib/postgresql/15/bin'];
  if (!override) {
    const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
    if (pgConfig.status === 0 && pgConfig.stdout.trim()) candidates.push(pgConfig.stdout.trim());
  }
  for (const dir of candidates) {
    if (existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'postgres'))) return dir;
  }
  throw new Error(`${INSTALL_HINT} (Looked in: ${candidates.join(', ')}.)`);
}

/** postgres refuses to run as root: then initdb and the server run as the `postgres` user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('Running as root, and there is no `postgres` user to run the test cluster as. ' + INSTALL_HINT);
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function startCluster(): Promise<TestPostgres> {
  const binDir = findBinDir();
  const user = serverUser();
  const root = mkdtempSync(path.join(os.tmpdir(), 'conduit-pg-'));
  if (user) chownSync(root, user.uid, user.gid);
  const dataDir = path.join(root, 'data');
  const socketDir = root;
  // libuv drops root's supplementary groups when uid/gid are given.
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  const env = { ...process.env, LC_ALL: 'C', TZ: 'UTC' };

  const init = spawnSync(
    path.join(binDir, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync'],
    { cwd: root, env, encoding: 'utf8', ...asUser },
  );
  if (init.status !== 0) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`initdb failed (exit ${init.status ?? init.signal}): ${init.stderr || init.stdout || init.error}`);
  }

  // The port may be taken between freePort() and postgres binding it: then try another.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      path.join(binDir, 'postgres'),
      ['-D', dataDir, '-p', String(port), '-k', socketDir,
        '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off',
        '-c', 'full_page_writes=off', '-c', 'max_connections=50'],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], ...asUser },
    );
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const killAtExit = () => {
      // Immediate shutdown; the server must not outlive the test process.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
      rmSync(root, { recursive: true, force: true });
    };
    process.once('exit', killAtExit);

    const connectionString = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    try {
      await waitUntilReady(connectionString, child, () => output);
    } catch (err) {
      lastError = err;
      process.removeListener('exit', killAtExit);
      await stopChild(child);
      if (/could not bind|Address already in use/i.test(output)) continue;
      rmSync(root, { recursive: true, force: true });
      throw err;
    }
    return {
      connectionString,
      newDatabase: (name) => createDatabase(connectionString, name),
      async stop() {
        process.removeListener('exit', killAtExit);
        await stopChild(child);
        rmSync(root, { recursive: true, force: true });
      },
    };
  }
  rmSync(root, { recursive: true, force: true });
  throw lastError;
}

/** Readiness: a connection succeeds. Retries while the server starts, within a deadline. */
async function waitUntilReady(connectionString: string, child: ChildProcess, output: () => string): Promise<void> {
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`postgres exited during start-up (${code ?? signal}):\n${output()}`)),
    );
  });
  exited.catch(() => undefined); // observed below through Promise.race
  const deadline = Date.now() + READY_DEADLINE_MS;
  for (;;) {
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2_000 });
    try {
      await Promise.race([client.connect(), exited]);
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (child.exitCode !== null || child.signalCode !== null) throw await exited.catch((e: Error) => e);
      if (Date.now() > deadline) {
        throw new Error(`postgres did not accept connections within ${READY_DEADLINE_MS} ms: ${(err as Error).message}\n${output()}`);
      }
      // Refused (not listening yet) or "the database system is starting up": poll again.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT'); // fast shutdown: disconnects clients, no checkpoint wait worth having
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
  await exited;
  clearTimeout(timer);
}

function external(connectionString: string): TestPostgres {
  return {
    connectionString,
    newDatabase: (name) => createDatabase(connectionString, name),
    async stop() {},
  };
}

async function createDatabase(adminConnectionString: string, name?: string): Promise<string> {
  const db = name ?? `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(db)) throw new Error(`Not a plain database name: ${db}`);
  const client = new pg.Client({ connectionString: adminConnectionString });
  await client.connect();
  try {
    await client.query(`create database ${db} template template0 encoding 'UTF8'`);
  } finally {
    await client.end();
  }
  const url = new URL(adminConnectionString);
  url.pathname = `/${db}`;
  return url.toString();
}
