// `dib-pypi serve --upstream` against upstreams that misbehave on purpose: one that lists another project's
// files (or a private project's), one that is down while pip wants a version never fetched, one that redirects
// to a Location with non-Latin-1 text, one that never answers, pages and files bigger than the limits.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { execa } from 'execa';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { startFaultUpstream } from '../../helpers/fault-server.js';
import { httpRequest } from '../../helpers/http-get.js';
import { makeSdist, makeWheel } from '../../helpers/make-dist.js';
import { basicAuth, multipart, twineFields } from '../../helpers/multipart.js';
import { JSON_TYPE, PIP_ACCEPT } from '../../helpers/negotiation.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { isRequired, need } from '../../helpers/require.js';
import { startServe } from '../../helpers/serve.js';
import { eventually } from '../../helpers/wait.js';

function skipUnless(t: TestContext, problem: string | undefined): boolean {
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  return need(t, problem === undefined, problem ?? '');
}

function pipInstall(indexUrl: string, target: string, ...args: string[]) {
  const env = envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' });
  return execa(
    DEBIAN_PYTHON,
    ['-m', 'pip', 'install', '--isolated', '--no-cache-dir', '--disable-pip-version-check', '--index-url', indexUrl, '--target', target, ...args],
    { env, extendEnv: false, reject: false, all: true },
  );
}

/** Every file under `dir`, relative, sorted (state directory left out). */
function filesUnder(dir: string, at = ''): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(dir, at), { withFileTypes: true })) {
    const rel = at === '' ? entry.name : `${at}/${entry.name}`;
    if (entry.name === '.dib-pypi') continue;
    if (entry.isDirectory()) found.push(...filesUnder(dir, rel));
    else found.push(rel);
  }
  return found.sort();
}

/** A hand-written PEP 691 project page of `files` (in the same directory), as a misbehaving index would serve it. */
function writeJsonPage(dir: string, name: string, files: string[]): void {
  const entries = files.map((path) => ({
    filename: basename(path),
    url: basename(path),
    hashes: { sha256: createHash('sha256').update(readFileSync(path)).digest('hex') },
  }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ meta: { 'api-version': '1.0' }, name, files: entries }));
}

const pageFiles = async (url: string): Promise<string[]> => {
  const answer = await httpRequest(url, { headers: { Accept: JSON_TYPE } });
  assert.equal(answer.status, 200, `${url}: ${answer.body.toString()}`);
  return (JSON.parse(answer.body.toString()) as { files: { filename: string }[] }).files.map((f) => f.filename).sort();
};

