/**
 * What the views need to know of the gateway itself, from its status (ROUTES.status): the
 * zone its budgets and "today" are counted in, and its home (CONDUIT_HOME), where its plugins
 * folder is. No vscode import: the tests run it against a real gateway.
 */
import { call, type CallVia } from '../../conduit/client/call';
import { ROUTES } from '../../protocol/routes';

export interface GatewayFacts {
  /**
   * config.json's budgetTimeZone, else the gateway's system zone; the host's own when the
   * gateway does not say (not running). The status bar, the sidebar, the analytics and the
   * budgets end the day at the same moment.
   */
  timeZone: string;
  /** The gateway's CONDUIT_HOME; null when it does not say (not running). */
  home: string | null;
}

export async function gatewayFacts(api: CallVia): Promise<GatewayFacts> {
  let status: Record<string, unknown> = {};
  try {
    status = await call(api, ROUTES.status, {}) ?? {};
  } catch { /* not running: the host's zone, the gateway's default too */ }
  const text = (v: unknown) => (typeof v === 'string' && v ? v : null);
  return {
    timeZone: text(status.timeZone) ?? (Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'),
    home: text(status.home),
  };
}

/** The plugins folder of a gateway home (src/conduit/client/paths.ts pluginDir), written with the home's own separator. */
export function pluginsDirOf(home: string): string {
  const sep = home.includes('\\') && !home.includes('/') ? '\\' : '/';
  return `${home.replace(/[\\/]+$/, '')}${sep}plugins`;
}
