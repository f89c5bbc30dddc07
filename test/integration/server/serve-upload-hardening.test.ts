// Uploads to `dib-pypi serve` under attack: sdists checked like wheels, cut-off uploads that leave no
// descriptor or temp file, credentials checked before the body, no user names by timing, password
// checks off the event loop, a failed-login limit, one file per normalised name and version, and
// idle connections that cannot keep a well-behaved client out. Loopback only, bounded.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { ZipFile } from 'yazl';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { httpRequest, type HttpAnswer } from '../../helpers/http-get.js';
import { makeSdist, makeTar, makeWheel, renderMetadata } from '../../helpers/make-dist.js';
import { basicAuth, multipart, twineFields } from '../../helpers/multipart.js';
import { makeTempDir } from '../../helpers/python.js';
import { hasCommand, isRequired, need } from '../../helpers/require.js';
import { startServe } from '../../helpers/serve.js';
import { eventually } from '../../helpers/wait.js';
import { inspectDistribution } from '../../../src/mirror/inspect/inspect-distribution.js';
import { parseDistFilename } from '../../../src/pypi/dist-filename.js';

const TOKEN = 'pypi-token-hardening-0123456789';
const PASSWORD = 'upload-s3cret-Pa55';

function canRun(t: TestContext): boolean {
  const problem = !hasCommand('htpasswd', ['-nbB', 'a', 'b'])
    ? "htpasswd is missing: install Debian's apache2-utils"
    : process.platform !== 'linux'
      ? 'needs Linux (/proc)'
      : undefined;
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  return need(t, problem === undefined, problem ?? '');
}

function htpasswdFile(dir: string, cost: number): string {
  const path = join(dir, 'htpasswd');
  execFileSync('htpasswd', ['-cbB', '-C', String(cost), path, 'alice', PASSWORD], { stdio: 'ignore' });
  return path;
}

interface Post {
  name: string;
  version: string;
  filename: string;
  content: Buffer;
  auth?: string;
  /** Source address (any of 127/8): each is a client of its own for the failed-login limit. */
  from?: string;
}

function post(url: string, upload: Post): Promise<HttpAnswer> {
  const form = multipart({ fields: twineFields(upload.name, upload.version, upload.content), filename: upload.filename, content: upload.content });
  const headers: Record<string, string> = { 'Content-Type': form.contentType };
  if (upload.auth !== undefined) headers.Authorization = upload.auth;
  return httpRequest(`${url}legacy/`, { method: 'POST', headers, body: form.body, localAddress: upload.from });
}

/** Every file under `dir` whose name ends in `.part`. */
function partFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.part'));
}