test("two upstreams: a page that lists another project's file, or a private project's, never links, fetches or stores it; a re-index offers it nowhere", async () => {
  await using dirA = makeTempDir('dib-pypi-inject-a-');
  await using dirB = makeTempDir('dib-pypi-inject-b-');
  await using work = makeTempDir('dib-pypi-inject-work-');
  // Upstream A: `victim`'s page lists victim 1.0 and a wheel of `other` 9.0 (and an sdist whose name is `victim-extra`'s).
  const victimDir = join(dirA.path, 'victim');
  mkdirSync(victimDir);
  const victimWheel = await makeWheel(victimDir, { name: 'victim', version: '1.0' });
  const foreignWheel = await makeWheel(victimDir, { name: 'other', version: '9.0' });
  writeJsonPage(victimDir, 'victim', [victimWheel, foreignWheel]);
  // Upstream B: the real `other` (1.0), and `public-x`, whose page lists a wheel of the private `secret-pkg`.
  const otherDir = join(dirB.path, 'other');
  const publicDir = join(dirB.path, 'public-x');
  mkdirSync(otherDir);
  mkdirSync(publicDir);
  writeJsonPage(otherDir, 'other', [await makeWheel(otherDir, { name: 'other', version: '1.0' })]);
  const publicWheel = await makeWheel(publicDir, { name: 'public-x', version: '1.0' });
  const secretWheel = await makeWheel(publicDir, { name: 'secret-pkg', version: '6.6.6' });
  writeJsonPage(publicDir, 'public-x', [publicWheel, secretWheel]);

  await using upstreamA = await startFaultUpstream(dirA.path);
  await using upstreamB = await startFaultUpstream(dirB.path);
  await using cache = makeTempDir('dib-pypi-inject-cache-');
  const token = 'inject-token';
  await using server = await startServe([cache.path, '--upstream', upstreamA.url, '--upstream', upstreamB.url, '--ttl', '0.2'], {
    env: cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: token }),
  });
  const secret = readFileSync(await makeWheel(work.path, { name: 'secret-pkg', version: '1.0' }));
  const form = multipart({ fields: twineFields('secret-pkg', '1.0', secret), filename: 'secret_pkg-1.0-py3-none-any.whl', content: secret });
  const uploaded = await httpRequest(`${server.url}legacy/`, {
    method: 'POST',
    body: form.body,
    headers: { 'Content-Type': form.contentType, Authorization: basicAuth('__token__', token) },
  });
  assert.equal(uploaded.status, 200, uploaded.body.toString());

  const foreign = basename(foreignWheel);
  const secretName = basename(secretWheel);
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(await pageFiles(`${server.url}simple/victim/`), [basename(victimWheel)], 'victim: its own file only');
    assert.deepEqual(await pageFiles(`${server.url}simple/public-x/`), [basename(publicWheel)], 'public-x: its own file only');
    assert.equal((await httpRequest(`${server.url}simple/victim/${foreign}`)).status, 404);
    assert.equal((await httpRequest(`${server.url}simple/victim/${foreign}.metadata`)).status, 404);
    assert.equal((await httpRequest(`${server.url}simple/public-x/${secretName}`)).status, 404);
    await new Promise((done) => setTimeout(done, 250)); // past the TTL: the pages are fetched again
  }
  assert.equal(upstreamA.hits.get(`/victim/${foreign}`), undefined, 'the foreign file is not even fetched');
  assert.equal(upstreamB.hits.get(`/public-x/${secretName}`), undefined);

  // Real files are fetched and stored, and the cache is re-indexed: still no foreign file anywhere.
  assert.equal((await httpRequest(`${server.url}simple/victim/${basename(victimWheel)}`)).status, 200);
  assert.equal((await httpRequest(`${server.url}simple/other/other-1.0-py3-none-any.whl`)).status, 200);
  assert.equal((await httpRequest(`${server.url}simple/public-x/${basename(publicWheel)}`)).status, 200);
  await eventually(
    'the re-index',
    () =>
      existsSync(join(cache.path, 'public-x', 'index.json')) &&
      existsSync(join(cache.path, 'victim', 'index.json')) &&
      existsSync(join(cache.path, 'other', 'index.json')),
  );
  assert.deepEqual(
    filesUnder(cache.path).filter((f) => f.endsWith('.whl')),
    [
      'other/other-1.0-py3-none-any.whl',
      'public-x/public_x-1.0-py3-none-any.whl',
      'secret-pkg/secret_pkg-1.0-py3-none-any.whl',
      'victim/victim-1.0-py3-none-any.whl',
    ],
  );
  assert.deepEqual(await pageFiles(`${server.url}simple/other/`), ['other-1.0-py3-none-any.whl'], "other's page: no version injected by victim's upstream");
  assert.deepEqual(await pageFiles(`${server.url}simple/secret-pkg/`), ['secret_pkg-1.0-py3-none-any.whl'], 'the private project: its upload only');
  assert.deepEqual(await pageFiles(`${server.url}simple/victim/`), [basename(victimWheel)]);
  const log = server.output();
  assert.equal(log.split(`${foreign}: a file of other, not of victim`).length - 1, 1, `the mismatch is logged once:\n${log}`);
  assert.equal(log.split(`${secretName}: a file of secret-pkg, not of public-x`).length - 1, 1, `logged once:\n${log}`);
});

