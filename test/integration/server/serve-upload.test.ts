// Private uploads to `dib-pypi serve`: real twine (Debian's) with good and bad credentials, hand-made
// forms that try to escape the mirror or lie about their bytes, no overwrite, re-index at once, and a
// bounded load test (autocannon, 64 connections) while uploads run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import autocannon from 'autocannon';
import { execa } from 'execa';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { httpRequest } from '../../helpers/http-get.js';
import { makeSdist, makeWheel } from '../../helpers/make-dist.js';
import { basicAuth, multipart, twineFields } from '../../helpers/multipart.js';
import { DEBIAN_PYTHON, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { canRunTwine } from '../../helpers/require.js';
import { listTree } from '../../helpers/tree-listing.js';
import { startServe } from '../../helpers/serve.js';

const PASSWORD = 'upload-s3cret-Pa55';
const TOKEN = 'pypi-token-0123456789abcdef';

const canRun = canRunTwine;

/** An htpasswd file made by Apache's own tool, bcrypt (-B). */
function htpasswdFile(dir: string): string {
  const path = join(dir, 'htpasswd');
  execFileSync('htpasswd', ['-cbB', path, 'alice', PASSWORD], { stdio: 'ignore' });
  execFileSync('htpasswd', ['-bB', path, 'bob', 'other-password'], { stdio: 'ignore' });
  return path;
}

async function twine(url: string, user: string, password: string, files: string[]) {
  // TWINE_* and keyring from this machine must not answer for us.
  const env: Record<string, string> = { ...envWithoutPip(process.env), PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring' };
  for (const name of Object.keys(env)) if (name.startsWith('TWINE_')) delete env[name];
  return execa('twine', ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', url, '-u', user, '-p', password, ...files], {
    env,
    extendEnv: false,
    reject: false,
    all: true,
  });
}

test('twine uploads with good credentials; bad or no credentials are 403/401 and write nothing; no overwrite', async (t) => {
  if (!canRun(t)) return;
  await using mirror = makeTempDir('dib-pypi-upload-');
  await using work = makeTempDir('dib-pypi-upload-work-');
  const auth = htpasswdFile(work.path);
  const wheel = await makeWheel(work.path, { name: 'Private.Pkg', version: '1.0' });
  const sdist = makeSdist(work.path, { name: 'Private.Pkg', version: '1.0' });
  await using server = await startServe([mirror.path, '--upload-auth', auth, '--access-log']);

  const before = listTree(mirror.path);
  const bad = await twine(server.url, 'alice', 'wrong-password', [wheel]);
  assert.notEqual(bad.exitCode, 0);
  assert.match(bad.all ?? '', /403/);
  const unknown = await twine(`${server.url}legacy/`, 'mallory', PASSWORD, [wheel]);
  assert.notEqual(unknown.exitCode, 0);
  const anonymous = await httpRequest(server.url, {
    method: 'POST',
    ...withForm(await readFileSync(wheel), 'private-pkg', '1.0', 'private_pkg-1.0-py3-none-any.whl'),
  });
  assert.equal(anonymous.status, 401);
  assert.match(String(anonymous.headers['www-authenticate']), /^Basic /);
  assert.deepEqual(listTree(mirror.path), before, 'refused uploads wrote nothing');

  const good = await twine(server.url, 'alice', PASSWORD, [wheel, sdist]);
  assert.equal(good.exitCode, 0, good.all);
  const stored = readdirSync(join(mirror.path, 'private-pkg')).sort();
  assert.ok(stored.includes('private_pkg-1.0-py3-none-any.whl') && stored.includes('private_pkg-1.0.tar.gz'), stored.join(' '));
  assert.deepEqual(readFileSync(join(mirror.path, 'private-pkg', 'private_pkg-1.0-py3-none-any.whl')), readFileSync(wheel));
  // The page is re-indexed before the answer: it lists both files at once, JSON with upload-time (PEP 700).
  const page = JSON.parse(
    (await httpRequest(`${server.url}simple/private-pkg/`, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' } })).body.toString(),
  ) as { files: { filename: string; 'upload-time'?: string }[] };
  assert.deepEqual(
    page.files.map((f) => f.filename),
    ['private_pkg-1.0-py3-none-any.whl', 'private_pkg-1.0.tar.gz'],
  );
  assert.ok(
    page.files.every((f) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(f['upload-time'] ?? '')),
    JSON.stringify(page),
  );
  assert.match((await httpRequest(server.url)).body.toString(), /private-pkg/, 'the root page lists the new project');

  const again = await twine(server.url, 'alice', PASSWORD, [wheel]);
  assert.notEqual(again.exitCode, 0, 'an existing file is never overwritten');
  assert.match(again.all ?? '', /409|exists/);
  const skip = await twine(server.url, 'bob', 'other-password', ['--skip-existing', wheel]);
  assert.equal(skip.exitCode, 0, `twine --skip-existing understands our 409:\n${skip.all}`);

  await using target = makeTempDir('dib-pypi-upload-target-');
  const env = envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' });
  const install = await execa(
    DEBIAN_PYTHON,
    ['-m', 'pip', 'install', '--isolated', '--no-cache-dir', '--index-url', `${server.url}simple/`, '--target', target.path, 'private.pkg'],
    { env, extendEnv: false, reject: false, all: true },
  );
  assert.equal(install.exitCode, 0, install.all);
  const verify = runCli(['mirror', 'verify', mirror.path]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  assert.ok(!server.output().includes(PASSWORD), 'the password is never printed');
  assert.ok(!server.output().includes('other-password'));
});

function withForm(content: Buffer, name: string, version: string, filename: string, fields: Record<string, string> = {}) {
  const form = multipart({ fields: { ...twineFields(name, version, content), ...fields }, filename, content });
  return { headers: { 'Content-Type': form.contentType }, body: form.body };
}

test('uploads that lie, escape or are broken get 400 and leave nothing; the token user works; --allow-overwrite replaces', async (t) => {
  if (!canRun(t)) return;
  await using mirror = makeTempDir('dib-pypi-upload-bad-');
  await using work = makeTempDir('dib-pypi-upload-bad-work-');
  const content = readFileSync(await makeWheel(work.path, { name: 'demo', version: '1.0' }));
  await using server = await startServe([mirror.path, '--allow-overwrite'], { env: cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: TOKEN }) });
  const post = (form: ReturnType<typeof withForm>, password = TOKEN) =>
    httpRequest(`${server.url}legacy/`, { method: 'POST', body: form.body, headers: { ...form.headers, Authorization: basicAuth('__token__', password) } });

  assert.equal((await post(withForm(content, 'demo', '1.0', 'demo-1.0-py3-none-any.whl'), 'not-the-token')).status, 403);
  const before = listTree(mirror.path);
  for (const [form, why] of [
    [withForm(content, 'demo', '1.0', '../demo-1.0-py3-none-any.whl'), 'a path'],
    [withForm(content, 'demo', '1.0', '../../etc/demo-1.0.tar.gz'), 'a path'],
    [withForm(content, 'demo', '1.0', '/tmp/demo-1.0-py3-none-any.whl'), 'an absolute path'],
    [withForm(content, 'demo', '1.0', '.demo-1.0-py3-none-any.whl'), 'a hidden name'],
    [withForm(content, 'demo', '1.0', 'other-1.0-py3-none-any.whl'), 'another project'],
    [withForm(content, '../demo', '1.0', 'demo-1.0-py3-none-any.whl'), 'a bad project name'],
    [withForm(content, 'demo', '2.0', 'demo-1.0-py3-none-any.whl'), 'another version'],
    [withForm(content, 'demo', '1.0', 'demo-1.0.txt'), 'not a distribution'],
    [withForm(content, 'demo', '1.0', 'demo-1.0-py3-none-any.whl', { sha256_digest: 'ab'.repeat(32) }), 'a wrong sha256'],
    [withForm(content, 'demo', '1.0', 'demo-1.0-py3-none-any.whl', { md5_digest: 'cd'.repeat(16) }), 'a wrong md5'],
    [withForm(content, 'demo', '1.0', 'demo-1.0-py3-none-any.whl', { blake2_256_digest: 'ef'.repeat(32) }), 'a wrong blake2'],
    [withForm(Buffer.from('not a zip at all'), 'demo', '1.0', 'demo-1.0-py3-none-any.whl'), 'a broken wheel'],
    [
      withForm(content, 'demo', '1.0', 'demo-1.0-py3-none-any.whl', { ':action': 'doc_upload' }),
      'another action (remove_pkg is the change API: serve-remove.test.ts)',
    ],
  ] as const) {
    const answer = await post(form);
    assert.equal(answer.status, 400, `${why}: ${answer.body.toString()}`);
  }
  const notForm = await httpRequest(`${server.url}legacy/`, {
    method: 'POST',
    body: Buffer.from('{}'),
    headers: { 'Content-Type': 'application/json', Authorization: basicAuth('__token__', TOKEN) },
  });
  assert.equal(notForm.status, 400);
  const after = listTree(mirror.path).filter((line) => !line.includes('.dib-pypi/uploads'));
  assert.deepEqual(
    after,
    before.filter((line) => !line.includes('.dib-pypi/uploads')),
    'nothing kept',
  );
  assert.deepEqual(readdirSync(join(mirror.path, '.dib-pypi', 'uploads')), [], `no temp file left: ${listTree(mirror.path).join('\n')}`);

  assert.equal((await post(withForm(content, 'demo', '1.0', 'demo-1.0-py3-none-any.whl'))).status, 200);
  const second = readFileSync(await makeWheel(join(work.path, 'v2'), { name: 'demo', version: '1.0', modules: { 'demo/__init__.py': 'VERSION = 2\n' } }));
  assert.equal((await post(withForm(second, 'demo', '1.0', 'demo-1.0-py3-none-any.whl'))).status, 200, '--allow-overwrite');
  assert.deepEqual(readFileSync(join(mirror.path, 'demo', 'demo-1.0-py3-none-any.whl')), second);
  const verify = runCli(['mirror', 'verify', mirror.path]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
});

test('serve refuses htpasswd files without bcrypt entries, and --allow-overwrite without uploads (exit 2)', async () => {
  await using work = makeTempDir('dib-pypi-upload-flags-');
  writeFileSync(join(work.path, 'md5'), 'alice:$apr1$abc$0123456789012345678901\n');
  writeFileSync(join(work.path, 'empty'), '# nobody\n');
  for (const [args, pattern] of [
    [['--upload-auth', join(work.path, 'md5')], /line 1: user "alice" has no bcrypt hash/],
    [['--upload-auth', join(work.path, 'empty')], /lists no users/],
    [['--upload-auth', join(work.path, 'missing')], /cannot read/],
    [['--allow-overwrite'], /--allow-overwrite: needs uploads enabled/],
  ] as const) {
    const result = runCli(['serve', work.path, '--port', '0', ...args]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, pattern);
  }
});

test('load: 64 connections of page and file requests while uploads run: no errors, every upload kept', async (t) => {
  if (!canRun(t)) return;
  await using mirror = makeTempDir('dib-pypi-upload-load-');
  await using work = makeTempDir('dib-pypi-upload-load-work-');
  await makeWheel(join(mirror.path, 'base-pkg'), { name: 'base-pkg', version: '1.0' });
  assert.equal(runCli(['mirror', 'index', mirror.path]).status, 0);
  await using server = await startServe([mirror.path], { env: cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: TOKEN }) });
  const wheels: Buffer[] = [];
  for (let i = 0; i < 12; i++) wheels.push(readFileSync(await makeWheel(work.path, { name: 'loaded', version: `1.${i}` })));

  const load = autocannon({
    url: server.url.replace(/\/$/, ''),
    connections: 64,
    amount: 20_000,
    requests: [
      { method: 'GET', path: '/simple/base-pkg/', headers: { Accept: 'application/vnd.pypi.simple.v1+json' } },
      { method: 'GET', path: '/simple/' },
      { method: 'GET', path: '/base-pkg/base_pkg-1.0-py3-none-any.whl' },
      { method: 'GET', path: '/simple/loaded/' }, // 404 until the first upload lands
    ],
  });
  const uploads = Promise.all(
    wheels.map(async (content, i) => {
      const form = withForm(content, 'loaded', `1.${i}`, `loaded-1.${i}-py3-none-any.whl`);
      return httpRequest(`${server.url}legacy/`, {
        method: 'POST',
        body: form.body,
        headers: { ...form.headers, Authorization: basicAuth('__token__', TOKEN) },
      });
    }),
  );
  const [result, answers] = await Promise.all([load, uploads]);
  assert.deepEqual(
    answers.map((a) => a.status),
    wheels.map(() => 200),
    answers.map((a) => a.body.toString()).join(''),
  );
  assert.equal(result.errors, 0, 'connection errors');
  assert.equal(result.timeouts, 0);
  assert.ok(result['5xx'] === 0, `${result['5xx']} 5xx answers`);
  assert.ok(result.requests.total >= 20_000, `only ${result.requests.total} requests`);
  const page = JSON.parse(
    (await httpRequest(`${server.url}simple/loaded/`, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' } })).body.toString(),
  ) as { files: unknown[] };
  assert.equal(page.files.length, wheels.length, 'every upload is on the page');
  assert.equal(existsSync(join(mirror.path, 'loaded', 'loaded-1.11-py3-none-any.whl')), true);
  const verify = runCli(['mirror', 'verify', mirror.path]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
});