/** The distribution files kept in the mirror (not its state directory). */
function keptFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => !name.startsWith('.dib-pypi') && /\.(whl|tar\.gz|zip|tar\.bz2)$/.test(name))
    .sort();
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** What the process's descriptors point at (files, `socket:[...]`, `anon_inode:...`). */
function fdTargets(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return `${fd} ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
    } catch {
      return `${fd} (closed)`;
    }
  });
}

/** Bytes the process has read (all read() calls, sockets included). */
function bytesRead(pid: number): number {
  return Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
}

function zipOf(files: [string, Buffer][]): Promise<Buffer> {
  const zip = new ZipFile();
  for (const [path, data] of files) zip.addBuffer(data, path, { mtime: new Date('2020-01-01T00:00:00Z') });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** One raw tar header with a link target (makeTar writes files and directories only). */
function linkHeader(name: string, type: '1' | '2' | '3', linkName: string): Buffer {
  const header = Buffer.alloc(512);
  const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, '0') + '\0';
  header.write(name, 0);
  header.write(octal(0o644, 8), 100);
  header.write(octal(0, 8), 108);
  header.write(octal(0, 8), 116);
  header.write(octal(0, 12), 124);
  header.write(octal(1577836800, 12), 136);
  header.write('        ', 148);
  header.write(type, 156);
  header.write(linkName, 157);
  header.write('ustar\u000000', 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(octal(sum, 7) + ' ', 148);
  return header;
}

/** A .tar.gz sdist of `sd` `version` with a good PKG-INFO and `extra` raw members appended. */
function sdistWith(version: string, extra: Buffer[]): Buffer {
  const tar = makeTar([[`sd-${version}/PKG-INFO`, Buffer.from(renderMetadata({ name: 'sd', version }))]]);
  return gzipSync(Buffer.concat([tar.subarray(0, tar.length - 1024), ...extra, Buffer.alloc(1024)]));
}

test('sdists are inspected like wheels: PKG-INFO must name the project and version; damaged, unsafe or oversized archives get 400 and leave nothing', async (t) => {
  if (!canRun(t)) return;
  await using mirror = makeTempDir('dib-pypi-harden-sdist-');
  await using work = makeTempDir('dib-pypi-harden-sdist-work-');
  await using server = await startServe([mirror.path], { env: cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: TOKEN }) });
  const auth = basicAuth('__token__', TOKEN);
  const good = readFileSync(makeSdist(work.path, { name: 'sd', version: '1.0' }));
  const goodZip = await zipOf([
    ['sd-1.1/PKG-INFO', Buffer.from(renderMetadata({ name: 'sd', version: '1.1' }))],
    ['sd-1.1/setup.py', Buffer.from('')],
  ]);
  const evilZip = await zipOf([
    ['sd-2.9/PKG-INFO', Buffer.from(renderMetadata({ name: 'sd', version: '2.9' }))],
    ['xx/evil', Buffer.from('x')],
  ]);
  const traversalZip = Buffer.from(evilZip.toString('latin1').replaceAll('xx/evil', '../evil'), 'latin1');
  const sdist = (spec: Parameters<typeof makeSdist>[1]) => readFileSync(makeSdist(join(work.path, spec.version), spec));
  const refused: [string, string, Buffer, RegExp][] = [
    ['2.0', 'sd-2.0.tar.gz', Buffer.from('this is not a gzip stream'), /not a gzip stream/],
    ['2.1', 'sd-2.1.tar.gz', good.subarray(0, Math.floor(good.length / 2)), /truncated|damaged/],
    ['2.2', 'sd-2.2.tar.gz', sdist({ name: 'sd', version: '2.2', metadataName: 'other-project' }), /names project "other-project"/],
    ['2.3', 'sd-2.3.tar.gz', sdist({ name: 'sd', version: '2.3', metadata: renderMetadata({ name: 'sd', version: '9.9' }) }), /has version "9\.9"/],
    ['2.4', 'sd-2.4.tar.gz', sdist({ name: 'sd', version: '2.4', omitMetadata: true }), /no PKG-INFO/],
    [
      '2.5',
      'sd-2.5.tar.gz',
      sdist({ name: 'sd', version: '2.5', metadata: `Metadata-Version: 2.1\nName: sd\nVersion: 2.5\n\n${'x'.repeat(33 * 1024 * 1024)}` }),
      /more than the \d+ allowed/,
    ],
    ['2.6', 'sd-2.6.tar.gz', sdistWith('2.6', [makeTar([['../evil', Buffer.from('x')]]).subarray(0, 2048)]), /unsafe member name/],
    ['2.7', 'sd-2.7.tar.gz', sdistWith('2.7', [linkHeader('sd-2.7/passwd', '2', '/etc/passwd')]), /links outside/],
    ['2.8', 'sd-2.8.tar.gz', sdistWith('2.8', [linkHeader('sd-2.8/dev', '3', '')]), /device or FIFO/],
    // Each link alone stays inside; through the ones before it, `c` points above the archive (Python's data filter refuses it too).
    [
      '2.81',
      'sd-2.81.tar.gz',
      sdistWith('2.81', [linkHeader('sd-2.81/a', '2', '.'), linkHeader('sd-2.81/b', '2', 'a/..'), linkHeader('sd-2.81/c', '2', 'b/../b/..')]),
      /sd-2\.81\/c links outside/,
    ],
    ['2.82', 'sd-2.82.tar.gz', sdistWith('2.82', [linkHeader('sd-2.82/a', '2', 'b'), linkHeader('sd-2.82/b', '2', 'a')]), /symlink loop/],
    ['2.9', 'sd-2.9.zip', traversalZip, /invalid relative path/],
    ['3.0', 'sd-3.0.zip', Buffer.from('PK\u0003\u0004 not really'), /not a readable zip/],
    ['3.1', 'sd-3.1.tar.bz2', Buffer.from('BZh9'), /PEP 527/],
  ];
  for (const [version, filename, content, pattern] of refused) {
    const answer = await post(server.url, { name: 'sd', version, filename, content, auth });
    assert.equal(answer.status, 400, `${filename}: ${answer.body.toString()}`);
    assert.match(answer.body.toString(), pattern, filename);
  }
  assert.deepEqual(keptFiles(mirror.path), [], 'nothing kept');
  assert.deepEqual(partFiles(mirror.path), [], 'no temp file left');

  assert.equal((await post(server.url, { name: 'sd', version: '1.0', filename: 'sd-1.0.tar.gz', content: good, auth })).status, 200);
  assert.equal((await post(server.url, { name: 'sd', version: '1.1', filename: 'sd-1.1.zip', content: goodZip, auth })).status, 200);
  assert.deepEqual(keptFiles(mirror.path), ['sd/sd-1.0.tar.gz', 'sd/sd-1.1.zip']);
  const verify = runCli(['mirror', 'verify', mirror.path]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
});

test("an upload's .tar.gz that inflates past the limit is refused (a gzip bomb), read in a stream", async () => {
  await using work = makeTempDir('dib-pypi-harden-bomb-');
  const zeros = Buffer.alloc(64 * 1024 * 1024);
  const path = join(work.path, 'sd-1.0.tar.gz');
  writeFileSync(
    path,
    gzipSync(
      makeTar([
        ['sd-1.0/PKG-INFO', Buffer.from(renderMetadata({ name: 'sd', version: '1.0' }))],
        ['sd-1.0/zeros', zeros],
      ]),
      { level: 1 },
    ),
  );
  const parsed = parseDistFilename('sd-1.0.tar.gz') ?? assert.fail();
  const whole = await inspectDistribution(path, parsed, path, { strict: true });
  assert.equal(whole.core?.name, 'sd', 'under the limit: read whole');
  await assert.rejects(inspectDistribution(path, parsed, path, { strict: true, maxInflatedBytes: 4 * 1024 * 1024 }), /inflates to more than 4194304 bytes/);
});

test("500 uploads cut off mid-body leave the server's descriptors where they were and no .part file", async (t) => {
  if (!canRun(t)) return;
  await using mirror = makeTempDir('dib-pypi-harden-abort-');
  await using work = makeTempDir('dib-pypi-harden-abort-work-');
  await using server = await startServe([mirror.path], { env: cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: TOKEN }) });
  const content = readFileSync(await makeWheel(work.path, { name: 'cut', version: '1.0', data: { 'cut/blob.bin': Buffer.alloc(1024 * 1024, 7) } }));
  const form = multipart({ fields: twineFields('cut', '1.0', content), filename: 'cut-1.0-py3-none-any.whl', content });
  const head = `POST /legacy/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${basicAuth('__token__', TOKEN)}\r\nContent-Type: ${form.contentType}\r\nContent-Length: ${form.body.length}\r\n\r\n`;
  const cutOff = async () => {
    const socket = connect({ port: server.port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write(head);
    const fileAt = form.body.indexOf('filename="');
    socket.write(form.body.subarray(0, fileAt + 64 * 1024)); // past the file part's header: the server is writing its temp file
    await delay(40);
    socket.destroy();
  };
  // Warm up (the first upload loads the inspection code), then measure.
  await cutOff();
  assert.equal(
    (await post(server.url, { name: 'cut', version: '1.0', filename: 'cut-1.0-py3-none-any.whl', content, auth: basicAuth('__token__', TOKEN) })).status,
    200,
  );
  await eventually('the warm-up settles', () => partFiles(mirror.path).length === 0);
  await delay(500);
  const before = fdTargets(server.pid);
  for (let batch = 0; batch < 20; batch++) await Promise.all(Array.from({ length: 25 }, cutOff));
  try {
    await eventually('the descriptors go back to where they were', () => openFds(server.pid) === before.length, 10_000);
  } catch (error) {
    const after = fdTargets(server.pid);
    assert.fail(
      `${(error as Error).message}: new ${JSON.stringify(after.filter((fd) => !before.includes(fd)))}, gone ${JSON.stringify(before.filter((fd) => !after.includes(fd)))}`,
    );
  }
  await eventually('no .part file is left', () => partFiles(mirror.path).length === 0, 10_000);
  assert.equal((await httpRequest(`${server.url}health`)).status, 200);
});

/** Send a request head announcing `announced` bytes, then push body bytes until the server closes; what happened. */
async function floodBody(
  port: number,
  headers: string,
  announced: number,
  requestLine = 'POST /legacy/',
): Promise<{ status: number; answerMs: number; written: number; retryAfter?: string }> {
  const socket: Socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const started = Date.now();
  let response = '';
  let answerMs = -1;
  socket.on('data', (chunk: Buffer) => {
    if (answerMs < 0) answerMs = Date.now() - started;
    response += chunk.toString('latin1');
  });
  const closed = new Promise<void>((done) => socket.once('close', () => done()));
  socket.write(
    `${requestLine} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=xyz\r\nContent-Length: ${announced}\r\n${headers}\r\n`,
  );
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  let written = 0;
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  socket.write(chunk.subarray(0, 4096));
  written += 4096;
  while (!isClosed && written < announced && Date.now() - started < 15_000) {
    const ok = await new Promise<boolean>((done) => socket.write(chunk, (error) => done(error === undefined || error === null)));
    if (!ok) break;
    written += chunk.length;
  }
  await Promise.race([closed, delay(15_000)]);
  socket.destroy();
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
  const retryAfter = /^retry-after: (\S+)/im.exec(response)?.[1];
  return { status, answerMs, written, ...(retryAfter === undefined ? {} : { retryAfter }) };
}

test('credentials are checked before the body is read: a 300 MB POST without or with wrong ones is refused at once and barely read', async (t) => {
  if (!canRun(t)) return;
  await using mirror = makeTempDir('dib-pypi-harden-early-');
  await using work = makeTempDir('dib-pypi-harden-early-work-');
  await using server = await startServe([mirror.path], { env: cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: TOKEN }) });
  const announced = 300 * 1024 * 1024;
  for (const [headers, status] of [
    ['', 401],
    [`Authorization: ${basicAuth('__token__', 'wrong-token')}\r\n`, 403],
  ] as const) {
    const readBefore = bytesRead(server.pid);
    const result = await floodBody(server.port, headers, announced);
    const read = bytesRead(server.pid) - readBefore;
    assert.equal(result.status, status, JSON.stringify(result));
    assert.ok(result.answerMs >= 0 && result.answerMs < 5000, `answered after ${result.answerMs} ms (a busy machine: generous)`);
    assert.ok(result.written < 64 * 1024 * 1024, `the client could push ${result.written} bytes`);
    assert.ok(read < 16 * 1024 * 1024, `the server read ${read} bytes`);
  }
  // Expect: 100-continue: no invitation to send the body without good credentials; with them, the upload goes through.
  for (const [authorization, status] of [
    ['', '401'],
    [`Authorization: ${basicAuth('__token__', 'wrong-token')}\r\n`, '403'],
    [`Authorization: ${basicAuth('__token__', TOKEN)}\r\n`, '100'],
  ] as const) {
    const socket = connect({ port: server.port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write(
      `POST /legacy/ HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Type: multipart/form-data; boundary=xyz\r\nContent-Length: ${announced}\r\n${authorization}\r\n`,
    );
    const [first] = (await once(socket, 'data')) as [Buffer];
    assert.match(first.toString('latin1'), new RegExp(`^HTTP/1\\.1 ${status} `), `${status}: ${first.toString('latin1')}`);
    socket.destroy();
  }
  const viaCurl = await execa(
    'curl',
    [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-u',
      `__token__:${TOKEN}`,
      '-H',
      'Expect: 100-continue',
      '-F',
      ':action=file_upload',
      '-F',
      'name=cont',
      '-F',
      'version=1.0',
      '-F',
      `content=@${await makeWheel(work.path, { name: 'cont', version: '1.0' })};filename=cont-1.0-py3-none-any.whl`,
      `${server.url}legacy/`,
    ],
    { reject: false },
  );
  assert.equal(viaCurl.stdout, '200', `curl with Expect: 100-continue: ${viaCurl.stdout} ${viaCurl.stderr}`);

  // Bodies no route reads are not read either: a POST elsewhere, a PUT.
  for (const [requestLine, status] of [
    ['POST /simple/demo/', 404],
    ['PUT /legacy/', 405],
    ['GET /simple/', 200],
  ] as const) {
    const readBefore = bytesRead(server.pid);
    const result = await floodBody(server.port, '', announced, requestLine);
    const read = bytesRead(server.pid) - readBefore;
    assert.equal(result.status, status, `${requestLine}: ${JSON.stringify(result)}`);
    assert.ok(read < 16 * 1024 * 1024, `${requestLine}: the server read ${read} bytes`);
  }
  // A header too big to be a credential is refused by node's parser; the server stays up.
  const huge = await httpRequest(`${server.url}legacy/`, {
    method: 'POST',
    headers: { Authorization: `Basic ${'A'.repeat(20_000)}` },
    body: Buffer.from('x'),
  }).catch((error: Error) => ({ status: -1, body: Buffer.from(error.message) }));
  assert.ok(huge.status === 431 || huge.status === -1, `a 20 KB Authorization header: ${huge.status}`);
  const weird = await httpRequest(`${server.url}legacy/`, { method: 'POST', headers: { Authorization: 'Basic \u00ff\u00fe==' }, body: Buffer.from('x') });
  assert.equal(weird.status, 401);
  const noBoundary = await httpRequest(`${server.url}legacy/`, {
    method: 'POST',
    headers: { Authorization: basicAuth('__token__', TOKEN), 'Content-Type': 'multipart/form-data' },
    body: Buffer.from('x'),
  });
  assert.equal(noBoundary.status, 400);
  assert.equal((await httpRequest(`${server.url}health`)).status, 200);

  // Uploads off: a POST to the upload API is refused the same way.
  await using plain = await startServe([mirror.path, '--workers', '1', '--no-index']);
  const readBefore = bytesRead(plain.pid);
  const result = await floodBody(plain.port, '', announced);
  assert.equal(result.status, 405, JSON.stringify(result));
  assert.ok(bytesRead(plain.pid) - readBefore < 16 * 1024 * 1024, 'uploads off: the body is not read');
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

test('no user names by timing; 10 failed logins a minute per address, then 429 with Retry-After, also for the right password', async (t) => {
  if (!canRun(t)) return;
  await using mirror = makeTempDir('dib-pypi-harden-auth-');
  await using work = makeTempDir('dib-pypi-harden-auth-work-');
  const htpasswd = htpasswdFile(work.path, 10);
  await using server = await startServe([mirror.path, '--upload-auth', htpasswd]);
  const content = readFileSync(await makeWheel(work.path, { name: 'timed', version: '1.0' }));
  const attempt = async (user: string, password: string, from: string) => {
    const started = process.hrtime.bigint();
    const answer = await post(server.url, {
      name: 'timed',
      version: '1.0',
      filename: 'timed-1.0-py3-none-any.whl',
      content,
      auth: basicAuth(user, password),
      from,
    });
    return { status: answer.status, ms: Number(process.hrtime.bigint() - started) / 1e6, answer };
  };
  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 8; i++) {
    const a = await attempt('alice', 'wrong', `127.0.2.${i + 1}`);
    const b = await attempt('mallory', 'wrong', `127.0.3.${i + 1}`);
    assert.deepEqual([a.status, b.status], [403, 403]);
    known.push(a.ms);
    unknown.push(b.ms);
  }
  assert.ok(median(unknown) > median(known) * 0.6, `unknown user ${median(unknown).toFixed(1)} ms, known user ${median(known).toFixed(1)} ms`);

  for (let i = 0; i < 10; i++) assert.equal((await attempt('alice', `guess-${i}`, '127.0.4.1')).status, 403, `failure ${i + 1}`);
  const limited = await attempt('alice', 'guess-10', '127.0.4.1');
  assert.equal(limited.status, 429);
  const retryAfter = Number(limited.answer.headers['retry-after']);
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${retryAfter}`);
  assert.equal((await attempt('alice', PASSWORD, '127.0.4.1')).status, 429, 'the right password waits too');
  assert.equal((await attempt('alice', PASSWORD, '127.0.4.2')).status, 200, 'another address is not limited');
});

