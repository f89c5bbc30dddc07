// `dib-pypi serve --nginx-conf --read-auth FILE [--tls-cert --tls-key]`: Debian's nginx with the generated
// config checks the same htpasswd file (bcrypt `$2y$` from htpasswd -B, through libxcrypt's crypt(3)) and
// terminates TLS; real pip installs through it with credentials, and fails without them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { execa } from 'execa';
import { runCli } from '../../helpers/cli.js';
import { httpRequest } from '../../helpers/http-get.js';
import { makeWheel } from '../../helpers/make-dist.js';
import { basicAuth } from '../../helpers/multipart.js';
import { nginxProblem, startNginx } from '../../helpers/nginx.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { hasCommand, isRequired, need } from '../../helpers/require.js';
import { makeCert, servedFingerprint } from '../../helpers/tls-cert.js';

const PASSWORD = 'nginx-read-pw';

async function canRun(t: TestContext): Promise<boolean> {
  const problem =
    nginxProblem() ??
    (!hasCommand('htpasswd', ['-nbB', 'a', 'b'])
      ? 'htpasswd is missing'
      : !hasCommand('openssl', ['version'])
        ? 'openssl is missing'
        : await debianPipProblem());
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  return need(t, problem === undefined, problem ?? '');
}

/** A mirror with one project, indexed by the CLI, and an htpasswd file (bcrypt) with alice in it. */
async function setUp(mirror: string, work: string): Promise<string> {
  await makeWheel(join(mirror, 'guarded-pkg'), { name: 'guarded-pkg', version: '1.0' });
  const indexed = runCli(['mirror', 'index', mirror]);
  assert.equal(indexed.status, 0, indexed.stderr);
  const users = join(work, 'users');
  execFileSync('htpasswd', ['-cbB', users, 'alice', PASSWORD], { stdio: 'ignore' });
  return users;
}

/** The generated nginx.conf for `port`, with nginx's files in `dir`. */
function generatedConf(mirror: string, extra: string[]) {
  return (port: number, dir: string): string => {
    const result = runCli(['serve', mirror, '--port', String(port), '--nginx-conf', '--nginx-prefix', dir, ...extra]);
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
  };
}

function pip(index: string, home: string, extra: string[] = []) {
  const env = envWithoutPip(process.env, { HOME: home, PIP_CONFIG_FILE: '/dev/null', PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring' });
  delete env.REQUESTS_CA_BUNDLE;
  delete env.CURL_CA_BUNDLE;
  return execa(
    DEBIAN_PYTHON,
    [
      '-m',
      'pip',
      'install',
      '--no-input',
      '--no-cache-dir',
      '--disable-pip-version-check',
      ...extra,
      '--index-url',
      index,
      '--target',
      join(home, 'target'),
      'guarded-pkg',
    ],
    { env, extendEnv: false, reject: false, all: true },
  );
}

test('nginx with the generated config and --read-auth: 401 with the challenge, /health open, pip installs with credentials only', async (t) => {
  if (!(await canRun(t))) return;
  await using mirror = makeTempDir('dib-pypi-nginx-auth-');
  await using work = makeTempDir('dib-pypi-nginx-auth-work-');
  const users = await setUp(mirror.path, work.path);
  await using nginx = await startNginx(mirror.path, { render: generatedConf(mirror.path, ['--read-auth', users]) });
  const conf = runCli(['serve', mirror.path, '--nginx-conf', '--read-auth', users]).stdout;
  assert.match(conf, new RegExp(`auth_basic "dib-pypi";\\n\\s+auth_basic_user_file "${users}";`));

  for (const path of [
    '',
    'simple/',
    'simple/guarded-pkg/',
    'guarded-pkg/guarded_pkg-1.0-py3-none-any.whl',
    'guarded-pkg/guarded_pkg-1.0-py3-none-any.whl.metadata',
  ]) {
    const closed = await httpRequest(nginx.url + path);
    assert.equal(closed.status, 401, `/${path}`);
    assert.equal(closed.headers['www-authenticate'], 'Basic realm="dib-pypi"');
    assert.equal((await httpRequest(nginx.url + path, { headers: { Authorization: basicAuth('alice', 'wrong') } })).status, 401, `/${path} wrong password`);
    assert.equal((await httpRequest(nginx.url + path, { headers: { Authorization: basicAuth('alice', PASSWORD) } })).status, 200, `/${path} right password`);
  }
  assert.equal((await httpRequest(`${nginx.url}health`)).status, 200, '/health stays open');

  await using anonymous = makeTempDir('dib-pypi-nginx-auth-anon-');
  assert.notEqual((await pip(`${nginx.url}simple/`, anonymous.path)).exitCode, 0, 'pip without credentials fails');
  await using home = makeTempDir('dib-pypi-nginx-auth-home-');
  const install = await pip(`${nginx.url.replace('://', `://alice:${PASSWORD}@`)}simple/`, home.path);
  assert.equal(install.exitCode, 0, install.all);
});

test('nginx with the generated config terminates TLS (--tls-cert/--tls-key): pip installs with --cert and credentials', async (t) => {
  if (!(await canRun(t))) return;
  await using mirror = makeTempDir('dib-pypi-nginx-tls-');
  await using work = makeTempDir('dib-pypi-nginx-tls-work-');
  const users = await setUp(mirror.path, work.path);
  const pair = makeCert(work.path, 'nginx');
  await using nginx = await startNginx(mirror.path, {
    render: generatedConf(mirror.path, ['--read-auth', users, '--tls-cert', pair.cert, '--tls-key', pair.key]),
    scheme: 'https',
  });
  assert.equal(await servedFingerprint(Number(new URL(nginx.url).port)), pair.fingerprint);
  await using home = makeTempDir('dib-pypi-nginx-tls-home-');
  const install = await pip(`${nginx.url.replace('://', `://alice:${PASSWORD}@`)}simple/`, home.path, ['--cert', pair.cert]);
  assert.equal(install.exitCode, 0, install.all);
  assert.match(nginx.accessLog(), /GET \/simple\/guarded-pkg\/ 200 /);
});

test('--nginx-conf refuses --metrics-auth (nginx serves no /metrics) and a broken --read-auth file', async () => {
  await using mirror = makeTempDir('dib-pypi-nginx-auth-bad-');
  const metrics = runCli(['serve', mirror.path, '--nginx-conf', '--metrics-auth', '/dev/null']);
  assert.equal(metrics.status, 2);
  assert.match(metrics.stderr, /^dib-pypi: error: --metrics-auth: the nginx configuration serves no \/metrics$/m);
  const missing = runCli(['serve', mirror.path, '--nginx-conf', '--read-auth', join(mirror.path, 'nope')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^dib-pypi: error: --read-auth: cannot read ".*nope": ENOENT$/m);
  assert.equal(missing.stdout, '', 'nothing half-written');
});
