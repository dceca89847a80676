// Runs every suite (or the ones named: unit, gateway, e2e, sql, ...) in one mocha process
// and ends with a plain "N passed, N failed" line that CI reads.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const allSuites = readdirSync(path.join(root, 'test'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'support' && d.name !== 'fixtures')
  .map((d) => d.name);
const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
// --desktop: the host suites on desktop VS Code (@vscode/test-electron) instead of code-server.
if (process.argv.includes('--desktop')) process.env.CONDUIT_HOST_VSCODE = 'desktop';
const suites = requested.length ? requested : allSuites;
for (const s of suites) {
  if (!allSuites.includes(s)) {
    console.error(`test/run.mjs: no suite named "${s}" (have: ${allSuites.join(', ')})`);
    process.exit(2);
  }
}

// The gateway and wrapper suites run the built CLI, so build first.
const build = spawnSync(process.execPath, [path.join(root, 'esbuild.mjs')], { stdio: 'inherit', cwd: root });
if (build.status !== 0) process.exit(build.status ?? 1);

const globs = suites.map((s) => `test/${s}/**/*.test.ts`).filter((g) => existsSync(path.join(root, g.split('/**')[0])));
const mocha = spawnSync(
  process.execPath,
  ['--import', 'tsx', path.join(root, 'node_modules/mocha/bin/mocha.js'),
    '--reporter', path.join(root, 'test/support/summaryReporter.cjs'),
    '--require', path.join(root, 'test/support/rootHooks.ts'),
    '--timeout', '60000', '--exit', ...globs],
  { stdio: 'inherit', cwd: root, env: { ...process.env, CONDUIT_TEST_ROOT: root } },
);
process.exit(mocha.status ?? 1);
