// The simple-index parsers: PEP 503 HTML (escaping, relative URLs, <base>, hash fragments, odd attributes) and PEP 691 JSON, malformed apart from empty.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEntities, parseProjectHtml, parseRootHtml } from '../../../src/upstream/parse-simple-html.js';
import { parseProjectJson, parseRootJson } from '../../../src/upstream/parse-simple-json.js';
import { MalformedPageError, strongestHash } from '../../../src/upstream/simple-model.js';
import { authHeaders, parseUpstreamUrl } from '../../../src/upstream/upstream-url.js';
import { backoffDelay } from '../../../src/upstream/retry.js';

const PAGE = 'https://idx.example/simple/demo/';
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

test('decodeEntities: named, decimal, hex; unknown and out-of-range kept', () => {
  const rows: [string, string][] = [
    ['&gt;=3.7,&lt;4', '>=3.7,<4'],
    ['&amp;&quot;&apos;&#39;', `&"''`],
    ['&#62;&#x3C;&#X3c;', '><<'],
    ['&bogus; &#0; &#x110000;', '&bogus; &#0; &#x110000;'],
    ['a &amp b', 'a & b'],
  ];
  for (const [input, output] of rows) assert.equal(decodeEntities(input), output, input);
});

test('root HTML: anchor texts are the names; comments and empty anchors', () => {
  const html =
    '<html><body><!-- <a href="x/">commented</a> --><a href="Demo/">Demo</a><br/><A HREF=\'other/\'>other&#45;pkg</A>\n<a href="e/"></a></body></html>';
  const root = parseRootHtml(html, 'https://idx.example/simple/');
  assert.deepEqual(root.projects, ['Demo', 'other-pkg']);
  assert.equal(root.problems.length, 1);
});

test('root HTML with no anchors is empty, not malformed', () => {
  assert.deepEqual(parseRootHtml('<html></html>', 'https://x/'), { projects: [], problems: [] });
});

test('project HTML: relative and absolute URLs, fragments, attributes as PEP 503/592/658/714 give them', () => {
  const html = `<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.1"></head><body>
<a href="../../files/demo-1.0.tar.gz#sha256=${A}" data-requires-python="&gt;=3.7,&lt;4">demo-1.0.tar.gz</a>
<a href='https://cdn.example/p/demo-2.0-py3-none-any.whl#SHA256=${B.toUpperCase()}' data-yanked data-core-metadata="sha256=${A}">demo-2.0-py3-none-any.whl</a>
<a href=demo-3.0-py3-none-any.whl#md5=${'c'.repeat(32)} data-yanked="bad &quot;build&quot;" data-dist-info-metadata=true>demo-3.0-py3-none-any.whl</a>
<a data-requires-python="" href="demo%2B4.0.zip">  demo+4.0.zip  </a>
<a href="demo-5.0.zip" data-core-metadata="false" data-dist-info-metadata="sha256=${B}">demo-5.0.zip</a>
</body></html>`;
  const page = parseProjectHtml(html, PAGE, 'demo');
  assert.deepEqual(page.problems, []);
  assert.deepEqual(page.files, [
    { filename: 'demo-1.0.tar.gz', url: 'https://idx.example/files/demo-1.0.tar.gz', hashes: { sha256: A }, requiresPython: '>=3.7,<4' },
    {
      filename: 'demo-2.0-py3-none-any.whl',
      url: 'https://cdn.example/p/demo-2.0-py3-none-any.whl',
      hashes: { sha256: B },
      yanked: true,
      coreMetadata: { sha256: A },
    },
    {
      filename: 'demo-3.0-py3-none-any.whl',
      url: `${PAGE}demo-3.0-py3-none-any.whl`,
      hashes: { md5: 'c'.repeat(32) },
      yanked: 'bad "build"',
      coreMetadata: true,
    },
    { filename: 'demo+4.0.zip', url: `${PAGE}demo%2B4.0.zip`, hashes: {} },
    // data-core-metadata="false" wins over the legacy name (PEP 714)
    { filename: 'demo-5.0.zip', url: `${PAGE}demo-5.0.zip`, hashes: {} },
  ]);
});

test('project HTML: <base href> moves relative links', () => {
  const page = parseProjectHtml(`<base href="https://mirror.example/pkgs/"><a href="x-1.0.tar.gz#sha256=${A}">x-1.0.tar.gz</a>`, PAGE, 'x');
  assert.equal(page.files[0]?.url, 'https://mirror.example/pkgs/x-1.0.tar.gz');
});

