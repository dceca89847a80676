/**
 * `conduit install-wrapper`: CONDUIT_HOME/bin/conduit-claude (a fixed path that terminals and scripts can name) and a
 * `conduit` beside it, as small launchers of this installation's bundles with this
 * Node (a .cmd on Windows). They name absolute paths, so they work from any PATH.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ConduitPaths } from '../client/paths';

export function launcherScripts(nodePath: string, script: string): { posix: string; cmd: string } {
  // VS Code's own Node is Electron: ELECTRON_RUN_AS_NODE makes it plain Node.
  const electron = /electron|code|cursor|windsurf/i.test(path.basename(nodePath)) && !/^node(\.exe)?$/i.test(path.basename(nodePath));
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return {
    posix: `#!/bin/sh\n${electron ? 'ELECTRON_RUN_AS_NODE=1 ' : ''}exec ${q(nodePath)} ${q(script)} "$@"\n`,
    cmd: `@echo off\r\n${electron ? 'set ELECTRON_RUN_AS_NODE=1\r\n' : ''}"${nodePath}" "${script}" %*\r\n`,
  };
}

export function installWrapper(paths: ConduitPaths, cliEntry: string): number {
  const dist = path.dirname(path.resolve(cliEntry));
  const targets = { 'conduit-claude': path.join(dist, 'conduit-claude.js'), conduit: path.join(dist, 'conduit.js') };
  for (const file of Object.values(targets)) {
    if (!existsSync(file)) {
      console.error(`conduit: ${file} is missing; reinstall Conduit`);
      return 1;
    }
  }
  mkdirSync(paths.binDir, { recursive: true, mode: 0o755 });
  for (const [name, script] of Object.entries(targets)) {
    const { posix, cmd } = launcherScripts(process.execPath, script);
    if (process.platform === 'win32') {
      writeFileSync(path.join(paths.binDir, `${name}.cmd`), cmd);
    } else {
      const file = path.join(paths.binDir, name);
      writeFileSync(file, posix);
      chmodSync(file, 0o755);
    }
  }
  const wrapper = path.join(paths.binDir, process.platform === 'win32' ? 'conduit-claude.cmd' : 'conduit-claude');
  console.log(`Installed ${wrapper}`);
  const onPath = (process.env.PATH ?? '').split(path.delimiter).includes(paths.binDir);
  if (!onPath) {
    console.log(process.platform === 'win32'
      ? `Add it to PATH:  setx PATH "%PATH%;${paths.binDir}"`
      : `Add it to PATH:  echo 'export PATH="${paths.binDir}:$PATH"' >> ~/.profile   (then open a new terminal)`);
  }
  return 0;
}
