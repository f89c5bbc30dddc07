// The web page of `dib-pypi serve` over HTTP, as an attacker or a careless client sees it: headers,
// hostile queries, unknown projects and versions, methods, the page-from-memory path at `/`, and
// the page of a pull-through cache with its status figures.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { test } from 'node:test';
import { runCli } from '../../helpers/cli.js';
import { httpRequest } from '../../helpers/http-get.js';
import { makeWheel } from '../../helpers/make-dist.js';
import { PIP_ACCEPT } from '../../helpers/negotiation.js';
import { makeTempDir } from '../../helpers/python.js';
import { startServe } from '../../helpers/serve.js';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

async function makeMirror(dir: string): Promise<void> {
  await makeWheel(join(dir, 'demo'), { name: 'demo', version: '1.0' });
  await makeWheel(join(dir, 'demo'), { name: 'demo', version: '1.1', requiresPython: '>=3.8' });
  await makeWheel(join(dir, 'other'), { name: 'other', version: '0.1' });
  const indexed = runCli(['mirror', 'index', dir]);
  assert.equal(indexed.status, 0, indexed.stderr);
}

const text = (answer: { body: Buffer }) => answer.body.toString('utf8');

test('the web page over HTTP: headers, hostile queries, unknown names and versions, methods, and / from memory', async () => {
  await using mirror = makeTempDir('dib-pypi-webui-http-');
  await makeMirror(mirror.path);
  await using server = await startServe([mirror.path, '--workers', '1']);
  const base = server.url.replace(/\/$/, '');

  // `/` from memory: pip's request puts the root page in memory; a browser's request after it still gets the web page.
  for (let i = 0; i < 3; i++) assert.equal(text(await httpRequest(`${base}/`, { headers: { Accept: '*/*' } })).includes('Simple index'), true);
  const home = await httpRequest(`${base}/`, { headers: { Accept: BROWSER } });
  assert.equal(home.status, 200);
  assert.match(text(home), /<h1>Projects<\/h1>/);
  assert.equal(home.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(String(home.headers['content-security-policy']), /^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-/);
  assert.equal(home.headers['x-content-type-options'], 'nosniff');
  assert.equal(home.headers['x-frame-options'], 'DENY');
  assert.match(String(home.headers.vary), /Accept/);
  assert.equal((await httpRequest(`${base}/`, { headers: { Accept: PIP_ACCEPT } })).headers['content-type'], 'application/vnd.pypi.simple.v1+json');
  assert.match(text(await httpRequest(`${base}/?format=html`, { headers: { Accept: BROWSER } })), /Simple index/, '?format= asks for the simple page');
  assert.match(text(await httpRequest(`${base}/simple/`, { headers: { Accept: BROWSER } })), /Simple index/, '/simple/ is always the index');
  assert.match(text(await httpRequest(`${base}/demo/`, { headers: { Accept: BROWSER } })), /Links for demo/, 'project pages stay simple pages');

  const head = await httpRequest(`${base}/+ui/demo/`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  const packed = await httpRequest(`${base}/+ui/demo/`, { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(packed.headers['content-encoding'], 'gzip');
  assert.match(gunzipSync(packed.body).toString(), /pip install demo==1\.1/);

  const long = 'x'.repeat(5000);
  const huge = await httpRequest(`${base}/+ui/?q=${long}`);
  assert.equal(huge.status, 200);
  assert.equal(text(huge).includes('x'.repeat(201)), false, 'a query is cut at 200 characters');
  for (const page of ['-5', 'NaN', '1e999', '99999999999999999999', '2.5']) {
    const answer = await httpRequest(`${base}/+ui/?page=${page}`);
    assert.equal(answer.status, 200, `?page=${page}`);
  }
  const search = await httpRequest(`${base}/+ui/+search?q=${encodeURIComponent('</script><b>')}`);
  assert.equal(search.headers['content-type'], 'application/json; charset=utf-8');
  assert.deepEqual(JSON.parse(text(search)).names, []);
  assert.deepEqual(JSON.parse(text(await httpRequest(`${base}/+ui/+search?q=DEM`))).names, ['demo']);

  const noVersion = await httpRequest(`${base}/+ui/demo/?v=${encodeURIComponent('<script>alert(1)</script>')}`);
  assert.equal(noVersion.status, 404);
  assert.match(text(noVersion), /demo has no version &lt;script&gt;alert\(1\)&lt;\/script&gt; in this mirror/);
  const noProject = await httpRequest(`${base}/+ui/nope/`);
  assert.equal(noProject.status, 404);
  assert.match(text(noProject), /No project named nope in this mirror/);
  const redirect = await httpRequest(`${base}/+ui/Demo/?v=1.0`);
  assert.deepEqual([redirect.status, redirect.headers.location], [301, '/+ui/demo/?v=1.0']);
  assert.equal((await httpRequest(`${base}/+ui/a%2Fb/`)).status, 404);
  assert.equal((await httpRequest(`${base}/+ui/.dib-pypi/`)).status, 404);
  assert.equal((await httpRequest(`${base}/+ui/`, { method: 'POST', body: Buffer.from('x') })).status, 404);
  assert.equal((await httpRequest(`${base}/+ui/`, { method: 'PUT' })).status, 405);

  const metrics = text(await httpRequest(`${base}/metrics`));
  assert.match(metrics, /dib_pypi_http_requests_total\{route="ui",code="200"\} \d+/);
  assert.doesNotMatch(metrics, /dib_pypi_cache_requests_total\{/, 'web page views are no cache answers');
});

test('the web page of a pull-through cache: upstream projects, their files, and cache figures on the status page', async () => {
  await using upstreamDir = makeTempDir('dib-pypi-webui-upstream-');
  await makeMirror(upstreamDir.path);
  await using upstream = await startServe([upstreamDir.path, '--workers', '1']);
  await using cacheDir = makeTempDir('dib-pypi-webui-cache-');
  await using cache = await startServe([cacheDir.path, '--upstream', `${upstream.url}simple/`]);
  const base = cache.url.replace(/\/$/, '');
  const page = await httpRequest(`${base}/simple/demo/`, { headers: { Accept: PIP_ACCEPT } });
  assert.equal(page.status, 200);
  const wheel = JSON.parse(text(page)).files[0].url as string;
  assert.equal((await httpRequest(new URL(wheel, `${base}/simple/demo/`).href)).status, 200);
  const project = await httpRequest(`${base}/+ui/demo/`);
  assert.equal(project.status, 200, text(project));
  assert.match(text(project), /<li><a href="\?v=1\.1" aria-current="page">1\.1<\/a><\/li>\n<li><a href="\?v=1\.0">1\.0<\/a><\/li>/);
  const status = text(await httpRequest(`${base}/+ui/+status`));
  assert.match(status, new RegExp(`<code>${upstream.url.replaceAll('.', '\\.')}simple/</code>`));
  assert.match(status, /<dt>miss<\/dt><dd>\d+<\/dd>/);
});