test('project HTML: unusable anchors are problems, not files, and not silently dropped', () => {
  const rows: [string, RegExp][] = [
    ['<a>x-1.0.tar.gz</a>', /without href/],
    [`<a href="x-1.0.tar.gz#sha256=${A.slice(2)}">x-1.0.tar.gz</a>`, /bad sha256 digest/],
    ['<a href="x-1.0.tar.gz#sha999=ab">x-1.0.tar.gz</a>', /unknown hash algorithm/],
    ['<a href="x-1.0.tar.gz#nohash">x-1.0.tar.gz</a>', /bad hash fragment/],
    ['<a href="ftp://h/x-1.0.tar.gz">x-1.0.tar.gz</a>', /unsupported URL scheme/],
    ['<a href="x.tar.gz">../../etc/passwd</a>', /unsafe file name/],
    ['<a href="x.tar.gz">.hidden.tar.gz</a>', /unsafe file name/],
    ['<a href="http://[::1/x">x</a>', /bad href/],
    [`<a href="x.whl" data-core-metadata="sha256=zz">x.whl</a>`, /core-metadata/],
    ['<a href="x-1.0%ZZ.tar.gz"></a>', /bad percent-encoding/], // a whole page once failed (URIError) for one such link
    ['<a href="%2e%2e%2f%2e%2e%2fetc%2fx-1.0.tar.gz"></a>', /unsafe file name/],
    ['<a href="dir/x%2F..%2Fy-1.0.tar.gz"></a>', /unsafe file name/],
  ];
  for (const [html, problem] of rows) {
    const page = parseProjectHtml(html, PAGE, 'x');
    assert.equal(page.files.length, 0, html);
    assert.match(page.problems[0] ?? '', problem, html);
  }
});

test('project HTML: a newer major repository version is malformed (PEP 629)', () => {
  assert.throws(() => parseProjectHtml('<meta name="pypi:repository-version" content="2.0">', PAGE, 'x'), MalformedPageError);
  assert.throws(() => parseProjectHtml('<meta name="pypi:repository-version" content="one">', PAGE, 'x'), MalformedPageError);
});

test('root JSON, and malformed JSON kept apart from an empty list', () => {
  assert.deepEqual(parseRootJson('{"meta":{"api-version":"1.1"},"projects":[{"name":"A"},{"name":""},{}]}', 'https://x/'), {
    projects: ['A'],
    problems: ['projects[1]: no name', 'projects[2]: no name'],
  });
  assert.deepEqual(parseRootJson('{"meta":{"api-version":"1.0"},"projects":[]}', 'https://x/'), { projects: [], problems: [] });
  // mirror index's digest of every page; anything but 64 lower-case hex digits is a problem, not a digest
  const digest = '0f'.repeat(32);
  assert.deepEqual(parseRootJson(`{"meta":{"_dib-pypi-pages":"${digest}","api-version":"1.1"},"projects":[]}`, 'https://x/'), {
    projects: [],
    problems: [],
    pagesDigest: digest,
  });
  for (const bad of ['"12"', `"${digest.toUpperCase()}"`, `"${digest}0"`, '42', 'null', '[]']) {
    const page = parseRootJson(`{"meta":{"_dib-pypi-pages":${bad},"api-version":"1.1"},"projects":[]}`, 'https://x/');
    assert.equal(page.pagesDigest, undefined, bad);
    assert.match(page.problems.join(), /meta\._dib-pypi-pages is not a sha256 digest/, bad);
  }
  const malformed = ['not json', '[]', '{"projects":[]}', '{"meta":{"api-version":"2.0"},"projects":[]}', '{"meta":{"api-version":"1.0"},"projects":{}}'];
  for (const text of malformed) assert.throws(() => parseRootJson(text, 'https://x/'), MalformedPageError, text);
});

