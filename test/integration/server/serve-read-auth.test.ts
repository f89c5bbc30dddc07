// `dib-pypi serve --read-auth` / `--metrics-auth`: real pip with credentials in the index URL and in
// ~/.netrc, without them, with a wrong password; every route but /health closed; the login limiter; an
// edited htpasswd file taking effect; the cluster; bad files refused at start with the flag named.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { httpRequest } from '../../helpers/http-get.js';
import { makeWheel } from '../../helpers/make-dist.js';
import { basicAuth } from '../../helpers/multipart.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { hasCommand, isRequired, need } from '../../helpers/require.js';
import { startServe } from '../../helpers/serve.js';
import { eventually } from '../../helpers/wait.js';

const PASSWORD = 'read-s3cret:with%hostile@chars';
const METRICS_PASSWORD = 'metrics-only-pw';
const WHEEL = 'priv_pkg-1.0-py3-none-any.whl';
const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';

async function canRun(t: TestContext): Promise<boolean> {
  const problem = !hasCommand('htpasswd', ['-nbB', 'a', 'b']) ? "htpasswd is missing: install Debian's apache2-utils" : await debianPipProblem();
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  return need(t, problem === undefined, problem ?? '');
}

/** An htpasswd file made by Apache's own tool, bcrypt (-B). */
function htpasswd(path: string, users: Record<string, string>): string {
  let first = true;
  for (const [user, password] of Object.entries(users)) {
    execFileSync('htpasswd', [first ? '-cbB' : '-bB', path, user, password], { stdio: 'ignore' });
    first = false;
  }
  return path;
}

async function makeMirror(dir: string): Promise<void> {
  await makeWheel(join(dir, 'priv-pkg'), { name: 'priv-pkg', version: '1.0' });
}

