// The web page's renderers: every package-controlled text escaped wherever it lands, the pages'
// structure (landmarks, labels, no-JS forms), the formatters, and the CSP hashes of the inline style and script.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { UI_CONTENT_SECURITY_POLICY } from '../../../src/server/ui-pages.js';
import type { ListView, ProjectView, StatusView } from '../../../src/server/ui/model.js';
import { formatBytes, formatDuration, formatTime } from '../../../src/server/ui/render-layout.js';
import { listSummary, renderListPage, renderSearchJson } from '../../../src/server/ui/render-list.js';
import { pipInstallLine, renderProjectPage } from '../../../src/server/ui/render-project.js';
import { renderStatusPage } from '../../../src/server/ui/render-status.js';

/** Text that breaks out of an element, an attribute (either quote) and a URL if it is not escaped. */
const EVIL = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`;
const ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;&amp;';

/** The page holds `text` only escaped, never as markup: one <script> (ours), no <img>, no stray quote. */
function assertEscaped(html: string, field: string): void {
  assert.equal(html.includes(EVIL), false, `${field}: raw text in the page`);
  assert.ok(html.includes(ESCAPED) || html.includes(encodeURIComponent(EVIL).replaceAll("'", '&#39;')), `${field}: not found escaped`);
  assert.equal(html.match(/<script/g)?.length, 1, `${field}: one script element, ours`);
  assert.equal(/<img/i.test(html), false, `${field}: no element from the text`);
}

function project(overrides: Partial<ProjectView> = {}): ProjectView {
  const files = [
    {
      filename: 'demo-1.0-py3-none-any.whl',
      path: '/demo/demo-1.0-py3-none-any.whl',
      href: '../../demo/demo-1.0-py3-none-any.whl',
      size: 2048,
      sha256: 'ab'.repeat(32),
      uploadTime: '2024-01-02T03:04:05Z',
      requiresPython: '>=3.8',
      hasMetadata: true,
    },
  ];
  const selected = { version: '1.0', files };
  return { uiRoot: '../', project: 'demo', versions: [{ version: '2.0', files: [], yanked: 'bad build' }, selected], selected, latest: '1.0', ...overrides };
}

test('every package-controlled field of a project page is escaped: name, version, summary, description, requires-python, filename, yank reason, link', () => {
  const evilFile = {
    filename: EVIL,
    href: `../../demo/${EVIL}`,
    size: 1,
    sha256: 'ab'.repeat(32),
    uploadTime: EVIL,
    requiresPython: EVIL,
    yanked: EVIL,
    hasMetadata: true,
  };
  const evilVersion = { version: EVIL, files: [evilFile], yanked: EVIL };
  const cases: [string, ProjectView][] = [
    ['display name', project({ displayName: EVIL })],
    ['project', project({ project: EVIL })],
    ['summary', project({ summary: EVIL })],
    ['description', project({ description: EVIL })],
    ['version', project({ versions: [evilVersion], selected: { ...evilVersion, yanked: undefined } })],
    ['selected yanked version and reason', project({ versions: [evilVersion], selected: evilVersion })],
    ['missing version asked for', project({ selected: undefined, missingVersion: EVIL })],
  ];
  for (const [field, view] of cases) assertEscaped(renderProjectPage(view), field);
  const html = renderProjectPage(project({ versions: [evilVersion], selected: evilVersion }));
  const escapedAt: [field: string, where: string][] = [
    ['filename', `">${ESCAPED}</a> <span class="yanked">yanked: ${ESCAPED}</span></th>`],
    ['requires-python', `<td><code>${ESCAPED}</code></td>`],
    ['upload time (not a time: shown as text)', `<td>${ESCAPED}</td>`],
    ['version heading', `<h2 id="files-h">Files of ${ESCAPED}</h2>`],
    ['version yank reason', `<span class="yanked">This version is yanked: ${ESCAPED}</span>`],
    ['install line', `<code id="pip-line">pip install &#39;demo==${ESCAPED.replaceAll('&#39;', '&#39;\\&#39;&#39;')}&#39;</code>`],
  ];
  for (const [field, where] of escapedAt) assert.ok(html.includes(where), `${field}: ${where}`);
  assert.ok(html.includes(`href="../../demo/${ESCAPED}"`), 'the link is an escaped attribute');
  assert.ok(html.includes(`href="?v=${encodeURIComponent(EVIL).replaceAll("'", '&#39;')}"`), 'version links are percent-encoded');
});

