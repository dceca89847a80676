// The child side of gatewayProcess.ts: a test gateway (with its Anthropic stand-in) in a
// process of its own. Sends its URL and token to the parent, and stops when the parent
// disconnects.
import { startTestGateway } from './gatewayHarness';

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
  // No usage store: these suites test the HTTP layer, and the store is slow to open.
  const t = await startTestGateway({ config, env: { CONDUIT_LEDGER: 'off' } });
  process.once('disconnect', () => {
    t.close().finally(() => process.exit(0));
  });
  process.send!({ url: t.url, port: t.gateway.port, token: t.token });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
