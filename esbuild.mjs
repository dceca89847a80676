// One script builds every bundle: the extension host, the gateway CLI and wrapper, the
// plugin worker, and the webviews. `--production` minifies and drops
// source maps; `--watch` rebuilds on change. Type checking is separate: `npm run typecheck`.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const root = path.dirname(new URL(import.meta.url).pathname);
const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;

const nodeBundle = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: production,
  sourcemap: production ? false : 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  absWorkingDir: root,
};

const shebang = { js: '#!/usr/bin/env node' };

/** @type {esbuild.BuildOptions[]} */
const builds = [
  { ...nodeBundle, define: { __CONDUIT_VERSION__: JSON.stringify(version) }, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist', external: ['vscode'] },
  { ...nodeBundle, define: { __CONDUIT_VERSION__: JSON.stringify(version) }, entryPoints: { conduit: 'src/conduit/cli/main.ts' }, outdir: 'dist', banner: shebang },
  { ...nodeBundle, define: { __CONDUIT_VERSION__: JSON.stringify(version) }, entryPoints: { 'conduit-claude': 'src/conduit/wrapper/main.ts' }, outdir: 'dist', banner: shebang },
  { ...nodeBundle, entryPoints: { 'plugin-worker': 'src/conduit/plugins/worker.ts' }, outdir: 'dist' },
  // supabase-js for the extension's sign-in, loaded on first use (keeps activation light).
  { ...nodeBundle, entryPoints: { 'supabase-auth': 'src/extension/sync/supabaseAuth.ts' }, outdir: 'dist' },
  // The usage ledger's worker thread: owns the embedded store (PGlite, bundled in). PGlite's
  // ES module finds its .wasm/.data files through import.meta.url: point it at this bundle.
  {
    ...nodeBundle, entryPoints: { 'ledger-worker': 'src/conduit/ledger/process/ledgerWorker.ts' }, outdir: 'dist',
    define: { 'import.meta.url': '__conduitBundleUrl' },
    banner: { js: `const __conduitBundleUrl = require('node:url').pathToFileURL(__filename).href;` },
  },
];

// Webview bundles: every folder in webview-ui/src with an index.ts is one browser bundle.
const webviewRoot = path.join(root, 'webview-ui/src');
if (existsSync(webviewRoot)) {
  for (const entry of readdirSync(webviewRoot, { withFileTypes: true })) {
    const index = path.join('webview-ui/src', entry.name, 'index.ts');
    if (entry.isDirectory() && existsSync(path.join(root, index))) {
      builds.push({
        bundle: true, platform: 'browser', format: 'esm', target: 'es2022', minify: production,
        sourcemap: production ? false : 'linked', logLevel: 'warning', absWorkingDir: root,
        entryPoints: { [entry.name]: index }, outdir: 'dist/webview',
      });
    }
  }
}

/** Prints errors in the "file:line:col: error" shape that VS Code's problem matchers read. */
const problemMatcher = {
  name: 'problem-matcher',
  setup(build) {
    build.onStart(() => console.log('[watch] build started'));
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      console.log('[watch] build finished');
    });
  },
};

function makeBinsExecutable() {
  for (const bin of ['dist/conduit.js', 'dist/conduit-claude.js']) {
    const file = path.join(root, bin);
    if (existsSync(file)) chmodSync(file, 0o755);
  }
}

// The ledger's SQL ships next to the bundles, in dist/supabase/{migrations,local}, where
// src/conduit/ledger/store/migrations.ts (defaultMigrationsDir) finds it at run time.
function copySqlAssets() {
  const target = path.join(root, 'dist/supabase');
  rmSync(target, { recursive: true, force: true }); // no stale migration survives a rename
  for (const folder of ['migrations', 'local']) {
    const source = path.join(root, 'supabase', folder);
    if (existsSync(source)) {
      cpSync(source, path.join(target, folder), { recursive: true, filter: (f) => !path.extname(f) || f.endsWith('.sql') });
    }
  }
}

// PGlite's WebAssembly and file-system image: the bundled PGlite (dist/ledger-worker.js)
// loads them from the folder of the bundle (new URL('./pglite.wasm', __filename)).
function copyPgliteAssets() {
  const source = path.join(root, 'node_modules/@electric-sql/pglite/dist');
  for (const file of ['pglite.wasm', 'pglite.data', 'initdb.wasm']) {
    cpSync(path.join(source, file), path.join(root, 'dist', file));
  }
}

// The store snapshot a first start unpacks instead of running initdb and the migrations
// (src/conduit/ledger/store/storeSnapshot.ts), made by the bundled ledger process itself. It
// takes seconds, so it is made again only when what goes into it changed.
function makeStoreSnapshot() {
  const sql = ['migrations', 'local'].flatMap((f) => readdirSync(path.join(root, 'dist/supabase', f)).sort().map((n) => `dist/supabase/${f}/${n}`));
  const hash = createHash('sha256');
  for (const file of [...sql, 'src/conduit/ledger/store/localSchema.ts', 'src/conduit/ledger/store/storeSnapshot.ts', 'node_modules/@electric-sql/pglite/package.json']) {
    hash.update(file).update(readFileSync(path.join(root, file)));
  }
  const key = hash.digest('hex').slice(0, 16);
  try {
    if (JSON.parse(readFileSync(path.join(root, 'dist/store-snapshot.json'), 'utf8')).key === key && existsSync(path.join(root, 'dist/store-snapshot.tar.gz'))) return;
  } catch { /* none yet */ }
  const r = spawnSync(process.execPath, [path.join(root, 'dist/ledger-worker.js'), '--make-snapshot', path.join(root, 'dist'), key], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`making the store snapshot failed (exit code ${r.status})`);
}

if (watch) {
  copySqlAssets(); // once: an edited migration needs a restart of the watch
  copyPgliteAssets();
  const contexts = await Promise.all(builds.map((b) => esbuild.context({ ...b, plugins: [problemMatcher] })));
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  makeBinsExecutable();
  copySqlAssets();
  copyPgliteAssets();
  makeStoreSnapshot();
}
