/**
 * `conduit`: the gateway's command line.
 *   conduit start [--foreground] [--port N]    start (in the background unless --foreground)
 *   conduit stop | restart [--port N]
 *   conduit status [--json]                    exit 0 when running, 3 when not
 *   conduit logs [-n N] [--follow]
 *   conduit install-wrapper                    puts conduit-claude in CONDUIT_HOME/bin
 *   conduit statusline                         a Claude Code statusLine command
 *   conduit usage [daily|monthly|session] ...  token and cost reports (usage.ts)
 */
import { conduitPaths, conduitHome } from '../client/paths';
import { VERSION } from '../version';
import { runForeground } from './foreground';
import { clearStaleState, startInBackground, stopGateway } from '../client/daemon';
import { findRunningGateway } from '../client/gatewayClient';
import { call } from '../client/call';
import { ROUTES } from '../../protocol/routes';
import type { UnrecordedUsage } from '../../protocol/usage';
import { formatUsd } from '../../protocol/format';
import { credentialsProblem, type GatewayCredentials } from '../../protocol/credentials';
import type { ConfigStatus } from '../../protocol/configState';
import type { PluginState } from '../plugins/pluginRouter';
import { installWrapper } from './installWrapper';
import { printLogs } from './logs';
import { statusLine } from './statusline';
import { given, lastValue, readArgs, type ReadArgs } from './args';
import { usageCommand } from './usage';
import type { PersonEndpointStatus } from '../../protocol/endpointUrl';

const USAGE = `usage: conduit <command>
  start [--foreground] [--port N]   start the gateway (port 0 picks a free one)
  stop                              stop it
  restart [--port N]                stop, then start
  status [--json]                   is it running, where, since when
  logs [-n N] [--follow]            the gateway's log
  install-wrapper                   install conduit-claude in CONDUIT_HOME/bin
  statusline                        print the session's routed model and cost (Claude Code statusLine)
  usage [daily|monthly|session]     token and cost report (conduit usage --help)
  version
State lives in CONDUIT_HOME (now ${conduitHome()}).`;

class UsageError extends Error {}

