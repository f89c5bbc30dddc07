// `dib-pypi serve --tls-cert --tls-key`: HTTPS with a self-signed certificate made by openssl here; real
// pip installs with --cert (and fails without), twine uploads with --cert, SIGHUP hands a new pair to
// new connections in every serving process (a bad new pair keeps the old one), start-up errors.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { basename, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { runCli } from '../../helpers/cli.js';
import { makeWheel } from '../../helpers/make-dist.js';
import { basicAuth } from '../../helpers/multipart.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { hasCommand, isRequired, need } from '../../helpers/require.js';
import { startServe } from '../../helpers/serve.js';
import { makeCert, servedFingerprint } from '../../helpers/tls-cert.js';
import { eventually } from '../../helpers/wait.js';

const PASSWORD = 'tls-read-pw';

async function canRun(t: TestContext, tools: string[]): Promise<boolean> {
  let problem: string | undefined;
  for (const tool of tools)
    if (problem === undefined && !hasCommand(tool, tool === 'htpasswd' ? ['-nbB', 'a', 'b'] : tool === 'openssl' ? ['version'] : ['--version']))
      problem = `${tool} is missing`;
  problem ??= await debianPipProblem();
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  return need(t, problem === undefined, problem ?? '');
}

/** GET over HTTPS, trusting `ca` only. */
function httpsGet(url: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(ca), headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * pip's and twine's environment, hermetic: no PIP_*, TWINE_* or keyring of this machine, and no
 * REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, which requests lets beat twine's --cert (its session's verify).
 */
