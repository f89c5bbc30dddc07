// `dib-pypi serve --upstream`: a pull-through cache in front of real nginx and of a misbehaving upstream.
// Real pip installs through it; the cache is itself a mirror (file:// pip, mirror verify); pages are
// served stale when upstream fails; bad or cut downloads keep nothing; one download per file; private
// uploads shadow upstream.
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { execa } from 'execa';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { startFaultUpstream } from '../../helpers/fault-server.js';
import { httpRequest } from '../../helpers/http-get.js';
import { makeWheel } from '../../helpers/make-dist.js';
import { basicAuth, multipart, twineFields } from '../../helpers/multipart.js';
import { nginxProblem, startNginx } from '../../helpers/nginx.js';
import { JSON_TYPE, PIP_ACCEPT } from '../../helpers/negotiation.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { isRequired, need } from '../../helpers/require.js';
import { startServe } from '../../helpers/serve.js';
import { eventually } from '../../helpers/wait.js';

const DEMO = 'demo_pkg-1.0-py3-none-any.whl';
const DEP = 'dep_lib-1.2-py3-none-any.whl';

async function makeUpstreamMirror(dir: string): Promise<void> {
  await makeWheel(join(dir, 'demo-pkg'), { name: 'demo-pkg', version: '1.0', requires: ['dep-lib>=1'] });
  await makeWheel(join(dir, 'dep-lib'), { name: 'dep_lib', version: '1.2' });
  const blob = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0; i < blob.length; i += 4) blob.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, i);
  await makeWheel(join(dir, 'big-data'), { name: 'big-data', version: '1.0', data: { 'big_data/blob.bin': blob } });
  const indexed = runCli(['mirror', 'index', dir]);
  assert.equal(indexed.status, 0, indexed.stderr);
}

function skipUnless(t: TestContext, problem: string | undefined): boolean {
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  return need(t, problem === undefined, problem ?? '');
}

const pipEnv = () => envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' });

function pipInstall(indexUrl: string, target: string, ...packages: string[]) {
  return execa(DEBIAN_PYTHON, ['-m', 'pip', 'install', '--isolated', '--no-cache-dir', '--index-url', indexUrl, '--target', target, ...packages], {
    env: pipEnv(),
    extendEnv: false,
    reject: false,
    all: true,
  });
}

/** No temp or partial file anywhere in the cache. */
function partials(dir: string): string[] {
  const found: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(at, entry.name));
      else if (entry.name.includes('.part') || entry.name.includes('.tmp')) found.push(join(at, entry.name));
    }
  };
  walk(dir);
  return found;
}

