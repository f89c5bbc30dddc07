// The web page of `dib-pypi serve`, driven in real headless Chromium (playwright-core, the system's
// browser) on a mirror of 5,002 projects: search as you type, a project page, the status page, a
// description that holds a script, the same pages without JavaScript; and pip and curl still get
// the simple index. Screenshots of each page go to $DIB_PYPI_TEST_ARTIFACTS/serve-webui (or a kept
// temp directory), printed by the test.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { execa } from 'execa';
import { chromium, type Browser, type Page } from 'playwright-core';
import { formatBytes } from '../../../src/server/ui/render-layout.js';
import { runCli } from '../../helpers/cli.js';
import { httpRequest } from '../../helpers/http-get.js';
import { makeSdist, makeWheel } from '../../helpers/make-dist.js';
import { PIP_ACCEPT } from '../../helpers/negotiation.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { hasCommand, need } from '../../helpers/require.js';
import { startServe } from '../../helpers/serve.js';

const CHROMIUM = '/usr/bin/chromium';
const FILLERS = 5000;
const PROJECTS = FILLERS + 2;
const EVIL_DESCRIPTION = 'Before.\n<script>alert(1)</script>\n<img src=x onerror="alert(2)">\nAfter.';
const EVIL_SUMMARY = '<b>Not bold</b> & <i>not italic</i>';
const YANK_REASON = 'broken <build> & "quotes"';

/** Where the screenshots go: kept after the test (not in the repository). */
function artifactsDir(): string {
  const base = process.env.DIB_PYPI_TEST_ARTIFACTS;
  if (base === undefined || base === '') return mkdtempSync(join(tmpdir(), 'dib-pypi-webui-artifacts-'));
  const dir = join(base, 'serve-webui');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** demo (1.0 wheel and sdist, 2.0 yanked), evil-pkg (a description with a script), and 5,000 small projects; indexed by the real CLI. */
async function makeMirror(dir: string): Promise<string[]> {
  const files: string[] = [];
  files.push(await makeWheel(join(dir, 'demo'), { name: 'demo', version: '1.0', requiresPython: '>=3.7' }));
  files.push(makeSdist(join(dir, 'demo'), { name: 'demo', version: '1.0' }));
  files.push(await makeWheel(join(dir, 'demo'), { name: 'demo', version: '2.0' }));
  writeFileSync(join(dir, 'demo', 'demo-2.0-py3-none-any.whl.yanked'), YANK_REASON);
  const evilMetadata = `Metadata-Version: 2.1\nName: evil-pkg\nVersion: 0.1\nSummary: ${EVIL_SUMMARY}\n\n${EVIL_DESCRIPTION}\n`;
  files.push(await makeWheel(join(dir, 'evil-pkg'), { name: 'evil-pkg', version: '0.1', metadata: evilMetadata }));
  for (let i = 0; i < FILLERS; i++) {
    const name = `filler-${String(i).padStart(4, '0')}`;
    files.push(await makeWheel(join(dir, name), { name, version: '1.0' }));
  }
  const indexed = runCli(['mirror', 'index', dir]);
  assert.equal(indexed.status, 0, indexed.stderr);
  return files;
}

/** Dialogs opened (none may be), Content-Security-Policy reports and script errors of a page, and failed requests (but the browser's own favicon.ico). */
function watch(page: Page): { dialogs: string[]; problems: string[] } {
  const seen = { dialogs: [] as string[], problems: [] as string[] };
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) seen.problems.push(`${response.status()} ${response.url()}`);
  });
  page.on('dialog', (dialog) => {
    seen.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    // A failed request is reported as a console error too: the responses above judge those.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) seen.problems.push(message.text());
  });
  page.on('pageerror', (error) => seen.problems.push(error.message));
  return seen;
}

/** The page's globals as the predicates run in it use them (this test compiles without the DOM library). */
type PageGlobals = { document: { querySelector(selector: string): { textContent: string | null } | null } };

/** Run in the page (a function, not a string: the page's Content-Security-Policy forbids eval): the element's text starts with `prefix`. */
function textStartsWith([selector, prefix]: string[]): boolean {
  if (selector === undefined || prefix === undefined) return false;
  return (globalThis as unknown as PageGlobals).document.querySelector(selector)?.textContent?.startsWith(prefix) === true;
}

const countText = (page: Page) => page.locator('#count').textContent();
const resultNames = (page: Page) => page.locator('#results li a').allTextContents();

