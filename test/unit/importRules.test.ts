import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

// The rule of which part may import which (ARCHITECTURE.md, "Who may import whom"): the
// gateway's internals stay its own, the extension and the webviews meet it only through
// src/protocol (shapes and pure functions) and src/conduit/client (the client library).

type Part = 'protocol' | 'routing' | 'client' | 'gateway' | 'extension' | 'webview';

const MAY_IMPORT: Record<Part, readonly Part[]> = {
  protocol: ['protocol'],
  // The routing core is pure: a request's facts and the configuration in, a decision out.
  routing: ['protocol', 'routing'],
  client: ['protocol', 'client'],
  gateway: ['protocol', 'routing', 'client', 'gateway'],
  extension: ['protocol', 'client', 'extension'],
  webview: ['protocol', 'webview'],
};
/** Which parts may import Node's built-in modules, and which the vscode API. */
const MAY_USE_NODE: readonly Part[] = ['client', 'gateway', 'extension'];
const MAY_USE_VSCODE: readonly Part[] = ['extension'];

const root = path.resolve(__dirname, '../..');
const SOURCE_ROOTS = ['src', 'webview-ui/src'];
const nodeBuiltins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function partOf(file: string): Part | null {
  const f = file.split(path.sep).join('/');
  if (f.startsWith('src/protocol/')) return 'protocol';
  if (f.startsWith('src/conduit/routing/')) return 'routing';
  if (f.startsWith('src/conduit/client/')) return 'client';
  if (f.startsWith('src/conduit/')) return 'gateway';
  if (f.startsWith('src/extension/')) return 'extension';
  if (f.startsWith('webview-ui/src/')) return 'webview';
  return null;
}

/** Every module a file names: import and export-from (type-only too), require() and import(). */
function specifiersOf(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((f) => f.fileName);
}

interface Violation { file: string; specifier: string; why: string }

/** The imports of `file` (repo-relative) that break the rule. */
function violationsOf(file: string, text: string): Violation[] {
  const from = partOf(file);
  if (!from) return [];
  const out: Violation[] = [];
  for (const specifier of specifiersOf(text)) {
    if (specifier.startsWith('.')) {
      const target = path.relative(root, path.resolve(root, path.dirname(file), specifier));
      const to = partOf(target);
      if (!to) out.push({ file, specifier, why: `reaches outside the parts (${target})` });
      else if (!MAY_IMPORT[from].includes(to)) out.push({ file, specifier, why: `${from} may not import ${to}` });
    } else if (specifier === 'vscode') {
      if (!MAY_USE_VSCODE.includes(from)) out.push({ file, specifier, why: `${from} may not use the vscode API` });
    } else if (nodeBuiltins.has(specifier)) {
      if (!MAY_USE_NODE.includes(from)) out.push({ file, specifier, why: `${from} may not use Node's built-in modules` });
    }
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mts|cts)$/.test(e.name))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

describe('import rules between the parts', () => {
  it('no source file imports across the rule', () => {
    const files = SOURCE_ROOTS.flatMap(sourceFiles);
    assert.ok(files.length > 100, `found only ${files.length} source files: is the tree where this test looks?`);
    const found = files.flatMap((f) => violationsOf(f, readFileSync(path.join(root, f), 'utf8')));
    assert.deepEqual(found.map((v) => `${v.file}: '${v.specifier}' (${v.why})`), []);
  });

  it('finds a violating import in every form it can be written', () => {
    const cases: Array<[file: string, text: string]> = [
      ['src/extension/a.ts', `import { x } from '../conduit/ledger/store/engine';`],
      ['src/extension/a.ts', `import type { X } from '../conduit/routing/rules';`],
      ['src/extension/a.ts', `export { x } from '../conduit/core/paths';`],
      ['src/extension/a.ts', `const m = require('../conduit/cli/daemon');`],
      ['src/extension/a.ts', `type M = typeof import('../conduit/ledger/service');`],
      ['src/extension/a.ts', `const m = await import('../../webview-ui/src/shared/format');`],
      ['src/protocol/a.ts', `import { Buffer } from 'node:buffer';`],
      ['src/protocol/a.ts', `import { readFileSync } from 'fs';`],
      ['src/protocol/a.ts', `import { x } from '../conduit/client/paths';`],
      ['src/conduit/client/a.ts', `import { x } from '../core/config';`],
      ['src/conduit/routing/a.ts', `import { x } from '../ledger/store/engine';`],
      ['src/conduit/routing/a.ts', `import { readFileSync } from 'node:fs';`],
      ['src/conduit/http/a.ts', `import * as vscode from 'vscode';`],
      ['src/conduit/http/a.ts', `import { x } from '../../extension/settings';`],
      ['webview-ui/src/shared/a.ts', `import path from 'node:path';`],
      ['webview-ui/src/shared/a.ts', `import { x } from '../../../src/conduit/client/paths';`],
      ['webview-ui/src/shared/a.ts', `import { x } from '../../../test/support/fakeAnthropic';`],
    ];
    for (const [file, text] of cases) assert.equal(violationsOf(file, text).length, 1, `${file}: ${text}`);
  });

  it('lets each part import what the rule allows', () => {
    const cases: Array<[file: string, text: string]> = [
      ['src/extension/a.ts', `import * as vscode from 'vscode';\nimport path from 'node:path';\nimport { x } from '../conduit/client/paths';\nimport { y } from '../protocol/usage';`],
      ['src/conduit/http/a.ts', `import { x } from '../client/paths';\nimport { y } from '../ledger/store/engine';\nimport { r } from '../routing/rules';\nimport { z } from '../../protocol/usage';\nimport pg from 'pg';`],
      ['src/conduit/routing/a.ts', `import { x } from './rules';\nimport { y } from '../../protocol/routing';`],
      ['src/protocol/a.ts', `import { x } from './usage';\nimport * as v from 'valibot';`],
      ['webview-ui/src/shared/a.ts', `import { x } from '../../../src/protocol/usage.js';\nimport { Chart } from 'chart.js';`],
    ];
    for (const [file, text] of cases) assert.deepEqual(violationsOf(file, text), [], `${file}`);
  });
});
