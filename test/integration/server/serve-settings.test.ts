// `dib-pypi serve` configured as a container or a unit configures it: DIB_PYPI_SERVE_* variables and
// a TOML file (--config or DIB_PYPI_SERVE_CONFIG), flags first, then variables, then the file.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { makeWheel } from '../../helpers/make-dist.js';
import { makeTempDir } from '../../helpers/python.js';
import { startServe } from '../../helpers/serve.js';

test('serve: the mirror, workers and cache from DIB_PYPI_SERVE_* and a config file; the command line wins', async () => {
  await using dir = makeTempDir('dib-pypi-serve-settings-');
  const mirror = join(dir.path, 'mirror');
  mkdirSync(mirror);
  await makeWheel(mirror, { name: 'set-demo', version: '1.0' });
  const config = join(dir.path, 'serve.toml');
  // The file asks for port 1 and 3 workers; the variable says 1 worker; --port 0 (the helper's) beats both.
  writeFileSync(config, '[serve]\nport = 1\nworkers = 3\ncache-mb = 8\n');
  await using server = await startServe([], { env: cleanEnv({ DIB_PYPI_SERVE_DIR: mirror, DIB_PYPI_SERVE_CONFIG: config, DIB_PYPI_SERVE_WORKERS: '1' }) });
  assert.notEqual(server.port, 1);
  assert.deepEqual(server.workerPids(), [], 'DIB_PYPI_SERVE_WORKERS=1 beats the file: one process');
  const page = await fetch(`${server.url}simple/set-demo/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /set_demo-1\.0-py3-none-any\.whl/);
});

test('serve --print-config: the effective settings, secrets redacted, as a file --config reads back', async () => {
  await using dir = makeTempDir('dib-pypi-serve-settings-');
  const config = join(dir.path, 'serve.toml');
  writeFileSync(config, 'ttl = 60\nupstream = ["https://alice:s3cr%2Ft@up.example/simple/"]\noffline = true\n');
  const env = cleanEnv({ DIB_PYPI_SERVE_CONFIG: config, DIB_PYPI_SERVE_OFFLINE: 'false', DIB_PYPI_SERVE_TTL: '120', DIB_PYPI_UPLOAD_TOKEN: 'tok-123' });
  const printed = runCli(['serve', '/srv/pypi', '--ttl', '30', '--print-config'], { env });
  assert.equal(printed.status, 0, printed.stderr);
  assert.match(printed.stdout, /^dir = "\/srv\/pypi"$/m);
  assert.match(printed.stdout, /^ttl = "30"$/m, 'the flag beats the variable and the file');
  assert.match(printed.stdout, /^offline = false$/m, 'the variable beats the file');
  assert.match(printed.stdout, /^upstream = \["https:\/\/alice:\*\*\*@up\.example\/simple\/"\]$/m);
  assert.doesNotMatch(printed.stdout + printed.stderr, /s3cr|tok-123/);
  assert.match(printed.stdout, /DIB_PYPI_UPLOAD_TOKEN is set/);

  // What it printed (without the redacted upstream) is a config file the server reads back.
  const again = join(dir.path, 'again.toml');
  writeFileSync(
    again,
    printed.stdout
      .split('\n')
      .filter((line) => !line.startsWith('upstream'))
      .join('\n'),
  );
  const reread = runCli(['serve', '--config', again, '--print-config'], { env: cleanEnv() });
  assert.equal(reread.status, 0, reread.stderr);
  assert.match(reread.stdout, /^ttl = "30"$/m);
  assert.match(reread.stdout, /^dir = "\/srv\/pypi"$/m);
});

test('serve settings: a misspelt variable, a bad value or a broken file is one line and exit 2', async () => {
  await using dir = makeTempDir('dib-pypi-serve-settings-');
  const broken = join(dir.path, 'broken.toml');
  writeFileSync(broken, 'port = \n');
  const cases: [Record<string, string>, string[], RegExp][] = [
    [{ DIB_PYPI_SERVE_PROT: '8080' }, [], /^dib-pypi: error: DIB_PYPI_SERVE_PROT: unknown variable/],
    [{ DIB_PYPI_SERVE_OFFLINE: 'perhaps' }, [], /^dib-pypi: error: DIB_PYPI_SERVE_OFFLINE: expected 1 or 0/],
    [{ DIB_PYPI_SERVE_NGINX_CONF: '1' }, [], /--nginx-conf is a command-line flag only/],
    [{}, ['--config', broken], /^dib-pypi: error: .*broken\.toml: not valid TOML/],
    [{}, ['--config', join(dir.path, 'missing.toml')], /^dib-pypi: error: --config: cannot read the config file .*ENOENT/],
    [{ DIB_PYPI_SERVE_PORT: '99999' }, [dir.path], /^dib-pypi: error: --port: expected a port number/],
  ];
  for (const [vars, args, pattern] of cases) {
    const result = runCli(['serve', ...args], { env: cleanEnv(vars) });
    assert.equal(result.status, 2, `${JSON.stringify(vars)} ${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, pattern);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
});
