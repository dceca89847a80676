// `npm start [folder]`: opens VS Code with Synapse Conduit in it.
// - Desktop VS Code when `code` is on PATH: an Extension Development Host on the fresh build.
// - Otherwise VS Code in the browser: code-server (installed on first use into .conduit-dev/),
//   the packaged .vsix installed into a profile of its own (.conduit-dev/vscode-user and
//   .conduit-dev/vscode-extensions), served on 127.0.0.1 at $PORT or a free port.
// Ctrl-C stops code-server. The folder defaults to this repository; a relative one is read
// from where npm was started (scripts/start-options.mjs).
//
// Sessions need the claude CLI: `npm ci` puts one in this repository's node_modules/.bin,
// which the browser's VS Code gets as its conduit.claude.path (unless the profile has its own)
// and the desktop one finds beside the extension under development.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import path from 'node:path';
import {
  CODE_SERVER_VERSION, devDir, installCodeServer, installVsix, packageVsix, repoRoot, repositoryClaude, startCodeServer, writeSettings,
} from './code-server.mjs';
import { productFolder } from './start-options.mjs';

let folder;
try {
  folder = productFolder(process.argv.slice(2), { cwd: process.env.INIT_CWD || process.cwd(), defaultFolder: repoRoot });
} catch (err) {
  console.error(`npm start: ${err.message}`);
  process.exit(2);
}

/** Desktop VS Code's `code`, not the remote CLI that code-server puts on its terminals' PATH. */
function desktopCode() {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, process.platform === 'win32' ? 'code.cmd' : 'code');
    try {
      accessSync(candidate, constants.X_OK);
      if (!realpathSync(candidate).includes(`${path.sep}remote-cli${path.sep}`)) return candidate;
    } catch { /* keep looking */ }
  }
  return null;
}

function parsePort(value) {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`PORT must be a number from 1 to 65535, got ${JSON.stringify(value)}`);
  }
  return port;
}

async function runDesktop(code) {
  const build = spawnSync(process.execPath, [path.join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
  console.log(`Opening ${folder} in VS Code with the extension from ${repoRoot}`);
  const child = spawn(code, [`--extensionDevelopmentPath=${repoRoot}`, folder], { stdio: 'inherit', shell: process.platform === 'win32' });
  child.on('exit', (status) => process.exit(status ?? 0));
}

async function runCodeServer() {
  const port = parsePort(process.env.PORT);
  await installCodeServer();
  console.log('Packaging the extension…');
  const vsix = packageVsix(path.join(devDir, 'synapse-conduit.vsix'));
  const userDataDir = path.join(devDir, 'vscode-user');
  const extensionsDir = path.join(devDir, 'vscode-extensions');
  installVsix({ vsix, userDataDir, extensionsDir });
  const claude = repositoryClaude();
  writeSettings(userDataDir, {}, claude ? { 'conduit.claude.path': claude } : {});
  const logFile = path.join(devDir, 'code-server.log');
  const server = await startCodeServer({ folder, userDataDir, extensionsDir, host: '127.0.0.1', port, env: process.env, logFile });
  console.log(`\nVS Code (code-server ${CODE_SERVER_VERSION}) is running with Synapse Conduit installed.`);
  console.log(`Open ${server.url} in a browser. Ctrl-C stops it. (log: ${path.relative(process.cwd(), logFile)})\n`);

  let stopping = false;
  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping code-server…`);
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  const code = await server.exited;
  if (!stopping) {
    console.error(`code-server exited on its own (code ${code}). Its last output:\n${server.output()}`);
    await server.stop(); // whatever it left behind
    process.exit(code || 1);
  }
}

try {
  const code = desktopCode();
  if (code) await runDesktop(code);
  else await runCodeServer();
} catch (err) {
  console.error(`npm start: ${err.message}`);
  process.exit(1);
}
