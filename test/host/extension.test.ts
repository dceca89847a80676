// The packaged extension in a real VS Code (code-server 4.100.3) driven through Chromium:
// it installs from the .vsix, activates, and reports the gateway's state.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureCodeServer, openProductInBrowser, runConduit, type ProductInBrowser } from '../support/codeServer';

/** Every file under `dir`, relative and with forward slashes. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const rel = prefix ? `${prefix}/${name}` : name;
    return statSync(path.join(dir, name)).isDirectory() ? filesUnder(path.join(dir, name), rel) : [rel];
  });
}

describe('Synapse Conduit in VS Code (code-server + Chromium)', function () {
  let product: ProductInBrowser | undefined;
  let conduitHome: string;
  let gatewayStarted = false;

  before(async function () {
    this.timeout(15 * 60_000); // a first run installs code-server (1 to 4 minutes)
    await ensureCodeServer((line) => console.log(`      ${line}`));
    conduitHome = mkdtempSync(path.join(os.tmpdir(), 'conduit-host-home-'));
    product = await openProductInBrowser({ env: { CONDUIT_HOME: conduitHome } });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && product) {
      const file = await product.screenshot(`failed-${this.currentTest.title.replace(/\W+/g, '-')}`).catch(() => null);
      if (file) console.log(`      screenshot of the failure: ${file}`);
    }
  });

  after(async function () {
    this.timeout(60_000);
    if (gatewayStarted && product) runConduit(product.extensionDir, ['stop'], { CONDUIT_HOME: conduitHome });
    await product?.close();
    if (conduitHome) rmSync(conduitHome, { recursive: true, force: true });
  });

  it('installs from a .vsix that holds only the bundles, the ledger SQL and the docs', function () {
    const files = filesUnder(product!.extensionDir).filter((f) => f !== '.vsixmanifest');
    const unexpected = files.filter((f) =>
      !/^(package\.json|readme\.md|license(\.txt)?|changelog\.md)$/i.test(f) && // vsce renames readme.md and LICENSE.txt
      !/^dist\/.+\.js$/.test(f) &&
      !/^dist\/supabase\/.+\.sql$/.test(f) &&
      !f.startsWith('media/'));
    assert.deepEqual(unexpected, [], `files that should not ship: ${unexpected.join(', ')}`);
    for (const bundle of ['dist/extension.js', 'dist/conduit.js', 'dist/conduit-claude.js', 'dist/plugin-worker.js']) {
      assert.ok(files.includes(bundle), `${bundle} is missing from the .vsix (has ${files.join(', ')})`);
    }
    assert.ok(files.some((f) => f.startsWith('dist/supabase/migrations/')), 'the ledger migrations are missing from the .vsix');
    const manifest = JSON.parse(readFileSync(path.join(product!.extensionDir, 'package.json'), 'utf8')) as { main: string };
    assert.equal(manifest.main, './dist/extension.js');
  });

  it('loads the workbench with the workspace open', async function () {
    this.timeout(60_000);
    const { page } = product!;
    await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ timeout: 30_000 });
    assert.match(await page.title(), new RegExp(path.basename(product!.workspace)));
    await product!.screenshot('workbench');
  });

  it('activates on startup finished', async function () {
    this.timeout(90_000);
    const line = await product!.activation('synapse.synapse-conduit', 60_000);
    assert.match(line, /activationEvent: 'onStartupFinished'/);
  });

  it('says the gateway is not running before one is started', async function () {
    this.timeout(120_000);
    await product!.activation(); // the palette only lists the command once the extension is registered
    await product!.runCommand('Conduit: Show Gateway Status');
    const toast = await product!.notification('Conduit is not running', 60_000);
    assert.match(await toast.innerText(), /Start it with .?conduit start/);
    await product!.screenshot('status-not-running');
  });

  it('shows the version, port and pid of a gateway started in its CONDUIT_HOME', async function () {
    this.timeout(120_000);
    const start = runConduit(product!.extensionDir, ['start', '--port', '0'], { CONDUIT_HOME: conduitHome });
    gatewayStarted = true; // `conduit stop` in after(), whatever start reported
    assert.equal(start.status, 0, `conduit start failed: ${start.stdout}${start.stderr}`);
    const port = readFileSync(path.join(conduitHome, 'gateway.port'), 'utf8').trim();

    await product!.clearNotifications();
    await product!.runCommand('Conduit: Show Gateway Status');
    const toast = await product!.notification(`is running on 127.0.0.1:${port}`);
    assert.match(await toast.innerText(), /Conduit \d+\.\d+\.\d+\S* is running on 127\.0\.0\.1:\d+ \(pid \d+, up \d+s\)/);
    await product!.screenshot('status-running');
  });
});
