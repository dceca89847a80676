// The walkthrough's "Pick the project's default model" step (src/extension/walkthrough/modelChoice.ts)
// against a real gateway and store: a project nobody configured comes back with the default
// model, so that alone must not check the step off; a chosen model or a recorded save does.
import assert from 'node:assert/strict';
import { projectModelChosen } from '../../src/extension/walkthrough/modelChoice';
import { DEFAULT_PROJECT_MODEL_CONFIG, type ProjectInfo } from '../../src/protocol/projects';
import { MODEL_CATEGORIES } from '../../src/protocol/modelCategory';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';

describe('walkthrough: the project\'s model was chosen', function () {
  this.timeout(60_000);
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway();
    await t.gateway.budgets.whenReady(); // the store is open
  });
  after(() => t.close());

  async function project(method: 'GET' | 'PUT', key: string, body?: unknown): Promise<ProjectInfo> {
    const res = await fetch(`${t.url}/v1/conduit/projects/${encodeURIComponent(key)}`, {
      method, headers: { 'content-type': 'application/json', 'x-conduit-token': t.token }, ...(body ? { body: JSON.stringify(body) } : {}),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as ProjectInfo;
  }

  it('a project stored by name alone comes back with the default model, and is not chosen', async () => {
    await project('PUT', 'wt-bare', { name: 'bare' });
    const info = await project('GET', 'wt-bare');
    assert.equal(info.modelConfig.defaultModel, DEFAULT_PROJECT_MODEL_CONFIG.defaultModel, 'the gateway cannot tell a bare project from a chosen default');
    assert.equal(projectModelChosen(info, false), false);
    assert.equal(projectModelChosen(null, false), false, 'not stored yet');
  });

  it('a saved model other than the default is chosen; the default too once its save was recorded', async () => {
    const chosen = await project('PUT', 'wt-haiku', { name: 'haiku', modelConfig: { enabled: true, defaultModel: MODEL_CATEGORIES.fast } });
    assert.equal(projectModelChosen(await project('GET', 'wt-haiku'), false), true);
    assert.equal(chosen.modelConfig.defaultModel, MODEL_CATEGORIES.fast);
    const kept = await project('PUT', 'wt-default', { name: 'default', modelConfig: DEFAULT_PROJECT_MODEL_CONFIG });
    assert.equal(projectModelChosen(kept, false), false, 'the same answer as a bare project');
    assert.equal(projectModelChosen(kept, true), true, 'the save recorded in the workspace\'s state');
  });
});
