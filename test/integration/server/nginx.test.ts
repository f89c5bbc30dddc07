// The nginx fixture: Debian's nginx serves a mirror tree with PEP 691 Accept negotiation, real pip
// reads it over HTTP, and stopping it leaves no nginx process behind.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { execa } from 'execa';
import { makeWheel, writeSimpleIndex } from '../../helpers/make-dist.js';
import { childPidsOf, isNginxProcess, nginxProblem, startNginx } from '../../helpers/nginx.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { hasCommand, isRequired, need } from '../../helpers/require.js';
import { JSON_TYPE, NEGOTIATION, PIP_ACCEPT } from '../../helpers/negotiation.js';

function canRun(t: TestContext): boolean {
  const problem = nginxProblem() ?? (hasCommand('curl') ? undefined : "curl is missing: install Debian's curl");
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  return need(t, problem === undefined, problem ?? '');
}

interface Fetched {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** GET `url` with curl; `accept` undefined sends no Accept header at all (curl's default is `*\/*`). */
async function curl(url: string, accept?: string): Promise<Fetched> {
  await using tmp = makeTempDir('dib-pypi-curl-');
  const body = join(tmp.path, 'body');
  const headers = join(tmp.path, 'headers');
  const args = ['-sS', '-o', body, '-D', headers, '-w', '%{http_code}', '-H', accept === undefined ? 'Accept:' : `Accept: ${accept}`, url];
  const result = await execa('curl', args);
  const lines = readFileSync(headers, 'latin1')
    .split('\r\n')
    .slice(1)
    .filter((l) => l.includes(':'));
  const map = new Map(lines.map((l): [string, string] => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(result.stdout), headers: map, body: existsSync(body) ? readFileSync(body) : Buffer.alloc(0) };
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A hand-made mirror tree: root and project pages in both formats, a wheel, its .metadata, an sdist, a manifest. */
async function makeTree(root: string): Promise<{ wheel: Buffer; metadata: Buffer }> {
  const project = join(root, 'demo-pkg');
  const wheelPath = await makeWheel(project, { name: 'demo-pkg', version: '1.0' });
  const wheel = readFileSync(wheelPath);
  const metadata = Buffer.from('Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0\n');
  writeFileSync(`${wheelPath}.metadata`, metadata);
  writeFileSync(join(project, 'demo_pkg-1.0.tar.gz'), Buffer.from([0x1f, 0x8b, 8, 0]));
  const file = 'demo_pkg-1.0-py3-none-any.whl';
  writeFileSync(join(root, 'index.html'), '<!DOCTYPE html><html><body><a href="demo-pkg/">demo-pkg</a></body></html>\n');
  writeFileSync(join(root, 'index.json'), JSON.stringify({ meta: { 'api-version': '1.1' }, projects: [{ name: 'demo-pkg' }] }) + '\n');
  writeFileSync(join(project, 'index.html'), `<!DOCTYPE html><html><body><a href="${file}#sha256=${sha256(wheel)}">${file}</a></body></html>\n`);
  const files = [{ filename: file, url: file, hashes: { sha256: sha256(wheel) } }];
  writeFileSync(join(project, 'index.json'), JSON.stringify({ meta: { 'api-version': '1.1' }, name: 'demo-pkg', files, versions: ['1.0'] }) + '\n');
  mkdirSync(join(root, '.dib-pypi'));
  writeFileSync(join(root, '.dib-pypi', 'manifest.json'), '{}\n');
  return { wheel, metadata };
}

test('nginx answers index.json or index.html by the Accept header (PEP 691), and serves files', async (t) => {
  if (!canRun(t)) return;
  await using tree = makeTempDir('dib-pypi-nginx-tree-');
  const { wheel, metadata } = await makeTree(tree.path);
  await using server = await startNginx(tree.path);

  for (const path of ['', 'demo-pkg/']) {
    const onDisk = (page: 'json' | 'html') => readFileSync(join(tree.path, path, `index.${page}`));
    for (const [accept, page] of NEGOTIATION) {
      const got = await curl(server.url + path, accept);
      const what = `GET /${path} Accept: ${accept ?? '(none)'}`;
      assert.equal(got.status, 200, what);
      assert.deepEqual(got.body, onDisk(page), `${what}: expected index.${page}`);
      assert.match(got.headers.get('content-type') ?? '', page === 'json' ? /^application\/vnd\.pypi\.simple\.v1\+json$/ : /^text\/html(;|$)/, what);
      assert.equal(got.headers.get('vary'), 'Accept', what);
    }
  }

  const downloaded = await curl(`${server.url}demo-pkg/demo_pkg-1.0-py3-none-any.whl`, PIP_ACCEPT);
  assert.equal(downloaded.status, 200);
  assert.equal(downloaded.headers.get('content-type'), 'application/octet-stream');
  assert.deepEqual(downloaded.body, wheel);
  const sdist = await curl(`${server.url}demo-pkg/demo_pkg-1.0.tar.gz`);
  assert.equal(sdist.headers.get('content-type'), 'application/octet-stream');
  const pep658 = await curl(`${server.url}demo-pkg/demo_pkg-1.0-py3-none-any.whl.metadata`);
  assert.equal(pep658.status, 200);
  assert.match(pep658.headers.get('content-type') ?? '', /^text\/plain(;|$)/);
  assert.deepEqual(pep658.body, metadata);

  assert.equal((await curl(`${server.url}.dib-pypi/manifest.json`)).status, 404, 'the manifest is never served');
  assert.equal((await curl(`${server.url}no-such-project/`)).status, 404);
  const redirect = await curl(`${server.url}demo-pkg`);
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.get('location'), '/demo-pkg/', 'relative redirect, so the tree also works behind a proxy');
});

test('a page without index.json is answered with index.html, even when JSON is preferred', async (t) => {
  if (!canRun(t)) return;
  await using tree = makeTempDir('dib-pypi-nginx-html-');
  mkdirSync(join(tree.path, 'only-html'));
  writeFileSync(join(tree.path, 'only-html', 'index.html'), '<!DOCTYPE html><html><body></body></html>\n');
  await using server = await startNginx(tree.path);
  const got = await curl(`${server.url}only-html/`, JSON_TYPE);
  assert.equal(got.status, 200);
  assert.match(got.headers.get('content-type') ?? '', /^text\/html/);
});

test('stop and dispose end the nginx master and its workers, and remove its directory', async (t) => {
  if (!canRun(t)) return;
  await using tree = makeTempDir('dib-pypi-nginx-stop-');
  writeFileSync(join(tree.path, 'index.html'), 'root\n');

  const server = await startNginx(tree.path);
  const pids = [server.pid, ...childPidsOf(server.pid)];
  assert.ok(pids.length >= 2, `expected a master and a worker, got pids ${pids.join(', ')}`);
  assert.ok(pids.every(isNginxProcess));
  await server.stop();
  await server.stop(); // idempotent
  for (const pid of pids) assert.equal(isNginxProcess(pid), false, `nginx pid ${pid} still running after stop()`);
  assert.equal(existsSync(server.dir), false, `${server.dir} left behind`);
  await assert.rejects(execa('curl', ['-sS', '--max-time', '5', server.url]), 'nothing answers after stop()');

  let disposed: { pids: number[]; dir: string } | undefined;
  {
    await using scoped = await startNginx(tree.path);
    disposed = { pids: [scoped.pid, ...childPidsOf(scoped.pid)], dir: scoped.dir };
  }
  for (const pid of disposed.pids) assert.equal(isNginxProcess(pid), false, `nginx pid ${pid} still running after await using`);
  assert.equal(existsSync(disposed.dir), false);
});

test('Debian pip installs over HTTP from nginx: JSON pages (PEP 691) and an HTML-only tree', async (t) => {
  if (!canRun(t)) return;
  const problem = await debianPipProblem();
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  if (!need(t, problem === undefined, problem ?? '')) return;

  await using jsonTree = makeTempDir('dib-pypi-nginx-pip-json-');
  await makeTree(jsonTree.path);
  await using htmlTree = makeTempDir('dib-pypi-nginx-pip-html-');
  await makeWheel(htmlTree.path, { name: 'Html.Only', version: '2.0' });
  writeSimpleIndex(htmlTree.path);

  for (const [tree, requirement, page] of [
    [jsonTree.path, 'demo-pkg', 'demo-pkg/'],
    [htmlTree.path, 'html-only', 'html-only/'],
  ] as const) {
    await using server = await startNginx(tree);
    await using target = makeTempDir('dib-pypi-nginx-pip-target-');
    const env = envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' });
    const args = ['-m', 'pip', 'install', '--no-cache-dir', '--index-url', server.url, '--target', target.path, requirement];
    const install = await execa(DEBIAN_PYTHON, args, { env, extendEnv: false, reject: false, all: true });
    assert.equal(install.exitCode, 0, `pip install ${requirement} from ${server.url} failed:\n${install.all}`);
    const log = server.accessLog();
    const expectedType = tree === jsonTree.path ? JSON_TYPE : 'text/html; charset=utf-8';
    assert.ok(log.includes(`GET /${page} 200 "${expectedType}"`), `pip should have read /${page} as ${expectedType}:\n${log}`);
  }
});
