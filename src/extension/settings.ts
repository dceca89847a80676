/**
 * Typed access to the extension's settings (package.json contributes.configuration).
 * Each getter validates its value; a bad one is reported once and the default is used.
 */
import * as vscode from 'vscode';
import os from 'node:os';
import path from 'node:path';

export type CostScope = 'session' | 'today';

/** Settings that only take effect when the gateway restarts. */
export const RESTART_KEYS = ['conduit.gateway.port', 'conduit.gateway.command', 'conduit.home', 'conduit.logLevel'] as const;

export class Settings {
  private readonly reported = new Set<string>();

  constructor(private readonly onProblem: (message: string) => void) {}

  private get<T>(key: string, fallback: T, valid: (v: unknown) => v is T, trustedOnly = false): T {
    const config = vscode.workspace.getConfiguration('conduit');
    // In an untrusted workspace, settings that run commands come from the user only.
    const value = trustedOnly && !vscode.workspace.isTrusted ? config.inspect<T>(key)?.globalValue : config.get<unknown>(key);
    if (value === undefined || value === null) return fallback;
    if (valid(value)) return value;
    const id = `${key}=${JSON.stringify(value)}`;
    if (!this.reported.has(id)) {
      this.reported.add(id);
      this.onProblem(`Setting conduit.${key} has an invalid value ${JSON.stringify(value)}; using ${JSON.stringify(fallback)}.`);
    }
    return fallback;
  }

  get autoStart(): boolean { return this.get('gateway.autoStart', true, isBoolean); }
  get port(): number | null { return this.get<number | null>('gateway.port', null, isPort); }
  get gatewayCommand(): string { return this.get('gateway.command', '', isString, true).trim(); }
  get claudePath(): string { return this.get('claude.path', '', isString, true).trim(); }
  get costScope(): CostScope { return this.get<CostScope>('statusBar.costScope', 'today', (v): v is CostScope => v === 'session' || v === 'today'); }
  get debugLog(): boolean { return this.get('logLevel', 'info', isString) === 'debug'; }

  /** CONDUIT_HOME: the setting, else the environment, else ~/.conduit. */
  get home(): string {
    const configured = this.get('home', '', isString, true).trim();
    if (configured) return path.resolve(configured.replace(/^~(?=$|[\\/])/, os.homedir()));
    return path.resolve(process.env.CONDUIT_HOME || path.join(os.homedir(), '.conduit'));
  }
}

function isBoolean(v: unknown): v is boolean { return typeof v === 'boolean'; }
function isString(v: unknown): v is string { return typeof v === 'string'; }
function isPort(v: unknown): v is number { return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535; }
