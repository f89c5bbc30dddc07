// `dib-pypi serve --upstream URL --cache-max-size SIZE`: files the cache downloaded are evicted least
// recently used past the limit, fetched again when asked for, and dropped from the pages served offline
// (real pip then installs what is left, and fails on what is gone); an upload is never evicted; the
// accounting survives a restart, and a lower limit at start evicts at once; the mirror stays verifiable.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { startFaultUpstream } from '../../helpers/fault-server.js';
import { httpRequest } from '../../helpers/http-get.js';
import { makeWheel } from '../../helpers/make-dist.js';
import { basicAuth, multipart, twineFields } from '../../helpers/multipart.js';
import { JSON_TYPE } from '../../helpers/negotiation.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { need } from '../../helpers/require.js';
import { startServe } from '../../helpers/serve.js';
import { eventually } from '../../helpers/wait.js';

const PROJECTS = ['cache-one', 'cache-two', 'cache-three', 'cache-four'];
const wheelOf = (project: string) => `${project.replace(/-/g, '_')}-1.0-py3-none-any.whl`;
const TOKEN = 'evict-token-7';

async function pageFiles(url: string, project: string): Promise<string[]> {
  const page = await httpRequest(`${url}simple/${project}/`, { headers: { Accept: JSON_TYPE } });
  assert.equal(page.status, 200, `${project}: ${page.body.toString()}`);
  return (JSON.parse(page.body.toString()) as { files: { filename: string }[] }).files.map((f) => f.filename);
}

async function download(url: string, project: string): Promise<void> {
  const answer = await httpRequest(`${url}simple/${project}/${wheelOf(project)}`);
  assert.equal(answer.status, 200, `${project}: ${answer.body.toString()}`);
}

/** The download's client may have its last byte before the server has counted the file: wait for its receipt. */
async function counted(dir: string, project: string): Promise<void> {
  await eventually(`${project} to be counted`, () => existsSync(join(dir, '.dib-pypi', 'upstream', project, 'fetched', wheelOf(project))));
}

/** Whether the mirror's own page of `project` (written by the re-index) lists its wheel. */
function localPageLists(dir: string, project: string): boolean {
  const page = join(dir, project, 'index.html');
  return existsSync(page) && readFileSync(page, 'utf8').includes(wheelOf(project));
}

const cached = (dir: string) => PROJECTS.filter((p) => existsSync(join(dir, p, wheelOf(p))));

