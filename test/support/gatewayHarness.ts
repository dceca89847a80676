/**
 * A gateway in this process, pointed at a fresh Anthropic stand-in, with its own
 * CONDUIT_HOME in a temp folder. For tests over real HTTP.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger, type Logger } from '../../src/conduit/core/log';
import { startGateway, type RunningGateway } from '../../src/conduit/gateway';
import { startFakeAnthropic, type FakeAnthropic } from './fakeAnthropic';

export interface TestGateway {
  gateway: RunningGateway;
  fake: FakeAnthropic;
  home: string;
  url: string;
  token: string;
  /** POST /v1/messages with the token; returns the fetch Response. */
  messages(body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /** Written to CONDUIT_HOME/config.json before start. */
  config?: Record<string, unknown>;
  /** Files written to CONDUIT_HOME/plugins before start (name → source). */
  plugins?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  apiKey?: string | null;
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const fake = await startFakeAnthropic();
  const home = mkdtempSync(path.join(os.tmpdir(), 'conduit-test-'));
  if (options.config) writeFileSync(path.join(home, 'config.json'), JSON.stringify(options.config));
  if (options.plugins) {
    mkdirSync(path.join(home, 'plugins'));
    for (const [name, source] of Object.entries(options.plugins)) writeFileSync(path.join(home, 'plugins', name), source);
  }
  const env: NodeJS.ProcessEnv = {
    CONDUIT_ANTHROPIC_URL: fake.url,
    ...(options.apiKey === null ? {} : { ANTHROPIC_API_KEY: options.apiKey ?? 'sk-test-upstream-key' }),
    ...options.env,
  };
  const gateway = await startGateway({ home, port: 0, env, log: options.log ?? silentLogger });
  return {
    gateway,
    fake,
    home,
    url: gateway.url,
    token: gateway.token,
    messages: (body, headers = {}) => fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-conduit-token': gateway.token, 'anthropic-version': '2023-06-01', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
    async close() {
      await gateway.close();
      await fake.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
