/**
 * Provider API keys live in VS Code's SecretStorage only: never in settings, logs or
 * webviews. The gateway gets them in its environment when the extension starts it.
 */
import type * as vscode from 'vscode';

const PROVIDER_ENV: Record<string, string> = { anthropic: 'ANTHROPIC_API_KEY' };

export class Secrets {
  constructor(private readonly storage: vscode.SecretStorage) {}

  setApiKey(provider: string, key: string): Thenable<void> {
    return this.storage.store(`conduit.apiKey.${provider}`, key);
  }

  deleteApiKey(provider: string): Thenable<void> {
    return this.storage.delete(`conduit.apiKey.${provider}`);
  }

  /** Environment for the gateway process: each stored key under its variable. */
  async gatewayEnvironment(): Promise<NodeJS.ProcessEnv> {
    const env: NodeJS.ProcessEnv = {};
    for (const [provider, variable] of Object.entries(PROVIDER_ENV)) {
      const key = await this.storage.get(`conduit.apiKey.${provider}`);
      if (key) env[variable] = key;
    }
    return env;
  }
}
