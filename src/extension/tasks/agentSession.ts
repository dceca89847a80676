/**
 * One agent session as a Pseudoterminal: runs conduit-claude in stream-json mode with the
 * project's and agent's SYNAPSE_* environment, shows the conversation readably, reports
 * each conduit_metadata line, and ends the whole process tree when the task is cancelled.
 */
import * as vscode from 'vscode';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ConduitMetadataLine } from '../../protocol/usage';
import { SessionRenderer } from './streamJsonRenderer';

export interface AgentSessionSpec {
  prompt: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  model?: string;
  args?: string[];
  extensionPath: string;
  onMetadata?: (m: ConduitMetadataLine['data']) => void;
}

export function wrapperCommand(extensionPath: string): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  return { command: process.execPath, args: [path.join(extensionPath, 'dist', 'conduit-claude.js')], env: { ELECTRON_RUN_AS_NODE: '1' } };
}

export class AgentSessionTerminal implements vscode.Pseudoterminal {
  private readonly writer = new vscode.EventEmitter<string>();
  private readonly closer = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.writer.event;
  readonly onDidClose = this.closer.event;
  private child: ChildProcess | null = null;
  private cancelled = false;
  private readonly renderer = new SessionRenderer();

  constructor(private readonly spec: AgentSessionSpec) {}

  open(): void {
    const { prompt, cwd, env, model, args = [], extensionPath } = this.spec;
    const wrapper = wrapperCommand(extensionPath);
    const claudeArgs = ['-p', prompt, '--output-format', 'stream-json', '--verbose', ...(model ? ['--model', model] : []), ...args];
    this.print(`\x1b[2m$ conduit-claude ${claudeArgs.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}\x1b[0m`);
    const child = spawn(wrapper.command, [...wrapper.args, ...claudeArgs], {
      cwd, env: { ...process.env, ...env, ...wrapper.env }, stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so cancelling ends claude and everything it started.
      detached: process.platform !== 'win32', windowsHide: true,
    });
    this.child = child;
    let pending = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        this.handle(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => this.print(`\x1b[33m${text.replace(/\n$/, '')}\x1b[0m`));
    child.once('error', (err) => {
      this.print(`\x1b[31mcould not run conduit-claude: ${err.message}\x1b[0m`);
      this.closer.fire(127);
    });
    child.once('close', (code, signal) => {
      if (pending) this.handle(pending);
      // The summary: conduit-claude's last metadata lines come after claude's result line.
      for (const l of this.renderer.finish()) this.print(l);
      this.child = null;
      if (this.cancelled) this.print('\x1b[2m(cancelled)\x1b[0m');
      else if (code !== 0) this.print(`\x1b[31mconduit-claude exited with ${signal ?? `code ${code}`}\x1b[0m`);
      this.closer.fire(code ?? 1);
    });
  }

  close(): void {
    this.cancelled = true;
    const child = this.child;
    if (!child?.pid) return;
    killTree(child.pid, 'SIGTERM');
    const timer = setTimeout(() => killTree(child.pid!, 'SIGKILL'), 3_000);
    child.once('close', () => clearTimeout(timer));
  }

  handleInput(data: string): void {
    if (data === '\x03') this.close(); // Ctrl-C in the task terminal
  }

  private handle(line: string): void {
    const r = this.renderer.push(line);
    for (const l of r.lines) this.print(l);
    if (r.metadata) this.spec.onMetadata?.(r.metadata);
  }

  private print(text: string): void {
    this.writer.fire(`${text.replace(/\r?\n/g, '\r\n')}\r\n`);
  }
}

function killTree(pid: number, signal: NodeJS.Signals): void {
  try {
    if (process.platform === 'win32') {
      spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { windowsHide: true });
    } else {
      process.kill(-pid, signal); // the whole process group
    }
  } catch {
    // already gone
  }
}
