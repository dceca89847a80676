// The command table (src/extension/commands.ts, typed by COMMAND_IDS) registers exactly the
// commands package.json contributes: none missing from the palette, none without a handler.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { COMMAND_IDS } from '../../src/extension/commandIds';

describe('command table', () => {
  it("names every command of package.json's contributes.commands, each once, and no other", () => {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { contributes: { commands: { command: string }[] } };
    const contributed = pkg.contributes.commands.map((c) => c.command);
    assert.equal(new Set(COMMAND_IDS).size, COMMAND_IDS.length, 'no id twice in the table');
    assert.deepEqual([...COMMAND_IDS].sort(), [...contributed].sort());
  });

  it('has a handler for every command a menu names', () => {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { contributes: { menus: Record<string, { command: string }[]> } };
    const inMenus = Object.values(pkg.contributes.menus).flat().map((m) => m.command);
    assert.ok(inMenus.length > 0);
    for (const id of inMenus) assert.ok((COMMAND_IDS as readonly string[]).includes(id), `${id} is in the table`);
  });
});