test("serve warns when the htpasswd users' bcrypt costs differ (timing would tell them apart); --max-login-failures needs uploads", async (t) => {
  if (!canRun(t)) return;
  await using work = makeTempDir('dib-pypi-harden-costs-');
  const path = htpasswdFile(work.path, 5);
  execFileSync('htpasswd', ['-bB', '-C', '7', path, 'bob', 'pw'], { stdio: 'ignore' });
  await using server = await startServe([work.path, '--upload-auth', path, '--no-index']);
  assert.match(server.output(), /bcrypt costs differ \(05, 07\)/);
  const refused = runCli(['serve', work.path, '--port', '0', '--max-login-failures', '3']);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /--max-login-failures: needs uploads enabled/);
});

test('password checks run off the event loop: small downloads stay fast while bad passwords stream in', async (t) => {
  if (!canRun(t)) return;
  await using mirror = makeTempDir('dib-pypi-harden-loop-');
  await using work = makeTempDir('dib-pypi-harden-loop-work-');
  await makeWheel(join(mirror.path, 'small'), { name: 'small', version: '1.0' });
  assert.equal(runCli(['mirror', 'index', mirror.path]).status, 0);
  const htpasswd = htpasswdFile(work.path, 12); // bcryptjs: ~0.3 s of a core per check
  await using server = await startServe([mirror.path, '--upload-auth', htpasswd]);
  const content = readFileSync(await makeWheel(work.path, { name: 'small', version: '2.0' }));
  let stop = false;
  let checks = 0;
  const attackers = Array.from({ length: 6 }, async (_, a) => {
    for (let i = 0; !stop; i++) {
      // 9 tries per address: under the failed-login limit, every one costs a bcrypt check.
      await post(server.url, {
        name: 'small',
        version: '2.0',
        filename: 'small-2.0-py3-none-any.whl',
        content,
        auth: basicAuth('alice', `guess-${i}`),
        from: `127.0.${10 + a}.${1 + Math.floor(i / 9)}`,
      });
      checks++;
    }
  });
  await delay(500);
  const latencies: number[] = [];
  const fileUrl = `${server.url}small/small-1.0-py3-none-any.whl`;
  for (let i = 0; i < 40; i++) {
    const started = process.hrtime.bigint();
    assert.equal((await httpRequest(fileUrl)).status, 200);
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    await delay(25);
  }
  stop = true;
  await Promise.all(attackers);
  assert.ok(checks >= 6, `only ${checks} password checks ran`);
  latencies.sort((a, b) => a - b);
  // bcryptjs on the event loop runs in 100 ms slices: each download would wait behind several.
  assert.ok(median(latencies) < 40, `median download ${median(latencies).toFixed(1)} ms: ${latencies.map((l) => l.toFixed(0)).join(' ')}`);
  assert.ok((latencies[latencies.length - 1] as number) < 300, `slowest download ${latencies[latencies.length - 1]} ms`);
});