test('a description is text: markup, entities and a closing </pre> stay text', () => {
  const html = renderProjectPage(project({ description: '</pre><script>alert(1)</script>\n&amp; <b>x</b>' }));
  assert.ok(html.includes('<pre class="description">&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;\n&amp;amp; &lt;b&gt;x&lt;/b&gt;</pre>'));
});

test('the project page: heading, summary, install line with a hidden copy button, files with size, time, requires-python, sha256; versions newest first', () => {
  const html = renderProjectPage(project({ displayName: 'Demo', summary: 'A demo.', description: 'Long text.' }));
  assert.ok(html.includes('<h1>Demo <span class="muted">1.0</span></h1>'));
  assert.ok(html.includes('<p class="summary">A demo.</p>'));
  assert.ok(html.includes('<code id="pip-line">pip install demo==1.0</code><button type="button" data-copy="pip-line" hidden>Copy</button>'));
  assert.ok(html.includes('<a href="../../demo/demo-1.0-py3-none-any.whl">demo-1.0-py3-none-any.whl</a>'));
  assert.ok(html.includes('<td class="num">2.0 KiB</td><td>2024-01-02 03:04 UTC</td><td><code>&gt;=3.8</code></td>'));
  assert.ok(html.includes(`<code>${'ab'.repeat(32)}</code>`));
  assert.ok(
    html.includes('<li><a href="?v=2.0">2.0</a> <span class="yanked">yanked: bad build</span></li>\n<li><a href="?v=1.0" aria-current="page">1.0</a></li>'),
  );
  assert.ok(html.includes('<pre class="description">Long text.</pre>'));
  for (const landmark of ['<main id="main"', '<nav aria-label="Site">', '<nav aria-label="Breadcrumb">', '<a class="skip" href="#main">'])
    assert.ok(html.includes(landmark), landmark);
  const yanked = renderProjectPage(project({ selected: { version: '2.0', files: [], yanked: true } }));
  assert.ok(yanked.includes('This version is yanked</span>'));
  const empty = renderProjectPage(project({ versions: [], selected: undefined, latest: undefined }));
  assert.ok(empty.includes('This project has no files in this mirror.'));
  assert.equal(empty.includes('pip-line'), false);
});

test('pipInstallLine quotes a requirement a shell would split', () => {
  const rows: [string, string, string][] = [
    ['demo', '1.0', 'pip install demo==1.0'],
    ['demo', '1.0+local.1', 'pip install demo==1.0+local.1'],
    ['demo', '1!2.0.post1', 'pip install demo==1!2.0.post1'],
    ['demo', '1.0;rm -rf', "pip install 'demo==1.0;rm -rf'"],
    ['demo', "1'0", "pip install 'demo==1'\\''0'"],
    ['demo', '$(x)', "pip install 'demo==$(x)'"],
  ];
  for (const [name, version, line] of rows) assert.equal(pipInstallLine(name, version), line, version);
});

function list(overrides: Partial<ListView> = {}): ListView {
  return { uiRoot: './', query: '', names: ['alpha', 'beta'], total: 2, projectCount: 2, page: 1, pageSize: 100, ...overrides };
}

test('the project list: a labelled search form that works without JavaScript, one page of names, page links', () => {
  const html = renderListPage(list({ uiRoot: '+ui/' }));
  assert.ok(html.includes('<form id="search" role="search" action="+ui/" method="get" data-root="+ui/" data-search="+ui/+search">'));
  assert.ok(html.includes('<label for="q">Search projects by name</label>'));
  assert.ok(html.includes('<input id="q" name="q" type="search" value=""'));
  assert.ok(html.includes('<li><a href="+ui/alpha/">alpha</a></li>\n<li><a href="+ui/beta/">beta</a></li>'));
  assert.ok(html.includes('<p id="count" aria-live="polite">2 projects in this mirror.</p>'));
  const paged = renderListPage(list({ query: 'a b', names: ['x'], total: 250, projectCount: 5000, page: 2 }));
  assert.ok(paged.includes('<a rel="prev" href="?q=a+b">Previous page</a> <a rel="next" href="?q=a+b&amp;page=3">Next page</a>'));
  assert.equal(
    listSummary(list({ query: 'a', names: ['a'], total: 250, projectCount: 5000, page: 2 })),
    '250 projects of 5,000 match \u201ca\u201d; showing 101-101.',
  );
  assert.equal(listSummary(list({ query: 'zz', names: [], total: 0 })), '0 projects of 2 match \u201czz\u201d.');
});