test('an sdist whose PKG-INFO names another project stays on the page its name says, in the cache and after a re-index', async () => {
  await using upstreamDir = makeTempDir('dib-pypi-pkginfo-upstream-');
  const dir = join(upstreamDir.path, 'foo-bar');
  // `foo-bar-1.0.tar.gz` on foo-bar's page, but its PKG-INFO says `foo`: read by that name it would be foo's version
  // `bar-1.0`, which is no PEP 440 version, so neither the cache nor the index takes it for foo's.
  const foreign = makeSdist(dir, { name: 'foo', version: 'bar-1.0', fileName: 'foo-bar-1.0.tar.gz' });
  const own = makeSdist(dir, { name: 'foo-bar', version: '2.0', fileName: 'foo-bar-2.0.tar.gz' });
  writeJsonPage(dir, 'foo-bar', [foreign, own]);
  await using upstream = await startFaultUpstream(upstreamDir.path);
  await using cache = makeTempDir('dib-pypi-pkginfo-cache-');
  await using server = await startServe([cache.path, '--upstream', upstream.url]);
  assert.deepEqual(await pageFiles(`${server.url}simple/foo-bar/`), ['foo-bar-1.0.tar.gz', 'foo-bar-2.0.tar.gz'], "both names are foo-bar's");
  for (const file of [foreign, own]) {
    const got = await httpRequest(`${server.url}simple/foo-bar/${basename(file)}`);
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(readFileSync(file)));
  }
  await eventually('both sdists stored', () => filesUnder(cache.path).filter((f) => f.endsWith('.tar.gz')).length === 2);
  assert.deepEqual(
    filesUnder(cache.path).filter((f) => f.endsWith('.tar.gz') || f.includes('.part')),
    ['foo-bar/foo-bar-1.0.tar.gz', 'foo-bar/foo-bar-2.0.tar.gz'],
  );
  await server.stop();
  const indexed = runCli(['mirror', 'index', cache.path]);
  assert.equal(indexed.status, 0, indexed.stderr);
  assert.equal(existsSync(join(cache.path, 'foo', 'index.json')), false, "no page for foo: nothing of upstream's foo-bar shows there");
  const page = JSON.parse(readFileSync(join(cache.path, 'foo-bar', 'index.json'), 'utf8')) as { files: { filename: string }[] };
  assert.deepEqual(
    page.files.map((f) => f.filename),
    ['foo-bar-1.0.tar.gz', 'foo-bar-2.0.tar.gz'],
  );
});

