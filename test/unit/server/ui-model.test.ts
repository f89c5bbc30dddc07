// The web page's pure parts below rendering: which requests get it, its routes, search, the project and status models.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { route } from '../../../src/server/routes.js';
import { isBrowserAccept, uiViewOf } from '../../../src/server/ui-view.js';
import { buildProjectView, filePathOf, MAX_DESCRIPTION_CHARS, metadataFileOf, withMetadataText } from '../../../src/server/ui/project-model.js';
import { normalizeQuery, searchProjects } from '../../../src/server/ui/search.js';
import { buildStatusView, sumByLabel } from '../../../src/server/ui/status-model.js';
import { NEGOTIATION, PIP_ACCEPT } from '../../helpers/negotiation.js';

const CHROME = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7';
const FIREFOX = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

test('only a browser navigating gets the web page at /: pip, uv, curl and every negotiation row keep the simple index', () => {
  for (const [accept] of NEGOTIATION) assert.equal(isBrowserAccept(accept), false, `Accept: ${accept ?? '(none)'}`);
  const rows: [string | undefined, boolean][] = [
    [CHROME, true],
    [FIREFOX, true],
    ['text/html, application/xhtml+xml', true],
    [PIP_ACCEPT, false],
    ['application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01', false], // uv
    ['text/html', false], // pip before 22.2, crawlers
    ['*/*', false], // curl
    [`${FIREFOX}, application/vnd.pypi.simple.v1+json`, false],
    ['text/html;q=0.5, application/xhtml+xml, application/json', false], // HTML is not what it prefers
    ['application/xhtml+xml', false],
    ['text/html, application/xhtml+xml;q=0', false],
    [undefined, false],
  ];
  for (const [accept, expected] of rows) assert.equal(isBrowserAccept(accept), expected, `Accept: ${accept}`);
});

test('routes under /+ui/ are page routes marked as the web page; other spellings redirect, the rest is not found', () => {
  const rows: [string, ReturnType<typeof route>][] = [
    ['/+ui/', { kind: 'root', prefix: '/+ui', ui: 'list' }],
    ['/+ui/+search', { kind: 'root', prefix: '/+ui', ui: 'search' }],
    ['/+ui/+status', { kind: 'root', prefix: '/+ui', ui: 'status' }],
    ['/+ui/demo-pkg/', { kind: 'project', prefix: '/+ui', project: 'demo-pkg', ui: true }],
    ['/+ui', { kind: 'redirect', location: '/+ui/' }],
    ['/+ui/Demo.Pkg/', { kind: 'redirect', location: '/+ui/demo-pkg/' }],
    ['/+ui/demo', { kind: 'redirect', location: '/+ui/demo/' }],
    ['/+ui/demo/x', { kind: 'not-found' }],
    ['/+ui/demo/file.whl', { kind: 'not-found' }],
    ['/+ui/%2e%2e/', { kind: 'not-found' }],
    ['/+ui/a%2Fb/', { kind: 'not-found' }],
    ['/+ui/+nope', { kind: 'not-found' }],
    ['/+ui/-bad-/', { kind: 'not-found' }],
    ['/+uix/', { kind: 'not-found' }],
    ['/simple/+ui/', { kind: 'not-found' }],
  ];
  for (const [path, expected] of rows) assert.deepEqual(route('GET', path), expected, path);
  assert.deepEqual(route('POST', '/+ui/'), { kind: 'not-found' }, 'no POST to the web page');
});

test('uiViewOf: /+ui/ routes always, / only for a browser without ?format=, never /simple/ or a project page', () => {
  assert.deepEqual(uiViewOf({ kind: 'root', prefix: '', ui: undefined }, CHROME, null), { page: 'list', uiRoot: '+ui/' });
  assert.equal(uiViewOf({ kind: 'root', prefix: '' }, CHROME, 'html'), undefined);
  assert.equal(uiViewOf({ kind: 'root', prefix: '' }, PIP_ACCEPT, null), undefined);
  assert.equal(uiViewOf({ kind: 'root', prefix: '/simple' }, CHROME, null), undefined);
  assert.equal(uiViewOf({ kind: 'project', prefix: '', project: 'demo' }, CHROME, null), undefined);
  assert.deepEqual(uiViewOf({ kind: 'root', prefix: '/+ui', ui: 'status' }, PIP_ACCEPT, null), { page: 'status', uiRoot: './' });
  assert.deepEqual(uiViewOf({ kind: 'project', prefix: '/+ui', project: 'demo', ui: true }, undefined, null), {
    page: 'project',
    project: 'demo',
    uiRoot: '../',
  });
});

