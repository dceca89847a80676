// eslint.config.mjs: `any` has no exceptions in src/ and webview-ui/src (a directive turning
// no-explicit-any off is itself an error), while tests may still use it. Run through ESLint's
// own API on text given a path, so the project's real configuration decides.
import assert from 'node:assert/strict';
import path from 'node:path';
import { ESLint } from 'eslint';

const ROOT = path.join(__dirname, '../..');

async function ruleIds(code: string, file: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result.messages.map((m) => m.ruleId ?? m.message);
}

describe('lint: no exceptions to no-explicit-any in the product code', () => {
  const excused = '// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a reason\nexport const value: any = 1;\n';

  it('an any is an error in src/ and webview-ui/src', async () => {
    assert.deepEqual(await ruleIds('export const value: any = 1;\n', 'src/conduit/probe.ts'), ['@typescript-eslint/no-explicit-any']);
    assert.deepEqual(await ruleIds('export const value: any = 1;\n', 'webview-ui/src/probe.ts'), ['@typescript-eslint/no-explicit-any']);
  });

  it('a directive that turns it off, by name or naming no rule, is an error there', async () => {
    assert.deepEqual(await ruleIds(excused, 'src/conduit/probe.ts'), ['conduit/no-any-exceptions']);
    assert.deepEqual(await ruleIds(excused, 'webview-ui/src/probe.ts'), ['conduit/no-any-exceptions']);
    const bare = '// eslint-disable-next-line\nexport const value: any = 1;\n';
    assert.deepEqual(await ruleIds(bare, 'src/conduit/probe.ts'), ['conduit/no-any-exceptions']);
  });

  it('directives for other rules stay allowed', async () => {
    const control = '// eslint-disable-next-line no-control-regex -- matching them is the point\nexport const controls = /\\x00/;\n';
    assert.deepEqual(await ruleIds(control, 'src/conduit/probe.ts'), []);
  });

  it('tests may use any, and excuse nothing for it', async () => {
    assert.deepEqual(await ruleIds('export const value: any = 1;\n', 'test/unit/probe.ts'), []);
  });
});