test('upstream down or --offline: a page lists only the cached files, so pip installs the newest cached version', async (t) => {
  if (!skipUnless(t, await debianPipProblem())) return;
  await using upstreamDir = makeTempDir('dib-pypi-offline-upstream-');
  await makeWheel(join(upstreamDir.path, 'acme-app'), { name: 'acme-app', version: '1.0', requires: ['acme-util'] });
  await makeWheel(join(upstreamDir.path, 'acme-util'), { name: 'acme-util', version: '1.0' });
  await makeWheel(join(upstreamDir.path, 'acme-util'), { name: 'acme-util', version: '1.1' });
  const indexed = runCli(['mirror', 'index', upstreamDir.path]);
  assert.equal(indexed.status, 0, indexed.stderr);
  await using upstream = await startFaultUpstream(upstreamDir.path);
  await using cache = makeTempDir('dib-pypi-offline-cache-');
  await using server = await startServe([cache.path, '--upstream', upstream.url, '--ttl', '0.2', '--timeout', '1']);
  await using first = makeTempDir('dib-pypi-offline-first-');
  const util = await pipInstall(`${server.url}simple/`, first.path, 'acme-util==1.0');
  assert.equal(util.exitCode, 0, util.all);
  const app = await pipInstall(`${server.url}simple/`, first.path, '--no-deps', 'acme-app');
  assert.equal(app.exitCode, 0, app.all);
  assert.deepEqual(
    await pageFiles(`${server.url}simple/acme-util/`),
    ['acme_util-1.0-py3-none-any.whl', 'acme_util-1.1-py3-none-any.whl'],
    'upstream up: every version, as before',
  );
  assert.ok(existsSync(join(cache.path, 'acme-util', 'acme_util-1.0-py3-none-any.whl')));
  assert.ok(!existsSync(join(cache.path, 'acme-util', 'acme_util-1.1-py3-none-any.whl')));

  await new Promise((done) => setTimeout(done, 300)); // past the TTL
  await upstream.close();
  const stale = await httpRequest(`${server.url}simple/acme-util/`, { headers: { Accept: PIP_ACCEPT } });
  assert.equal(stale.headers['x-dib-pypi-cache'], 'stale');
  assert.deepEqual(
    (JSON.parse(stale.body.toString()) as { files: { filename: string }[] }).files.map((f) => f.filename),
    ['acme_util-1.0-py3-none-any.whl'],
  );
  await using down = makeTempDir('dib-pypi-offline-down-');
  const whileDown = await pipInstall(`${server.url}simple/`, down.path, 'acme-app');
  assert.equal(whileDown.exitCode, 0, `upstream down: pip takes the cached acme-util 1.0:\n${whileDown.all}`);
  assert.ok(existsSync(join(down.path, 'acme_util-1.0.dist-info')), readdirSync(down.path).join(' '));
  await server.stop();

  await using offline = await startServe([cache.path, '--upstream', upstream.url, '--offline']);
  const kept = await httpRequest(`${offline.url}simple/acme-util/`, { headers: { Accept: 'text/html' } });
  assert.equal(kept.headers['x-dib-pypi-cache'], 'offline');
  assert.ok(!kept.body.toString().includes('acme_util-1.1'), kept.body.toString());
  await using offlineTarget = makeTempDir('dib-pypi-offline-target-');
  const whileOffline = await pipInstall(`${offline.url}simple/`, offlineTarget.path, 'acme-app');
  assert.equal(whileOffline.exitCode, 0, `--offline: pip takes the cached acme-util 1.0:\n${whileOffline.all}`);
  assert.ok(existsSync(join(offlineTarget.path, 'acme_util-1.0.dist-info')), readdirSync(offlineTarget.path).join(' '));
});

test('an upstream redirecting to a non-Latin-1 Location, or never answering, gets the stale page (not a 500), within --timeout', async () => {
  await using upstreamDir = makeTempDir('dib-pypi-hung-upstream-');
  await makeWheel(join(upstreamDir.path, 'demo-pkg'), { name: 'demo-pkg', version: '1.0' });
  const indexed = runCli(['mirror', 'index', upstreamDir.path]);
  assert.equal(indexed.status, 0, indexed.stderr);
  await using upstream = await startFaultUpstream(upstreamDir.path);
  await using cache = makeTempDir('dib-pypi-hung-cache-');
  await using server = await startServe([cache.path, '--upstream', upstream.url, '--ttl', '0.1', '--timeout', '3']);
  assert.equal((await httpRequest(`${server.url}simple/demo-pkg/`)).status, 200);
  await new Promise((done) => setTimeout(done, 200));

  upstream.mode = 'bad-location';
  const redirected = await httpRequest(`${server.url}simple/demo-pkg/`);
  assert.equal(redirected.status, 200, redirected.body.toString());
  assert.equal(redirected.headers['x-dib-pypi-cache'], 'stale');
  const error = String(redirected.headers['x-dib-pypi-upstream-error']);
  assert.match(error, /invalid Location/);
  assert.match(error, /^[\x20-\x7e]+$/, 'printable ASCII only');

  upstream.mode = 'hang'; // accepts the connection, never answers
  await new Promise((done) => setTimeout(done, 200));
  const started = Date.now();
  const hung = await httpRequest(`${server.url}simple/demo-pkg/`);
  const took = Date.now() - started;
  assert.equal(hung.status, 200);
  assert.equal(hung.headers['x-dib-pypi-cache'], 'stale');
  // --timeout 3 with one retry took 6 s and more before; now 3 s, whatever the retries.
  assert.ok(took < 5_000, `the stale page came after ${took} ms`);
  assert.match(String(hung.headers['x-dib-pypi-upstream-error']), /no answer from upstream within 3 s/);
});