function pipEnv(home: string): Record<string, string> {
  const env = envWithoutPip(process.env, { HOME: home, PIP_CONFIG_FILE: '/dev/null', PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring' });
  for (const name of Object.keys(env)) if (name.startsWith('TWINE_') || name === 'REQUESTS_CA_BUNDLE' || name === 'CURL_CA_BUNDLE') delete env[name];
  return env;
}

test('HTTPS: twine uploads and pip installs with --cert (read auth on); without the certificate pip refuses', async (t) => {
  if (!(await canRun(t, ['openssl', 'twine', 'htpasswd']))) return;
  await using mirror = makeTempDir('dib-pypi-tls-');
  await using work = makeTempDir('dib-pypi-tls-work-');
  const pair = makeCert(work.path, 'server');
  const users = join(work.path, 'users');
  execFileSync('htpasswd', ['-cbB', users, 'alice', PASSWORD], { stdio: 'ignore' });
  const wheel = await makeWheel(work.path, { name: 'secure-pkg', version: '1.0' });
  await using server = await startServe([mirror.path, '--tls-cert', pair.cert, '--tls-key', pair.key, '--upload-auth', users, '--read-auth', users]);
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
  assert.doesNotMatch(server.output(), /without TLS/);

  const env = pipEnv(work.path);
  const upload = await execa(
    'twine',
    ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', server.url, '--cert', pair.cert, '-u', 'alice', '-p', PASSWORD, wheel],
    { env, extendEnv: false, reject: false, all: true },
  );
  assert.equal(upload.exitCode, 0, upload.all);
  assert.equal((await httpsGet(`${server.url}simple/secure-pkg/`, pair.cert)).status, 401);
  assert.match((await httpsGet(`${server.url}simple/secure-pkg/`, pair.cert, { Authorization: basicAuth('alice', PASSWORD) })).body, /secure_pkg-1\.0/);

  const index = server.url.replace('://', `://alice:${PASSWORD}@`) + 'simple/';
  const pip = (extra: string[], target: string) =>
    execa(
      DEBIAN_PYTHON,
      ['-m', 'pip', 'install', '--no-input', '--no-cache-dir', '--disable-pip-version-check', ...extra, '--index-url', index, '--target', target, 'secure-pkg'],
      { env: pipEnv(work.path), extendEnv: false, reject: false, all: true },
    );
  const untrusted = await pip([], join(work.path, 'untrusted'));
  assert.notEqual(untrusted.exitCode, 0, 'pip does not trust a self-signed certificate it was not given');
  assert.match(untrusted.all ?? '', /CERTIFICATE_VERIFY_FAILED|certificate verify failed/);
  const trusted = await pip(['--cert', pair.cert], join(work.path, 'trusted'));
  assert.equal(trusted.exitCode, 0, trusted.all);
  assert.ok(!server.output().includes(PASSWORD));
});

test('SIGHUP: every serving process hands the new certificate to new connections; a bad pair keeps the one in use', async (t) => {
  if (!(await canRun(t, ['openssl']))) return;
  await using mirror = makeTempDir('dib-pypi-tls-reload-');
  await using work = makeTempDir('dib-pypi-tls-reload-work-');
  await makeWheel(join(mirror.path, 'some-pkg'), { name: 'some-pkg', version: '1.0' });
  const first = makeCert(work.path, 'first');
  const second = makeCert(work.path, 'second');
  const third = makeCert(work.path, 'third');
  const cert = join(work.path, 'live.crt');
  const key = join(work.path, 'live.key');
  copyFileSync(first.cert, cert);
  copyFileSync(first.key, key);
  await using server = await startServe([mirror.path, '--tls-cert', cert, '--tls-key', key, '--workers', '2']);
  await eventually('two serving processes', () => server.workerPids().length === 2);
  // Several new connections: round-robin reaches both processes.
  const served = async () => new Set(await Promise.all([1, 2, 3, 4, 5, 6].map(() => servedFingerprint(server.port))));
  assert.deepEqual(await served(), new Set([first.fingerprint]));

  copyFileSync(second.cert, cert);
  copyFileSync(second.key, key);
  const reloaded = () => server.output().split('TLS certificate reloaded').length - 1;
  process.kill(server.pid, 'SIGHUP');
  await eventually('both processes reloaded', () => reloaded() === 2, 10_000);
  assert.deepEqual(await served(), new Set([second.fingerprint]), 'new connections get the second certificate');
  assert.equal((await httpsGet(`${server.url}simple/some-pkg/`, second.cert)).status, 200);

  // A new certificate with the old key: refused, the second pair stays.
  copyFileSync(third.cert, cert);
  process.kill(server.pid, 'SIGHUP');
  await eventually('both processes refused the pair', () => server.output().split('TLS certificate not reloaded').length - 1 === 2, 10_000);
  assert.match(
    server.output(),
    /warning: TLS certificate not reloaded, the one in use stays: ".*live\.key" is not the key of the certificate in ".*live\.crt": key values mismatch/,
  );
  assert.deepEqual(await served(), new Set([second.fingerprint]));
  assert.equal(server.workerPids().length, 2, 'no serving process died');
  assert.equal(await server.stop(), 0);
});

test('HTTPS: a download that outlasts --headers-timeout is not cut off (the idle sweep sees the TLS connection busy)', async (t) => {
  if (!(await canRun(t, ['openssl']))) return;
  await using mirror = makeTempDir('dib-pypi-tls-slow-');
  await using work = makeTempDir('dib-pypi-tls-slow-work-');
  const noise = randomBytes(16 * 1024 * 1024); // incompressible: the wheel stays as big
  const wheel = await makeWheel(join(mirror.path, 'big-pkg'), { name: 'big-pkg', version: '1.0', data: { 'big_pkg/blob.bin': noise } });
  const size = statSync(wheel).size;
  const pair = makeCert(work.path, 'slow');
  await using server = await startServe([mirror.path, '--tls-cert', pair.cert, '--tls-key', pair.key, '--headers-timeout', '1', '--workers', '1']);
  const received = await new Promise<number>((resolve, reject) => {
    const req = request(`${server.url}big-pkg/${basename(wheel)}`, { ca: readFileSync(pair.cert), agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve(bytes));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error(`cut off after ${bytes} bytes`)));
      // A slow client: nothing read for three sweeps' worth of --headers-timeout.
      res.pause();
      setTimeout(() => res.resume(), 3_000);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(received, size);
});

test('--tls-cert/--tls-key at start: both or neither, readable, PEM, a matching pair (one line, exit 2)', async (t) => {
  if (!(await canRun(t, ['openssl']))) return;
  await using mirror = makeTempDir('dib-pypi-tls-bad-');
  await using work = makeTempDir('dib-pypi-tls-bad-work-');
  const one = makeCert(work.path, 'one');
  const two = makeCert(work.path, 'two');
  const junk = join(work.path, 'junk.pem');
  writeFileSync(junk, 'not a certificate\n');
  const cases: [string[], RegExp][] = [
    [['--tls-cert', one.cert], /^dib-pypi: error: --tls-cert: needs --tls-key FILE too$/],
    [['--tls-key', one.key], /^dib-pypi: error: --tls-key: needs --tls-cert FILE too$/],
    [['--tls-cert', join(work.path, 'nope.crt'), '--tls-key', one.key], /^dib-pypi: error: --tls-cert: cannot read ".*nope\.crt": ENOENT$/],
    [['--tls-cert', junk, '--tls-key', one.key], /^dib-pypi: error: --tls-cert: ".*junk\.pem" holds no PEM certificate: /],
    [['--tls-cert', one.cert, '--tls-key', one.cert], /^dib-pypi: error: --tls-key: ".*one\.crt" holds no unencrypted PEM private key: /],
    [
      ['--tls-cert', one.cert, '--tls-key', two.key],
      /^dib-pypi: error: --tls-key: ".*two\.key" is not the key of the certificate in ".*one\.crt": key values mismatch$/,
    ],
  ];
  for (const [args, message] of cases) {
    const result = runCli(['serve', mirror.path, '--port', '0', ...args]);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr.trim(), message);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
});
