// What an upstream can make the pull-through cache do, bounded: page and file size limits enforced while the
// bytes stream (an endless body fails, it is not read to the end), a page that trickles in fails at its deadline,
// an endless error body is not read to the end, upstream text made fit for a header, files only under their own
// project, log lines without control characters, offline pages of the cached files only, and the size flags parsed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_PAGE_BYTES, parseByteLimit } from '../../../src/cli/serve-values.js';
import { UsageError } from '../../../src/errors.js';
import { buildProxyPage } from '../../../src/server/proxy-page.js';
import { PullThroughCache, toLogText } from '../../../src/server/proxy.js';
import { toHeaderText } from '../../../src/server/respond.js';
import { downloadVerified, TooLargeError } from '../../../src/upstream/download-file.js';
import { HttpTransport } from '../../../src/upstream/http-transport.js';
import { SimpleIndexClient } from '../../../src/upstream/simple-client.js';
import { UpstreamError } from '../../../src/upstream/simple-model.js';

const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';
const NO_RETRY = { retries: 0, baseDelayMs: 1, maxDelayMs: 1 };

async function withServer(listener: RequestListener, run: (base: string) => Promise<void>): Promise<void> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Writes 64 KiB chunks until the client goes away; counts what it sent. */
function endless(res: ServerResponse, sent: { bytes: number }): void {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const more = () => {
    while (!res.destroyed) {
      sent.bytes += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', more);
    }
  };
  res.on('error', () => undefined);
  more();
}

const page = (files: number) =>
  JSON.stringify({
    meta: { 'api-version': '1.0' },
    name: 'demo',
    files: Array.from({ length: files }, (_, i) => ({ filename: `demo-1.${i}.tar.gz`, url: `demo-1.${i}.tar.gz`, hashes: { sha256: 'a'.repeat(64) } })),
  });

test('a page bigger than maxPageBytes fails, by Content-Length at once and by bytes while streaming (an endless page is cut off)', {
  timeout: 20_000,
}, async () => {
  const sent = { bytes: 0 };
  await withServer(
    (req, res) => {
      if (req.url === '/announced/') res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': String(page(200).length) }).end(page(200));
      else if (req.url === '/small/') res.writeHead(200, { 'content-type': JSON_TYPE }).end(page(2));
      else {
        res.writeHead(200, { 'content-type': JSON_TYPE }); // chunked: no length to check first
        endless(res, sent);
      }
    },
    async (base) => {
      const client = () => new SimpleIndexClient({ url: base, retry: NO_RETRY, timeoutMs: 5_000, maxPageBytes: 4096 });
      const announced = client();
      await assert.rejects(
        announced.fetchProject('announced'),
        (e: unknown) => e instanceof UpstreamError && !e.isTransient && /page larger than the limit of 4096 bytes \(Content-Length \d+\)/.test(e.message),
      );
      await announced.close();
      const streamed = client();
      await assert.rejects(
        streamed.fetchProject('endless'),
        (e: unknown) => e instanceof UpstreamError && /page larger than the limit of 4096 bytes \(more than 4096 bytes sent\)/.test(e.message),
      );
      await streamed.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(sent.bytes < 64 * 1024 * 1024, `the endless page was cut off early, not read on (${sent.bytes} bytes sent)`);
      const small = client();
      const outcome = await small.fetchProject('small');
      assert.equal(outcome.kind === 'page' && outcome.page.files.length, 2, 'a page within the limit is read');
      await small.close();
    },
  );
});

test('a page that trickles in (never stalling for the timeout) fails at the attempt deadline', { timeout: 20_000 }, async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200, { 'content-type': JSON_TYPE });
      const body = Buffer.from(page(50));
      let at = 0;
      const timer = setInterval(() => {
        if (res.destroyed || at >= body.length) return void clearInterval(timer);
        res.write(body.subarray(at, at + 1));
        at++;
      }, 20);
      res.on('close', () => clearInterval(timer));
    },
    async (base) => {
      const client = new SimpleIndexClient({ url: base, retry: NO_RETRY, timeoutMs: 2_000, pageAttemptMs: 500 });
      const started = Date.now();
      await assert.rejects(client.fetchProject('demo'), (e: unknown) => e instanceof UpstreamError && e.isTransient && /not received in time/.test(e.message));
      assert.ok(Date.now() - started < 3_000, `gave up after ${Date.now() - started} ms`);
      await client.close();
    },
  );
});

