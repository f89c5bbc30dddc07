// `dib-pypi serve` over a real mirror: PEP 691 negotiation, caching headers, ranges, gzip, safety,
// real pip (JSON and HTML pages), memory while streaming big files, and its generated nginx config with real nginx.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { test, type TestContext } from 'node:test';
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { runCli } from '../../helpers/cli.js';
import { httpRequest } from '../../helpers/http-get.js';
import { makeSdist, makeWheel, writeSimpleIndex } from '../../helpers/make-dist.js';
import { JSON_TYPE, NEGOTIATION, PIP_ACCEPT } from '../../helpers/negotiation.js';
import { nginxProblem, NGINX } from '../../helpers/nginx.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { isRequired, need } from '../../helpers/require.js';
import { startServe } from '../../helpers/serve.js';
import { freePort } from '../../helpers/ports.js';

const WHEEL = 'demo_pkg-1.0-py3-none-any.whl';
const BIG = 'big_data-1.0-py3-none-any.whl';

/** A mirror: demo-pkg (needs dep-lib), an odd name, an sdist, a big wheel; indexed by the real CLI. */
async function makeMirror(dir: string): Promise<void> {
  await makeWheel(join(dir, 'demo-pkg'), { name: 'demo-pkg', version: '1.0', requires: ['dep-lib>=1'] });
  await makeWheel(join(dir, 'dep-lib'), { name: 'dep_lib', version: '1.2' });
  await makeWheel(join(dir, 'zope-interface-thing'), { name: 'Zope.Interface_Thing', version: '3.0' });
  makeSdist(join(dir, 'sdist-only'), { name: 'sdist-only', version: '0.1' });
  // Random bytes, stored: bigger than what the server keeps in memory.
  const noise = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < noise.length; i += 32) createHash('sha256').update(String(i)).digest().copy(noise, i);
  await makeWheel(join(dir, 'big-data'), { name: 'big-data', version: '1.0', data: { 'big_data/blob.bin': noise } });
  const indexed = runCli(['mirror', 'index', dir]);
  assert.equal(indexed.status, 0, indexed.stderr);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

