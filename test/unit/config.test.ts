import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULT_ANTHROPIC_URL, DEFAULT_PORT, defaultConfig, loadConfig, parseConfig } from '../../src/conduit/core/config';
import { DEFAULT_RULES } from '../../src/conduit/routing/rules';
import { ValidationError } from '../../src/protocol/validate';

const NO_ENV: NodeJS.ProcessEnv = {};

/** Asserts that parsing fails with a ValidationError whose path is `field`. */
function failsAt(value: unknown, field: string, env: NodeJS.ProcessEnv = NO_ENV): void {
  assert.throws(() => parseConfig(value, env), (err: unknown) => {
    assert.ok(err instanceof ValidationError || err instanceof Error, String(err));
    const message = (err as Error).message;
    assert.ok(message.startsWith(`${field}: `), `expected the error to name ${field}, got: ${message}`);
    if (err instanceof ValidationError) assert.equal(err.path, field);
    return true;
  }, JSON.stringify(value));
}

describe('parseConfig', () => {
  it('an empty config is the defaults', () => {
    const c = parseConfig({}, NO_ENV);
    assert.deepEqual(c, defaultConfig(NO_ENV));
    assert.equal(c.port, DEFAULT_PORT);
    assert.deepEqual(c.rules, { ...DEFAULT_RULES });
    assert.deepEqual(c.providers, { anthropic: { baseUrl: DEFAULT_ANTHROPIC_URL, apiKeyEnv: 'ANTHROPIC_API_KEY' } });
    assert.deepEqual(c.prices, {});
    assert.equal(c.maxBodyBytes, 32 * 1024 * 1024);
  });

  it('defaultConfig gives a fresh copy of the rules each time', () => {
    const a = defaultConfig(NO_ENV);
    a.rules.reasoningKeywords = [];
    a.rules.defaultModel = 'x';
    assert.deepEqual(defaultConfig(NO_ENV).rules, { ...DEFAULT_RULES });
  });

  it('reads every field', () => {
    const c = parseConfig({
      $schema: './schema.json',
      port: 0,
      maxBodyBytes: 1024,
      upstreamTimeoutMs: 5000,
      routing: { defaultModel: 'claude-sonnet-5-5', reasoningModel: null, longContextThreshold: 100_000, fallbackModels: ['claude-sonnet-4-5'] },
      providers: { openrouter: { baseUrl: 'https://openrouter.ai/api', apiKeyEnv: 'OPENROUTER_KEY' }, local: { baseUrl: 'http://127.0.0.1:8080', apiKey: 'k' } },
      prices: { 'my-model': { input: 1, output: 2 } },
      plugins: { timeoutMs: 500 },
    }, NO_ENV);
    assert.equal(c.port, 0);
    assert.equal(c.maxBodyBytes, 1024);
    assert.equal(c.upstreamTimeoutMs, 5000);
    assert.deepEqual(c.rules, { ...DEFAULT_RULES, defaultModel: 'claude-sonnet-5-5', reasoningModel: null, longContextThreshold: 100_000, fallbackModels: ['claude-sonnet-4-5'] });
    assert.deepEqual(c.providers, {
      anthropic: { baseUrl: DEFAULT_ANTHROPIC_URL, apiKeyEnv: 'ANTHROPIC_API_KEY' },
      openrouter: { baseUrl: 'https://openrouter.ai/api', apiKeyEnv: 'OPENROUTER_KEY' },
      local: { baseUrl: 'http://127.0.0.1:8080', apiKey: 'k' },
    });
    assert.deepEqual(c.prices['my-model'], { input: 1, output: 2, cacheWrite5m: 1.25, cacheWrite1h: 2, cacheRead: 0.1 });
    assert.equal(c.pluginTimeoutMs, 500);
  });

  it('an anthropic provider without a baseUrl keeps the default URL and key variable', () => {
    const c = parseConfig({ providers: { anthropic: { apiKey: 'sk-x' } } }, NO_ENV);
    assert.deepEqual(c.providers.anthropic, { baseUrl: DEFAULT_ANTHROPIC_URL, apiKey: 'sk-x', apiKeyEnv: 'ANTHROPIC_API_KEY' });
  });

  describe('errors name the field', () => {
    const cases: [string, unknown, string][] = [
      ['not an object', [], 'config'],
      ['null', null, 'config'],
      ['an unknown key', { prot: 3460 }, 'config.prot'],
      ['a port that is a string', { port: '3460' }, 'config.port'],
      ['a port over 65535', { port: 65536 }, 'config.port'],
      ['a negative port', { port: -1 }, 'config.port'],
      ['a fractional port', { port: 80.5 }, 'config.port'],
      ['a tiny maxBodyBytes', { maxBodyBytes: 1023 }, 'config.maxBodyBytes'],
      ['a short upstreamTimeoutMs', { upstreamTimeoutMs: 999 }, 'config.upstreamTimeoutMs'],
      ['routing not an object', { routing: [] }, 'config.routing'],
      ['an unknown routing key', { routing: { reasoningModle: 'x' } }, 'config.routing.reasoningModle'],
      ['a bad routing threshold', { routing: { longContextThreshold: 'big' } }, 'config.routing.longContextThreshold'],
      ['a zero routing threshold', { routing: { longContextThreshold: 0 } }, 'config.routing.longContextThreshold'],
      ['a numeric defaultModel', { routing: { defaultModel: 5 } }, 'config.routing.defaultModel'],
      ['keywords not strings', { routing: { reasoningKeywords: ['ok', 1] } }, 'config.routing.reasoningKeywords'],
      ['pluginsEnabled not boolean', { routing: { pluginsEnabled: 'yes' } }, 'config.routing.pluginsEnabled'],
      // Model ids end up in a reply header (x-conduit-model): visible ASCII, at most 256 characters.
      ['a defaultModel outside Latin-1', { routing: { defaultModel: 'claude-\u0100' } }, 'config.routing.defaultModel'],
      ['a defaultModel with CR/LF', { routing: { defaultModel: 'claude\r\nx-evil: 1' } }, 'config.routing.defaultModel'],
      ['an empty defaultModel', { routing: { defaultModel: '' } }, 'config.routing.defaultModel'],
      ['a reasoningModel of 257 characters', { routing: { reasoningModel: 'c'.repeat(257) } }, 'config.routing.reasoningModel'],
      ['a longContextModel with a space', { routing: { longContextModel: 'claude sonnet' } }, 'config.routing.longContextModel'],
      ['a backgroundModel with a tab', { routing: { backgroundModel: 'claude\thaiku' } }, 'config.routing.backgroundModel'],
      ['a webSearchModel with a lone surrogate', { routing: { webSearchModel: 'claude-\ud800' } }, 'config.routing.webSearchModel'],
      ['a bad fallback model', { routing: { fallbackModels: ['claude-sonnet-4-5', 'claude-\u00e9\n'] } }, 'config.routing.fallbackModels[1]'],
      ['providers not an object', { providers: 'anthropic' }, 'config.providers'],
      ['an upper-case provider name', { providers: { OpenRouter: { baseUrl: 'https://x' } } }, 'config.providers.OpenRouter'],
      ['a provider name with a space', { providers: { 'my provider': { baseUrl: 'https://x' } } }, 'config.providers.my provider'],
      ['a provider name starting with a digit', { providers: { '1p': { baseUrl: 'https://x' } } }, 'config.providers.1p'],
      ['a provider not an object', { providers: { p: 'https://x' } }, 'config.providers.p'],
      ['a provider without baseUrl', { providers: { p: { apiKeyEnv: 'K' } } }, 'config.providers.p.baseUrl'],
      ['a provider with a bad URL', { providers: { p: { baseUrl: 'not a url' } } }, 'config.providers.p.baseUrl'],
      ['a provider with a non-http URL', { providers: { p: { baseUrl: 'ftp://host/x' } } }, 'config.providers.p.baseUrl'],
      ['a provider with an unknown key', { providers: { p: { baseUrl: 'https://x', key: 'k' } } }, 'config.providers.p.key'],
      ['a provider apiKey that is not a string', { providers: { p: { baseUrl: 'https://x', apiKey: 5 } } }, 'config.providers.p.apiKey'],
      ['a bad price', { prices: { m: { input: -1, output: 1 } } }, 'config.prices.m.input'],
      ['prices not an object', { prices: [] }, 'config.prices'],
      ['plugins not an object', { plugins: 3 }, 'config.plugins'],
      ['an unknown plugins key', { plugins: { dir: '/x' } }, 'config.plugins.dir'],
      ['a plugin timeout out of range', { plugins: { timeoutMs: 5 } }, 'config.plugins.timeoutMs'],
      ['a plugin timeout too long', { plugins: { timeoutMs: 10_001 } }, 'config.plugins.timeoutMs'],
    ];
    for (const [what, value, field] of cases) it(`${what} → ${field}`, () => failsAt(value, field));

    it('model ids of every provider\'s shape, up to 256 characters, are accepted', () => {
      const ids = ['claude-sonnet-4-5-20250929', 'us.anthropic.claude-3-5-sonnet-20241022-v2:0', 'claude-3-5-sonnet-v2@20241022',
        'openrouter/anthropic/claude-3.5-sonnet:beta', 'claude-sonnet-4-5[1m]', 'c'.repeat(256)];
      const c = parseConfig({ routing: { defaultModel: ids[0], reasoningModel: ids[5], fallbackModels: ids } }, NO_ENV);
      assert.deepEqual(c.rules.fallbackModels, ids);
      assert.equal(c.rules.reasoningModel, ids[5]);
    });

    it('a port anywhere in 0..65535 is accepted', () => {
      for (const port of [0, 1, 3460, 65535]) assert.equal(parseConfig({ port }, NO_ENV).port, port);
    });
  });

  describe('CONDUIT_ANTHROPIC_URL', () => {
    const env = { CONDUIT_ANTHROPIC_URL: 'http://127.0.0.1:18081' };

    it('replaces the default anthropic URL', () => {
      assert.equal(parseConfig({}, env).providers.anthropic.baseUrl, env.CONDUIT_ANTHROPIC_URL);
      assert.equal(defaultConfig(env).providers.anthropic.baseUrl, env.CONDUIT_ANTHROPIC_URL);
    });

    it('wins over the file\'s anthropic URL, and leaves other providers alone', () => {
      const c = parseConfig({ providers: { anthropic: { baseUrl: 'https://api.anthropic.com' }, other: { baseUrl: 'https://other.example' } } }, env);
      assert.equal(c.providers.anthropic.baseUrl, env.CONDUIT_ANTHROPIC_URL);
      assert.equal(c.providers.other.baseUrl, 'https://other.example');
    });

    it('an empty variable is no override', () => {
      assert.equal(parseConfig({}, { CONDUIT_ANTHROPIC_URL: '' }).providers.anthropic.baseUrl, DEFAULT_ANTHROPIC_URL);
    });

    it('a bad override is named as the anthropic baseUrl when the file configures that provider', () => {
      failsAt({ providers: { anthropic: {} } }, 'config.providers.anthropic.baseUrl', { CONDUIT_ANTHROPIC_URL: 'nope' });
    });
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'conduit-config-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing file gives the defaults', () => {
    assert.deepEqual(loadConfig(path.join(dir, 'config.json'), NO_ENV), defaultConfig(NO_ENV));
    const env = { CONDUIT_ANTHROPIC_URL: 'http://localhost:9' };
    assert.equal(loadConfig(path.join(dir, 'config.json'), env).providers.anthropic.baseUrl, env.CONDUIT_ANTHROPIC_URL);
  });

  it('reads a valid file', () => {
    const file = path.join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ port: 4000, routing: { defaultModel: 'claude-haiku-4-5' } }));
    const c = loadConfig(file, NO_ENV);
    assert.equal(c.port, 4000);
    assert.equal(c.rules.defaultModel, 'claude-haiku-4-5');
  });

  it('a file that is not JSON is a ConfigError naming the file', () => {
    const file = path.join(dir, 'config.json');
    writeFileSync(file, '{ "port": 3460, }');
    assert.throws(() => loadConfig(file, NO_ENV), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(err.message.startsWith(`${file}: not valid JSON`), err.message);
      return true;
    });
  });

  it('an invalid setting is a ConfigError naming the file and the field', () => {
    const file = path.join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ routing: { longContextThreshold: -5 } }));
    assert.throws(() => loadConfig(file, NO_ENV), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(err.message.startsWith(`${file}: config.routing.longContextThreshold: `), err.message);
      return true;
    });
  });

  it('a file that cannot be read is a ConfigError naming it', () => {
    assert.throws(() => loadConfig(dir, NO_ENV), (err: unknown) => err instanceof ConfigError && err.message.startsWith(`${dir}: `));
  });

  describe('models no provider can serve are refused by name', () => {
    function loadFails(config: unknown, field: string, reason: RegExp): void {
      const file = path.join(dir, 'config.json');
      writeFileSync(file, JSON.stringify(config));
      assert.throws(() => loadConfig(file, NO_ENV), (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.ok(err.message.startsWith(`${file}: ${field}: `), err.message);
        assert.match(err.message, reason);
        return true;
      });
    }

    it('a threshold of -10 names the field', () => {
      loadFails({ routing: { longContextThreshold: -10 } }, 'config.routing.longContextThreshold', /: expected a number at least 1, got -10$/);
    });

    it('a defaultModel of an unknown provider names the provider and the configured ones', () => {
      loadFails({ routing: { defaultModel: 'nosuchprovider/claude-x' } }, 'config.routing.defaultModel', /unknown provider "nosuchprovider" in "nosuchprovider\/claude-x" \(configured providers: anthropic;/);
    });

    it('a fallback model nobody knows names the model', () => {
      loadFails({ routing: { fallbackModels: ['claude-haiku-4-5', 'gpt-9-ultra-nonexistent'] } }, 'config.routing.fallbackModels[1]', /unknown model "gpt-9-ultra-nonexistent"/);
    });

    it('every routing model is checked, and a model of a configured provider must be in its list', () => {
      loadFails({ routing: { reasoningModel: 'claude-opus-99' } }, 'config.routing.reasoningModel', /unknown model "claude-opus-99"/);
      loadFails({ providers: { local: { baseUrl: 'http://127.0.0.1:8080', models: ['llama-4'] } }, routing: { backgroundModel: 'local/llama-5' } },
        'config.routing.backgroundModel', /providers\.local\.models/);
    });

    it('a model is known by the price table (dated ids too), config.json\'s prices, or its provider\'s models list', () => {
      const file = path.join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({
        providers: { local: { baseUrl: 'http://127.0.0.1:8080', models: ['llama-4'] } },
        prices: { 'my-model': { input: 1, output: 2 } },
        routing: { defaultModel: 'claude-sonnet-4-5-20250929', backgroundModel: 'local/llama-4', reasoningModel: 'my-model', fallbackModels: ['local/my-model'] },
      }));
      const c = loadConfig(file, NO_ENV);
      assert.equal(c.rules.backgroundModel, 'local/llama-4');
      assert.deepEqual(c.providers.local.models, ['llama-4']);
    });
  });
});
