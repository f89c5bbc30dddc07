// Removing and yanking over HTTP: the JSON change API (`POST /+api/remove|yank|unyank`) and pypiserver's
// `:action=remove_pkg` form sent by curl, each authenticated, checked and answered after the pages changed;
// real pip through the server; and the pull-through cache, in front of a real upstream, never fetching a
// removed file back until `mirror remove --forget`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { execa } from 'execa';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { httpRequest } from '../../helpers/http-get.js';
import { makeSdist, makeWheel } from '../../helpers/make-dist.js';
import { basicAuth } from '../../helpers/multipart.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { hasCommand, isRequired, need } from '../../helpers/require.js';
import { startServe } from '../../helpers/serve.js';
import { listTree } from '../../helpers/tree-listing.js';

const PASSWORD = 'change-s3cret-"quoted"';
const JSON_PAGE = 'application/vnd.pypi.simple.v1+json';

async function canRun(t: TestContext): Promise<boolean> {
  const problem = !hasCommand('curl')
    ? "curl is missing: install Debian's curl"
    : !hasCommand('htpasswd', ['-nbB', 'a', 'b'])
      ? "htpasswd is missing: install Debian's apache2-utils"
      : await debianPipProblem();
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  return need(t, problem === undefined, problem ?? '');
}

function htpasswdFile(dir: string): string {
  const path = join(dir, 'htpasswd');
  execFileSync('htpasswd', ['-cbB', path, 'alice', PASSWORD], { stdio: 'ignore' });
  return path;
}

const AUTH = { Authorization: basicAuth('alice', PASSWORD) };