test('past --cache-max-size the least recently used downloads are evicted; uploads never; offline pages drop them; a restart keeps count', async (t) => {
  const pipProblem = await debianPipProblem();
  if (!need(t, pipProblem === undefined, pipProblem ?? '')) return;
  await using upstreamDir = makeTempDir('dib-pypi-evict-upstream-');
  for (const project of PROJECTS) {
    // Random bytes do not compress: each wheel is about 200 KB.
    await makeWheel(join(upstreamDir.path, project), {
      name: project,
      version: '1.0',
      data: { [`${project.replace(/-/g, '_')}/blob.bin`]: randomBytes(200_000) },
    });
  }
  assert.equal(runCli(['mirror', 'index', upstreamDir.path]).status, 0);
  const sizes = PROJECTS.map((p) => statSync(join(upstreamDir.path, p, wheelOf(p))).size);
  const size = Math.max(...sizes);
  await using upstream = await startFaultUpstream(upstreamDir.path);
  await using cache = makeTempDir('dib-pypi-evict-cache-');
  await using work = makeTempDir('dib-pypi-evict-work-');
  const env = cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: TOKEN });
  // Room for two and a half: the third download passes the limit, eviction goes down to 90% of it (two files).
  const limit = String(Math.floor(size * 2.5));
  await using server = await startServe([cache.path, '--upstream', upstream.url, '--cache-max-size', limit], { env });

  // An upload, bigger than the whole limit: it is not the cache's and is never evicted.
  const own = readFileSync(await makeWheel(work.path, { name: 'own-pkg', version: '1.0', data: { 'own_pkg/blob.bin': randomBytes(3 * size) } }));
  const form = multipart({ fields: twineFields('own-pkg', '1.0', own), filename: 'own_pkg-1.0-py3-none-any.whl', content: own });
  const uploaded = await httpRequest(`${server.url}legacy/`, {
    method: 'POST',
    body: form.body,
    headers: { 'Content-Type': form.contentType, Authorization: basicAuth('__token__', TOKEN) },
  });
  assert.equal(uploaded.status, 200, uploaded.body.toString());

  await download(server.url, 'cache-one');
  await counted(cache.path, 'cache-one');
  await download(server.url, 'cache-two');
  await counted(cache.path, 'cache-two');
  assert.deepEqual(cached(cache.path), ['cache-one', 'cache-two']);
  // cache-one served again: cache-two is now the least recently used.
  const again = await httpRequest(`${server.url}simple/cache-one/${wheelOf('cache-one')}`);
  assert.equal(again.status, 200);
  assert.equal(again.headers['x-dib-pypi-cache'], undefined, 'served from the mirror, not downloaded');
  await download(server.url, 'cache-three');
  // The download's client may have its last byte before the server has counted the file and evicted.
  await eventually('the eviction', () => cached(cache.path).length === 2);
  assert.deepEqual(cached(cache.path), ['cache-one', 'cache-three'], 'the least recently used was evicted, the others kept');
  await eventually('the eviction to be logged', () =>
    /evicted 1 least recently used file\(s\): cache-two\/cache_two-1\.0-py3-none-any\.whl/.test(server.output()),
  );
  assert.ok(existsSync(join(cache.path, 'own-pkg', 'own_pkg-1.0-py3-none-any.whl')), 'the upload is kept');
  for (const sidecar of ['.upload-time', '.metadata']) assert.ok(!existsSync(join(cache.path, 'cache-two', `${wheelOf('cache-two')}${sidecar}`)), sidecar);
  await eventually('the evicted file to leave the local page', () => !localPageLists(cache.path, 'cache-two'));
  const metrics = (await httpRequest(`${server.url}metrics`)).body.toString();
  assert.match(metrics, /^dib_pypi_cache_evictions_total 1$/m);

  // Online, an evicted file comes back on request (and the next least recently used goes).
  await download(server.url, 'cache-two');
  await counted(cache.path, 'cache-two');
  await eventually('the next eviction', () => !cached(cache.path).includes('cache-one'));
  assert.deepEqual(cached(cache.path), ['cache-two', 'cache-three']);
  await eventually('the re-index after the download', () => localPageLists(cache.path, 'cache-two'));
  assert.equal(await server.stop(), 0);

  // A restart counts the cached files again from their receipts: a lower limit evicts at once, down to the most recent.
  await using lowered = await startServe([cache.path, '--upstream', upstream.url, '--offline', '--cache-max-size', String(Math.floor(size * 1.5))], { env });
  await eventually('eviction at start', () => cached(cache.path).length === 1);
  assert.deepEqual(cached(cache.path), ['cache-two']);
  assert.ok(existsSync(join(cache.path, 'own-pkg', 'own_pkg-1.0-py3-none-any.whl')), 'the upload is kept');
  await eventually('the re-index after the eviction', () => !localPageLists(cache.path, 'cache-three'));
  // Offline, a page lists only what is cached: pip installs cache-two, and finds no file for cache-three.
  assert.deepEqual(await pageFiles(lowered.url, 'cache-three'), []);
  assert.deepEqual(await pageFiles(lowered.url, 'cache-two'), [wheelOf('cache-two')]);
  const pip = (project: string, target: string) =>
    execa(DEBIAN_PYTHON, ['-m', 'pip', 'install', '--isolated', '--no-cache-dir', '--index-url', `${lowered.url}simple/`, '--target', target, project], {
      env: envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' }),
      extendEnv: false,
      reject: false,
      all: true,
    });
  await using target = makeTempDir('dib-pypi-evict-target-');
  const installed = await pip('cache-two', target.path);
  assert.equal(installed.exitCode, 0, installed.all);
  const missing = await pip('cache-three', join(target.path, 'none'));
  assert.notEqual(missing.exitCode, 0);
  assert.match(missing.all ?? '', /No matching distribution found for cache-three/);
  assert.equal(await lowered.stop(), 0);

  const verify = runCli(['mirror', 'verify', cache.path]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  // No receipt outlives its file.
  const receipts = PROJECTS.flatMap((p) => {
    const dir = join(cache.path, '.dib-pypi', 'upstream', p, 'fetched');
    return existsSync(dir) ? readdirSync(dir).map((f) => `${p}/${f}`) : [];
  });
  assert.deepEqual(receipts, [`cache-two/${wheelOf('cache-two')}`]);
});

