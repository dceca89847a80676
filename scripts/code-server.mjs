// VS Code in the browser for machines without desktop VS Code: installs code-server,
// installs the packaged extension into it, starts and stops it. Shared by `npm start`
// (scripts/run-product.mjs) and the host tests (test/support/codeServer.ts).
//
// code-server 4.100.3 is VS Code 1.100.3, the newest release that runs on Node 20. Its
// install only needs the npm registry and Debian packages: @vscode/ripgrep's download is
// replaced by Debian's rg, and native modules build against libkrb5-dev.
import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync, constants, cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Local tools and state for running the product; gitignored. */
export const devDir = path.join(repoRoot, '.conduit-dev');
export const codeServerDir = path.join(devDir, 'code-server');
const codeServerEntry = path.join(codeServerDir, 'node_modules/code-server/out/node/entry.js');
const installedMarker = path.join(codeServerDir, '.installed');
export const chromiumPath = '/usr/bin/chromium';

// Recorded by ENVIRONMENT.md for code-server 4.100.3: the @vscode/ripgrep it depends on
// looks for this archive in its cache before downloading from GitHub.
const ripgrepCache = { dir: 'vscode-ripgrep-cache-1.15.11', file: 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz' };

function onPath(command) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try { accessSync(candidate, constants.X_OK); return candidate; } catch { /* keep looking */ }
  }
  return null;
}

/** The command that installs `packages`, with sudo when not root. */
export function aptInstallCommand(packages) {
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  return `${sudo}apt-get update && ${sudo}apt-get install -y ${packages.join(' ')}`;
}

/**
 * Debian packages missing for what is asked: building code-server (`install`) and/or
 * driving it from tests (`chromium`).
 */
export function missingSystemPackages({ install = false, chromium = false } = {}) {
  const missing = [];
  if (install) {
    if (!existsSync('/usr/include/gssapi/gssapi.h') && !onPath('krb5-config')) missing.push('libkrb5-dev');
    if (!onPath('pkg-config')) missing.push('pkg-config');
    if (!existsSync('/usr/bin/rg')) missing.push('ripgrep');
    if (!onPath('make') || !onPath('g++')) missing.push('build-essential');
    if (!onPath('python3')) missing.push('python3');
  }
  if (chromium && !existsSync(chromiumPath)) missing.push('chromium');
  return missing;
}

/** Throws an error that says which apt-get command to run. */
export function assertSystemPackages(what) {
  const missing = missingSystemPackages(what);
  if (missing.length) {
    throw new Error(`Missing Debian packages: ${missing.join(', ')}. Install them with:\n  ${aptInstallCommand(missing)}`);
  }
}

export function isCodeServerInstalled() {
  try {
    return readFileSync(installedMarker, 'utf8').trim() === CODE_SERVER_VERSION && existsSync(codeServerEntry);
  } catch {
    return false;
  }
}