test('--max-file-size and --max-page-size: too big is left off, refused or cut off while streaming; nothing kept', async () => {
  await using upstreamDir = makeTempDir('dib-pypi-size-upstream-');
  const blob = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0; i < blob.length; i += 4) blob.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, i);
  await makeWheel(join(upstreamDir.path, 'big-data'), { name: 'big-data', version: '1.0', data: { 'big_data/blob.bin': blob } });
  await makeWheel(join(upstreamDir.path, 'big-data'), { name: 'big-data', version: '0.9' });
  const indexed = runCli(['mirror', 'index', upstreamDir.path]);
  assert.equal(indexed.status, 0, indexed.stderr);
  const big = 'big_data-1.0-py3-none-any.whl';
  await using upstream = await startFaultUpstream(upstreamDir.path);

  // A JSON page gives sizes: the big file is left off, the small one stays.
  await using jsonCache = makeTempDir('dib-pypi-size-json-');
  await using jsonServer = await startServe([jsonCache.path, '--upstream', upstream.url, '--max-file-size', '1M']);
  assert.deepEqual(await pageFiles(`${jsonServer.url}simple/big-data/`), ['big_data-0.9-py3-none-any.whl']);
  const refused = await httpRequest(`${jsonServer.url}simple/big-data/${big}`);
  assert.equal(refused.status, 502);
  assert.match(refused.body.toString(), /larger than the limit of 1000000 bytes \(the index says \d+ bytes\)/);
  await jsonServer.stop();

  // An HTML page gives none: refused by Content-Length before a byte, or cut off past the limit when chunked.
  upstream.htmlOnly = true;
  await using htmlCache = makeTempDir('dib-pypi-size-html-');
  await using htmlServer = await startServe([htmlCache.path, '--upstream', upstream.url, '--max-file-size', '1M']);
  const announced = await httpRequest(`${htmlServer.url}simple/big-data/${big}`);
  assert.equal(announced.status, 502);
  assert.match(announced.body.toString(), /larger than the limit of 1000000 bytes \(Content-Length \d+\)/);
  upstream.chunked = true;
  const streamed = await httpRequest(`${htmlServer.url}simple/big-data/${big}`).catch((error: Error) => ({ status: -1, body: Buffer.alloc(0), error }));
  assert.ok(streamed.status !== 200 || streamed.body.length < blob.length, 'the client never gets the whole file');
  assert.equal((await httpRequest(`${htmlServer.url}simple/big-data/big_data-0.9-py3-none-any.whl`)).status, 200, 'a small file still comes, chunked');
  assert.deepEqual(
    filesUnder(htmlCache.path).filter((f) => f.includes('big_data-1.0') || f.includes('.part')),
    [],
    'nothing kept, no partial file',
  );
  assert.match(htmlServer.output(), /more than 1000000 bytes sent/);
  await htmlServer.stop();
  upstream.htmlOnly = false;
  upstream.chunked = false;

  // A page bigger than --max-page-size is not read: with nothing kept, 502 saying why.
  await using pageCache = makeTempDir('dib-pypi-size-page-');
  await using pageServer = await startServe([pageCache.path, '--upstream', upstream.url, '--max-page-size', '100']);
  const tooBig = await httpRequest(`${pageServer.url}simple/big-data/`);
  assert.equal(tooBig.status, 502);
  assert.match(tooBig.body.toString(), /page larger than the limit of 100 bytes/);
  for (const path of ['favicon.ico', 'robots.txt', 'simple/favicon.ico']) {
    const answer = await httpRequest(`${pageServer.url}${path}`);
    assert.equal(answer.status, 404, `${path}: not a redirect to a project page`);
  }
  assert.equal(
    [...upstream.hits.keys()].some((p) => p.includes('favicon') || p.includes('robots')),
    false,
    'upstream not asked for web files',
  );
});
