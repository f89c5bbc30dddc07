// Simple-index pages, golden: PEP 503 HTML, PEP 691 JSON (1.1, PEP 700), PEP 658/714 names only, escaping, determinism.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildProjectPage, relativeUrl } from '../../../src/mirror/index/build-pages.js';
import { projectOfRecord } from '../../../src/mirror/store/file-owner.js';
import { parseDistFilename } from '../../../src/pypi/dist-filename.js';
import type { CoreMetadata } from '../../../src/pypi/types.js';
import type { FileRecord, SidecarRecord } from '../../../src/mirror/store/manifest.js';
import { escapeHtml, renderProjectHtml, renderProjectJson, renderRootHtml, renderRootJson, type ProjectPage } from '../../../src/pypi/render-pages.js';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const SHA_M = 'c'.repeat(64);

const PAGE: ProjectPage = {
  name: 'zope-interface-thing',
  versions: ['1.0', '2.0rc1'],
  files: [
    { filename: 'Zope.Interface_Thing-1.0.tar.gz', url: 'Zope.Interface_Thing-1.0.tar.gz', sha256: SHA_A, size: 10, requiresPython: '>=3.7,<4' },
    {
      filename: 'zope_interface_thing-2.0rc1-py3-none-any.whl',
      url: '../zope_interface_thing-2.0rc1-py3-none-any.whl',
      sha256: SHA_B,
      size: 20,
      coreMetadataSha256: SHA_M,
      yanked: 'broken "build" <b>',
      uploadTime: '2026-01-02T03:04:05.000000Z',
    },
  ],
};

test('project HTML page, golden', () => {
  assert.equal(
    renderProjectHtml(PAGE),
    '<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="1.1">\n    <title>Links for zope-interface-thing</title>\n  </head>\n  <body>\n' +
      '    <h1>Links for zope-interface-thing</h1>\n' +
      `    <a href="Zope.Interface_Thing-1.0.tar.gz#sha256=${SHA_A}" data-requires-python="&gt;=3.7,&lt;4">Zope.Interface_Thing-1.0.tar.gz</a><br />\n` +
      `    <a href="../zope_interface_thing-2.0rc1-py3-none-any.whl#sha256=${SHA_B}" data-core-metadata="sha256=${SHA_M}" data-yanked="broken &quot;build&quot; &lt;b&gt;">zope_interface_thing-2.0rc1-py3-none-any.whl</a><br />\n` +
      '  </body>\n</html>\n',
  );
});