test('search: exact name, then prefix, then substring; normalised query; pages', () => {
  const names = ['abc', 'django', 'django-rest', 'my-django', 'pytest', 'zdjango'];
  assert.deepEqual(searchProjects(names, 'django'), { names: ['django', 'django-rest', 'my-django', 'zdjango'], total: 4 });
  assert.deepEqual(searchProjects(names, ' Django_REST '), { names: ['django-rest'], total: 1 });
  assert.deepEqual(searchProjects(names, 'nothing'), { names: [], total: 0 });
  assert.deepEqual(searchProjects(names, ''), { names, total: 6 });
  assert.deepEqual(searchProjects(names, 'django', 2, 2), { names: ['my-django', 'zdjango'], total: 4 });
  assert.deepEqual(searchProjects(names, '', 2, 4), { names: ['pytest', 'zdjango'], total: 6 });
  assert.deepEqual(searchProjects(names, 'django', 0, 2), { names: ['django', 'django-rest'], total: 4 }, 'page 0 is page 1');
  assert.equal(normalizeQuery('A._-b c'), 'a-b-c');
  assert.equal(normalizeQuery('x'.repeat(500)).length, 200);
});

test('search over 5,000 names answers with one page, fast', () => {
  const names = Array.from({ length: 5000 }, (_, i) => `project-${String(i).padStart(4, '0')}`);
  const result = searchProjects(names, 'project-1');
  assert.equal(result.total, 1000);
  assert.equal(result.names.length, 100);
  assert.equal(result.names[0], 'project-1000');
});

const file = (filename: string, extra: Record<string, unknown> = {}) => ({
  filename,
  url: filename,
  hashes: { sha256: 'a'.repeat(64) },
  size: 10,
  ...extra,
});

test('buildProjectView: PEP 440 newest first, files per version, yanked versions marked and skipped as the default', () => {
  const page = {
    name: 'demo',
    files: [
      file('demo-1.9.tar.gz'),
      file('demo-1.10-py3-none-any.whl', { 'core-metadata': { sha256: 'b'.repeat(64) }, 'requires-python': '>=3.8', 'upload-time': '2024-01-02T03:04:05Z' }),
      file('demo-1.10.tar.gz'),
      file('demo-2.0rc1-py3-none-any.whl'),
      file('demo-2.0-py3-none-any.whl', { yanked: 'broken' }),
      file('demo-2.0.tar.gz', { yanked: true }),
      file('demo-1.0-py3-none-any.whl', { yanked: true }),
      file('not-a-distribution.txt'),
      { url: 'x' },
      'junk',
    ],
  };
  const view = buildProjectView('demo', page, undefined);
  assert.deepEqual(
    view.versions.map((v) => [v.version, v.yanked, v.files.map((f) => f.filename)]),
    [
      ['2.0', 'broken', ['demo-2.0-py3-none-any.whl', 'demo-2.0.tar.gz']],
      ['2.0rc1', undefined, ['demo-2.0rc1-py3-none-any.whl']],
      ['1.10', undefined, ['demo-1.10-py3-none-any.whl', 'demo-1.10.tar.gz']],
      ['1.9', undefined, ['demo-1.9.tar.gz']],
      ['1.0', true, ['demo-1.0-py3-none-any.whl']],
    ],
  );
  assert.equal(view.latest, '2.0rc1');
  assert.equal(view.selected?.version, '2.0rc1');
  assert.equal(buildProjectView('demo', page, '2.0').selected?.version, '2.0', 'a yanked version is shown when asked for');
  const missing = buildProjectView('demo', page, '9.9');
  assert.equal(missing.selected, undefined);
  assert.equal(missing.missingVersion, '9.9');
  const wheel = buildProjectView('demo', page, '1.10').selected?.files[0];
  assert.deepEqual(wheel, {
    filename: 'demo-1.10-py3-none-any.whl',
    hasMetadata: true,
    path: '/demo/demo-1.10-py3-none-any.whl',
    href: '../../demo/demo-1.10-py3-none-any.whl',
    size: 10,
    sha256: 'a'.repeat(64),
    uploadTime: '2024-01-02T03:04:05Z',
    requiresPython: '>=3.8',
  });
  assert.equal(metadataFileOf(buildProjectView('demo', page, '1.10').selected)?.filename, 'demo-1.10-py3-none-any.whl');
  assert.equal(metadataFileOf(buildProjectView('demo', page, '1.9').selected), undefined, 'an sdist has no .metadata');
  assert.deepEqual(buildProjectView('demo', { files: 'x' }, undefined).versions, []);
  assert.deepEqual(buildProjectView('demo', undefined, undefined).versions, []);
});