function seedRipgrepCache() {
  const dir = path.join(os.tmpdir(), ripgrepCache.dir);
  const archive = path.join(dir, ripgrepCache.file);
  if (existsSync(archive)) return;
  mkdirSync(dir, { recursive: true });
  const tar = spawnSync('tar', ['czf', archive, '-C', '/usr/bin', 'rg'], { encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(`could not seed the ripgrep cache at ${archive}: ${tar.stderr || tar.error}`);
}

/**
 * Installs code-server into .conduit-dev/code-server unless that version is already there.
 * About 300 MB; 1 minute on a 2-core machine with a cold npm cache (up to 4 on slower ones);
 * a no-op afterwards. Not safe to run twice at the same time on one checkout.
 * @param {{ log?: (line: string) => void }} [options]
 */
export async function installCodeServer({ log = (line) => console.log(line) } = {}) {
  if (isCodeServerInstalled()) return;
  assertSystemPackages({ install: true });
  seedRipgrepCache();
  mkdirSync(codeServerDir, { recursive: true });
  // Its own project, so its ~300 MB never mix with the extension's dependencies. Its
  // install scripts are approved explicitly (npm 11 allowScripts; by name, as pins need
  // `resolved` URLs that some npmrc files omit): code-server's postinstall and argon2's
  // native build (code-server loads argon2 even with --auth none). That postinstall runs
  // `npm install` in lib/vscode, a project of its own, where npm's default applies: the
  // native builds (node-pty, kerberos, spdlog, ...) and @vscode/ripgrep's postinstall run
  // with a notice.
  writeFileSync(path.join(codeServerDir, 'package.json'), `${JSON.stringify({
    name: 'conduit-dev-code-server',
    private: true,
    description: 'code-server for `npm start` and the host tests of Synapse Conduit (scripts/code-server.mjs)',
    dependencies: { 'code-server': CODE_SERVER_VERSION },
    allowScripts: { 'code-server': true, argon2: true },
  }, null, 2)}\n`);
  const logFile = path.join(codeServerDir, 'install.log');
  log(`Installing code-server ${CODE_SERVER_VERSION} into ${path.relative(process.cwd(), codeServerDir) || '.'} (a minute or more, once; log: ${logFile})`);
  const started = Date.now();
  const out = createWriteStream(logFile);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const child = spawn(npm, ['install', '--save-exact', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: codeServerDir,
    // code-server's postinstall refuses to run as root without unsafe-perm.
    env: { ...process.env, npm_config_yes: 'true', npm_config_unsafe_perm: 'true', ...localNodeHeaders() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out, { end: false });
  child.stderr.pipe(out, { end: false });
  const code = await new Promise((resolve) => {
    child.on('error', (err) => { out.write(`${err.stack}\n`); resolve(-1); });
    child.on('close', (c) => resolve(c ?? -1));
  });
  await new Promise((resolve) => out.end(resolve));
  if (code !== 0 || !existsSync(codeServerEntry)) {
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
    throw new Error(`code-server ${CODE_SERVER_VERSION} failed to install (npm exit ${code}). Last lines of ${logFile}:\n${tail}`);
  }
  writeFileSync(installedMarker, `${CODE_SERVER_VERSION}\n`);
  log(`code-server ${CODE_SERVER_VERSION} installed in ${Math.round((Date.now() - started) / 1000)} s`);
}

function requireInstalled() {
  if (!isCodeServerInstalled()) throw new Error(`code-server ${CODE_SERVER_VERSION} is not installed in ${codeServerDir}: call installCodeServer() first`);
}

/**
 * A copy of the working tree (the files git tracks or would track, so uncommitted work is in)
 * with node_modules linked, for building without touching the shared dist/.
 */
function stageWorkingTree() {
  const list = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot, encoding: 'utf8' });
  if (list.status !== 0) throw new Error(`git ls-files failed in ${repoRoot}: ${list.stderr || list.error}`);
  const stage = mkdtempSync(path.join(os.tmpdir(), 'conduit-stage-'));
  for (const file of list.stdout.split('\0')) {
    if (!file || !existsSync(path.join(repoRoot, file))) continue; // deleted but still tracked
    mkdirSync(path.dirname(path.join(stage, file)), { recursive: true });
    cpSync(path.join(repoRoot, file), path.join(stage, file));
  }
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
  return stage;
}

/**
 * Builds the production bundles and packages the extension into `outFile` with `vsce
 * package` (which runs the `vscode:prepublish` script), as `npm run package` does. With
 * `isolated`, both happen in a staged copy of the working tree, so the repository's dist/,
 * which other test runs may be executing, is left alone. Returns outFile.
 */
export function packageVsix(outFile, { isolated = false } = {}) {
  let vsce;
  try {
    const require = createRequire(path.join(repoRoot, 'package.json'));
    vsce = path.join(path.dirname(require.resolve('@vscode/vsce/package.json')), 'vsce');
  } catch {
    throw new Error('@vscode/vsce is not installed: run `npm ci` in the repository first');
  }
  mkdirSync(path.dirname(outFile), { recursive: true });
  const cwd = isolated ? stageWorkingTree() : repoRoot;
  try {
    const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', outFile], { cwd, encoding: 'utf8' });
    if (r.status !== 0 || !existsSync(outFile)) {
      throw new Error(`vsce package failed in ${cwd} (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
  } finally {
    if (isolated) rmSync(cwd, { recursive: true, force: true });
  }
  return outFile;
}

/**
 * code-server's own config file, kept in the user-data dir: without --config it creates
 * ~/.config/code-server/config.yaml with a generated password.
 */
function writeCodeServerConfig(userDataDir, bindAddr) {
  mkdirSync(userDataDir, { recursive: true });
  const file = path.join(userDataDir, 'code-server.yaml');
  writeFileSync(file, `${bindAddr ? `bind-addr: ${bindAddr}\n` : ''}auth: none\ncert: false\n`);
  return file;
}

/** Installs (or reinstalls) a .vsix into the given user-data and extensions folders. */
/**
 * code-server's argon2 builds a native module: node-gyp then downloads Node's headers,
 * which fails without the internet unless it is told where they are. Node installed from
 * a distribution's packages ships them (<prefix>/include/node): point node-gyp there,
 * unless the person's npm configuration already names a folder.
 */
function localNodeHeaders() {
  if (process.env.npm_config_nodedir) return {};
  const prefix = path.dirname(path.dirname(process.execPath));
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? { npm_config_nodedir: prefix } : {};
}

export function installVsix({ vsix, userDataDir, extensionsDir, env = process.env }) {
  requireInstalled();
  const config = writeCodeServerConfig(userDataDir);
  mkdirSync(extensionsDir, { recursive: true });
  const r = spawnSync(process.execPath, [codeServerEntry, '--config', config, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix, '--force'], { encoding: 'utf8', env });
  if (r.status !== 0 || !/successfully installed/i.test(r.stdout + r.stderr)) {
    throw new Error(`code-server could not install ${vsix} (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
}

/** The folder an installed extension landed in (publisher.name-version), or null. */
export function installedExtensionDir(extensionsDir, id) {
  const prefix = `${id.toLowerCase()}-`;
  const match = readdirSync(extensionsDir).filter((d) => d.toLowerCase().startsWith(prefix)).sort().pop();
  return match ? path.join(extensionsDir, match) : null;
}

/** Settings every run needs: a trusted workspace (the extension is disabled in Restricted Mode), no telemetry, no welcome page. */
export const baseSettings = {
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
};

/**
 * Writes User/settings.json under userDataDir: baseSettings and `extra` over what is already
 * there, so settings changed by hand in a dev profile survive; `defaults` only where the
 * profile has no value (or an empty one). A file that is not plain JSON (comments) is replaced.
 */
export function writeSettings(userDataDir, extra = {}, defaults = {}) {
  const file = path.join(userDataDir, 'User', 'settings.json');
  let current = {};
  try { current = JSON.parse(readFileSync(file, 'utf8')); } catch { /* missing or JSONC: start over */ }
  const missing = Object.fromEntries(Object.entries(defaults).filter(([key]) => current[key] === undefined || current[key] === ''));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ ...current, ...missing, ...baseSettings, ...extra }, null, 2)}\n`);
  return file;
}

/** The claude CLI `npm ci` installed in this repository (a devDependency), or null. */
export function repositoryClaude() {
  const file = path.join(repoRoot, 'node_modules', '.bin', process.platform === 'win32' ? 'claude.cmd' : 'claude');
  return existsSync(file) ? file : null;
}

/** A port that was free on `host` a moment ago. */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * Retries `GET url` until it answers with a status below 500, the deadline passes or
 * `stillRunning()` says the server is gone.
 */
export async function waitForHttp(url, { timeoutMs = 60_000, intervalMs = 200, stillRunning = () => true } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (!stillRunning()) throw new Error(`${url}: the server exited before it answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
      await res.arrayBuffer();
      if (res.status < 500) return;
      lastError = `HTTP ${res.status}`;
    } catch (err) {
      lastError = err.cause?.code ?? err.message;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${lastError})`);
}

/** Pids of every descendant of `pid` (Linux /proc), deepest last. */
function descendants(pid) {
  if (process.platform !== 'linux') return [];
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  const out = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of children.get(queue.shift()) ?? []) { out.push(child); queue.push(child); }
  }
  return out;
}

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function signal(pid, sig) {
  try { process.kill(pid, sig); } catch { /* already gone */ }
}

/**
 * Ends `pid` and every process under it: SIGTERM to its process group and each descendant,
 * then SIGKILL to whatever is left after `graceMs`.
 */
export async function killProcessTree(pid, { graceMs = 5000 } = {}) {
  const tree = [pid, ...descendants(pid)];
  signal(-pid, 'SIGTERM'); // the group, when pid was spawned detached
  for (const p of tree) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && tree.some(alive)) await new Promise((r) => setTimeout(r, 100));
  const left = [...new Set([...tree, ...descendants(pid)])].filter(alive);
  signal(-pid, 'SIGKILL');
  for (const p of left) signal(p, 'SIGKILL');
}

/**
 * Starts code-server on host:port (a free port when none is given) with `folder` open and
 * `env` as the environment of the server and so of the extension host. Resolves once it
 * answers HTTP. It keeps a heartbeat file and logs in $XDG_DATA_HOME/code-server (by default
 * ~/.local/share/code-server); tests point XDG_DATA_HOME at a temp folder.
 * @returns {Promise<{ url: string, port: number, pid: number, output: () => string, exited: Promise<number | null>, stop: () => Promise<void> }>}
 */
export async function startCodeServer({ folder, userDataDir, extensionsDir, host = '127.0.0.1', port, env = process.env, readyTimeoutMs = 60_000, logFile }) {
  requireInstalled();
  const chosenPort = port || await freePort(host);
  const config = writeCodeServerConfig(userDataDir, `${host}:${chosenPort}`);
  const args = [
    codeServerEntry,
    '--config', config,
    '--auth', 'none',
    '--bind-addr', `${host}:${chosenPort}`,
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--ignore-last-opened',
    folder,
  ];
  // Detached: its own process group, so stop() can end the server and everything it spawned.
  const child = spawn(process.execPath, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const log = logFile ? createWriteStream(logFile) : null;
  const collect = (chunk) => {
    output = (output + chunk.toString()).slice(-20_000);
    log?.write(chunk);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let running = true;
  const exited = new Promise((resolve) => {
    child.on('error', (err) => { collect(`${err.stack}\n`); running = false; resolve(null); });
    child.on('exit', (code) => { running = false; log?.end(); resolve(code); });
  });
  const url = `http://${host}:${chosenPort}/`;
  const stop = async () => {
    if (running) await killProcessTree(child.pid);
    else if (child.pid) await killProcessTree(child.pid, { graceMs: 0 });
    await exited;
  };
  try {
    await waitForHttp(`${url}healthz`, { timeoutMs: readyTimeoutMs, stillRunning: () => running });
  } catch (err) {
    await stop();
    throw new Error(`code-server did not start: ${err.message}\n--- code-server output ---\n${output}`);
  }
  return { url, port: chosenPort, pid: child.pid, output: () => output, exited, stop };
}

// `node scripts/code-server.mjs install` (npm run setup:code-server): the install step alone,
// for CI to run (and time) before the host tests.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv[2] !== 'install') {
    console.error('usage: node scripts/code-server.mjs install');
    process.exit(2);
  }
  try {
    await installCodeServer();
    if (isCodeServerInstalled()) console.log(`code-server ${CODE_SERVER_VERSION} is installed in ${codeServerDir}`);
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