test('project JSON page, golden (PEP 691 + 700; yanked reason kept, empty reason is true)', () => {
  const json = JSON.parse(renderProjectJson(PAGE));
  assert.deepEqual(json, {
    meta: { 'api-version': '1.1' },
    name: 'zope-interface-thing',
    versions: ['1.0', '2.0rc1'],
    files: [
      {
        filename: 'Zope.Interface_Thing-1.0.tar.gz',
        url: 'Zope.Interface_Thing-1.0.tar.gz',
        hashes: { sha256: SHA_A },
        'requires-python': '>=3.7,<4',
        size: 10,
      },
      {
        filename: 'zope_interface_thing-2.0rc1-py3-none-any.whl',
        url: '../zope_interface_thing-2.0rc1-py3-none-any.whl',
        hashes: { sha256: SHA_B },
        'core-metadata': { sha256: SHA_M },
        size: 20,
        'upload-time': '2026-01-02T03:04:05.000000Z',
        yanked: 'broken "build" <b>',
      },
    ],
  });
  const emptyReason = renderProjectJson({ ...PAGE, files: [{ ...PAGE.files[0]!, yanked: '' }] });
  assert.equal(JSON.parse(emptyReason).files[0].yanked, true);
  // key order is fixed: the bytes are the contract
  assert.match(renderProjectJson(PAGE), /^\{"meta":\{"api-version":"1\.1"\},"name":"zope-interface-thing","versions":/);
});

test('only PEP 714 names: never data-dist-info-metadata / dist-info-metadata', () => {
  assert.ok(!renderProjectHtml(PAGE).includes('dist-info-metadata'));
  assert.ok(!renderProjectJson(PAGE).includes('dist-info-metadata'));
  assert.ok(renderProjectHtml(PAGE).includes('data-core-metadata='));
  assert.ok(renderProjectJson(PAGE).includes('"core-metadata"'));
});

test('root pages, golden', () => {
  assert.equal(
    renderRootHtml(['a-b', 'zope-interface-thing']),
    '<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="1.1">\n    <title>Simple index</title>\n  </head>\n  <body>\n    <h1>Simple index</h1>\n' +
      '    <a href="a-b/">a-b</a><br />\n    <a href="zope-interface-thing/">zope-interface-thing</a><br />\n  </body>\n</html>\n',
  );
  assert.equal(renderRootJson(['a-b']), '{"meta":{"api-version":"1.1"},"projects":[{"name":"a-b"}]}\n');
  // the digest first: the pull-through cache strips it with one anchored replace (server/app.ts withoutPagesDigest)
  const digest = 'ab'.repeat(32);
  assert.equal(renderRootJson(['a-b'], digest), `{"meta":{"_dib-pypi-pages":"${digest}","api-version":"1.1"},"projects":[{"name":"a-b"}]}\n`);
});

const ESCAPES: [string, string][] = [
  ['<>&"\'', '&lt;&gt;&amp;&quot;&#39;'],
  ['>=3.8', '&gt;=3.8'],
  ['plain', 'plain'],
];
for (const [input, output] of ESCAPES) test(`escapeHtml ${JSON.stringify(input)}`, () => assert.equal(escapeHtml(input), output));

const URLS: [string, string, string][] = [
  ['foo', 'foo/foo-1.0.tar.gz', 'foo-1.0.tar.gz'],
  ['foo', 'foo-1.0.tar.gz', '../foo-1.0.tar.gz'],
  ['foo', 'Foo_Dir/foo-1.0.tar.gz', '../Foo_Dir/foo-1.0.tar.gz'],
  ['foo', 'foo/foo-1.0+local.1-py3-none-any.whl', 'foo-1.0%2Blocal.1-py3-none-any.whl'],
  ['foo', 'foo/foo 1#x.zip', 'foo%201%23x.zip'],
];
for (const [project, path, url] of URLS) test(`relativeUrl ${project} ${path}`, () => assert.equal(relativeUrl(project, path), url));

test('buildProjectPage: sorted files, PEP 440 version order, sidecars', () => {
  const files: Record<string, FileRecord> = {
    'foo/foo-10.0.tar.gz': { size: 1, mtimeNs: '1', sha256: SHA_A, project: 'foo', version: '10.0' },
    'foo/foo-2.0.tar.gz': { size: 2, mtimeNs: '1', sha256: SHA_B, project: 'foo', version: '2.0', requiresPython: '>=3' },
    'foo-1.0b1-py3-none-any.whl': { size: 3, mtimeNs: '1', sha256: SHA_M, project: 'foo', version: '1.0b1', metadataSha256: SHA_A },
  };
  const sidecars: Record<string, SidecarRecord> = {
    'foo/foo-2.0.tar.gz.yanked': { mtimeNs: '1', text: '' },
    'foo/foo-10.0.tar.gz.upload-time': { mtimeNs: '1', text: '2026-11-22T00:00:00Z' },
  };
  const page = buildProjectPage('foo', Object.keys(files), files, sidecars);
  assert.deepEqual(page.versions, ['1.0b1', '2.0', '10.0']);
  assert.deepEqual(
    page.files.map((f) => f.filename),
    ['foo-1.0b1-py3-none-any.whl', 'foo-10.0.tar.gz', 'foo-2.0.tar.gz'],
  );
  assert.equal(page.files[0]!.url, '../foo-1.0b1-py3-none-any.whl');
  assert.equal(page.files[0]!.coreMetadataSha256, SHA_A);
  assert.equal(page.files[1]!.uploadTime, '2026-11-22T00:00:00Z');
  assert.equal(page.files[2]!.yanked, true);
  assert.equal(page.files[2]!.requiresPython, '>=3');
  // same input, same bytes, whatever the order of the records
  const reversed = buildProjectPage('foo', Object.keys(files).reverse(), files, sidecars);
  assert.equal(renderProjectHtml(reversed), renderProjectHtml(page));
  assert.equal(renderProjectJson(reversed), renderProjectJson(page));
});

test('projectOfRecord: an sdist goes to its PKG-INFO project only when the rest of its name is a PEP 440 version', () => {
  const place = (basename: string, name: string) => {
    const filename = parseDistFilename(basename);
    assert.ok(filename !== undefined, basename);
    return projectOfRecord(basename, filename, { name, version: '1.0' } as CoreMetadata);
  };
  assert.equal(place('foo-bar-1.0.tar.gz', 'foo-bar'), 'foo-bar');
  assert.equal(place('Foo_Bar-1.0.tar.gz', 'Foo.Bar'), 'foo-bar');
  assert.equal(place('foo-bar-1.0.tar.gz', 'foo'), 'foo-bar', "'bar-1.0' is no version: the file stays on the page its name says");
  assert.equal(place('secret-pkg-evil-2.0.tar.gz', 'secret-pkg'), 'secret-pkg-evil');
  assert.equal(place('foo-1.0.tar.gz', 'other'), 'foo');
  assert.equal(place('foo-1.0-py3-none-any.whl', 'other'), 'foo');
});
