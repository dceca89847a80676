// The wrapper's reading of the person's Claude Code environment (which ANTHROPIC_BASE_URL
// claude would use, and whether it is the gateway itself) and the base URL check both
// sides apply. The whole path, with the real claude, is in test/e2e/personEndpoint.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEndpointUrl } from '../../src/protocol/endpointUrl';
import { claudeEnvironment, isGatewayAddress } from '../../src/conduit/wrapper/personEndpoint';

describe("the person's Claude Code environment", () => {
  let root: string;
  let home: string;
  let work: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'person-endpoint-'));
    home = path.join(root, 'home');
    work = path.join(root, 'work');
    mkdirSync(path.join(home, '.claude'), { recursive: true });
    mkdirSync(path.join(work, '.claude'), { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const names = ['ANTHROPIC_BASE_URL', 'ANTHROPIC_CUSTOM_HEADERS'] as const;
  const settings = (file: string, value: unknown) => writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));

  it('the environment alone', () => {
    const found = claudeEnvironment({ HOME: home, ANTHROPIC_BASE_URL: 'https://proxy.example' }, work, names);
    assert.deepEqual(found.ANTHROPIC_BASE_URL, { value: 'https://proxy.example', where: 'ANTHROPIC_BASE_URL in the environment', fromSettings: false });
    assert.equal(found.ANTHROPIC_CUSTOM_HEADERS, undefined);
  });

  it('settings files over the environment, key by key, the later file winning', () => {
    settings(path.join(home, '.claude', 'settings.json'), { env: { ANTHROPIC_BASE_URL: 'https://user.example', ANTHROPIC_CUSTOM_HEADERS: 'x-a: 1' } });
    settings(path.join(work, '.claude', 'settings.json'), { env: { ANTHROPIC_BASE_URL: 'https://project.example' } });
    const found = claudeEnvironment({ HOME: home, ANTHROPIC_BASE_URL: 'https://env.example' }, work, names);
    assert.equal(found.ANTHROPIC_BASE_URL?.value, 'https://project.example');
    assert.equal(found.ANTHROPIC_BASE_URL?.where, `env.ANTHROPIC_BASE_URL in ${path.join(work, '.claude', 'settings.json')}`);
    assert.equal(found.ANTHROPIC_CUSTOM_HEADERS?.value, 'x-a: 1', "the user's file still gives the key the project's does not set");
  });

  it('CLAUDE_CONFIG_DIR moves the user settings; an empty value is kept (it unsets the variable for claude, over what conduit-claude sets); a file that is not JSON, or an env that is not an object, is passed over', () => {
    const configDir = path.join(root, 'elsewhere');
    mkdirSync(configDir);
    settings(path.join(configDir, 'settings.json'), { env: { ANTHROPIC_BASE_URL: 'https://config-dir.example' } });
    settings(path.join(home, '.claude', 'settings.json'), { env: { ANTHROPIC_BASE_URL: 'https://not-read.example' } });
    assert.equal(claudeEnvironment({ HOME: home, CLAUDE_CONFIG_DIR: configDir }, work, names).ANTHROPIC_BASE_URL?.value, 'https://config-dir.example');

    settings(path.join(work, '.claude', 'settings.json'), '{ not json');
    settings(path.join(work, '.claude', 'settings.local.json'), { env: { ANTHROPIC_BASE_URL: '' } });
    assert.deepEqual(claudeEnvironment({ HOME: home, CLAUDE_CONFIG_DIR: configDir }, work, names).ANTHROPIC_BASE_URL,
      { value: '', where: `env.ANTHROPIC_BASE_URL in ${path.join(work, '.claude', 'settings.local.json')}`, fromSettings: true });

    settings(path.join(work, '.claude', 'settings.local.json'), { env: ['ANTHROPIC_BASE_URL'] });
    assert.equal(claudeEnvironment({ HOME: home, CLAUDE_CONFIG_DIR: configDir }, work, names).ANTHROPIC_BASE_URL?.value, 'https://config-dir.example');
  });

  it("the gateway's own address is not the person's endpoint (claude already pointed at Conduit)", () => {
    assert.equal(isGatewayAddress('http://127.0.0.1:3460', 3460), true);
    assert.equal(isGatewayAddress('http://localhost:3460/', 3460), true);
    assert.equal(isGatewayAddress('http://[::1]:3460', 3460), true);
    assert.equal(isGatewayAddress('http://127.0.0.1:3461', 3460), false);
    assert.equal(isGatewayAddress('https://proxy.example:3460', 3460), false);
    assert.equal(isGatewayAddress('http://127.0.0.1', 80), true);
    assert.equal(isGatewayAddress('not a url', 3460), false);
  });
});

describe('parseEndpointUrl', () => {
  it('keeps a path prefix, drops trailing slashes', () => {
    assert.equal(parseEndpointUrl('https://llm.example.com/api/anthropic/', 'x'), 'https://llm.example.com/api/anthropic');
    assert.equal(parseEndpointUrl('HTTP://127.0.0.1:8080', 'x'), 'HTTP://127.0.0.1:8080');
  });

  it('refuses, naming the place, what cannot be a base URL', () => {
    assert.throws(() => parseEndpointUrl('https://user:pw@proxy.example', 'ANTHROPIC_BASE_URL in the environment'), /^ValidationError: ANTHROPIC_BASE_URL in the environment: holds credentials/);
    assert.throws(() => parseEndpointUrl('https://token@proxy.example/v1', 'x'), /holds credentials/);
    assert.throws(() => parseEndpointUrl('proxy.example', 'x'), /not an http\(s\) URL/);
    assert.throws(() => parseEndpointUrl('https://proxy.example/#frag', 'x'), /no query or fragment/);
    assert.throws(() => parseEndpointUrl('https://', 'x'), /not a base URL/);
    assert.throws(() => parseEndpointUrl(`https://proxy.example/${'a'.repeat(3000)}`, 'x'), /longer than 2048/);
  });

  it('an "@" in the path is not taken for credentials', () => {
    assert.equal(parseEndpointUrl('https://proxy.example/team@eu', 'x'), 'https://proxy.example/team@eu');
  });
});