async function apiAs(url: string, action: string, body: unknown, headers: Record<string, string> = { ...AUTH, 'Content-Type': 'application/json' }) {
  const answer = await httpRequest(`${url}+api/${action}`, {
    method: 'POST',
    headers,
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const text = answer.body.toString();
  return { status: answer.status, type: answer.headers['content-type'], text, json: () => JSON.parse(text) as Record<string, unknown> };
}

async function pageFiles(url: string, project: string): Promise<{ status: number; files: { filename: string; yanked?: unknown }[] }> {
  const page = await httpRequest(`${url}simple/${project}/`, { headers: { Accept: JSON_PAGE } });
  if (page.status !== 200) return { status: page.status, files: [] };
  return { status: 200, files: (JSON.parse(page.body.toString()) as { files: { filename: string; yanked?: unknown }[] }).files };
}

async function pip(indexUrl: string, requirement: string) {
  await using target = makeTempDir('dib-pypi-change-pip-');
  const result = await execa(
    DEBIAN_PYTHON,
    ['-m', 'pip', 'install', '--isolated', '--no-cache-dir', '--index-url', indexUrl, '--target', target.path, requirement],
    { env: envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' }), extendEnv: false, reject: false, all: true },
  );
  const version = readdirSync(target.path)
    .map((name) => /^[a-z_]+-(.+)\.dist-info$/.exec(name)?.[1])
    .find((v) => v !== undefined);
  return { exitCode: result.exitCode, output: result.all ?? '', version };
}

/** A chunked body (no Content-Length) that grows past the limit: refused once it is over, not read to the end. */
function chunkedFlood(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', () => resolve(answer)); // a reset after the answer is the server cutting the flood
    socket.write(
      `POST /+api/remove HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.Authorization}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    const chunk = 'x'.repeat(4096);
    let sent = 0;
    const pump = () => {
      while (sent < 64 && !socket.destroyed) {
        sent++;
        if (!socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)) return void socket.once('drain', pump);
      }
    };
    socket.once('connect', pump);
    setTimeout(() => reject(new Error(`no answer to the flood: ${answer}`)), 15_000).unref();
  });
}

/** Headers and part of a body, then silence: the server must give up on it. */
function idleBody(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.write(
      `POST /+api/remove HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.Authorization}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"project":`,
    );
  });
}

test('the JSON change API and remove_pkg: 401/403/4xx refusals change nothing; removals and yanks show at once; pip follows', async (t) => {
  if (!(await canRun(t))) return;
  await using mirror = makeTempDir('dib-pypi-change-');
  await using work = makeTempDir('dib-pypi-change-work-');
  const dir = mirror.path;
  for (const version of ['1.0', '2.0', '3.0']) await makeWheel(join(dir, 'priv'), { name: 'priv', version });
  makeSdist(join(dir, 'priv'), { name: 'priv', version: '2.0' });
  await makeWheel(join(dir, 'keep'), { name: 'keep', version: '1.0' });
  assert.equal(runCli(['mirror', 'index', dir]).status, 0);
  await using server = await startServe([dir, '--upload-auth', htpasswdFile(work.path)]);
  const url = server.url;

  // The state directory's own mtime moves with the change lock taken and let go; nothing in it or elsewhere may.
  const tree = () => listTree(dir).filter((line) => !line.startsWith('".dib-pypi" dir'));
  const before = tree();
  const json = { 'Content-Type': 'application/json' };
  const refusals: [string, unknown, Record<string, string>, number, RegExp][] = [
    ['remove', { project: 'priv' }, json, 401, /authentication required/],
    ['remove', { project: 'priv' }, { ...json, Authorization: basicAuth('alice', 'wrong') }, 403, /invalid credentials/],
    ['remove', { project: 'priv' }, { ...AUTH, 'Content-Type': 'text/plain' }, 415, /application\/json/],
    ['remove', '{"project":', { ...AUTH, ...json }, 400, /not JSON/],
    ['remove', { project: 'priv', reason: 'x' }, { ...AUTH, ...json }, 400, /unknown field "reason"/],
    ['remove', { project: 'priv', pad: 'x'.repeat(20_000) }, { ...AUTH, ...json }, 413, /larger than 16384 bytes/],
    ['remove', { project: 'nope' }, { ...AUTH, ...json }, 404, /no project nope/],
    ['remove', { project: 'priv', version: '9.9' }, { ...AUTH, ...json }, 404, /no version 9.9 of priv/],
    ['remove', { project: 'priv', file: '../keep/keep-1.0-py3-none-any.whl' }, { ...AUTH, ...json }, 400, /not a path/],
    ['remove', { project: 'priv', file: 'keep-1.0-py3-none-any.whl' }, { ...AUTH, ...json }, 400, /not a file of project priv/],
    ['yank', { project: 'priv' }, { ...AUTH, ...json }, 400, /missing field version/],
    ['yank', { project: 'priv', version: '2.0', reason: 'a\nb' }, { ...AUTH, ...json }, 400, /one line/],
    ['delete', { project: 'priv' }, { ...AUTH, ...json }, 404, /not found/],
  ];
  for (const [action, body, headers, status, message] of refusals) {
    const answer = await apiAs(url, action, body, headers);
    assert.equal(answer.status, status, `${action} ${JSON.stringify(body).slice(0, 80)}: ${answer.text}`);
    // The login's refusals are the upload API's (text); every other answer of the change API is JSON.
    if (answer.status > 403 && action !== 'delete') assert.equal(answer.type, 'application/json');
    assert.match(answer.type === 'application/json' ? String(answer.json().error) : answer.text, message);
  }
  assert.match(await idleBody(server.port), /^HTTP\/1\.1 408 .*"error":"the body did not arrive within 10 s"/s);
  assert.match(await chunkedFlood(server.port), /^HTTP\/1\.1 413 .*"error":"the body is larger than 16384 bytes"/s);
  assert.deepEqual(tree(), before, 'refused changes changed nothing');

  // One file: the answer comes after the pages changed, and the file is gone from the server.
  const removed = await apiAs(url, 'remove', { project: 'Priv', version: '2.0', file: 'priv-2.0.tar.gz' });
  assert.equal(removed.status, 200, removed.text);
  assert.equal(removed.type, 'application/json');
  assert.deepEqual(removed.json(), { action: 'remove', project: 'priv', version: '2.0', file: 'priv-2.0.tar.gz', files: ['priv/priv-2.0.tar.gz'] });
  assert.deepEqual(
    (await pageFiles(url, 'priv')).files.map((f) => f.filename),
    ['priv-1.0-py3-none-any.whl', 'priv-2.0-py3-none-any.whl', 'priv-3.0-py3-none-any.whl'],
  );
  assert.equal((await httpRequest(`${url}simple/priv/priv-2.0.tar.gz`)).status, 404);

  // pypiserver's form, as curl sends it: multipart (--form) and urlencoded (--data).
  const curl = (...args: string[]) => execa('curl', ['-sS', '-u', `alice:${PASSWORD}`, '-w', '\n%{http_code}', ...args, url], { reject: false });
  const form = await curl('--form', ':action=remove_pkg', '--form', 'name=priv', '--form', 'version=3.0');
  assert.match(form.stdout, /OK: removed 1 file\(s\) of priv==3.0\n+200$/);
  assert.ok(!(await pageFiles(url, 'priv')).files.some((f) => f.filename.includes('3.0')));
  const missing = await curl('--data', ':action=remove_pkg&name=priv&version=9.9');
  assert.match(missing.stdout, /no version 9.9 of priv.*\n+404$/s);
  const noVersion = await curl('--data', ':action=remove_pkg&name=priv');
  assert.match(noVersion.stdout, /needs the fields name and version\n+400$/);
  const anonymous = await execa('curl', ['-sS', '-w', '\n%{http_code}', '--data', ':action=remove_pkg&name=priv&version=1.0', url], { reject: false });
  assert.match(anonymous.stdout, /401$/);

  // Yank: the page says so at once; pip skips 2.0 unless pinned; unyank takes it back.
  const yank = await apiAs(url, 'yank', { project: 'priv', version: '2', reason: 'broken build' });
  assert.equal(yank.status, 200, yank.text);
  assert.deepEqual(
    (await pageFiles(url, 'priv')).files.map((f) => [f.filename, f.yanked]),
    [
      ['priv-1.0-py3-none-any.whl', undefined],
      ['priv-2.0-py3-none-any.whl', 'broken build'],
    ],
  );
  assert.equal((await pip(`${url}simple/`, 'priv')).version, '1.0');
  const pinned = await pip(`${url}simple/`, 'priv==2.0');
  assert.equal(pinned.version, '2.0', pinned.output);
  assert.match(pinned.output, /Reason for being yanked: broken build/);
  assert.equal((await apiAs(url, 'unyank', { project: 'priv', version: '2.0' })).status, 200);
  assert.equal((await pip(`${url}simple/`, 'priv')).version, '2.0');

  // A whole project: gone from the root page.
  assert.equal((await apiAs(url, 'remove', { project: 'keep' })).status, 200);
  assert.doesNotMatch((await httpRequest(url)).body.toString(), /keep/);
  assert.equal((await pageFiles(url, 'keep')).status, 404);

  const verified = runCli(['mirror', 'verify', dir]);
  assert.equal(verified.status, 0, verified.stdout + verified.stderr);
  assert.ok(!server.output().includes(PASSWORD), 'the password is never printed');
  assert.match(server.output(), /removed priv\/priv-2.0.tar.gz \(1 files\) by alice/);
  assert.match(server.output(), /removed priv==3.0 \(1 files\) by alice/);
  assert.doesNotMatch(server.output(), /uploaded/, 'a removal is not logged as an upload');
});

test('the pull-through cache never fetches a removed file, version or project back, until mirror remove --forget', async (t) => {
  if (!(await canRun(t))) return;
  await using upstreamDir = makeTempDir('dib-pypi-change-upstream-');
  await using cache = makeTempDir('dib-pypi-change-cache-');
  for (const version of ['1.0', '2.0']) await makeWheel(join(upstreamDir.path, 'up'), { name: 'up', version });
  await makeWheel(join(upstreamDir.path, 'gone'), { name: 'gone', version: '1.0' });
  assert.equal(runCli(['mirror', 'index', upstreamDir.path]).status, 0);
  await using upstream = await startServe([upstreamDir.path]);
  // Changes allowed by the upload token (DIB_PYPI_UPLOAD_TOKEN, user __token__) this time.
  const token = 'pypi-change-token-0123456789';
  await using server = await startServe([cache.path, '--upstream', upstream.url], { env: cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: token }) });
  const url = server.url;
  const api = (action: string, body: unknown) => apiAs(url, action, body, { Authorization: basicAuth('__token__', token), 'Content-Type': 'application/json' });
  assert.equal((await apiAs(url, 'remove', { project: 'up' }, { ...AUTH, 'Content-Type': 'application/json' })).status, 403, 'alice is no user here');

  assert.equal((await pip(`${url}simple/`, 'up')).version, '2.0');
  assert.equal((await pip(`${url}simple/`, 'gone')).version, '1.0');
  assert.ok(existsSync(join(cache.path, 'up', 'up-2.0-py3-none-any.whl')), 'cached');

  const removed = await api('remove', { project: 'up', version: '2.0' });
  assert.equal(removed.status, 200, removed.text);
  assert.deepEqual(
    (await pageFiles(url, 'up')).files.map((f) => f.filename),
    ['up-1.0-py3-none-any.whl'],
    'upstream still lists 2.0: left off the page',
  );
  for (const name of ['up-2.0-py3-none-any.whl', 'up-2.0-py3-none-any.whl.metadata'])
    assert.equal((await httpRequest(`${url}simple/up/${name}`)).status, 404, name);
  assert.ok(!existsSync(join(cache.path, 'up', 'up-2.0-py3-none-any.whl')), 'not fetched back');
  const pinned = await pip(`${url}simple/`, 'up==2.0');
  assert.notEqual(pinned.exitCode, 0, pinned.output);
  assert.equal((await pip(`${url}simple/`, 'up')).version, '1.0');

  // A removal by the CLI while the server runs: the cache's page follows at the next request.
  const cli = runCli(['mirror', 'remove', cache.path, 'up==1.0']);
  assert.equal(cli.status, 0, cli.stderr);
  assert.deepEqual((await pageFiles(url, 'up')).files, []);
  assert.equal((await httpRequest(`${url}simple/up/up-1.0-py3-none-any.whl`)).status, 404);

  // A whole project: no page, no file, whatever upstream has.
  assert.equal((await api('remove', { project: 'gone' })).status, 200);
  assert.equal((await pageFiles(url, 'gone')).status, 404);
  assert.equal((await httpRequest(`${url}simple/gone/gone-1.0-py3-none-any.whl`)).status, 404);

  // --forget: upstream's 2.0 is listed and fetched again; 1.0 stays removed.
  const forget = runCli(['mirror', 'remove', '--forget', cache.path, 'up==2.0']);
  assert.equal(forget.status, 0, forget.stderr);
  assert.deepEqual(
    (await pageFiles(url, 'up')).files.map((f) => f.filename),
    ['up-2.0-py3-none-any.whl'],
  );
  assert.equal((await pip(`${url}simple/`, 'up')).version, '2.0');
  assert.ok(existsSync(join(cache.path, 'up', 'up-2.0-py3-none-any.whl')), 'fetched again');
  const verified = runCli(['mirror', 'verify', cache.path]);
  assert.equal(verified.status, 0, verified.stdout + verified.stderr);
});