test('--cache-max-size: a bad size, or without --upstream, is a one-line usage error', async () => {
  await using cache = makeTempDir('dib-pypi-evict-usage-');
  const bad = runCli(['serve', cache.path, '--upstream', 'http://127.0.0.1:9/simple/', '--cache-max-size', 'lots']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--cache-max-size.*expected a size/);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  const zero = runCli(['serve', cache.path, '--upstream', 'http://127.0.0.1:9/simple/', '--cache-max-size', '0']);
  assert.equal(zero.status, 2);
  assert.match(zero.stderr, /--cache-max-size/);
  const alone = runCli(['serve', cache.path, '--cache-max-size', '1G']);
  assert.equal(alone.status, 2);
  assert.match(alone.stderr, /--cache-max-size: only with --upstream URL/);
});

test('mirror cache: figures of what the cache holds; --invalidate makes a kept page stale and a running serve fetches it again', async () => {
  await using upstreamDir = makeTempDir('dib-pypi-invalidate-upstream-');
  await makeWheel(join(upstreamDir.path, 'cache-one'), { name: 'cache-one', version: '1.0' });
  assert.equal(runCli(['mirror', 'index', upstreamDir.path]).status, 0);
  await using upstream = await startFaultUpstream(upstreamDir.path);
  await using cache = makeTempDir('dib-pypi-invalidate-cache-');
  await using server = await startServe([cache.path, '--upstream', upstream.url]);
  assert.deepEqual(await pageFiles(server.url, 'cache-one'), [wheelOf('cache-one')]);
  await download(server.url, 'cache-one');
  await counted(cache.path, 'cache-one');

  // Upstream gets a new version; within the TTL (600 s) the kept page is served as it is.
  await makeWheel(join(upstreamDir.path, 'cache-one'), { name: 'cache-one', version: '2.0' });
  assert.equal(runCli(['mirror', 'index', upstreamDir.path]).status, 0);
  const hit = await httpRequest(`${server.url}simple/cache-one/`, { headers: { Accept: JSON_TYPE } });
  assert.equal(hit.headers['x-dib-pypi-cache'], 'hit');

  const figures = runCli(['mirror', 'cache', cache.path, '--json']);
  assert.equal(figures.status, 0, figures.stderr);
  const parsed = JSON.parse(figures.stdout) as { files: number; bytes: number; keptPages: number; invalidated: string[] };
  assert.equal(parsed.files, 1);
  assert.equal(parsed.bytes, statSync(join(cache.path, 'cache-one', wheelOf('cache-one'))).size);
  assert.equal(parsed.keptPages, 1);
  assert.deepEqual(parsed.invalidated, []);

  const invalidated = runCli(['mirror', 'cache', cache.path, '--invalidate', 'Cache_One']);
  assert.equal(invalidated.status, 0, invalidated.stderr);
  assert.match(invalidated.stdout, /^cache-one: kept page made stale; fetched from upstream on its next request$/m);
  assert.match(invalidated.stdout, /1 downloaded file\(s\), [\d.]+ MB in 1 project\(s\); 1 kept upstream page\(s\) \(1 made stale\)$/m);
  // serve re-checks a kept listing's file at most once a second.
  await new Promise((done) => setTimeout(done, 1100));
  const refreshed = await httpRequest(`${server.url}simple/cache-one/`, { headers: { Accept: JSON_TYPE } });
  assert.equal(refreshed.headers['x-dib-pypi-cache'], 'refreshed');
  assert.deepEqual(await pageFiles(server.url, 'cache-one'), [wheelOf('cache-one'), 'cache_one-2.0-py3-none-any.whl']);

  const unknown = runCli(['mirror', 'cache', cache.path, '--invalidate', 'never-fetched', '--invalidate', 'cache-one']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stdout, /^never-fetched: no kept upstream page in /m);
  assert.match(unknown.stdout, /^cache-one: kept page made stale/m);
  const bad = runCli(['mirror', 'cache', cache.path, '--invalidate', '../etc']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^dib-pypi: error: --invalidate: not a project name: "\.\.\/etc"\n$/);
  const missing = runCli(['mirror', 'cache', join(cache.path, 'none')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /not a directory/);
});

test('POST /+api/cache and /+api/invalidate: the figures, and a kept page made stale at once, for upload users only', async () => {
  await using upstreamDir = makeTempDir('dib-pypi-cache-api-upstream-');
  await makeWheel(join(upstreamDir.path, 'cache-one'), { name: 'cache-one', version: '1.0' });
  assert.equal(runCli(['mirror', 'index', upstreamDir.path]).status, 0);
  await using upstream = await startFaultUpstream(upstreamDir.path);
  await using cache = makeTempDir('dib-pypi-cache-api-cache-');
  const env = cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: TOKEN });
  await using server = await startServe([cache.path, '--upstream', upstream.url, '--cache-max-size', '1G'], { env });
  const api = (action: string, body: unknown, auth: string | null = basicAuth('__token__', TOKEN)) =>
    httpRequest(`${server.url}+api/${action}`, {
      method: 'POST',
      body: Buffer.from(JSON.stringify(body)),
      headers: { 'Content-Type': 'application/json', ...(auth === null ? {} : { Authorization: auth }) },
    });
  await download(server.url, 'cache-one');
  await counted(cache.path, 'cache-one');
  const stats = await api('cache', {});
  assert.equal(stats.status, 200, stats.body.toString());
  const figures = JSON.parse(stats.body.toString()) as { files: number; bytes: number; maxBytes: number; evictedFiles: number };
  assert.deepEqual({ ...figures, bytes: figures.bytes > 0 }, { files: 1, bytes: true, maxBytes: 1e9, evictedFiles: 0, evictedBytes: 0 });

  await makeWheel(join(upstreamDir.path, 'cache-one'), { name: 'cache-one', version: '2.0' });
  assert.equal(runCli(['mirror', 'index', upstreamDir.path]).status, 0);
  assert.equal((await httpRequest(`${server.url}simple/cache-one/`)).headers['x-dib-pypi-cache'], 'hit');
  const invalidated = await api('invalidate', { project: 'Cache.One' });
  assert.equal(invalidated.status, 200, invalidated.body.toString());
  assert.deepEqual(JSON.parse(invalidated.body.toString()), { project: 'cache-one', invalidated: true });
  const page = await httpRequest(`${server.url}simple/cache-one/`, { headers: { Accept: JSON_TYPE } });
  assert.equal(page.headers['x-dib-pypi-cache'], 'refreshed', 'at once, not after the TTL');
  assert.match(page.body.toString(), /cache_one-2\.0-py3-none-any\.whl/);

  assert.equal((await api('cache', {}, null)).status, 401);
  assert.equal((await api('invalidate', { project: 'cache-one' }, basicAuth('__token__', 'wrong'))).status, 403);
  const unknown = await api('invalidate', { project: 'never-fetched' });
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.toString(), /no kept upstream page of never-fetched/);
  assert.equal((await api('invalidate', { project: '../x' })).status, 400);
  assert.equal((await api('invalidate', { project: 'cache-one', extra: '1' })).status, 400);
  // A removed cached file no longer counts toward the limit.
  const removed = await api('remove', { project: 'cache-one' });
  assert.equal(removed.status, 200, removed.body.toString());
  assert.equal((JSON.parse((await api('cache', {})).body.toString()) as { files: number }).files, 0);
  await server.stop();

  await using plain = await startServe([cache.path, '--workers', '1'], { env });
  const notCache = await httpRequest(`${plain.url}+api/cache`, {
    method: 'POST',
    body: Buffer.from('{}'),
    headers: { 'Content-Type': 'application/json', Authorization: basicAuth('__token__', TOKEN) },
  });
  assert.equal(notCache.status, 404);
  assert.match(notCache.body.toString(), /not a pull-through cache/);
});
