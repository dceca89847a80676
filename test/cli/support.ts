// Helpers for the suites that run the built CLI (dist/conduit.js) and wrapper
// (dist/conduit-claude.js) as real processes: a sandbox per test (its own CONDUIT_HOME
// and HOME), process runners that never block the event loop (the Anthropic stand-in
// runs in this process), and waits on file-system events instead of sleeps.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fakeAnthropic';

export const ROOT = path.resolve(__dirname, '../..');
export const DIST = path.join(ROOT, 'dist');
export const CONDUIT = path.join(DIST, 'conduit.js');
export const WRAPPER = path.join(DIST, 'conduit-claude.js');

/** Builds the bundles once if they are missing (test/run.mjs builds before every run). */
export function ensureBuilt(): void {
  const wanted = [CONDUIT, WRAPPER, path.join(DIST, 'plugin-worker.js')];
  if (wanted.every((f) => existsSync(f))) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'esbuild.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`node esbuild.mjs failed with exit code ${r.status}`);
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout exactly as received. */
  stdoutBytes: Buffer;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  /** Written to stdin, then stdin is closed (stdin is closed at once without it). */
  input?: string;
  cwd?: string;
  timeoutMs?: number;
  /** Only for Windows .cmd launchers. */
  shell?: boolean;
}

/** Runs a program to its end, asynchronously, collecting its output. */
export function run(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env, cwd: options.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true, shell: options.shell ?? false });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => undefined); // the program may exit without reading its stdin
    child.stdin.end(options.input);
    const timeoutMs = options.timeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(command)} ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${Buffer.concat(err).toString('utf8')}`));
    }, timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
  });
}

/** Whether a process runs (an exited one that its parent has not reaped yet does not). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false; // gone meanwhile
  }
}

/**
 * Resolves once check() holds, re-checking on every change in dir (fs.watch), so the
 * wait ends on the event itself rather than after a sleep.
 */
export function waitForDir(dir: string, check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      watcher.close();
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const watcher = watch(dir, () => { if (check()) finish(); });
    const timer = setTimeout(() => finish(new Error(`waited ${timeoutMs} ms for ${what}`)), timeoutMs);
    if (check()) finish(); // it may have happened between the first check and the watch
  });
}

/** A port that was free a moment ago (for tests of --port N). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface StatusJson {
  running: boolean;
  pid: number | null;
  port: number | null;
  version: string;
  uptimeSeconds: number | null;
  [k: string]: unknown;
}

/**
 * One test's world: a temp folder holding CONDUIT_HOME (home), a HOME for claude
 * (userHome) and a work folder (cwd for claude). cleanup() stops every gateway that
 * ever wrote its pid into this CONDUIT_HOME, then removes the folder.
 */
export class Sandbox {
  readonly root: string;
  readonly home: string;
  readonly userHome: string;
  readonly work: string;
  private readonly pids = new Set<number>();

  constructor(options: { config?: Record<string, unknown> | null } = {}) {
    this.root = mkdtempSync(path.join(os.tmpdir(), 'conduit-cli-test-'));
    this.home = path.join(this.root, 'conduit-home');
    this.userHome = path.join(this.root, 'home');
    this.work = path.join(this.root, 'work');
    for (const d of [this.home, this.userHome, this.work]) mkdirSync(d, { recursive: true });
    // Never the default port 3460: other suites and other people's gateways may hold it.
    const config = options.config === undefined ? { port: 0 } : options.config;
    if (config) writeFileSync(path.join(this.home, 'config.json'), JSON.stringify(config));
  }

  get pidFile(): string { return path.join(this.home, 'gateway.pid'); }
  get portFile(): string { return path.join(this.home, 'gateway.port'); }
  get tokenFile(): string { return path.join(this.home, 'token'); }
  get logFile(): string { return path.join(this.home, 'logs', 'gateway.log'); }

  /** A minimal environment: nothing from the outside but PATH (no ANTHROPIC_* at all). */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: this.userHome, CONDUIT_HOME: this.home };
    if (process.platform === 'win32') {
      env.USERPROFILE = this.userHome;
      env.SystemRoot = process.env.SystemRoot;
    }
    return { ...env, ...extra };
  }

  /** Runs `conduit <args>`; remembers the gateway's pid if one is running afterwards. */
  async conduit(args: string[], env: NodeJS.ProcessEnv, options: { input?: string } = {}): Promise<RunResult> {
    const r = await run(process.execPath, [CONDUIT, ...args], { env, input: options.input, cwd: this.work });
    this.remember();
    return r;
  }

  async status(env = this.env()): Promise<{ code: number | null; json: StatusJson }> {
    const r = await this.conduit(['status', '--json'], env);
    return { code: r.code, json: JSON.parse(r.stdout) as StatusJson };
  }

  /** The pid in the pid file now, if any. */
  pid(): number | null {
    try {
      const n = Number(readFileSync(this.pidFile, 'utf8').trim());
      return Number.isInteger(n) && n > 0 ? n : null;
    } catch {
      return null;
    }
  }

  port(): number | null {
    try {
      const n = Number(readFileSync(this.portFile, 'utf8').trim());
      return Number.isInteger(n) && n > 0 ? n : null;
    } catch {
      return null;
    }
  }

  token(): string {
    return readFileSync(this.tokenFile, 'utf8').trim();
  }

  /** Records the current gateway pid (call after anything that may have started one). */
  remember(pid: number | null = this.pid()): void {
    if (pid && pid !== process.pid) this.pids.add(pid);
  }

  /** Whether a live pid is still a process of this sandbox (a pid can be reused by another program). */
  private belongsHere(pid: number): boolean {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`CONDUIT_HOME=${this.home}`);
    } catch {
      return process.platform !== 'linux' && pid === this.pid();
    }
  }

  async cleanup(): Promise<void> {
    this.remember();
    try {
      if (existsSync(this.pidFile)) await run(process.execPath, [CONDUIT, 'stop'], { env: this.env(), cwd: this.root, timeoutMs: 15_000 });
    } catch { /* killed below */ }
    for (const pid of this.pids) {
      if (processAlive(pid) && this.belongsHere(pid)) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * The set-up of a suite that runs the built CLI against the Anthropic stand-in: the
 * bundles built, one stand-in for the suite (it refuses other keys than `upstreamKey`),
 * and a fresh Sandbox for each test, removed after it (and the stand-in's log cleared).
 * Its fields are set inside the tests.
 */
export function useCliSandbox(upstreamKey: string): { readonly fake: FakeAnthropic; readonly sb: Sandbox } {
  const state = {} as { fake: FakeAnthropic; sb: Sandbox };
  before(async () => {
    ensureBuilt();
    state.fake = await startFakeAnthropic({ requireApiKey: upstreamKey });
  });
  after(async () => {
    await state.fake?.close();
  });
  beforeEach(() => {
    state.sb = new Sandbox();
  });
  afterEach(async () => {
    await state.sb.cleanup();
    state.fake.reset();
  });
  return state;
}
