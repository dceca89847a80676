/**
 * What the model configuration view shows besides the stored configuration: the gateway's
 * plugins folder (named from its actual CONDUIT_HOME, not a default path) and what the
 * project or agent spent today and this month (calendar, in the gateway's zone) against its
 * budgets. No vscode import: the tests run it against a real gateway.
 */
import type { ModelConfigExtras } from '../../protocol/webviewMessages';
import { loadCalendarSpend, type SpendApi } from './calendarSpend';
import { gatewayFacts, pluginsDirOf } from './gatewayFacts';

/** The longest a panel waits for a store still opening before it shows no spend. */
const SPEND_WAIT_MS = 10_000;

export async function loadModelConfigExtras(api: SpendApi, projectKey: string, agentId: string | null): Promise<ModelConfigExtras> {
  const facts = await gatewayFacts(api);
  // No spend (rather than no panel) while the gateway or its store cannot answer.
  const spend = await loadCalendarSpend(api, { projectKey, agentId }, facts.timeZone, SPEND_WAIT_MS).catch(() => undefined);
  return { pluginsDir: facts.home ? pluginsDirOf(facts.home) : null, ...(spend ? { spend } : {}) };
}
