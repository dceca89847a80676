// What the status bar warns about while the gateway runs, in words (no VS Code API here, so it is unit-tested).
import { credentialsProblem } from '../../protocol/credentials';
import type { GatewayState } from '../gateway/supervisor';
import { journalProblem } from './journalProblem';

/**
 * The one warning of a running gateway, or null: records the disk refused, then a
 * config.json change it refused, then missing or refused credentials. Each of these lets
 * it run but not as the person expects, so "running" alone would mislead.
 */
export function gatewayWarning(state: Pick<GatewayState, 'journal' | 'credentials' | 'configProblem'> | null | undefined): string | null {
  if (!state) return null;
  const config = state.configProblem?.kind === 'reload' ? `config.json not applied (the last good configuration is in force): ${state.configProblem.reason}` : null;
  return journalProblem(state.journal) ?? config ?? credentialsProblem(state.credentials);
}