test('project JSON: PEP 691/700/714 fields, legacy dist-info-metadata, relative URL resolved', () => {
  const text = JSON.stringify({
    meta: { 'api-version': '1.1' },
    name: 'demo',
    versions: ['1.0', '2.0'],
    files: [
      {
        filename: 'demo-1.0.tar.gz',
        url: '../../files/demo-1.0.tar.gz#sha256=x',
        hashes: { sha256: A, blake2b: 'ff' },
        'requires-python': '>=3.8',
        size: 10,
        'upload-time': '2024-01-02T03:04:05.123456Z',
        yanked: false,
      },
      {
        filename: 'demo-2.0-py3-none-any.whl',
        url: 'https://cdn.example/demo-2.0-py3-none-any.whl',
        hashes: { SHA256: B.toUpperCase() },
        'requires-python': null,
        yanked: 'broken',
        'dist-info-metadata': { sha256: A },
      },
      { filename: 'demo-2.0.zip', url: 'demo-2.0.zip', hashes: {}, yanked: '', 'core-metadata': true, 'dist-info-metadata': false },
    ],
  });
  const page = parseProjectJson(text, PAGE, 'Demo');
  assert.deepEqual(page, {
    name: 'demo',
    versions: ['1.0', '2.0'],
    problems: [],
    files: [
      {
        filename: 'demo-1.0.tar.gz',
        url: 'https://idx.example/files/demo-1.0.tar.gz',
        hashes: { sha256: A },
        requiresPython: '>=3.8',
        size: 10,
        uploadTime: '2024-01-02T03:04:05.123456Z',
      },
      {
        filename: 'demo-2.0-py3-none-any.whl',
        url: 'https://cdn.example/demo-2.0-py3-none-any.whl',
        hashes: { sha256: B },
        yanked: 'broken',
        coreMetadata: { sha256: A },
      },
      { filename: 'demo-2.0.zip', url: `${PAGE}demo-2.0.zip`, hashes: {}, yanked: true, coreMetadata: true },
    ],
  });
});

test('project JSON: bad entries are problems; a bad document throws', () => {
  const entries: [unknown, RegExp][] = [
    ['x', /not an object/],
    [{ url: 'x' }, /filename/],
    [{ filename: 'a/b.whl', url: 'x', hashes: {} }, /unsafe/],
    [{ filename: 'x.whl', hashes: {} }, /no url/],
    [{ filename: 'x.whl', url: 'x', hashes: [] }, /hashes is not an object/],
    [{ filename: 'x.whl', url: 'x', hashes: { sha256: 'zz' } }, /bad sha256/],
    [{ filename: 'x.whl', url: 'x', hashes: {}, size: -1 }, /bad size/],
    [{ filename: 'x.whl', url: 'x', hashes: {}, yanked: 1 }, /yanked/],
    [{ filename: 'x.whl', url: 'x', hashes: {}, 'upload-time': 'yesterday' }, /upload-time/],
    [{ filename: 'x.whl', url: 'x', hashes: {}, 'requires-python': 3 }, /requires-python/],
    [{ filename: 'x.whl', url: 'javascript:alert(1)', hashes: {} }, /scheme/],
  ];
  for (const [entry, problem] of entries) {
    const page = parseProjectJson(JSON.stringify({ meta: { 'api-version': '1.0' }, name: 'x', files: [entry] }), PAGE, 'x');
    assert.equal(page.files.length, 0, JSON.stringify(entry));
    assert.match(page.problems[0] ?? '', problem, JSON.stringify(entry));
  }
  assert.throws(() => parseProjectJson('{"meta":{"api-version":"1.0"},"name":"x"}', PAGE, 'x'), /files is not a list/);
  assert.deepEqual(parseProjectJson('{"meta":{"api-version":"1.0"},"name":"x","files":[]}', PAGE, 'x').files, []);
});

test('strongestHash prefers sha256, accepts other sha-2, never md5/sha1', () => {
  assert.deepEqual(strongestHash({ md5: 'x', sha512: 'y', sha256: 'z' }), { algorithm: 'sha256', digest: 'z' });
  assert.deepEqual(strongestHash({ md5: 'x', sha384: 'y' }), { algorithm: 'sha384', digest: 'y' });
  assert.equal(strongestHash({ md5: 'x', sha1: 'y' }), undefined);
});

test('upstream URL: credentials become a header for that origin only, never part of the URL', () => {
  const up = parseUpstreamUrl('https://us%40er:p%3Ass@idx.example:8443/simple?x=1#frag');
  assert.equal(up.base, 'https://idx.example:8443/simple/');
  assert.equal(up.display.includes('p:ss'), false);
  assert.equal(up.authorization, `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
  assert.deepEqual(authHeaders(up, 'https://idx.example:8443/files/x.whl'), { authorization: up.authorization });
  assert.deepEqual(authHeaders(up, 'https://cdn.example/x.whl'), {});
  assert.deepEqual(authHeaders(up, 'http://idx.example:8443/x.whl'), {});
  assert.throws(
    () => parseUpstreamUrl('ftp://u:secret@h/'),
    (e: Error) => /http/.test(e.message) && !e.message.includes('secret'),
  );
  assert.throws(() => parseUpstreamUrl('not a url secret'), /not a URL/);
});

test('backoff doubles with jitter, capped', () => {
  const policy = { retries: 5, baseDelayMs: 100, maxDelayMs: 500 };
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => backoffDelay(policy, n, 0)),
    [50, 100, 200, 250],
  );
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => backoffDelay(policy, n, 0.999999)),
    [100, 200, 400, 500],
  );
});