/** The options of start, restart and status (others are left alone, as they always were). */
const OPTIONS = {
  port: { type: 'string' },
  foreground: { type: 'boolean' },
  'notify-parent': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

function parsePort(read: ReadArgs): number | undefined {
  const text = lastValue(read, 'port');
  if (text === undefined) return undefined;
  const v = Number(text ?? undefined);
  if (!Number.isInteger(v) || v < 0 || v > 65535) throw new UsageError(`--port takes a number from 0 to 65535, got ${JSON.stringify(text ?? '')}`);
  return v;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const read = readArgs(args, OPTIONS);
  const paths = conduitPaths();
  const entry = process.argv[1];
  switch (command) {
    case 'start': {
      const port = parsePort(read);
      if (given(read, 'foreground')) return runForeground(paths, port, given(read, 'notify-parent'));
      const r = await startInBackground(paths, entry, port);
      if (r.kind === 'failed') { console.error(`conduit: ${r.message}`); return 1; }
      console.log(r.kind === 'already-running'
        ? `Conduit is already running on http://127.0.0.1:${r.port} (pid ${r.pid})`
        : `Conduit started on http://127.0.0.1:${r.port} (pid ${r.pid})`);
      return 0;
    }
    case 'stop': {
      const r = await stopGateway(paths);
      if (r.kind === 'failed') { console.error(`conduit: ${r.message}`); return 1; }
      console.log(r.kind === 'stopped' ? `Conduit stopped (pid ${r.pid})` : 'Conduit is not running');
      return 0;
    }
    case 'restart': {
      const port = parsePort(read);
      const stopped = await stopGateway(paths);
      if (stopped.kind === 'failed') { console.error(`conduit: ${stopped.message}`); return 1; }
      const r = await startInBackground(paths, entry, port);
      if (r.kind === 'failed') { console.error(`conduit: ${r.message}`); return 1; }
      console.log(`Conduit restarted on http://127.0.0.1:${r.port} (pid ${r.pid})`);
      return 0;
    }
    case 'status': {
      const running = await findRunningGateway(paths);
      if (!running) clearStaleState(paths);
      const detail = running ? await gatewayStatus(running.port, running.token) : null;
      const unrecorded = detail?.ledger?.unrecorded ?? null;
      // The whole credentials state when the token lets us read it, else /health's.
      const credentials = detail?.credentials ?? running?.health.credentials ?? null;
      const config = detail?.config ?? null;
      const plugins = detail?.plugins ?? null;
      const personEndpoint = detail?.personEndpoint ?? null;
      const status = running
        ? {
          running: true, status: running.health.status, pid: running.pid, port: running.port, url: `http://127.0.0.1:${running.port}`, version: running.health.version,
          uptimeSeconds: running.health.uptimeSeconds, home: paths.home, journal: running.health.journal ?? null, unrecorded, credentials, config, plugins, personEndpoint,
        }
        : { running: false, status: null, pid: null, port: null, url: null, version: VERSION, uptimeSeconds: null, home: paths.home, journal: null, unrecorded: null, credentials: null, config: null, plugins: null, personEndpoint: null };
      if (given(read, 'json')) console.log(JSON.stringify(status));
      else if (running) {
        console.log(`Conduit ${status.version} is running on ${status.url} (pid ${status.pid}, up ${formatUptime(running.health.uptimeSeconds)}; home ${paths.home})`);
        const journal = running.health.journal;
        if (journal && journal.state !== 'ok') console.log(`Journal degraded: ${journal.error} (${journal.pending} record(s) waiting in memory for the disk)`);
        if (journal?.lost) console.log(`Journal: ${journal.lost} record(s) lost since the start`);
        if (unrecorded?.count) console.log(`Unrecorded: ${unrecorded.count} billed request(s) the usage store could not record (${formatUsd(unrecorded.costUsd, 'ledger')} known cost)`);
        const credentialsLine = credentialsProblem(credentials);
        if (credentialsLine) console.log(`${credentialsLine.charAt(0).toUpperCase()}${credentialsLine.slice(1)}`);
        if (config?.state === 'refused') console.log(`Configuration: a change was refused, the last good one is in force: ${config.error}`);
        for (const e of personEndpoint?.inUse ?? []) console.log(`Person's endpoint: sessions whose Claude Code environment names ${e.baseUrl} send their requests there (last at ${e.lastRoutedAt})`);
        if (personEndpoint?.setting === 'refuse') console.log('Person\'s endpoint: refused (config.json "personEndpoint": "refuse"): sessions naming their own ANTHROPIC_BASE_URL do not start');
        for (const p of plugins ?? []) {
          if (p.state === 'disabled') console.log(`Plugin ${p.name} (${p.file}) is disabled: ${p.reason}`);
        }
      } else console.log(`Conduit is not running (home ${paths.home})`);
      return running ? 0 : 3;
    }
    case 'logs':
      return printLogs(paths, args);
    case 'install-wrapper':
      return installWrapper(paths, entry);
    case 'statusline':
      return statusLine(paths);
    case 'usage':
      return usageCommand(paths, args);
    case 'version':
    case '--version':
      console.log(VERSION);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** What `status` reads of the gateway's status (ROUTES.status). */
interface GatewayStatusDetail {
  ledger?: { unrecorded?: UnrecordedUsage | null };
  credentials?: GatewayCredentials;
  config?: ConfigStatus;
  plugins?: PluginState[];
  personEndpoint?: PersonEndpointStatus;
}

/** The gateway's status (billed requests the store could not record, credentials, config.json); null when it cannot tell. */
async function gatewayStatus(port: number, token: string | null): Promise<GatewayStatusDetail | null> {
  if (!token) return null;
  try {
    return await call({ port, token }, ROUTES.status, {}) as GatewayStatusDetail;
  } catch {
    return null;
  }
}

function formatUptime(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    if (err instanceof UsageError) console.error(`conduit: ${err.message}\n\n${USAGE}`);
    else console.error(`conduit: ${(err as Error).message}`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