test('the web page in headless Chromium: search as you type, project page, status, a script in a description stays text, no JavaScript needed', async (t: TestContext) => {
  if (!need(t, existsSync(CHROMIUM), `${CHROMIUM} is missing; install Debian's chromium`)) return;
  if (!need(t, hasCommand('curl'), 'curl is missing')) return;
  const pipProblem = await debianPipProblem();
  if (!need(t, pipProblem === undefined, pipProblem ?? '')) return;
  await using mirror = makeTempDir('dib-pypi-webui-');
  const files = await makeMirror(mirror.path);
  await using server = await startServe([mirror.path]);
  const base = server.url.replace(/\/$/, '');
  const artifacts = artifactsDir();
  t.diagnostic(`screenshots: ${artifacts}`);
  const shot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, name), fullPage: true });

  await t.test('pip and curl get the simple index, unchanged, at / and /simple/', async () => {
    const html = readFileSync(join(mirror.path, 'index.html'));
    for (const path of ['/', '/simple/']) {
      for (const accept of ['*/*', 'text/html']) {
        const curl = await execa('curl', ['-sS', '--fail', '-H', `Accept: ${accept}`, base + path], { encoding: 'buffer', stripFinalNewline: false });
        assert.deepEqual(Buffer.from(curl.stdout), html, `curl -H 'Accept: ${accept}' ${path}`);
      }
      const pip = await httpRequest(base + path, { headers: { Accept: PIP_ACCEPT } });
      assert.deepEqual(pip.body, readFileSync(join(mirror.path, 'index.json')), `pip's Accept at ${path}`);
    }
    for (const index of [`${base}/`, `${base}/simple/`]) {
      await using target = makeTempDir('dib-pypi-webui-pip-');
      const pip = await execa(
        DEBIAN_PYTHON,
        ['-m', 'pip', 'install', '--isolated', '--no-cache-dir', '--disable-pip-version-check', '--index-url', index, '--target', target.path, 'demo'],
        { env: envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' }), extendEnv: false, reject: false },
      );
      assert.equal(pip.exitCode, 0, `pip install from ${index}:\n${pip.stdout}\n${pip.stderr}`);
      assert.ok(existsSync(join(target.path, 'demo-1.0.dist-info')), `pip installed 1.0 (2.0 is yanked) from ${index}:\n${pip.stdout}`);
    }
  });

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    const page = await context.newPage();
    const seen = watch(page);

    await t.test('at / a browser gets the project list: one page of names, never all 5,002', async () => {
      const response = await page.goto(`${base}/`);
      assert.equal(response?.status(), 200);
      assert.match(String(response?.headers()['content-security-policy']), /^default-src 'none'; script-src 'sha256-/);
      assert.equal(await page.locator('h1').textContent(), 'Projects');
      assert.equal(await countText(page), `${PROJECTS.toLocaleString('en-US')} projects in this mirror; showing 1-100.`);
      assert.equal(await page.locator('#results li').count(), 100);
      await shot(page, 'webui-list.png');
    });

    await t.test('the list narrows as the user types, without reloading the page, within a moment', async () => {
      await page.evaluate('window.samePage = true');
      const input = page.locator('#q');
      await input.focus();
      const steps: [typed: string, total: string, shown: number][] = [
        ['filler-1', '1,000', 100],
        ['2', '100', 100],
        ['3', '10', 10],
        ['4', '1', 1],
      ];
      for (const [typed, total, shown] of steps) {
        const started = Date.now();
        await input.pressSequentially(typed, { delay: 20 });
        await page.waitForFunction(textStartsWith, ['#count', `${total} project`], { timeout: 5000 });
        assert.ok(Date.now() - started < 3000, `"${typed}": the list took ${Date.now() - started} ms to follow`);
        assert.equal(await page.locator('#results li').count(), shown, `after typing "${typed}"`);
      }
      assert.deepEqual(await resultNames(page), ['filler-1234']);
      assert.equal(await countText(page), `1 project of ${PROJECTS.toLocaleString('en-US')} match \u201cfiller-1234\u201d.`);
      assert.equal(await page.evaluate('window.samePage'), true, 'no page load: the script asked');
      assert.match(page.url(), /\/\?q=filler-1234$/, 'the address keeps the query');
      await shot(page, 'webui-search.png');
      await input.fill('');
      await input.pressSequentially('demo');
      await page.waitForFunction(textStartsWith, ['#count', '1 project']);
      await page.locator('#results a', { hasText: 'demo' }).click();
      await page.waitForURL(/\/\+ui\/demo\/$/);
    });

    await t.test('a project page: versions newest first with the yank reason, files, the pip line and its copy button', async () => {
      assert.equal(await page.locator('h1').textContent(), 'demo 1.0');
      assert.deepEqual(await page.locator('ol.versions li').allTextContents(), [`2.0 yanked: ${YANK_REASON}`, '1.0']);
      assert.equal(await page.locator('#pip-line').textContent(), 'pip install demo==1.0');
      const rows = await page.locator('#files-h + .table-wrap tbody tr').allTextContents();
      assert.equal(rows.length, 2);
      const wheel = files.find((f) => f.endsWith('demo-1.0-py3-none-any.whl')) as string;
      const row = rows.find((r) => r.startsWith('demo-1.0-py3-none-any.whl')) ?? '';
      assert.ok(row.includes(formatBytes(statSync(wheel).size)), row);
      assert.ok(row.includes('>=3.7'), row);
      const sha = await httpRequest(`${base}/demo/`, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' } });
      const listed = JSON.parse(sha.body.toString()).files.find((f: { filename: string }) => f.filename === 'demo-1.0-py3-none-any.whl');
      assert.ok(row.includes(listed.hashes.sha256), row);
      const copy = page.locator('button[data-copy="pip-line"]');
      assert.equal(await copy.isVisible(), true, 'the script shows the copy button');
      await copy.click();
      await page.waitForFunction(textStartsWith, ['button[data-copy]', 'Copied']);
      assert.equal(await page.evaluate('navigator.clipboard.readText()'), 'pip install demo==1.0');
      const download = await httpRequest(new URL((await page.locator('tbody a').first().getAttribute('href')) as string, page.url()).href);
      assert.equal(download.status, 200, 'the file link downloads');
      await shot(page, 'webui-project.png');
      await page.locator('ol.versions a', { hasText: '2.0' }).click();
      await page.waitForURL(/\?v=2\.0$/);
      assert.equal(await page.locator('.yanked').first().textContent(), `This version is yanked: ${YANK_REASON}`);
    });

    await t.test('a description and a summary holding markup show as text, and no dialog opens', async () => {
      await page.goto(`${base}/+ui/evil-pkg/`);
      assert.equal(await page.locator('pre.description').textContent(), EVIL_DESCRIPTION);
      assert.equal(await page.locator('p.summary').textContent(), EVIL_SUMMARY);
      assert.equal(await page.locator('script').count(), 1, 'only the page script');
      assert.equal(await page.locator('main img, main b, main i').count(), 0);
      await page.waitForTimeout(300);
      await shot(page, 'webui-script-description.png');
    });

    await t.test('the status page shows the mirror, version and uptime', async () => {
      await page.goto(`${base}/+ui/+status`);
      const bytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
      assert.equal(await page.locator('#status-projects').textContent(), PROJECTS.toLocaleString('en-US'));
      assert.equal(await page.locator('#status-files').textContent(), files.length.toLocaleString('en-US'));
      assert.equal(await page.locator('#status-size').textContent(), formatBytes(bytes));
      const version = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')).version;
      assert.equal(await page.locator('#status-version').textContent(), version);
      assert.match(String(await page.locator('#status-uptime').textContent()), /^\d+ (s|min \d+ s)$/);
      assert.equal(await page.locator('#status-health').textContent(), 'ok');
      assert.match(String(await page.locator('#status-requests').textContent()), /^\d[\d,]*$/);
      await shot(page, 'webui-status.png');
    });

    await t.test('keyboard focus is visible, and dark mode has its own colours', async () => {
      await page.goto(`${base}/+ui/`);
      await page.keyboard.press('Tab');
      const focus = await page.evaluate('({ text: document.activeElement.textContent, outline: getComputedStyle(document.activeElement).outlineStyle })');
      assert.deepEqual(focus, { text: 'Skip to content', outline: 'solid' });
      const light = await page.evaluate('getComputedStyle(document.body).backgroundColor');
      await page.emulateMedia({ colorScheme: 'dark' });
      const dark = await page.evaluate('getComputedStyle(document.body).backgroundColor');
      assert.deepEqual([light, dark], ['rgb(255, 255, 255)', 'rgb(13, 17, 23)']);
      await shot(page, 'webui-list-dark.png');
    });

    assert.deepEqual(seen.dialogs, [], 'no dialog opened');
    assert.deepEqual(seen.problems, [], 'no script error and no Content-Security-Policy report');
    await context.close();

    await t.test('without JavaScript: the search form, the project page and the status page work', async () => {
      const plain = await browser.newContext({ javaScriptEnabled: false });
      const page2 = await plain.newPage();
      const seen2 = watch(page2);
      await page2.goto(`${base}/`);
      assert.equal(await page2.locator('#results li').count(), 100);
      await page2.locator('#q').fill('filler-123');
      await page2.keyboard.press('Enter');
      await page2.waitForURL(/\/\+ui\/\?q=filler-123$/);
      assert.deepEqual(
        await resultNames(page2),
        Array.from({ length: 10 }, (_, i) => `filler-123${i}`),
      );
      await shot(page2, 'webui-nojs-search.png');
      await page2.goto(`${base}/+ui/`);
      await page2.locator('a[rel="next"]').click();
      await page2.waitForURL(/\?page=2$/);
      assert.equal((await resultNames(page2))[0], 'filler-0098', 'page 2 of the list');
      await page2.goto(`${base}/+ui/demo/`);
      assert.equal(await page2.locator('#pip-line').textContent(), 'pip install demo==1.0');
      assert.equal(await page2.locator('button[data-copy]').isVisible(), false, 'no copy button without the script');
      await page2.locator('ol.versions a', { hasText: '2.0' }).click();
      await page2.waitForURL(/\?v=2\.0$/);
      assert.match(String(await page2.locator('h1').textContent()), /^demo 2\.0$/);
      await shot(page2, 'webui-nojs-project.png');
      await page2.goto(`${base}/+ui/evil-pkg/`);
      assert.equal(await page2.locator('pre.description').textContent(), EVIL_DESCRIPTION);
      await page2.goto(`${base}/+ui/+status`);
      assert.equal(await page2.locator('#status-files').textContent(), files.length.toLocaleString('en-US'));
      assert.deepEqual(seen2.dialogs, []);
      await plain.close();
    });
  } finally {
    await browser.close();
  }
});