test('pip installs through the cache from real nginx; the cache is a mirror afterwards (file:// pip, mirror verify)', async (t) => {
  if (!skipUnless(t, nginxProblem() ?? (await debianPipProblem()))) return;
  await using upstreamDir = makeTempDir('dib-pypi-proxy-upstream-');
  await makeUpstreamMirror(upstreamDir.path);
  await using nginx = await startNginx(upstreamDir.path);
  await using cacheParent = makeTempDir('dib-pypi-proxy-cache-');
  const cache = { path: join(cacheParent.path, 'made-by-serve') }; // a cache directory that does not exist yet
  await using server = await startServe([cache.path, '--upstream', nginx.url]);

  const page = await httpRequest(`${server.url}simple/demo-pkg/`, { headers: { Accept: PIP_ACCEPT } });
  assert.equal(page.status, 200);
  assert.equal(page.headers['content-type'], JSON_TYPE);
  assert.equal(page.headers['x-dib-pypi-cache'], 'refreshed');
  const listed = JSON.parse(page.body.toString()) as { files: { filename: string; url: string; hashes: { sha256: string }; 'core-metadata'?: unknown }[] };
  assert.deepEqual(
    listed.files.map((f) => [f.filename, f.url]),
    [[DEMO, DEMO]],
    'links point at this server (relative)',
  );
  assert.ok(listed.files[0]?.['core-metadata'], 'PEP 658 metadata advertised as upstream does');
  assert.equal((await httpRequest(`${server.url}simple/demo-pkg/`)).headers['x-dib-pypi-cache'], 'hit');

  await using target = makeTempDir('dib-pypi-proxy-target-');
  const install = await pipInstall(`${server.url}simple/`, target.path, 'demo-pkg', 'big-data');
  assert.equal(install.exitCode, 0, install.all);
  assert.deepEqual(readFileSync(join(cache.path, 'demo-pkg', DEMO)), readFileSync(join(upstreamDir.path, 'demo-pkg', DEMO)));
  assert.ok(existsSync(join(cache.path, 'dep-lib', DEP)), 'dependencies are cached too');
  await eventually(
    'the cache to be re-indexed',
    () => existsSync(join(cache.path, 'big-data', 'index.html')) && readFileSync(join(cache.path, 'index.html'), 'utf8').includes('big-data'),
  );

  // the cache's own index digests its pages, but its project pages also follow the upstream: the served root page drops the digest
  assert.match(readFileSync(join(cache.path, 'index.json'), 'utf8'), /^\{"meta":\{"_dib-pypi-pages":"[0-9a-f]{64}",/);
  for (const encoding of ['identity', 'gzip']) {
    const root = await httpRequest(`${server.url}simple/`, { headers: { Accept: JSON_TYPE, 'Accept-Encoding': encoding } });
    assert.equal(root.status, 200);
    const text = (root.headers['content-encoding'] === 'gzip' ? gunzipSync(root.body) : root.body).toString();
    assert.deepEqual(JSON.parse(text).meta, { 'api-version': '1.1' }, encoding);
    assert.ok((JSON.parse(text) as { projects: { name: string }[] }).projects.some((p) => p.name === 'big-data'));
  }

  await using offlineTarget = makeTempDir('dib-pypi-proxy-file-');
  const fromFile = await pipInstall(`file://${cache.path}`, offlineTarget.path, 'demo-pkg');
  assert.equal(fromFile.exitCode, 0, `the cache works as a file:// mirror:\n${fromFile.all}`);
  const verify = runCli(['mirror', 'verify', cache.path]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  assert.deepEqual(partials(cache.path), []);
});

test('when upstream fails, is slow or stops, kept pages are served stale and cached files still install; --offline never asks', async (t) => {
  if (!skipUnless(t, await debianPipProblem())) return;
  await using upstreamDir = makeTempDir('dib-pypi-proxy-stale-upstream-');
  await makeUpstreamMirror(upstreamDir.path);
  await using upstream = await startFaultUpstream(upstreamDir.path);
  await using cache = makeTempDir('dib-pypi-proxy-stale-cache-');
  await using server = await startServe([cache.path, '--upstream', upstream.url, '--ttl', '0.2', '--timeout', '1']);
  await using target = makeTempDir('dib-pypi-proxy-stale-target-');
  assert.equal((await pipInstall(`${server.url}simple/`, target.path, 'demo-pkg')).exitCode, 0);
  assert.equal((await httpRequest(`${server.url}simple/big-data/`)).status, 200, 'a page kept whose file is not');
  await new Promise((done) => setTimeout(done, 300)); // past the TTL

  upstream.mode = 'error-500';
  const stale = await httpRequest(`${server.url}simple/demo-pkg/`, { headers: { Accept: PIP_ACCEPT } });
  assert.equal(stale.status, 200);
  assert.equal(stale.headers['x-dib-pypi-cache'], 'stale');
  assert.match(String(stale.headers.warning), /^110 /);
  assert.match(String(stale.headers['x-dib-pypi-upstream-error']), /HTTP 500/);
  assert.equal((await httpRequest(`${server.url}simple/never-fetched/`)).status, 502, 'nothing kept and upstream down: 502, not a misleading 404');
  const health = JSON.parse((await httpRequest(`${server.url}health`)).body.toString()) as { upstreams: { state: string }[] };
  assert.equal(health.upstreams[0]?.state, 'down');

  await using again = makeTempDir('dib-pypi-proxy-stale-again-');
  const offlineInstall = await pipInstall(`${server.url}simple/`, again.path, 'demo-pkg');
  assert.equal(offlineInstall.exitCode, 0, `installs from the kept pages and files while upstream fails:\n${offlineInstall.all}`);

  await server.stop();
  await using slowServer = await startServe([cache.path, '--upstream', upstream.url, '--ttl', '0.1', '--timeout', '1']);
  upstream.mode = 'slow';
  upstream.slowMs = 5000;
  const started = Date.now();
  const slow = await httpRequest(`${slowServer.url}simple/dep-lib/`);
  assert.equal(slow.status, 200);
  assert.equal(slow.headers['x-dib-pypi-cache'], 'stale');
  assert.ok(Date.now() - started < 4500, `a slow upstream is given up on after --timeout, took ${Date.now() - started} ms`);

  await slowServer.stop();
  upstream.mode = 'ok';
  upstream.hits.clear();
  await using offline = await startServe([cache.path, '--upstream', upstream.url, '--offline']);
  const kept = await httpRequest(`${offline.url}simple/demo-pkg/`);
  assert.equal(kept.status, 200);
  assert.equal(kept.headers['x-dib-pypi-cache'], 'offline');
  assert.equal((await httpRequest(`${offline.url}simple/big-data/big_data-1.0-py3-none-any.whl`)).status, 504, 'listed but not cached, and offline');
  assert.equal((await httpRequest(`${offline.url}simple/unknown-project/`)).status, 404);
  assert.equal(upstream.hits.size, 0, `--offline contacted upstream: ${[...upstream.hits.keys()].join(', ')}`);

  await offline.stop();
  await upstream.close(); // upstream gone: connection refused
  await using orphan = await startServe([cache.path, '--upstream', upstream.url, '--ttl', '0.1', '--timeout', '1']);
  const gone = await httpRequest(`${orphan.url}simple/demo-pkg/`);
  assert.equal(gone.status, 200);
  assert.equal(gone.headers['x-dib-pypi-cache'], 'stale');
  assert.match(String(gone.headers['x-dib-pypi-upstream-error']), /refused/);
});

test('a download with wrong bytes or cut off by upstream keeps nothing; concurrent requests make one upstream download', async (_t) => {
  await using upstreamDir = makeTempDir('dib-pypi-proxy-fault-upstream-');
  await makeUpstreamMirror(upstreamDir.path);
  await using upstream = await startFaultUpstream(upstreamDir.path);
  await using cache = makeTempDir('dib-pypi-proxy-fault-cache-');
  await using server = await startServe([cache.path, '--upstream', upstream.url, '--timeout', '2']);
  const big = `${server.url}simple/big-data/big_data-1.0-py3-none-any.whl`;
  const original = readFileSync(join(upstreamDir.path, 'big-data', 'big_data-1.0-py3-none-any.whl'));

  upstream.filesOnly = true;
  for (const mode of ['wrong-bytes', 'cut', 'error-500'] as const) {
    upstream.mode = mode;
    const answer = await httpRequest(big).catch((error: Error) => ({ status: -1, body: Buffer.alloc(0), error }));
    assert.ok(
      answer.status !== 200 || answer.body.length !== original.length || !answer.body.equals(original),
      `${mode}: the client must not get a whole, good-looking file`,
    );
    assert.equal(existsSync(join(cache.path, 'big-data', 'big_data-1.0-py3-none-any.whl')), false, `${mode}: nothing kept`);
    assert.deepEqual(partials(cache.path), [], `${mode}: no partial file left`);
    assert.equal((await httpRequest(`${server.url}health`)).status, 200, `${mode}: the server survives`);
    const afterFault = runCli(['mirror', 'verify', cache.path]);
    assert.equal(afterFault.status, 0, `${mode}: mirror verify after the fault:\n${afterFault.stdout}${afterFault.stderr}`);
  }
  upstream.mode = 'ok';
  await new Promise((done) => setTimeout(done, 100));
  upstream.hits.clear();
  // Past the circuit breaker of the 500 (it counts for pages; files are fetched when asked).
  const answers = await Promise.all(Array.from({ length: 8 }, () => httpRequest(big)));
  for (const answer of answers) {
    assert.equal(answer.status, 200, answer.body.subarray(0, 200).toString());
    assert.ok(answer.body.equals(original));
  }
  assert.equal(upstream.hits.get('/big-data/big_data-1.0-py3-none-any.whl'), 1, 'one upstream download for 8 concurrent requests');
  await eventually('the re-index', () => existsSync(join(cache.path, 'big-data', 'index.json')));
  const verify = runCli(['mirror', 'verify', cache.path]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  const metadata = await httpRequest(`${server.url}simple/demo-pkg/${DEMO}.metadata`);
  assert.equal(metadata.status, 200, 'PEP 658 metadata through the cache');
  assert.deepEqual(metadata.body, readFileSync(join(upstreamDir.path, 'demo-pkg', `${DEMO}.metadata`)));
});

test('dependency confusion: a project with private uploads is served from here only, unless --allow-upstream names it', async () => {
  await using upstreamDir = makeTempDir('dib-pypi-proxy-private-upstream-');
  await makeUpstreamMirror(upstreamDir.path);
  await using upstream = await startFaultUpstream(upstreamDir.path);
  await using work = makeTempDir('dib-pypi-proxy-private-work-');
  await using cache = makeTempDir('dib-pypi-proxy-private-cache-');
  const token = 'private-token-42';
  const env = cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: token });
  await using server = await startServe([cache.path, '--upstream', upstream.url], { env });
  const content = readFileSync(await makeWheel(work.path, { name: 'demo-pkg', version: '0.1' }));
  const form = multipart({ fields: twineFields('demo-pkg', '0.1', content), filename: 'demo_pkg-0.1-py3-none-any.whl', content });
  const uploaded = await httpRequest(`${server.url}legacy/`, {
    method: 'POST',
    body: form.body,
    headers: { 'Content-Type': form.contentType, Authorization: basicAuth('__token__', token) },
  });
  assert.equal(uploaded.status, 200, uploaded.body.toString());
  upstream.hits.clear();
  const page = JSON.parse((await httpRequest(`${server.url}simple/demo-pkg/`, { headers: { Accept: JSON_TYPE } })).body.toString()) as {
    files: { filename: string }[];
  };
  assert.deepEqual(
    page.files.map((f) => f.filename),
    ['demo_pkg-0.1-py3-none-any.whl'],
    'only the private file',
  );
  assert.equal((await httpRequest(`${server.url}simple/demo-pkg/${DEMO}`)).status, 404, "upstream's file is not reachable either");
  assert.equal(upstream.hits.size, 0, 'upstream is not even asked');
  await server.stop();

  await using allowed = await startServe([cache.path, '--upstream', upstream.url, '--allow-upstream', 'Demo_Pkg'], { env });
  const merged = JSON.parse((await httpRequest(`${allowed.url}simple/demo-pkg/`, { headers: { Accept: JSON_TYPE } })).body.toString()) as {
    files: { filename: string }[];
  };
  assert.deepEqual(
    merged.files.map((f) => f.filename),
    ['demo_pkg-0.1-py3-none-any.whl', DEMO],
    'allowed: upstream files with the private ones',
  );
  // An upload to the allowed project shows on its merged page at once, not after the TTL (600 s here).
  const content2 = readFileSync(await makeWheel(work.path, { name: 'demo-pkg', version: '0.2' }));
  const form2 = multipart({ fields: twineFields('demo-pkg', '0.2', content2), filename: 'demo_pkg-0.2-py3-none-any.whl', content: content2 });
  const uploaded2 = await httpRequest(`${allowed.url}legacy/`, {
    method: 'POST',
    body: form2.body,
    headers: { 'Content-Type': form2.contentType, Authorization: basicAuth('__token__', token) },
  });
  assert.equal(uploaded2.status, 200, uploaded2.body.toString());
  upstream.hits.clear();
  for (const accept of [JSON_TYPE, 'text/html']) {
    const after = await httpRequest(`${allowed.url}simple/demo-pkg/`, { headers: { Accept: accept } });
    assert.equal(after.headers['x-dib-pypi-cache'], 'hit', 'from the cached listing');
    assert.ok(after.body.toString().includes('demo_pkg-0.2-py3-none-any.whl'), `${accept}: the new upload is listed at once`);
    assert.ok(after.body.toString().includes(DEMO), `${accept}: upstream's file is still there`);
  }
  assert.equal(upstream.hits.size, 0, 'upstream was not asked again');
});

test('serve: proxy flags without --upstream, and bad upstream URLs, are exit 2', async () => {
  await using dir = makeTempDir('dib-pypi-proxy-flags-');
  for (const [args, pattern] of [
    [['--offline'], /--offline: only with --upstream URL/],
    [['--ttl', '5'], /--ttl: only with --upstream URL/],
    [['--upstream', 'ftp://example.invalid/'], /--upstream: expected an http/],
    [['--upstream', 'http://127.0.0.1:1/', '--ttl', 'soon'], /--ttl: expected a number of seconds/],
    [['--upstream', 'http://127.0.0.1:1/', '--allow-upstream', '../x'], /--allow-upstream: not a project name/],
  ] as const) {
    const result = runCli(['serve', dir.path, '--port', '0', ...args]);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, pattern);
  }
});