/** Debian's pip, hermetic: no PIP_* and no keyring from this machine; HOME decides which ~/.netrc it sees. */
async function pipInstall(indexUrl: string, home: string) {
  const target = join(home, 'target');
  const env = envWithoutPip(process.env, { HOME: home, PIP_CONFIG_FILE: '/dev/null', PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring' });
  delete env.NETRC;
  return execa(
    DEBIAN_PYTHON,
    ['-m', 'pip', 'install', '--no-input', '--no-cache-dir', '--disable-pip-version-check', '--index-url', indexUrl, '--target', target, 'priv-pkg'],
    { env, extendEnv: false, reject: false, all: true },
  );
}

/** The URL with `user:password@` (percent-encoded whole: WHATWG's userinfo set leaves `%` as it is, which pip would decode). */
function withCredentials(url: string, user: string, password: string): string {
  return url.replace('://', `://${encodeURIComponent(user)}:${encodeURIComponent(password)}@`);
}

test('--read-auth: pip installs with credentials in the URL or ~/.netrc; without or wrong it fails (401); /health and /metrics open', async (t) => {
  if (!(await canRun(t))) return;
  await using mirror = makeTempDir('dib-pypi-readauth-');
  await using work = makeTempDir('dib-pypi-readauth-work-');
  await makeMirror(mirror.path);
  const users = htpasswd(join(work.path, 'readers'), { alice: PASSWORD, bob: 'bobs-password' });
  await using server = await startServe([mirror.path, '--read-auth', users, '--workers', '1', '--access-log']);
  const good = basicAuth('alice', PASSWORD);

  // Every route that shows what the mirror holds is closed, with the challenge pip answers.
  for (const path of [
    '',
    'index.html',
    'simple/',
    'simple/priv-pkg/',
    'priv-pkg/',
    `simple/priv-pkg/${WHEEL}`,
    `simple/priv-pkg/${WHEEL}.metadata`,
    'simple',
    'no-such/',
    'simple/priv-pkg/?format=json',
    '+ui/',
    '+ui/?q=priv',
    '+ui/+search?q=priv',
    '+ui/priv-pkg/',
    '+ui/+status',
  ]) {
    const closed = await httpRequest(server.url + path, { headers: { Accept: 'text/html,application/xhtml+xml' } });
    assert.equal(closed.status, 401, `/${path} without credentials`);
    assert.equal(closed.headers['www-authenticate'], 'Basic realm="dib-pypi"', `/${path}`);
    assert.doesNotMatch(closed.body.toString(), /priv/, `/${path} tells nothing about the mirror`);
    const open = await httpRequest(server.url + path, { headers: { Authorization: good } });
    assert.notEqual(open.status, 401, `/${path} with credentials`);
  }
  const json = await httpRequest(`${server.url}simple/priv-pkg/`, { headers: { Authorization: good, Accept: JSON_TYPE } });
  assert.equal(json.status, 200);
  assert.match(String(json.headers['content-type']), /json/);
  assert.equal((await httpRequest(`${server.url}simple/priv-pkg/`, { headers: { Authorization: basicAuth('alice', 'wrong') } })).status, 401);
  assert.equal((await httpRequest(`${server.url}simple/priv-pkg/`, { headers: { Authorization: basicAuth('mallory', PASSWORD) } })).status, 401);
  assert.equal((await httpRequest(`${server.url}health`)).status, 200, '/health stays open');
  assert.equal((await httpRequest(`${server.url}metrics`)).status, 200, '/metrics is open without --metrics-auth');
  assert.equal((await httpRequest(`${server.url}legacy/`, { method: 'POST' })).status, 405, 'uploads are not read auth: off here');

  await using anonymous = makeTempDir('dib-pypi-readauth-anon-');
  const refused = await pipInstall(`${server.url}simple/`, anonymous.path);
  assert.notEqual(refused.exitCode, 0, 'pip without credentials fails');
  assert.match(refused.all ?? '', /No matching distribution found for priv-pkg/, 'pip saw no page');
  assert.match(server.output(), / - - \[[^\]]+\] "GET \/simple\/priv-pkg\/ HTTP\/1\.1" 401 /, "pip's request without credentials got 401");

  await using wrong = makeTempDir('dib-pypi-readauth-wrong-');
  const wrongPassword = await pipInstall(withCredentials(`${server.url}simple/`, 'alice', 'not-it'), wrong.path);
  assert.notEqual(wrongPassword.exitCode, 0, 'pip with a wrong password fails');
  assert.match(server.output(), / - alice \[[^\]]+\] "GET \/simple\/priv-pkg\/ HTTP\/1\.1" 401 /, "pip's request with the wrong password got 401");

  await using inUrl = makeTempDir('dib-pypi-readauth-url-');
  const viaUrl = await pipInstall(withCredentials(`${server.url}simple/`, 'alice', PASSWORD), inUrl.path);
  assert.equal(viaUrl.exitCode, 0, viaUrl.all);

  await using netrcHome = makeTempDir('dib-pypi-readauth-netrc-');
  writeFileSync(join(netrcHome.path, '.netrc'), `machine 127.0.0.1\nlogin bob\npassword bobs-password\n`, { mode: 0o600 });
  const viaNetrc = await pipInstall(`${server.url}simple/`, netrcHome.path);
  assert.equal(viaNetrc.exitCode, 0, viaNetrc.all);

  for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), 'bobs-password', 'not-it'])
    assert.ok(!server.output().includes(secret), 'no password is printed');
  assert.match(server.output(), /read refused: bad credentials for user "alice"/);
});