test('one file per normalised name and version: NewPkg-1.0 then newpkg-01.0 is 409, also when they race; non-ASCII names are 400', async (t) => {
  if (!canRun(t)) return;
  await using mirror = makeTempDir('dib-pypi-harden-identity-');
  await using work = makeTempDir('dib-pypi-harden-identity-work-');
  await using server = await startServe([mirror.path], { env: cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: TOKEN }) });
  const auth = basicAuth('__token__', TOKEN);
  const wheel = async (name: string, version: string, dir: string) => {
    const fileName = `${name}-${version}-py3-none-any.whl`;
    return {
      filename: fileName,
      content: readFileSync(await makeWheel(join(work.path, dir), { name, version, fileName, distInfoName: `${name}-${version}` })),
    };
  };
  const first = await wheel('NewPkg', '1.0', 'a');
  assert.equal((await post(server.url, { name: 'NewPkg', version: '1.0', ...first, auth })).status, 200);
  const second = await wheel('newpkg', '01.0', 'b');
  const conflict = await post(server.url, { name: 'newpkg', version: '01.0', ...second, auth });
  assert.equal(conflict.status, 409, conflict.body.toString());
  assert.match(conflict.body.toString(), /NewPkg-1\.0-py3-none-any\.whl exists already/);

  for (let round = 0; round < 5; round++) {
    const a = await wheel('RacePkg', `2.${round}`, `ra${round}`);
    const b = await wheel('racepkg', `2.${round}.0`, `rb${round}`);
    const answers = await Promise.all([
      post(server.url, { name: 'RacePkg', version: `2.${round}`, ...a, auth }),
      post(server.url, { name: 'racepkg', version: `2.${round}.0`, ...b, auth }),
    ]);
    assert.deepEqual(answers.map((x) => x.status).sort(), [200, 409], `round ${round}: ${answers.map((x) => x.body.toString()).join(' | ')}`);
  }
  assert.equal(readdirSync(join(mirror.path, 'racepkg')).filter((name) => name.endsWith('.whl')).length, 5);

  // The form's fields are capped as a whole (200 fields of 1 MiB would be 200 MiB held per upload).
  const bigForm = multipart({
    fields: {
      ...twineFields('demo', '1.0', first.content),
      description: 'd'.repeat(1024 * 1024 - 100),
      summary: 's'.repeat(1024 * 1024 - 100),
      keywords: 'k'.repeat(1024 * 1024 - 100),
      author: 'a'.repeat(1024 * 1024 - 100),
      license: 'l'.repeat(1024 * 1024 - 100),
    },
    filename: 'demo-1.0-py3-none-any.whl',
    content: first.content,
  });
  const tooBig = await httpRequest(`${server.url}legacy/`, {
    method: 'POST',
    body: bigForm.body,
    headers: { 'Content-Type': bigForm.contentType, Authorization: auth },
  }).catch((error: Error) => ({ status: -1, body: Buffer.from(error.message) }));
  assert.ok(tooBig.status === 413 || tooBig.status === -1, `5 MiB of fields: ${tooBig.status} ${tooBig.body.toString()}`);
  assert.deepEqual(partFiles(mirror.path), []);

  const accented = await wheel('demo', '1.0', 'c');
  const nonAscii = await post(server.url, {
    name: 'demo',
    version: '1.0',
    filename: 'demo-1.0-py3-none-linux_x86_64\u00e9.whl',
    content: accented.content,
    auth,
  });
  assert.equal(nonAscii.status, 400, nonAscii.body.toString());
  const verify = runCli(['mirror', 'verify', mirror.path]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
});

