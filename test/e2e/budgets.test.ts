// Budgets end to end with the REAL claude CLI: conduit-claude runs it through a real
// gateway process (dist/conduit.js, its usage store in a worker) whose upstream is the
// Anthropic stand-in. Past a soft limit the stand-in receives the cheaper model; past a
// hard limit claude prints Conduit's message and exits as it does for an API error.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BudgetsResponse } from '../../src/protocol/budgets';
import type { ProjectInfo } from '../../src/protocol/projects';
import { startFakeAnthropic, type FakeAnthropic, type RecordedRequest } from '../support/fakeAnthropic';
import { ROOT, Sandbox, WRAPPER, ensureBuilt, run, type RunResult } from '../cli/support';

const CLAUDE = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'claude.cmd' : 'claude');
const UPSTREAM_KEY = 'sk-test-e2e-upstream';
const PROJECT = 'proj-budget-e2e';

function messagePosts(requests: RecordedRequest[]): RecordedRequest[] {
  return requests.filter((r) => r.method === 'POST' && new URL(r.url, 'http://x').pathname === '/v1/messages');
}

describe('budgets with the real claude CLI', function () {
  this.timeout(180_000);
  let fake: FakeAnthropic;
  let sb: Sandbox;
  let base: string;

  before(async () => {
    ensureBuilt();
    assert.ok(existsSync(CLAUDE), `${CLAUDE} (npm install puts it there)`);
    fake = await startFakeAnthropic({ requireApiKey: UPSTREAM_KEY });
    sb = new Sandbox();
    const r = await sb.conduit(['start', '--port', '0'], sb.env({ CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: UPSTREAM_KEY }));
    assert.equal(r.code, 0, r.stderr);
    const { json } = await sb.status();
    base = `http://127.0.0.1:${json.port}`;
  });
  after(async () => {
    await sb?.cleanup();
    await fake?.close();
  });

  async function call<T>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${base}${p}`, {
      method,
      headers: { 'x-conduit-token': sb.token(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: await res.json() as T };
  }

  const setBudget = async (budget: Record<string, unknown>) => {
    const r = await call<ProjectInfo>('PUT', `/v1/conduit/projects/${PROJECT}`, { name: 'Budget e2e', budget });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };

  function wrapper(args: string[]): Promise<RunResult> {
    const env = sb.env({ CONDUIT_CLAUDE_PATH: CLAUDE, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', SYNAPSE_PROJECT_ID: PROJECT });
    return run(process.execPath, [WRAPPER, ...args], { env, cwd: sb.work, timeoutMs: 60_000 });
  }

  it('past the soft limit the stand-in receives the cheaper model; past the hard limit claude prints the refusal', async () => {
    // The usage store opens in the gateway's worker (seconds on a first start): the
    // projects API answers 503 until then. Nothing to wait on but the API itself.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await call<BudgetsResponse>('GET', '/v1/conduit/budgets');
      if (r.body.ready) break;
      assert.ok(Date.now() < deadline, 'the usage store opened within a minute');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await setBudget({ dailyUsd: 100 });

    // A first run at the model claude asks for.
    fake.enqueue({ kind: 'message', usage: { input_tokens: 20_000, output_tokens: 500 } });
    const first = await wrapper(['-p', 'say hi', '--output-format', 'stream-json', '--verbose']);
    assert.equal(first.code, 0, first.stderr);
    const firstPosts = messagePosts(fake.requests);
    assert.ok(firstPosts.length >= 1);
    assert.ok(firstPosts.every((p) => p.body.model !== 'claude-haiku-4-5'), `claude's own model: ${firstPosts.map((p) => p.body.model)}`);
    const [daily] = (await call<BudgetsResponse>('GET', `/v1/conduit/budgets?project=${PROJECT}`)).body.statuses;
    assert.ok(daily.spentUsd > 0, 'the run was counted');

    // Soft limit: the budget is what was spent (100 %), the soft limit 50 %.
    await setBudget({ dailyUsd: daily.spentUsd, softLimitPercent: 50, softLimitModel: 'claude-haiku-4-5' });
    fake.reset();
    fake.setDefault({ kind: 'message', usage: { input_tokens: 1_000, output_tokens: 20 } });
    const soft = await wrapper(['-p', 'say hi', '--output-format', 'stream-json', '--verbose']);
    assert.equal(soft.code, 0, soft.stderr);
    const softPosts = messagePosts(fake.requests);
    assert.ok(softPosts.length >= 1);
    for (const p of softPosts) assert.equal(p.body.model, 'claude-haiku-4-5');
    const metadata = soft.stdout.split('\n').filter((l) => l.startsWith('{"type":"conduit_metadata"')).map((l) => JSON.parse(l));
    assert.equal(metadata.length, softPosts.length);
    for (const m of metadata) {
      assert.equal(m.data.routingDecision.source, 'budget');
      assert.equal(m.data.routingDecision.model, 'claude-haiku-4-5');
      assert.match(m.data.routingDecision.rule, /^daily budget \d+% ≥ soft limit 50% → claude-haiku-4-5$/);
    }

    // Hard limit: refused before the provider; claude shows the message and exits 1.
    await setBudget({ hardLimitPercent: 100 });
    fake.reset();
    const hard = await wrapper(['-p', 'say hi']);
    assert.equal(messagePosts(fake.requests).length, 0, 'nothing reached the provider');
    assert.match(hard.stdout,
      /API Error: 402 Conduit: project 'Budget e2e' has spent \$[\d.]+ of its \$[\d.]+ daily budget \(hard limit 100%\)\. Raise it with "Conduit: Set Budget" or wait until [A-Z][a-z]{2}, [A-Z][a-z]{2} \d{1,2}, 00:00 .+\./);
    assert.equal(hard.code, 1, `exit code as claude gives it for an API error (stderr: ${hard.stderr})`);
  });
});
