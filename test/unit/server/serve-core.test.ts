// The pure core of `dib-pypi serve`: PEP 691 negotiation, routing, conditional requests and ranges, and the disk cache.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { negotiate } from '../../../src/server/negotiate.js';
import { route, isServedFile, isWebFileName } from '../../../src/server/routes.js';
import { acceptsGzip, isNotModified, pickRange } from '../../../src/server/http-cache.js';
import { DiskCache } from '../../../src/server/disk-cache.js';
import { JSON_TYPE, NEGOTIATION } from '../../helpers/negotiation.js';

test('negotiate picks the page nginx picks for every Accept header of the shared table', () => {
  for (const [accept, page] of NEGOTIATION) assert.equal(negotiate(accept).format, page, `Accept: ${accept ?? '(none)'}`);
});

test('negotiate answers with the media type asked for', () => {
  assert.equal(negotiate(JSON_TYPE).contentType, JSON_TYPE);
  assert.equal(negotiate('application/vnd.pypi.simple.latest+json').contentType, JSON_TYPE, 'latest is v1 here');
  assert.equal(negotiate('application/vnd.pypi.simple.v1+html').contentType, 'application/vnd.pypi.simple.v1+html');
  assert.equal(negotiate('application/vnd.pypi.simple.latest+html').contentType, 'application/vnd.pypi.simple.v1+html');
  assert.equal(negotiate('text/html').contentType, 'text/html; charset=utf-8');
  assert.equal(negotiate('TEXT/HTML;Q=1').format, 'html', 'media types and parameters are case-insensitive');
  assert.equal(negotiate(`${JSON_TYPE} ; q=0.8 , text/html ; q=0.7`).format, 'json', 'spaces around separators');
  assert.equal(negotiate('application/json').format, 'html', 'unknown types: the default, HTML');
  assert.equal(negotiate(`${JSON_TYPE};q=abc`).format, 'html', 'a malformed q-value counts as 0');
  assert.equal(negotiate(`${JSON_TYPE};q=2`).format, 'html', 'q above 1 is malformed');
  assert.equal(negotiate(`${JSON_TYPE};level=1;q=0.4, text/html;q=0.3`).format, 'json', 'other parameters are skipped');
  assert.equal(negotiate('').format, 'html');
  assert.equal(negotiate(',,,').format, 'html');
});

test('?format= beats the Accept header, with short forms and media types', () => {
  assert.equal(negotiate('text/html', 'json').format, 'json');
  assert.equal(negotiate(JSON_TYPE, 'html').format, 'html');
  assert.equal(negotiate('text/html', JSON_TYPE).contentType, JSON_TYPE);
  assert.equal(negotiate('text/html', 'application/vnd.pypi.simple.v1+html').contentType, 'application/vnd.pypi.simple.v1+html');
  assert.equal(negotiate(JSON_TYPE, 'nonsense').format, 'html', 'an unknown format: the default');
  assert.equal(negotiate(JSON_TYPE, '').format, 'json', 'an empty format is no format');
  assert.equal(negotiate(JSON_TYPE, null).format, 'json');
});

test('routes: the index answers at / and at /simple/', () => {
  assert.deepEqual(route('GET', '/'), { kind: 'root', prefix: '' });
  assert.deepEqual(route('GET', '/simple/'), { kind: 'root', prefix: '/simple' });
  assert.deepEqual(route('HEAD', '/index.html'), { kind: 'root', prefix: '' });
  assert.deepEqual(route('GET', '/simple'), { kind: 'redirect', location: '/simple/' });
  assert.deepEqual(route('GET', '/demo-pkg/'), { kind: 'project', prefix: '', project: 'demo-pkg' });
  assert.deepEqual(route('GET', '/simple/demo-pkg/'), { kind: 'project', prefix: '/simple', project: 'demo-pkg' });
  assert.deepEqual(route('GET', '/simple/demo-pkg/index.json'), { kind: 'project', prefix: '/simple', project: 'demo-pkg' });
  assert.deepEqual(route('GET', '/health'), { kind: 'health' });
});