/** Open `count` connections that send nothing; resolves once all connected (or were closed at once). */
async function idleSockets(port: number, count: number): Promise<{ sockets: Socket[]; closedByServer: () => number }> {
  const sockets: Socket[] = [];
  let closed = 0;
  for (let start = 0; start < count; start += 200) {
    const batch = Array.from({ length: Math.min(200, count - start) }, () => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.on('error', () => undefined);
      socket.once('close', () => closed++);
      sockets.push(socket);
      return Promise.race([once(socket, 'connect'), once(socket, 'close')]);
    });
    await Promise.all(batch);
  }
  return { sockets, closedByServer: () => closed };
}

test('2,000 idle connections do not keep a well-behaved client out: the longest idle is closed past --max-connections, and every idle one after --headers-timeout', async (t) => {
  if (!canRun(t)) return;
  await using mirror = makeTempDir('dib-pypi-harden-conn-');
  await makeWheel(join(mirror.path, 'small'), { name: 'small', version: '1.0' });
  assert.equal(runCli(['mirror', 'index', mirror.path]).status, 0);
  {
    await using server = await startServe([mirror.path, '--workers', '1', '--max-connections', '500']);
    const idle = await idleSockets(server.port, 2000);
    try {
      const started = Date.now();
      const answer = await httpRequest(`${server.url}simple/small/`);
      assert.equal(answer.status, 200);
      assert.ok(Date.now() - started < 2000, `served after ${Date.now() - started} ms`);
      await eventually('the cap holds', () => idle.closedByServer() >= 1500, 5000);
      assert.ok(openFds(server.pid) < 700, `${openFds(server.pid)} descriptors open`);
    } finally {
      for (const socket of idle.sockets) socket.destroy();
    }
  }
  {
    await using server = await startServe([mirror.path, '--workers', '1', '--max-connections', '5000', '--headers-timeout', '1']);
    const idle = await idleSockets(server.port, 2000);
    try {
      assert.equal((await httpRequest(`${server.url}simple/small/`)).status, 200);
      await eventually(`idle connections are closed after 1 s (${idle.closedByServer()} so far)`, () => idle.closedByServer() === 2000, 6000);
    } finally {
      for (const socket of idle.sockets) socket.destroy();
    }
  }
});