test('file links stay on this server: relative URLs resolve from the project page, others get no link', () => {
  const rows: [string, string | undefined][] = [
    ['demo-1.0.tar.gz', '/demo/demo-1.0.tar.gz'],
    ['../demo-1.0.tar.gz', '/demo-1.0.tar.gz'],
    ['../../../../etc/passwd', '/etc/passwd'],
    ['/demo/x.whl', '/demo/x.whl'],
    ['https://files.example/demo-1.0.tar.gz', undefined],
    ['//other.example/x.whl', undefined],
    ['javascript:alert(1)', undefined],
    ['data:text/html,<script>alert(1)</script>', undefined],
  ];
  for (const [url, expected] of rows) assert.equal(filePathOf('demo', url), expected, url);
  const view = buildProjectView('demo', { files: [file('demo-1.0.tar.gz', { url: 'javascript:alert(1)' })] }, undefined);
  assert.equal(view.selected?.files[0]?.href, undefined);
});

test('withMetadataText cuts a huge description', () => {
  const view = buildProjectView('demo', { files: [] }, undefined);
  const long = withMetadataText(view, { name: 'Demo', summary: 's', description: 'x'.repeat(MAX_DESCRIPTION_CHARS + 5) });
  assert.equal(long.description?.length, MAX_DESCRIPTION_CHARS);
  assert.equal(long.isDescriptionCut, true);
  assert.equal(long.displayName, 'Demo');
  assert.equal(withMetadataText(view, { description: 'short' }).isDescriptionCut, undefined);
});

test('status figures come from the metrics series and the /health body', () => {
  const values = {
    'dib_pypi_cache_requests_total|kind="file",result="hit"': 3,
    'dib_pypi_cache_requests_total|kind="page",result="hit"': 2,
    'dib_pypi_cache_requests_total|kind="page",result="miss"': 1,
    'dib_pypi_cache_requests_total|kind="page",result="stale"': 4,
    'dib_pypi_uploads_total|outcome="stored"': 5,
    'dib_pypi_uploads_total|outcome="unauthorized"': 1,
    'dib_pypi_http_requests_total|route="root",code="200"': 7,
    'dib_pypi_http_requests_total|route="file",code="404"': 2,
    'dib_pypi_open_connections|': 1,
  };
  assert.deepEqual(sumByLabel(values, 'dib_pypi_cache_requests_total', 'result'), { hit: 5, miss: 1, stale: 4 });
  const view = buildStatusView({
    version: '1.2.3',
    uptimeSeconds: 90,
    processes: 2,
    values,
    health: {
      status: 'degraded',
      problems: [{ message: 'upstream http://u/ is failing: timeout' }, 'junk'],
      offline: false,
      upstreams: [{ url: 'http://u/', state: 'down', lastError: 'timeout' }, { nope: 1 }],
    },
    isCache: true,
    hasUploads: true,
    mirror: { projects: 3, files: 4, bytes: 5 },
    listedProjects: 3,
  });
  assert.deepEqual(view, {
    uiRoot: './',
    version: '1.2.3',
    uptimeSeconds: 90,
    processes: 2,
    listedProjects: 3,
    mirror: { projects: 3, files: 4, bytes: 5 },
    health: { status: 'degraded', problems: ['upstream http://u/ is failing: timeout'] },
    uploads: { enabled: true, outcomes: { stored: 5, unauthorized: 1 } },
    requests: 9,
    cache: { offline: false, upstreams: [{ url: 'http://u/', state: 'down', lastError: 'timeout' }], results: { hit: 5, miss: 1, stale: 4 } },
  });
  const plain = buildStatusView({ uptimeSeconds: 1, processes: 1, values: {}, health: {}, isCache: false, hasUploads: false, listedProjects: 0 });
  assert.equal(plain.cache, undefined);
  assert.equal(plain.health.status, 'unknown');
});