test('routes: names that are not normalised redirect (PEP 503); a missing slash redirects', () => {
  assert.deepEqual(route('GET', '/simple/Demo_Pkg/'), { kind: 'redirect', location: '/simple/demo-pkg/' });
  assert.deepEqual(route('GET', '/Zope.Interface_Thing/'), { kind: 'redirect', location: '/zope-interface-thing/' });
  assert.deepEqual(route('GET', '/simple/demo-pkg'), { kind: 'redirect', location: '/simple/demo-pkg/' });
  assert.deepEqual(route('GET', '/Demo_Pkg'), { kind: 'redirect', location: '/demo-pkg/' });
  assert.deepEqual(route('GET', '/simple/demo%2Dpkg/'), { kind: 'project', prefix: '/simple', project: 'demo-pkg' }, 'percent-encoding is decoded');
});

test('routes: web files (favicon.ico, robots.txt, ...) are not found, not redirected to a project; dotted project names still redirect', () => {
  for (const path of [
    '/favicon.ico',
    '/robots.txt',
    '/simple/favicon.ico',
    '/sitemap.xml',
    '/apple-touch-icon.png',
    '/wp-login.php',
    '/favicon.ico/',
    '/simple/robots.txt/',
    '/Robots.TXT',
  ]) {
    assert.deepEqual(route('GET', path), { kind: 'not-found' }, path);
  }
  // Real projects: dotted names keep their convenience redirect; a project named favicon.ico is at its normalised page.
  assert.deepEqual(route('GET', '/zope.interface'), { kind: 'redirect', location: '/zope-interface/' });
  assert.deepEqual(route('GET', '/simple/backports.zoneinfo/'), { kind: 'redirect', location: '/simple/backports-zoneinfo/' });
  assert.deepEqual(route('GET', '/simple/favicon-ico/'), { kind: 'project', prefix: '/simple', project: 'favicon-ico' });
  assert.deepEqual(route('GET', '/json'), { kind: 'redirect', location: '/json/' }, 'a name without a dot is a project name');
  assert.equal(isWebFileName('favicon.ico'), true);
  assert.equal(isWebFileName('zope.interface'), false);
});

test('routes: distribution files and PEP 658 metadata, in a project or loose at the top', () => {
  const wheel = 'demo_pkg-1.0-py3-none-any.whl';
  assert.deepEqual(route('GET', `/simple/demo-pkg/${wheel}`), { kind: 'file', prefix: '/simple', project: 'demo-pkg', filename: wheel });
  assert.deepEqual(route('GET', `/demo-pkg/${wheel}.metadata`), { kind: 'file', prefix: '', project: 'demo-pkg', filename: `${wheel}.metadata` });
  assert.deepEqual(route('GET', '/demo_pkg-1.0.tar.gz'), { kind: 'file', prefix: '', project: undefined, filename: 'demo_pkg-1.0.tar.gz' });
  assert.deepEqual(route('GET', '/demo-pkg/demo%2Bpkg-1.0.zip'), { kind: 'file', prefix: '', project: 'demo-pkg', filename: 'demo+pkg-1.0.zip' });
  assert.equal(isServedFile('demo_pkg-1.0.tar.gz.metadata'), true);
  assert.equal(isServedFile('x.metadata'), false);
  assert.equal(isServedFile('.demo_pkg-1.0.tar.gz'), false, 'hidden files (temps of atomic writes) are never served');
});

test('routes: everything else is not found, and nothing leads out of the mirror', () => {
  const wheel = 'demo_pkg-1.0-py3-none-any.whl';
  for (const path of [
    '/.dib-pypi/manifest.json',
    '/simple/.dib-pypi/',
    '/demo-pkg/.dib-tmp-index.html',
    `/demo-pkg/..%2F..%2Fetc%2F${wheel}`,
    `/demo-pkg/%2e%2e/${wheel}`,
    '/../etc/passwd',
    '/demo-pkg/../../etc/passwd',
    `/Demo_Pkg/${wheel}`,
    '/demo-pkg/readme.txt',
    '/demo-pkg/x.whl.yanked',
    '/demo-pkg/sub/dir/',
    '/%ZZ/',
    '/demo-pkg/%00.whl',
    '/-bad-/',
    'relative',
  ]) {
    assert.deepEqual(route('GET', path), { kind: 'not-found' }, path);
  }
});

test('routes: uploads are POSTs to / or /legacy/, nothing else', () => {
  assert.deepEqual(route('POST', '/'), { kind: 'upload' });
  assert.deepEqual(route('POST', '/legacy/'), { kind: 'upload' });
  assert.deepEqual(route('POST', '/legacy'), { kind: 'upload' });
  assert.deepEqual(route('POST', '/simple/'), { kind: 'not-found' });
  assert.deepEqual(route('POST', '/demo-pkg/'), { kind: 'not-found' });
});