test('the query and the names are escaped in the list page, its summary and the search answer', () => {
  assertEscaped(renderListPage(list({ query: EVIL })), 'query');
  assertEscaped(renderListPage(list({ names: [EVIL] })), 'name');
  const answer = JSON.parse(renderSearchJson(list({ query: EVIL, names: [EVIL] })));
  assert.deepEqual(answer.names, [EVIL], 'JSON carries the text as it is: the script sets it as text');
  assert.ok(renderSearchJson(list({ query: '</script>' })).includes('</script>') === true, 'JSON, not HTML: served as application/json');
});

function status(overrides: Partial<StatusView> = {}): StatusView {
  return {
    uiRoot: './',
    version: '0.1.0',
    uptimeSeconds: 3725,
    processes: 1,
    mirror: { projects: 5000, files: 5003, bytes: 5 * 1024 * 1024 },
    listedProjects: 5000,
    health: { status: 'ok', problems: [] },
    uploads: { enabled: true, outcomes: { stored: 2 } },
    requests: 12,
    ...overrides,
  };
}

test('the status page shows the mirror, the cache, uploads, version and uptime; upstream text is escaped', () => {
  const html = renderStatusPage(
    status({ cache: { offline: false, upstreams: [{ url: EVIL, state: 'down', lastError: EVIL }], results: { hit: 3, miss: 1, stale: 2 } } }),
  );
  assert.ok(html.includes('<dd id="status-files">5,003</dd>'));
  assert.ok(html.includes('<dd id="status-size">5.0 MiB</dd>'));
  assert.ok(html.includes('<dd id="status-uptime">1 h 2 min</dd>'));
  assert.ok(html.includes('<dd id="status-version">0.1.0</dd>'));
  assert.ok(html.includes('<dt>hit</dt><dd>3</dd><dt>miss</dt><dd>1</dd><dt>stale</dt><dd>2</dd>'));
  assert.ok(html.includes('<dt>stored</dt><dd>2</dd>'));
  assertEscaped(html, 'upstream');
  assertEscaped(renderStatusPage(status({ health: { status: 'degraded', problems: [EVIL] } })), 'problem');
  const bare = renderStatusPage(status({ mirror: undefined, uploads: { enabled: false, outcomes: {} } }));
  assert.ok(bare.includes('unknown: the mirror has not been indexed by dib-pypi'));
  assert.ok(bare.includes('Uploads are not enabled on this server.'));
  assert.ok(bare.includes('Not a pull-through cache'));
});

test('formatters', () => {
  const bytes: [number, string][] = [
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024 * 1024, '10 MiB'],
    [3 * 1024 ** 4, '3.0 TiB'],
  ];
  for (const [n, text] of bytes) assert.equal(formatBytes(n), text);
  const durations: [number, string][] = [
    [0, '0 s'],
    [59.9, '59 s'],
    [61, '1 min 1 s'],
    [3600, '1 h 0 min'],
    [90061, '1 d 1 h'],
  ];
  for (const [s, text] of durations) assert.equal(formatDuration(s), text);
  assert.equal(formatTime('2024-05-01T12:30:59.123456Z'), '2024-05-01 12:30 UTC');
  assert.equal(formatTime('2024-05-01T12:30:00+00:00'), '2024-05-01 12:30 UTC');
  assert.equal(formatTime('yesterday'), 'yesterday');
});

test('the Content-Security-Policy allows exactly the inline style and script every page carries, by hash, and nothing else', () => {
  const html = renderListPage(list());
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] as string;
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] as string;
  const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
  assert.ok(UI_CONTENT_SECURITY_POLICY.includes(`script-src ${hash(script)};`));
  assert.ok(UI_CONTENT_SECURITY_POLICY.includes(`style-src ${hash(style)};`));
  assert.ok(UI_CONTENT_SECURITY_POLICY.startsWith("default-src 'none';"));
  assert.equal(/unsafe|\*/.test(UI_CONTENT_SECURITY_POLICY), false);
  assert.equal(/ style=| on[a-z]+=/i.test(html), false, 'no inline style or handler attributes, which the policy would block');
});
