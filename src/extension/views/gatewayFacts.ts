/**
 * What the views need to know of the gateway itself, from GET /v1/conduit/status: the zone
 * its budgets and "today" are counted in, and its home (CONDUIT_HOME), where its plugins
 * folder is. No vscode import: the tests run it against a real gateway.
 */
import type { GatewayApi } from '../gateway/gatewayApi';

export interface GatewayFacts {
  /** config.json's budgetTimeZone, else the gateway's system zone; the host's own when the gateway does not say. */
  timeZone: string;
  /** The gateway's CONDUIT_HOME; null when it does not say (not running). */
  home: string | null;
}

export async function gatewayFacts(api: Pick<GatewayApi, 'call'>): Promise<GatewayFacts> {
  let status: Record<string, unknown> = {};
  try {
    const answer = await api.call<unknown>('GET', '/v1/conduit/status');
    if (typeof answer === 'object' && answer !== null) status = answer as Record<string, unknown>;
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
