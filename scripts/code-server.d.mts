// Types for scripts/code-server.mjs, so the TypeScript host tests can use it.

export const CODE_SERVER_VERSION: string;
export const repoRoot: string;
export const devDir: string;
export const codeServerDir: string;
export const chromiumPath: string;
export const baseSettings: Readonly<Record<string, unknown>>;

export interface SystemNeeds {
  /** Building code-server: libkrb5-dev, pkg-config, ripgrep, a C++ toolchain, python3. */
  install?: boolean;
  /** Driving it from tests: Debian's chromium. */
  chromium?: boolean;
}

export function aptInstallCommand(packages: string[]): string;
export function missingSystemPackages(what?: SystemNeeds): string[];
export function assertSystemPackages(what?: SystemNeeds): void;
export function isCodeServerInstalled(): boolean;
export function installCodeServer(options?: { log?: (line: string) => void }): Promise<void>;
export function packageVsix(outFile: string, options?: { isolated?: boolean }): string;
export function installVsix(options: { vsix: string; userDataDir: string; extensionsDir: string; env?: NodeJS.ProcessEnv }): void;
export function installedExtensionDir(extensionsDir: string, id: string): string | null;
export function writeSettings(userDataDir: string, extra?: Record<string, unknown>, defaults?: Record<string, unknown>): string;
export function repositoryClaude(): string | null;
export function freePort(host?: string): Promise<number>;
export function waitForHttp(url: string, options?: { timeoutMs?: number; intervalMs?: number; stillRunning?: () => boolean }): Promise<void>;
export function killProcessTree(pid: number, options?: { graceMs?: number }): Promise<void>;

export interface RunningCodeServer {
  url: string;
  port: number;
  pid: number;
  /** The last 20 000 characters it printed. */
  output(): string;
  /** Its exit code, once it has exited. */
  exited: Promise<number | null>;
  /** Ends it and every process it started. */
  stop(): Promise<void>;
}

export function startCodeServer(options: {
  folder: string;
  userDataDir: string;
  extensionsDir: string;
  host?: string;
  port?: number;
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
  logFile?: string;
}): Promise<RunningCodeServer>;