test('an error answer with an endless body is not read to its end', { timeout: 20_000 }, async () => {
  const sent = { bytes: 0 };
  await withServer(
    (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      endless(res, sent);
    },
    async (base) => {
      const client = new SimpleIndexClient({ url: base, retry: NO_RETRY, timeoutMs: 2_000 });
      await assert.rejects(client.fetchProject('demo'), (e: unknown) => e instanceof UpstreamError && /HTTP 500/.test(e.message));
      await client.close();
      assert.ok(sent.bytes < 64 * 1024 * 1024, `${sent.bytes} bytes were sent`);
    },
  );
});

test('a file bigger than maxBytes: refused by the index size without a request, by Content-Length before the body, by bytes while streaming; nothing kept', {
  timeout: 20_000,
}, async () => {
  const sent = { bytes: 0 };
  const hits: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-limits-'));
  const transport = new HttpTransport({ connections: 2, timeoutMs: 5_000, userAgent: 'test' });
  try {
    await withServer(
      (req, res) => {
        hits.push(req.url ?? '');
        if (req.url === '/announced') res.writeHead(200, { 'content-length': String(1 << 20) }).end(Buffer.alloc(1 << 20));
        else {
          res.writeHead(200);
          endless(res, sent);
        }
      },
      async (base) => {
        const get = (name: string, size?: number) =>
          downloadVerified(transport, {
            url: `${base}${name}`,
            target: join(dir, name),
            algorithm: 'sha256',
            digest: createHash('sha256').digest('hex'),
            headers: {},
            maxBytes: 100_000,
            ...(size === undefined ? {} : { size }),
          });
        await assert.rejects(get('by-index', 200_000), (e: unknown) => e instanceof TooLargeError && /the index says 200000 bytes/.test(e.message));
        assert.deepEqual(hits, [], 'not even asked');
        await assert.rejects(get('announced'), (e: unknown) => e instanceof TooLargeError && !e.isTransient && /Content-Length 1048576/.test(e.message));
        await assert.rejects(get('endless'), (e: unknown) => e instanceof TooLargeError && /more than 100000 bytes sent/.test(e.message));
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.ok(sent.bytes < 64 * 1024 * 1024, `the endless file was cut off early (${sent.bytes} bytes sent)`);
        assert.deepEqual(readdirSync(dir), [], 'no file and no .part left');
      },
    );
  } finally {
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('toHeaderText: printable ASCII only, so upstream text can never break or split a header', () => {
  const rows: [string, string][] = [
    ['plain text', 'plain text'],
    ['http://[\u20ac]/: redirects to an invalid Location', 'http://[?]/: redirects to an invalid Location'],
    ['caf\u00e9 \u{1F600}\u{1F600} end', 'caf? ? end'],
    ['a\r\nSet-Cookie: x=1', 'a Set-Cookie: x=1'],
    ['bell\u0007\u0000nul\u007fdel', 'bell?nul?del'],
    ['  tabs\tand\n\nlines  ', 'tabs and lines'],
    ['\u2028line separator\u00a0nbsp', 'line separator nbsp'],
  ];
  for (const [input, expected] of rows) {
    assert.equal(toHeaderText(input), expected, JSON.stringify(input));
    assert.match(toHeaderText(input), /^[\x20-\x7e]*$/);
  }
  assert.equal(toHeaderText('x'.repeat(500)).length, 200);
  assert.match(toHeaderText('x'.repeat(500)), /\.\.\.$/);
});

test('proxy page: files of another project and files too big (by the index) are left off, each said once', () => {
  const sha = 'a'.repeat(64);
  const { page, problems } = buildProxyPage(
    'victim',
    [
      { filename: 'victim-1.0-py3-none-any.whl', url: 'https://f.example/victim-1.0-py3-none-any.whl', hashes: { sha256: sha } },
      { filename: 'other-9.0-py3-none-any.whl', url: 'https://f.example/other-9.0-py3-none-any.whl', hashes: { sha256: sha } },
      { filename: 'victim_extra-9.0.tar.gz', url: 'https://f.example/victim_extra-9.0.tar.gz', hashes: { sha256: sha } },
      { filename: 'victim-2.0-py3-none-any.whl', url: 'https://f.example/victim-2.0-py3-none-any.whl', hashes: { sha256: sha }, size: 2_000 },
      { filename: 'victim-1.5-py3-none-any.whl', url: 'https://f.example/victim-1.5-py3-none-any.whl', hashes: { sha256: sha }, size: 1_000 },
    ],
    [],
    { maxFileBytes: 1_000 },
  );
  assert.deepEqual(
    page.files.map((f) => f.filename),
    ['victim-1.0-py3-none-any.whl', 'victim-1.5-py3-none-any.whl'],
  );
  assert.deepEqual(page.versions, ['1.0', '1.5']);
  assert.equal(problems.length, 3);
  assert.match(problems[0] ?? '', /other-9\.0-py3-none-any\.whl: a file of other, not of victim/);
  assert.match(problems[1] ?? '', /victim_extra-9\.0\.tar\.gz: a file of victim-extra, not of victim/);
  assert.match(problems[2] ?? '', /victim-2\.0-py3-none-any\.whl: 2000 bytes, larger than the limit of 1000/);
});

test('--max-page-size / --max-file-size: sizes with units, above 0; sane defaults', () => {
  assert.equal(parseByteLimit(undefined, '--max-file-size', 7), 7);
  assert.equal(parseByteLimit('512M', '--max-file-size', 7), 512_000_000);
  assert.equal(parseByteLimit('1G', '--max-file-size', 7), 1_000_000_000);
  assert.equal(parseByteLimit('64MiB', '--max-page-size', 7), 64 * 1024 * 1024);
  assert.equal(parseByteLimit('1.5GiB', '--max-file-size', 7), 1.5 * 1024 ** 3);
  assert.equal(parseByteLimit('4096', '--max-page-size', 7), 4096);
  for (const bad of ['0', '0M', 'big', '-1', '1Q', '']) {
    assert.throws(
      () => parseByteLimit(bad, '--max-file-size', 7),
      (e: unknown) => e instanceof UsageError && /--max-file-size/.test(`${e.message} ${(e as UsageError & { source?: string }).source ?? ''}`),
      bad,
    );
  }
  assert.equal(DEFAULT_MAX_PAGE_BYTES, 64 * 1024 * 1024);
  assert.equal(DEFAULT_MAX_FILE_BYTES, 1024 ** 3);
});

test('toLogText: upstream text cannot put escape sequences or line breaks into the log', () => {
  assert.equal(toLogText('upstream failed: \u001b[31mred\u001b[0m\r\nfake line\u009b2J'), 'upstream failed: ?[31mred?[0m??fake line?2J');
  assert.equal(toLogText('tab\tand caf\u00e9 stay'), 'tab\tand caf\u00e9 stay');
});

test('offline: the page lists the cached files only, without metadata it does not keep; a page that cannot be written leaves the whole kept page', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-offline-page-'));
  try {
    const state = join(dir, '.dib-pypi', 'upstream', 'demo');
    mkdirSync(state, { recursive: true });
    mkdirSync(join(dir, 'demo'));
    const sha = 'a'.repeat(64);
    const file = (version: string) => ({
      filename: `demo-${version}-py3-none-any.whl`,
      url: `http://127.0.0.1:1/demo-${version}-py3-none-any.whl`,
      hashes: { sha256: sha },
      coreMetadata: { sha256: sha },
    });
    writeFileSync(
      join(state, 'listing.json'),
      JSON.stringify({
        version: 1,
        project: 'demo',
        upstream: 'http://127.0.0.1:1/',
        fetchedAt: 0,
        validators: {},
        files: [file('1.0'), file('1.1'), file('2.0')],
      }),
    );
    writeFileSync(join(dir, 'demo', 'demo-1.0-py3-none-any.whl'), 'x');
    writeFileSync(join(dir, 'demo', 'demo-1.0-py3-none-any.whl.metadata'), 'm');
    writeFileSync(join(dir, 'demo', 'demo-1.1-py3-none-any.whl'), 'x');
    const lines: string[] = [];
    const open = () =>
      new PullThroughCache({
        dir,
        upstreams: ['http://127.0.0.1:1/'],
        ttlMs: 1_000,
        timeoutMs: 1_000,
        offline: true,
        maxPageBytes: 1 << 20,
        maxFileBytes: 1 << 20,
        allowUpstream: new Set(),
        onStored: () => undefined,
        onPageWritten: () => undefined,
        log: (line) => lines.push(line),
      });
    const cache = open();
    const plan = await cache.preparePage('demo');
    assert.equal(plan?.headers?.['X-Dib-Pypi-Cache'], 'offline');
    const page = JSON.parse(readFileSync(join(plan?.dir as string, 'index.json'), 'utf8')) as { files: { filename: string; 'core-metadata'?: unknown }[] };
    assert.deepEqual(
      page.files.map((f) => [f.filename, f['core-metadata'] !== undefined]),
      [
        ['demo-1.0-py3-none-any.whl', true],
        ['demo-1.1-py3-none-any.whl', false],
      ],
    );
    await cache.close();

    rmSync(join(state, 'cached'), { recursive: true });
    writeFileSync(join(state, 'cached'), 'in the way');
    const blocked = open();
    assert.equal((await blocked.preparePage('demo'))?.dir, state, 'the whole kept page');
    assert.match(lines.join('\n'), /cannot write the cached-only page of demo/);
    await blocked.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
