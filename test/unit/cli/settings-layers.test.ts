// Settings from flags, DIB_PYPI_SERVE_* variables and a TOML file: precedence, types, and one-line errors naming the source.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../../src/errors.js';
import { envNameOf, layerSettings, settingsFromEnv, settingsFromToml } from '../../../src/cli/settings-layers.js';

const OPTIONS = {
  port: { type: 'string' },
  offline: { type: 'boolean' },
  upstream: { type: 'string', multiple: true },
  'max-page-size': { type: 'string' },
  'nginx-conf': { type: 'boolean' },
  config: { type: 'string' },
} as const;
const ONLY_FLAGS = new Set(['nginx-conf', 'config']);
const P = 'DIB_PYPI_SERVE_';

test('envNameOf', () => {
  assert.equal(envNameOf(P, 'max-page-size'), 'DIB_PYPI_SERVE_MAX_PAGE_SIZE');
  assert.equal(envNameOf(P, 'port'), 'DIB_PYPI_SERVE_PORT');
});

test('settingsFromEnv: strings, booleans in their usual spellings, repeatable flags split on blanks, the positional as DIR', () => {
  const env = {
    DIB_PYPI_SERVE_PORT: '9000',
    DIB_PYPI_SERVE_OFFLINE: 'yes',
    DIB_PYPI_SERVE_UPSTREAM: ' http://a/simple/\nhttp://b/simple/ ',
    DIB_PYPI_SERVE_DIR: '/srv/pypi',
    HOME: '/root',
  };
  assert.deepEqual(settingsFromEnv(OPTIONS, env, P, ONLY_FLAGS), {
    port: '9000',
    offline: true,
    upstream: ['http://a/simple/', 'http://b/simple/'],
    dir: '/srv/pypi',
  });
  for (const word of ['1', 'true', 'TRUE', 'on', 'Yes']) assert.equal(settingsFromEnv(OPTIONS, { DIB_PYPI_SERVE_OFFLINE: word }, P).offline, true, word);
  for (const word of ['0', 'false', 'off', 'no', '']) assert.equal(settingsFromEnv(OPTIONS, { DIB_PYPI_SERVE_OFFLINE: word }, P).offline, false, word);
  assert.deepEqual(settingsFromEnv(OPTIONS, { DIB_PYPI_SERVE_PORT: '' }, P), {}, 'an empty value sets nothing');
});

test('settingsFromEnv: a misspelt variable, a bad boolean and a flag-only setting are one-line usage errors naming the variable', () => {
  const fails = (env: Record<string, string>, pattern: RegExp) =>
    assert.throws(
      () => settingsFromEnv(OPTIONS, env, P, ONLY_FLAGS),
      (error: unknown) => error instanceof UsageError && pattern.test(error.message) && !error.message.includes('\n'),
    );
  fails({ DIB_PYPI_SERVE_PROT: '1' }, /^DIB_PYPI_SERVE_PROT: unknown variable .*DIB_PYPI_SERVE_PORT/);
  fails({ DIB_PYPI_SERVE_OFFLINE: 'maybe' }, /^DIB_PYPI_SERVE_OFFLINE: expected 1 or 0/);
  fails({ DIB_PYPI_SERVE_NGINX_CONF: '1' }, /^DIB_PYPI_SERVE_NGINX_CONF: --nginx-conf is a command-line flag only/);
});

test('settingsFromToml: flag names with - or _, top level or in [serve], numbers as text, arrays for repeatable flags', () => {
  const text = 'dir = "/srv/pypi"\nport = 9000\n[serve]\nmax_page_size = "8M"\noffline = true\nupstream = ["http://a/simple/", "http://b/simple/"]\n';
  assert.deepEqual(settingsFromToml(OPTIONS, text, 'serve.toml', 'serve', ONLY_FLAGS), {
    dir: '/srv/pypi',
    port: '9000',
    'max-page-size': '8M',
    offline: true,
    upstream: ['http://a/simple/', 'http://b/simple/'],
  });
  assert.deepEqual(settingsFromToml(OPTIONS, 'upstream = "http://a/"', 'f', 'serve'), { upstream: ['http://a/'] });
});

test('settingsFromToml: broken TOML, unknown keys, wrong types and flag-only settings are usage errors naming the file and key', () => {
  const fails = (text: string, pattern: RegExp) =>
    assert.throws(
      () => settingsFromToml(OPTIONS, text, '/etc/dib-pypi/serve.toml', 'serve', ONLY_FLAGS),
      (error: unknown) => error instanceof UsageError && pattern.test(error.message) && !error.message.includes('\n'),
    );
  fails('port = ', /^\/etc\/dib-pypi\/serve\.toml: not valid TOML/);
  fails('prot = 1', /^\/etc\/dib-pypi\/serve\.toml: prot: unknown setting/);
  fails('offline = "yes"', /offline: expected true or false/);
  fails('upstream = [1, 2]', /upstream: expected a string or an array of strings/);
  fails('port = [1]', /port: expected a string or a number/);
  fails('nginx-conf = true', /nginx-conf: --nginx-conf is a command-line flag only/);
});

test('layerSettings: flags beat the environment, which beats the file; a repeatable flag is replaced, not merged', () => {
  const flags = { port: '1' };
  const env = { port: '2', offline: false, upstream: ['http://env/'] };
  const file = { port: '3', offline: true, upstream: ['http://file/'], 'max-page-size': '8M' };
  assert.deepEqual(layerSettings(flags, env, file), { port: '1', offline: false, upstream: ['http://env/'], 'max-page-size': '8M' });
  assert.deepEqual(layerSettings({}, {}, file), file);
});