test('--metrics-auth closes /metrics to its own users; read users and a wrong password get 401', async (t) => {
  if (!(await canRun(t))) return;
  await using mirror = makeTempDir('dib-pypi-metricsauth-');
  await using work = makeTempDir('dib-pypi-metricsauth-work-');
  await makeMirror(mirror.path);
  const readers = htpasswd(join(work.path, 'readers'), { alice: PASSWORD });
  const watchers = htpasswd(join(work.path, 'watchers'), { prometheus: METRICS_PASSWORD });
  await using server = await startServe([mirror.path, '--read-auth', readers, '--metrics-auth', watchers, '--workers', '1']);
  const metrics = `${server.url}metrics`;
  const none = await httpRequest(metrics);
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Basic realm="dib-pypi metrics"');
  assert.equal((await httpRequest(metrics, { headers: { Authorization: basicAuth('alice', PASSWORD) } })).status, 401, 'a reader is no metrics user');
  assert.equal((await httpRequest(metrics, { headers: { Authorization: basicAuth('prometheus', 'wrong') } })).status, 401);
  const ok = await httpRequest(metrics, { headers: { Authorization: basicAuth('prometheus', METRICS_PASSWORD) } });
  assert.equal(ok.status, 200);
  assert.match(ok.body.toString(), /dib_pypi_/);
  assert.equal(
    (await httpRequest(`${server.url}simple/`, { headers: { Authorization: basicAuth('prometheus', METRICS_PASSWORD) } })).status,
    401,
    'a metrics user reads no pages',
  );
  assert.equal((await httpRequest(`${server.url}health`)).status, 200);
  // A user name cannot forge a log line.
  assert.equal((await httpRequest(`${server.url}simple/`, { headers: { Authorization: basicAuth('evil\nFAKE-LINE', 'x') } })).status, 401);
  await eventually('the refusal logged', () => server.output().includes('bad credentials for user "evil\\nFAKE-LINE"'));
  assert.doesNotMatch(server.output(), /^FAKE-LINE/m);

  // Only /metrics closed: pages stay open.
  await server.stop();
  await using metricsOnly = await startServe([mirror.path, '--metrics-auth', watchers, '--workers', '1']);
  assert.equal((await httpRequest(`${metricsOnly.url}simple/priv-pkg/`)).status, 200);
  assert.equal((await httpRequest(`${metricsOnly.url}metrics`)).status, 401);
});

test('--read-auth: wrong passwords reach the login limit (429, also for a right one not verified before); an edited file counts at once', async (t) => {
  if (!(await canRun(t))) return;
  await using mirror = makeTempDir('dib-pypi-readauth-limit-');
  await using work = makeTempDir('dib-pypi-readauth-limit-work-');
  await makeMirror(mirror.path);
  const users = htpasswd(join(work.path, 'readers'), { alice: PASSWORD, carol: 'carols-first' });
  await using server = await startServe([mirror.path, '--read-auth', users, '--max-login-failures', '3', '--workers', '1']);
  const page = `${server.url}simple/priv-pkg/`;
  assert.equal((await httpRequest(page, { headers: { Authorization: basicAuth('carol', 'carols-first') } })).status, 200);

  // The file changes: carol's old password stops working (her remembered pair is forgotten), the new one works.
  execFileSync('htpasswd', ['-bB', users, 'carol', 'carols-second'], { stdio: 'ignore' });
  const deadline = Date.now() + 5_000;
  while ((await httpRequest(page, { headers: { Authorization: basicAuth('carol', 'carols-first') } })).status === 200) {
    assert.ok(Date.now() < deadline, "carol's old password still works 5 s after the edit");
    await sleep(100);
  }
  assert.equal((await httpRequest(page, { headers: { Authorization: basicAuth('carol', 'carols-second') } })).status, 200);

  // A fresh server for the limit (the one 401 above counted there).
  await using limited = await startServe([mirror.path, '--read-auth', users, '--max-login-failures', '3', '--workers', '1', '--no-index']);
  const target = `${limited.url}simple/priv-pkg/`;
  assert.equal((await httpRequest(target, { headers: { Authorization: basicAuth('alice', PASSWORD) } })).status, 200, 'remembered from here on');
  for (let i = 0; i < 3; i++) assert.equal((await httpRequest(target, { headers: { Authorization: basicAuth('alice', `guess-${i}`) } })).status, 401);
  // A pair verified before the lockout still reads (a reader behind the same proxy or NAT address is not locked
  // out by a guesser); a right pair not verified before is refused like a guess: no oracle for guesses.
  assert.equal((await httpRequest(target, { headers: { Authorization: basicAuth('alice', PASSWORD) } })).status, 200);
  const blocked = await httpRequest(target, { headers: { Authorization: basicAuth('carol', 'carols-second') } });
  assert.equal(blocked.status, 429, 'past the limit a right password not verified before is refused');
  assert.equal((await httpRequest(target, { headers: { Authorization: basicAuth('alice', 'guess-0') } })).status, 429);
  assert.match(String(blocked.headers['retry-after']), /^\d+$/);
  assert.equal((await httpRequest(`${limited.url}health`)).status, 200);
  // Another client (another 127/8 address) is not held back.
  assert.equal((await httpRequest(target, { headers: { Authorization: basicAuth('alice', PASSWORD) }, localAddress: '127.0.0.2' })).status, 200);
});