test('serve answers pages by Accept (as nginx does) at / and /simple/, with ETag/304, gzip, HEAD and redirects', async () => {
  await using mirror = makeTempDir('dib-pypi-serve-');
  await makeMirror(mirror.path);
  await using server = await startServe([mirror.path]);
  const base = server.url.replace(/\/$/, '');

  for (const prefix of ['', '/simple']) {
    for (const path of ['/', '/demo-pkg/']) {
      const onDisk = (page: 'json' | 'html') => readFileSync(join(mirror.path, path, `index.${page}`));
      for (const [accept, page] of NEGOTIATION) {
        const got = await httpRequest(base + prefix + path, { headers: accept === undefined ? {} : { Accept: accept } });
        const what = `GET ${prefix}${path} Accept: ${accept ?? '(none)'}`;
        assert.equal(got.status, 200, what);
        assert.deepEqual(got.body, onDisk(page), `${what}: expected index.${page}`);
        assert.match(
          String(got.headers['content-type']),
          page === 'json' ? /^application\/vnd\.pypi\.simple\.v1\+json$/ : /^(text\/html; charset=utf-8|application\/vnd\.pypi\.simple\.v1\+html)$/,
          what,
        );
        assert.match(String(got.headers.vary), /Accept/, what);
      }
    }
  }
  const json = await httpRequest(`${base}/simple/demo-pkg/?format=json`);
  assert.equal(json.headers['content-type'], JSON_TYPE, '?format=json');
  const parsed = JSON.parse(json.body.toString()) as { name: string; files: { filename: string }[] };
  assert.equal(parsed.name, 'demo-pkg');
  assert.deepEqual(
    parsed.files.map((f) => f.filename),
    [WHEEL],
  );

  const first = await httpRequest(`${base}/simple/`, { headers: { Accept: PIP_ACCEPT } });
  const etag = String(first.headers.etag);
  assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
  const again = await httpRequest(`${base}/simple/`, { headers: { Accept: PIP_ACCEPT, 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  const since = await httpRequest(`${base}/simple/`, { headers: { Accept: PIP_ACCEPT, 'If-Modified-Since': String(first.headers['last-modified']) } });
  assert.equal(since.status, 304);

  const packed = await httpRequest(`${base}/simple/`, { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(packed.headers['content-encoding'], 'gzip');
  assert.deepEqual(gunzipSync(packed.body), readFileSync(join(mirror.path, 'index.html')));
  assert.equal((await httpRequest(`${base}/simple/`, { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': String(packed.headers.etag) } })).status, 304);

  const head = await httpRequest(`${base}/simple/demo-pkg/`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  assert.equal(Number(head.headers['content-length']), readFileSync(join(mirror.path, 'demo-pkg', 'index.html')).length);

  for (const [path, location] of [
    ['/simple/Demo_Pkg/', '/simple/demo-pkg/'],
    ['/simple/demo-pkg', '/simple/demo-pkg/'],
    ['/Zope.Interface_Thing/?format=json', '/zope-interface-thing/?format=json'],
    ['/simple', '/simple/'],
  ] as const) {
    const got = await httpRequest(base + path);
    assert.equal(got.status, 301, path);
    assert.equal(got.headers.location, location, path);
  }
  const health = JSON.parse((await httpRequest(`${base}/health`)).body.toString()) as { status: string; problems: unknown[] };
  assert.equal(health.status, 'ok');
  assert.deepEqual(health.problems, []);
  assert.equal((await httpRequest(`${base}/no-such-project/`)).status, 404);
  assert.equal((await httpRequest(`${base}/`, { method: 'DELETE' })).status, 405);
  assert.equal((await httpRequest(`${base}/`, { method: 'POST', body: Buffer.from('x') })).status, 405, 'uploads off unless enabled');
});

test('serve hands out files and PEP 658 metadata: ranges, 304, big files streamed, nothing outside the mirror', async () => {
  // The secret lives beside the mirror, inside a temporary directory of its own (removed with it).
  await using outer = makeTempDir('dib-pypi-serve-files-');
  const mirror = { path: join(outer.path, 'mirror') };
  await makeMirror(mirror.path);
  writeFileSync(join(outer.path, 'secret.whl'), 'secret');
  symlinkSync(join(outer.path, 'secret.whl'), join(mirror.path, 'demo-pkg', 'escape-1.0-py3-none-any.whl'));
  await using server = await startServe([mirror.path, '--no-index']);
  const base = server.url.replace(/\/$/, '');

  const wheel = readFileSync(join(mirror.path, 'demo-pkg', WHEEL));
  const got = await httpRequest(`${base}/simple/demo-pkg/${WHEEL}`, { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(got.status, 200);
  assert.deepEqual(got.body, wheel, 'a wheel is never re-encoded');
  assert.equal(got.headers['content-type'], 'application/octet-stream');
  assert.equal(got.headers['accept-ranges'], 'bytes');
  assert.equal((await httpRequest(`${base}/demo-pkg/${WHEEL}`, { headers: { 'If-None-Match': String(got.headers.etag) } })).status, 304);
  const part = await httpRequest(`${base}/demo-pkg/${WHEEL}`, { headers: { Range: 'bytes=10-19' } });
  assert.equal(part.status, 206);
  assert.deepEqual(part.body, wheel.subarray(10, 20));
  assert.equal(part.headers['content-range'], `bytes 10-19/${wheel.length}`);
  const beyond = await httpRequest(`${base}/demo-pkg/${WHEEL}`, { headers: { Range: `bytes=${wheel.length}-` } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers['content-range'], `bytes */${wheel.length}`);

  const metadata = await httpRequest(`${base}/simple/demo-pkg/${WHEEL}.metadata`);
  assert.equal(metadata.status, 200);
  assert.deepEqual(metadata.body, readFileSync(join(mirror.path, 'demo-pkg', `${WHEEL}.metadata`)));
  assert.match(String(metadata.headers['content-type']), /^text\/plain/);

  const big = readFileSync(join(mirror.path, 'big-data', BIG));
  assert.ok(big.length > 3_000_000);
  const whole = await httpRequest(`${base}/big-data/${BIG}`);
  assert.equal(sha256(whole.body), sha256(big));
  const tail = await httpRequest(`${base}/big-data/${BIG}`, { headers: { Range: 'bytes=-1000' } });
  assert.deepEqual(tail.body, big.subarray(big.length - 1000));
  const bigHead = await httpRequest(`${base}/big-data/${BIG}`, { method: 'HEAD' });
  assert.equal(Number(bigHead.headers['content-length']), big.length);
  assert.equal(bigHead.body.length, 0);

  for (const path of [
    '/demo-pkg/escape-1.0-py3-none-any.whl',
    '/.dib-pypi/manifest.json',
    `/demo-pkg/..%2F..%2Fetc%2Fpasswd`,
    `/demo-pkg/%2e%2e%2f${WHEEL}`,
    '/demo-pkg/missing-1.0-py3-none-any.whl',
  ]) {
    assert.equal((await httpRequest(base + path)).status, 404, path);
  }
});

test('serve streams big files with flat memory: 16 parallel downloads of a 64 MB file', async (t) => {
  await using mirror = makeTempDir('dib-pypi-serve-mem-');
  const blob = Buffer.alloc(64 * 1024 * 1024);
  for (let i = 0; i < blob.length; i += 4096) blob.writeUInt32LE(i, i);
  await makeWheel(join(mirror.path, 'huge'), { name: 'huge', version: '1.0', data: { 'huge/blob.bin': blob } });
  assert.equal(runCli(['mirror', 'index', mirror.path]).status, 0);
  await using server = await startServe([mirror.path]);
  const before = server.rss();
  const url = `${server.url}huge/huge-1.0-py3-none-any.whl`;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, server.rss())), 20);
  const answers = await Promise.all(Array.from({ length: 16 }, () => httpRequest(url)));
  clearInterval(sampler);
  for (const answer of answers) assert.equal(answer.body.length, answers[0]?.body.length);
  assert.ok((answers[0]?.body.length ?? 0) > 64 * 1024 * 1024);
  // 16 copies would be over 1 GB; streaming keeps a few chunks per connection.
  t.diagnostic(`server RSS grew by ${((peak - before) / 1048576).toFixed(1)} MB`);
  assert.ok(peak - before < 64 * 1024 * 1024, `server RSS grew by ${((peak - before) / 1048576).toFixed(1)} MB`);
});

function canPip(t: TestContext, problem: string | undefined): boolean {
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  return need(t, problem === undefined, problem ?? '');
}

test('real pip installs and downloads through serve: JSON pages (Debian pip 23.0.1, newer pip) and an HTML-only tree', async (t) => {
  if (!canPip(t, await debianPipProblem())) return;
  await using mirror = makeTempDir('dib-pypi-serve-pip-');
  await makeMirror(mirror.path);
  await using htmlOnly = makeTempDir('dib-pypi-serve-html-');
  await makeWheel(htmlOnly.path, { name: 'Html.Only', version: '2.0' });
  writeSimpleIndex(htmlOnly.path);
  await using server = await startServe([mirror.path, '--access-log']);
  await using htmlServer = await startServe([htmlOnly.path, '--no-index', '--access-log']);
  const env = envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' });

  for (const python of [DEBIAN_PYTHON, 'python3']) {
    await using target = makeTempDir('dib-pypi-serve-target-');
    const install = await execa(
      python,
      [
        '-m',
        'pip',
        'install',
        '--isolated',
        '--no-cache-dir',
        '--index-url',
        `${server.url}simple/`,
        '--target',
        target.path,
        'Demo_Pkg',
        'zope.interface.thing',
        'big-data',
      ],
      { env, extendEnv: false, reject: false, all: true },
    );
    assert.equal(install.exitCode, 0, `${python}: pip install from ${server.url}simple/ failed:\n${install.all}`);
    await using downloads = makeTempDir('dib-pypi-serve-dl-');
    const download = await execa(
      python,
      [
        '-m',
        'pip',
        'download',
        '--isolated',
        '--no-cache-dir',
        '--no-deps',
        '--no-binary',
        ':all:',
        '--no-build-isolation',
        '--index-url',
        server.url,
        '-d',
        downloads.path,
        'sdist-only',
      ],
      { env, extendEnv: false, reject: false, all: true },
    );
    if (python === DEBIAN_PYTHON) assert.equal(download.exitCode, 0, `pip download failed:\n${download.all}`);
  }
  assert.match(server.output(), /"GET \/simple\/demo-pkg\/ HTTP\/1\.1" 200 /);
  assert.match(server.output(), /"GET \/simple\/dep-lib\/dep_lib-1\.2-py3-none-any\.whl HTTP\/1\.1" 200 /);

  await using target = makeTempDir('dib-pypi-serve-target-');
  const html = await execa(
    DEBIAN_PYTHON,
    ['-m', 'pip', 'install', '--isolated', '--no-cache-dir', '--index-url', htmlServer.url, '--target', target.path, 'html-only'],
    { env, extendEnv: false, reject: false, all: true },
  );
  assert.equal(html.exitCode, 0, `pip install from an HTML-only tree failed:\n${html.all}`);
  assert.match(htmlServer.output(), /"GET \/html-only\/ HTTP\/1\.1" 200 /);
});

test('serve --nginx-conf: real nginx with the generated config negotiates as serve does, at / and /simple/', async (t) => {
  const problem = nginxProblem();
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  if (!need(t, problem === undefined, problem ?? '')) return;
  await using mirror = makeTempDir('dib-pypi-serve-nginx-');
  await makeMirror(mirror.path);
  await using prefix = makeTempDir('dib-pypi-serve-nginx-prefix-');
  const port = await freePort();
  const conf = runCli(['serve', mirror.path, '--port', String(port), '--nginx-conf', '--nginx-prefix', prefix.path]);
  assert.equal(conf.status, 0, conf.stderr);
  assert.match(conf.stdout, /worker_processes auto;/);
  // As root, nginx's workers would drop to nobody, who cannot read a private temp dir.
  const confPath = join(prefix.path, 'nginx.conf');
  writeFileSync(confPath, process.getuid?.() === 0 ? `user root;\n${conf.stdout}` : conf.stdout);
  for (const name of ['client-body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(prefix.path, name), { recursive: true });
  const nginx = execa(NGINX, ['-p', `${prefix.path}/`, '-c', confPath, '-e', join(prefix.path, 'error.log'), '-g', 'daemon off;'], { reject: false });
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      try {
        await httpRequest(`${base}/health`);
        break;
      } catch {
        await new Promise((done) => setTimeout(done, 50));
      }
    }
    assert.equal((await httpRequest(`${base}/health`)).status, 200);
    for (const prefixPath of ['', '/simple']) {
      for (const [accept, page] of NEGOTIATION) {
        const got = await httpRequest(`${base}${prefixPath}/demo-pkg/`, { headers: accept === undefined ? {} : { Accept: accept } });
        assert.equal(got.status, 200, `${prefixPath} ${accept}`);
        assert.deepEqual(got.body, readFileSync(join(mirror.path, 'demo-pkg', `index.${page}`)), `${prefixPath} Accept: ${accept}`);
      }
    }
    assert.equal((await httpRequest(`${base}/.dib-pypi/manifest.json`)).status, 404);
    if (!canPip(t, await debianPipProblem())) return;
    await using target = makeTempDir('dib-pypi-serve-nginx-target-');
    const env = envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' });
    const install = await execa(
      DEBIAN_PYTHON,
      ['-m', 'pip', 'install', '--isolated', '--no-cache-dir', '--index-url', `${base}/simple/`, '--target', target.path, 'demo-pkg'],
      { env, extendEnv: false, reject: false, all: true },
    );
    assert.equal(install.exitCode, 0, install.all);
  } finally {
    nginx.kill('SIGQUIT');
    await nginx;
  }
});

test('serve: bad flags and missing directories are exit 2, a taken port exit 1, each with one clear line', async () => {
  await using mirror = makeTempDir('dib-pypi-serve-bad-');
  for (const [args, pattern] of [
    [[mirror.path, '--port', '70000'], /--port: expected a port number 0-65535, got "70000"/],
    [[mirror.path, '--port', 'http'], /--port: expected a port number/],
    [[mirror.path, '--cache-mb', '0'], /--cache-mb: expected a whole number of MiB/],
    [[join(mirror.path, 'nope')], /DIR: no such directory/],
    [[mirror.path, '--nginx-prefix', '/tmp'], /--nginx-prefix: only with --nginx-conf/],
    [[mirror.path, 'extra'], /.+/],
  ] as const) {
    const result = runCli(['serve', ...args]);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, pattern);
  }
  await using server = await startServe([mirror.path]);
  const taken = runCli(['serve', mirror.path, '--port', String(server.port)]);
  assert.equal(taken.status, 1, taken.stderr);
  assert.match(taken.stderr, /port is in use/);
  assert.equal(await server.stop(), 0, 'SIGTERM stops the server cleanly');
});

test('curl sees the headers a PEP 691 client and a cache need', async (t) => {
  const problem = spawnSync('curl', ['--version']).status === 0 ? undefined : "curl is missing: install Debian's curl";
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  if (!need(t, problem === undefined, problem ?? '')) return;
  await using mirror = makeTempDir('dib-pypi-serve-curl-');
  await makeMirror(mirror.path);
  await using server = await startServe([mirror.path]);
  const head = await execa('curl', ['-sS', '-I', '-H', `Accept: ${PIP_ACCEPT}`, `${server.url}simple/demo-pkg/`]);
  assert.match(head.stdout, /^HTTP\/1\.1 200/);
  assert.match(head.stdout, /^Content-Type: application\/vnd\.pypi\.simple\.v1\+json\r?$/m);
  assert.match(head.stdout, /^Vary: Accept, Accept-Encoding\r?$/m);
  const etag = /^ETag: (.+?)\r?$/m.exec(head.stdout)?.[1];
  assert.ok(etag, head.stdout);
  const conditional = await execa('curl', [
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-H',
    `Accept: ${PIP_ACCEPT}`,
    '-H',
    `If-None-Match: ${etag}`,
    `${server.url}simple/demo-pkg/`,
  ]);
  assert.equal(conditional.stdout, '304');
  const compressed = await execa('curl', ['-sS', '--compressed', '-D', '-', '-o', '/dev/null', `${server.url}simple/`]);
  assert.match(compressed.stdout, /^Content-Encoding: gzip\r?$/m);
  const html = await execa('curl', ['-sS', `${server.url}simple/demo-pkg/`]);
  assert.equal(html.stdout, readFileSync(join(mirror.path, 'demo-pkg', 'index.html'), 'utf8').trimEnd(), "curl's */* gets HTML");
  const range = await execa('curl', ['-sS', '-r', '0-3', `${server.url}simple/demo-pkg/${WHEEL}`], { encoding: 'buffer' });
  assert.deepEqual(Buffer.from(range.stdout), Buffer.from('PK\x03\x04', 'latin1'));
});