test('conditional requests: If-None-Match wins over If-Modified-Since', () => {
  const at = Date.parse('Sun, 22 Nov 2026 03:00:00 GMT') + 400;
  assert.equal(isNotModified('"a"', undefined, ['"a"'], at), true);
  assert.equal(isNotModified('W/"a"', undefined, ['"a"'], at), true, 'weak comparison');
  assert.equal(isNotModified('"b", "a"', undefined, ['"a"'], at), true);
  assert.equal(isNotModified('*', undefined, ['"a"'], at), true);
  assert.equal(isNotModified('"b"', 'Sun, 22 Nov 2026 04:00:00 GMT', ['"a"'], at), false, 'If-None-Match decides alone');
  assert.equal(isNotModified(undefined, 'Sun, 22 Nov 2026 03:00:00 GMT', ['"a"'], at), true, 'second resolution');
  assert.equal(isNotModified(undefined, 'Sun, 22 Nov 2026 02:59:59 GMT', ['"a"'], at), false);
  assert.equal(isNotModified(undefined, 'garbage', ['"a"'], at), false);
  assert.equal(isNotModified(undefined, undefined, ['"a"'], at), false);
});

test('ranges: one byte range is served, anything odd gets the whole file', () => {
  const etag = '"e"';
  const lm = 'Sun, 22 Nov 2026 03:00:00 GMT';
  assert.deepEqual(pickRange(undefined, undefined, etag, lm, 100), { kind: 'full' });
  assert.deepEqual(pickRange('bytes=0-9', undefined, etag, lm, 100), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(pickRange('bytes=90-', undefined, etag, lm, 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(pickRange('bytes=90-500', undefined, etag, lm, 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(pickRange('bytes=-10', undefined, etag, lm, 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(pickRange('bytes=-500', undefined, etag, lm, 100), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(pickRange('bytes=100-', undefined, etag, lm, 100), { kind: 'unsatisfiable' });
  assert.deepEqual(pickRange('bytes=-0', undefined, etag, lm, 100), { kind: 'unsatisfiable' });
  assert.deepEqual(pickRange('bytes=0-', undefined, etag, lm, 0), { kind: 'unsatisfiable' });
  assert.deepEqual(pickRange('bytes=5-2', undefined, etag, lm, 100), { kind: 'full' });
  assert.deepEqual(pickRange('bytes=0-1,5-6', undefined, etag, lm, 100), { kind: 'full' });
  assert.deepEqual(pickRange('items=0-1', undefined, etag, lm, 100), { kind: 'full' });
  assert.deepEqual(pickRange('bytes=-', undefined, etag, lm, 100), { kind: 'full' });
  assert.deepEqual(pickRange('bytes=0-9', etag, etag, lm, 100), { kind: 'partial', start: 0, end: 9 }, 'If-Range with the same ETag');
  assert.deepEqual(pickRange('bytes=0-9', lm, etag, lm, 100), { kind: 'partial', start: 0, end: 9 }, 'If-Range with the same date');
  assert.deepEqual(pickRange('bytes=0-9', '"other"', etag, lm, 100), { kind: 'full' }, 'If-Range with another validator');
});

test('Accept-Encoding: gzip unless refused', () => {
  assert.equal(acceptsGzip('gzip, deflate'), true);
  assert.equal(acceptsGzip('br;q=1, GZIP;q=0.5'), true);
  assert.equal(acceptsGzip('gzip;q=0'), false);
  assert.equal(acceptsGzip('identity'), false);
  assert.equal(acceptsGzip(undefined), false);
});

test('disk cache: trusts an entry for validMs, then sees a change; evicts the least recently used; never leaves the root', async () => {
  const base = mkdtempSync(join(tmpdir(), 'dib-pypi-disk-cache-'));
  try {
    const root = join(base, 'root');
    mkdirSync(root);
    writeFileSync(join(base, 'secret.whl'), 'outside');
    symlinkSync(join(base, 'secret.whl'), join(root, 'escape.whl'));
    mkdirSync(join(base, 'elsewhere'));
    writeFileSync(join(base, 'elsewhere', 'a.whl'), 'outside too');
    symlinkSync(join(base, 'elsewhere'), join(root, 'linked-dir'));
    writeFileSync(join(root, 'inner.whl'), 'inside');
    symlinkSync('inner.whl', join(root, 'alias.whl'));
    let now = 1_000_000;
    const cache = new DiskCache({ root, maxBodyBytes: 10, maxTotalBytes: 20, validMs: 1000, now: () => now });

    assert.equal(await cache.get(join(root, 'escape.whl')), undefined, 'a symlink out of the root');
    assert.equal(await cache.get(join(root, 'linked-dir', 'a.whl')), undefined, 'a directory symlink out of the root');
    assert.equal(await cache.get(join(root, 'missing.whl')), undefined);
    assert.equal(await cache.get(root), undefined, 'not a regular file');
    assert.equal((await cache.get(join(root, 'alias.whl')))?.size, 6, 'a symlink inside the root is fine');

    const path = join(root, 'a.whl');
    writeFileSync(path, '12345');
    utimesSync(path, 1000, 1000);
    const first = await cache.get(path);
    assert.equal(first?.size, 5);
    assert.equal(first?.etag, `"${(1_000_000).toString(16)}-5"`);
    assert.equal(first?.lastModified, new Date(1_000_000).toUTCString());
    cache.keep(first!, Buffer.from('12345'));
    writeFileSync(path, '1234567');
    assert.equal((await cache.get(path))?.body?.toString(), '12345', 'trusted within validMs');
    now += 1000;
    const second = await cache.get(path);
    assert.equal(second?.size, 7, 'seen after validMs');
    assert.equal(second?.body, undefined, 'the old body is gone');

    for (const name of ['b.whl', 'c.whl', 'd.whl']) writeFileSync(join(root, name), '0123456789');
    const b = await cache.get(join(root, 'b.whl'));
    cache.keep(b!, Buffer.from('0123456789'));
    const c = await cache.get(join(root, 'c.whl'));
    cache.keep(c!, Buffer.from('0123456789'));
    assert.equal(cache.totalBytes, 20);
    await cache.get(join(root, 'b.whl')); // b is now the most recently used
    const d = await cache.get(join(root, 'd.whl'));
    cache.keep(d!, Buffer.from('0123456789'));
    assert.equal(cache.totalBytes, 20, 'bounded');
    assert.equal(c!.body !== undefined && (await cache.get(join(root, 'c.whl')))?.body !== undefined, false, 'c (least recently used) was evicted');
    assert.ok((await cache.get(join(root, 'b.whl')))?.body, 'b stayed');
    const big = await cache.get(join(root, 'b.whl'));
    cache.keep(big!, Buffer.alloc(11), 'gzip');
    assert.equal(big?.extra?.get('gzip'), undefined, 'bodies over maxBodyBytes are not kept');
    assert.equal(cache.peek(join(root, 'b.whl')), big, 'peek: a fresh entry, without I/O');
    assert.equal(cache.peek(join(root, 'never-seen.whl')), undefined);
    now += 1000;
    assert.equal(cache.peek(join(root, 'b.whl')), undefined, 'peek: not after validMs (the full get re-checks)');
    rmSync(join(root, 'b.whl'));
    now += 1000;
    assert.equal(await cache.get(join(root, 'b.whl')), undefined, 'a removed file is forgotten');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('--workers: auto is one process per core (at most 4); the cache and uploads always run in one; bad values are refused', async () => {
  const { parseWorkers } = await import('../../../src/cli/serve-values.js');
  const { UsageError } = await import('../../../src/errors.js');
  assert.equal(parseWorkers(undefined, undefined, 2), 2);
  assert.equal(parseWorkers('auto', undefined, 1), 1);
  assert.equal(parseWorkers(undefined, undefined, 16), 4);
  assert.equal(parseWorkers('3', undefined, 2), 3, 'an explicit count is taken as it is');
  assert.equal(parseWorkers('1', undefined, 8), 1);
  assert.equal(parseWorkers(undefined, 'the pull-through cache (--upstream)', 8), 1);
  assert.equal(parseWorkers('auto', 'serving with uploads', 8), 1);
  assert.equal(parseWorkers('1', 'serving with uploads', 8), 1);
  assert.throws(
    () => parseWorkers('2', 'the pull-through cache (--upstream)', 8),
    (error: unknown) => error instanceof UsageError && /--upstream\) runs in one process/.test(error.message),
  );
  for (const bad of ['0', '-1', '65', 'two', '1.5', '', ' 2']) {
    assert.throws(
      () => parseWorkers(bad, undefined, 2),
      (error: unknown) => error instanceof UsageError && /expected auto or a number of processes 1-64/.test(error.message),
      bad,
    );
  }
});
