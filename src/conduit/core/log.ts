/**
 * The gateway's log: one line per event, to stderr (which the daemon points at
 * CONDUIT_HOME/logs/gateway.log). Debug lines only with LOG=true (the switch existing setups use) or
 * CONDUIT_LOG=debug. Nothing secret is ever passed here; redact() is a second guard for
 * text that came from outside (error messages of providers, plugin output).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

const SECRET_PATTERNS = [
  /sk-ant-[A-Za-z0-9_-]{8,}/g,
  /(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+/g,
];

export function redact(text: string): string {
  let out = text;
  for (const p of SECRET_PATTERNS) out = out.replace(p, (_match, prefix) => (typeof prefix === 'string' ? `${prefix}[redacted]` : '[redacted]'));
  return out;
}

export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.LOG === 'true' || env.LOG === '1' || env.CONDUIT_LOG === 'debug';
}

/**
 * Writes to stderr, ignoring failures: when whoever read the gateway's stderr goes away
 * (a closed pipe), a failed log line must not become an error that is logged again.
 */
export function writeStderr(line: string): void {
  try {
    if (process.stderr.writable) process.stderr.write(line);
  } catch { /* nowhere left to say it */ }
}
process.stderr.on?.('error', () => { /* EPIPE and the like: see writeStderr */ });

export function createLogger(write: (line: string) => void = writeStderr, debug = debugEnabled()): Logger {
  const line = (level: LogLevel, msg: string) => write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${redact(msg)}\n`);
  return {
    debug: debug ? (m) => line('debug', m) : () => {},
    info: (m) => line('info', m),
    warn: (m) => line('warn', m),
    error: (m) => line('error', m),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
