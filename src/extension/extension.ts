/**
 * Synapse: the VS Code side of Conduit. This minimal entry activates and shows the
 * gateway's status; the supervisor, tasks, status bar and views come with their issue.
 */
import * as vscode from 'vscode';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';

function conduitHome(): string {
  return process.env.CONDUIT_HOME || path.join(os.homedir(), '.conduit');
}

function health(port: number): Promise<{ version: string; pid: number; uptimeSeconds: number } | null> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health', timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => { try { resolve(JSON.parse(body)); } catch { resolve(null); } });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.commands.registerCommand('conduit.showStatus', async () => {
    let port: number | null = null;
    try {
      port = Number(readFileSync(path.join(conduitHome(), 'gateway.port'), 'utf8').trim());
    } catch { /* not started */ }
    const h = port ? await health(port) : null;
    void vscode.window.showInformationMessage(h
      ? `Conduit ${h.version} is running on 127.0.0.1:${port} (pid ${h.pid}, up ${h.uptimeSeconds}s)`
      : 'Conduit is not running. Start it with `conduit start`.');
  }));
}

export function deactivate(): void {}