test('--read-auth in a cluster (--workers 2): every serving process asks, pip installs with credentials', async (t) => {
  if (!(await canRun(t))) return;
  await using mirror = makeTempDir('dib-pypi-readauth-cluster-');
  await using work = makeTempDir('dib-pypi-readauth-cluster-work-');
  await makeMirror(mirror.path);
  const users = htpasswd(join(work.path, 'readers'), { alice: PASSWORD });
  await using server = await startServe([mirror.path, '--read-auth', users, '--workers', '2']);
  await eventually('two serving processes', () => server.workerPids().length === 2);
  // Fresh connections go round-robin: several of them reach both processes.
  for (let i = 0; i < 6; i++) {
    assert.equal((await httpRequest(`${server.url}simple/priv-pkg/`)).status, 401);
    assert.equal((await httpRequest(`${server.url}simple/priv-pkg/`, { headers: { Authorization: basicAuth('alice', PASSWORD) } })).status, 200);
  }
  await using home = makeTempDir('dib-pypi-readauth-cluster-home-');
  const install = await pipInstall(withCredentials(`${server.url}simple/`, 'alice', PASSWORD), home.path);
  assert.equal(install.exitCode, 0, install.all);
});

test('--read-auth and --metrics-auth files are checked at start: missing, not bcrypt, empty; the config file and the variable set them too', async () => {
  await using mirror = makeTempDir('dib-pypi-readauth-bad-');
  await using work = makeTempDir('dib-pypi-readauth-bad-work-');
  await makeMirror(mirror.path);
  const md5 = join(work.path, 'md5');
  writeFileSync(md5, 'alice:$apr1$abcdefgh$0123456789abcdefghijkl\n');
  const empty = join(work.path, 'empty');
  writeFileSync(empty, '# nobody\n');
  const cases: [string[], RegExp][] = [
    [['--read-auth', join(work.path, 'missing')], /^dib-pypi: error: --read-auth: cannot read ".*missing": ENOENT$/m],
    [['--read-auth', md5], /^dib-pypi: error: --read-auth: .*line 1: user "alice" has no bcrypt hash/m],
    [['--metrics-auth', empty], /^dib-pypi: error: --metrics-auth: ".*empty" lists no users$/m],
    [['--max-login-failures', '3'], /--max-login-failures: needs uploads enabled .*--read-auth or --metrics-auth/],
  ];
  for (const [args, message] of cases) {
    const result = runCli(['serve', mirror.path, '--port', '0', ...args]);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
  }
  const users = htpasswd(join(work.path, 'readers'), { alice: PASSWORD });
  const config = join(work.path, 'serve.toml');
  writeFileSync(config, `[serve]\nread-auth = ${JSON.stringify(users)}\nworkers = "1"\n`);
  await using fromFile = await startServe([mirror.path, '--config', config]);
  assert.equal((await httpRequest(`${fromFile.url}simple/`)).status, 401, 'read-auth from the config file');
  await using fromEnv = await startServe([mirror.path, '--workers', '1'], { env: cleanEnv({ DIB_PYPI_SERVE_READ_AUTH: users }) });
  assert.equal((await httpRequest(`${fromEnv.url}simple/`)).status, 401, 'read-auth from DIB_PYPI_SERVE_READ_AUTH');
  assert.equal((await httpRequest(`${fromEnv.url}simple/`, { headers: { Authorization: basicAuth('alice', PASSWORD) } })).status, 200);
});

test('passwords over a network without TLS: a warning at start (none on loopback)', async (t) => {
  if (!(await canRun(t))) return;
  await using mirror = makeTempDir('dib-pypi-readauth-warn-');
  await using work = makeTempDir('dib-pypi-readauth-warn-work-');
  await makeMirror(mirror.path);
  const users = htpasswd(join(work.path, 'readers'), { alice: PASSWORD });
  await using wide = await startServe([mirror.path, '--read-auth', users, '--host', '0.0.0.0', '--workers', '2']);
  assert.match(wide.output(), /warning: read or metrics passwords on 0\.0\.0\.0 without TLS: passwords and files cross the network in clear text/);
  await using local = await startServe([mirror.path, '--read-auth', users, '--workers', '1']);
  assert.doesNotMatch(local.output(), /without TLS/);
});
