// `dib-pypi serve` as operators watch it: the access log (combined and JSON lines, parsed back, with
// hostile clients), /health going 503 when the mirror disappears and degraded when the upstream
// goes down, /metrics counters that move and parse as Prometheus text, summed over --workers.
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { startFaultUpstream } from '../../helpers/fault-server.js';
import { httpRequest } from '../../helpers/http-get.js';
import { makeWheel } from '../../helpers/make-dist.js';
import { basicAuth } from '../../helpers/multipart.js';
import { JSON_TYPE } from '../../helpers/negotiation.js';
import { parseExposition } from '../../helpers/prometheus.js';
import { makeTempDir } from '../../helpers/python.js';
import { startServe, type ServeProcess } from '../../helpers/serve.js';
import { eventually } from '../../helpers/wait.js';
import { freePort } from '../../helpers/ports.js';

const WHEEL = 'demo_pkg-1.0-py3-none-any.whl';
const COMBINED =
  /^(\S+) - (\S+) \[(\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)" (\d+\.\d{3}) (\S+)$/;
const ISO_PREFIX = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z dib-pypi serve: /;

async function makeMirror(dir: string): Promise<void> {
  await makeWheel(join(dir, 'demo-pkg'), { name: 'demo-pkg', version: '1.0' });
  const indexed = runCli(['mirror', 'index', dir]);
  assert.equal(indexed.status, 0, indexed.stderr);
}

/** The access log: lines of the server's output that are neither its start-up lines nor events (timestamped, on stderr). */
function logLines(server: ServeProcess): string[] {
  return server
    .output()
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('dib-pypi serve: ') && !line.startsWith('pull-through cache of ') && !ISO_PREFIX.test(line));
}

function eventLines(server: ServeProcess): string[] {
  return server
    .output()
    .split('\n')
    .filter((line) => ISO_PREFIX.test(line));
}

/** Send raw bytes as a request (a client that does not play by the rules) and read the whole answer. */
function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(Buffer.from(bytes, 'latin1')));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

async function metricsOf(server: ServeProcess) {
  const answer = await httpRequest(`${server.url}metrics`);
  assert.equal(answer.status, 200);
  assert.match(String(answer.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parseExposition(answer.body.toString());
}

test('serve --access-log: combined lines a log tool can read, escaped and redacted whatever the client sends', async () => {
  await using mirror = makeTempDir('dib-pypi-logs-');
  await makeMirror(mirror.path);
  await using server = await startServe([mirror.path, '--access-log'], { env: cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: 'the-token' }) });
  const page = await httpRequest(`${server.url}simple/demo-pkg/`, {
    headers: { 'User-Agent': 'pip/23.0.1 "quoted" \\ back', Referer: 'http://carol:refpass@ref.test/' },
  });
  const file = await httpRequest(`${server.url}demo-pkg/${WHEEL}`);
  const upload = await httpRequest(`${server.url}legacy/`, {
    method: 'POST',
    headers: { Authorization: basicAuth('__token__', 'wrong-secret'), 'Content-Type': 'multipart/form-data; boundary=x' },
    body: Buffer.from('--x--\r\n'),
  });
  assert.equal(upload.status, 403);
  await httpRequest(`${server.url}simple/?next=https://bob:hunter2@elsewhere.test/`);
  // Attempts to forge a line: a bare LF in a header (refused by Node's parser: 400, no line), percent-encoded
  // CR/LF, quotes and backslashes in the request line and a header, bytes beyond ASCII.
  const forged = await rawRequest(
    server.port,
    'GET /x HTTP/1.1\r\nHost: a\r\nUser-Agent: evil\n127.0.0.1 - admin [01/Jan/2026:00:00:00 +0000] "GET /forged HTTP/1.1" 200 1 "-" "-"\r\nConnection: close\r\n\r\n',
  );
  assert.match(forged, /^HTTP\/1\.1 400 /);
  await rawRequest(server.port, 'GET /simple/demo-pkg/%0d%0a127.0.0.1 HTTP/1.1\r\nHost: a\r\nUser-Agent: caf\xe9 "\\\r\nConnection: close\r\n\r\n');
  await rawRequest(server.port, 'GET /a"b\\c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');

  await eventually('a log line per request', () => logLines(server).length >= 6).catch((error: Error) => assert.fail(`${error.message}:\n${server.output()}`));
  const lines = logLines(server);
  for (const line of lines) assert.match(line, COMBINED, `a combined line: ${line}`);
  assert.ok(!lines.some((line) => line.includes('forged')), `no forged line:\n${lines.join('\n')}`);
  const fields = lines.map((line) => COMBINED.exec(line) as RegExpExecArray);

  const pageLine = fields.find((f) => f[4] === 'GET /simple/demo-pkg/ HTTP/1.1');
  assert.ok(pageLine, lines.join('\n'));
  assert.equal(pageLine[1], '127.0.0.1');
  assert.equal(pageLine[2], '-');
  assert.equal(pageLine[5], '200');
  assert.equal(Number(pageLine[6]), page.body.length, 'bytes: the body sent');
  assert.equal(pageLine[7], 'http://carol:***@ref.test/');
  assert.equal(pageLine[8], 'pip/23.0.1 \\"quoted\\" \\\\ back');
  assert.equal(pageLine[10], 'local');
  const fileLine = fields.find((f) => f[4] === `GET /demo-pkg/${WHEEL} HTTP/1.1`);
  assert.equal(Number(fileLine?.[6]), file.body.length);
  const uploadLine = fields.find((f) => f[4] === 'POST /legacy/ HTTP/1.1');
  assert.equal(uploadLine?.[2], '__token__', 'the Basic-auth user');
  assert.equal(uploadLine?.[5], '403');
  assert.equal(uploadLine?.[10], '-');
  const encoded = fields.find((f) => (f[4] ?? '').startsWith('GET /simple/demo-pkg/%0d%0a'));
  assert.equal(encoded?.[8], 'caf\\xe9 \\"\\\\');
  assert.ok(
    fields.some((f) => f[4] === 'GET /a\\"b\\\\c HTTP/1.1' && f[5] === '404'),
    lines.join('\n'),
  );
  const output = server.output();
  for (const secret of ['hunter2', 'refpass', 'wrong-secret', 'the-token']) assert.ok(!output.includes(secret), `${secret} is never printed`);
  assert.match(output, /bob:\*\*\*@elsewhere\.test/);
  // Events on stderr carry a timestamp: the refused upload.
  const refused = output.split('\n').find((line) => line.includes('upload refused'));
  assert.match(refused ?? '', ISO_PREFIX);

  const metrics = await metricsOf(server);
  assert.equal(metrics.value('dib_pypi_http_requests_total', { route: 'page', code: '200' }), 1);
  assert.equal(metrics.value('dib_pypi_http_requests_total', { route: 'file', code: '200' }), 1);
  assert.equal(metrics.value('dib_pypi_http_response_bytes_total', { route: 'file' }), file.body.length);
  assert.equal(metrics.value('dib_pypi_uploads_total', { outcome: 'forbidden' }), 1);
  assert.ok(metrics.value('dib_pypi_connections_total') >= 5);
  assert.ok(metrics.value('dib_pypi_open_connections') >= 1, 'this scrape is open');
  assert.equal(metrics.value('dib_pypi_processes'), 1);
  assert.ok(metrics.value('dib_pypi_uptime_seconds') > 0);
  assert.ok(!metrics.samples.some((s) => Object.values(s.labels).some((v) => v.includes('/'))), 'no path in any label');
});

test('serve --access-log --log-format json --workers 2: whole JSON lines from both processes, /metrics summed over them', async () => {
  await using mirror = makeTempDir('dib-pypi-logs-json-');
  await makeMirror(mirror.path);
  await using server = await startServe([mirror.path, '--access-log', '--log-format', 'json', '--workers', '2']);
  const before = await metricsOf(server);
  const requests = 200;
  // Long user agents: lines of ~1.5 KB, so that two processes writing at once would show any torn line.
  await Promise.all(
    Array.from({ length: requests }, (_, i) =>
      httpRequest(`${server.url}${i % 2 === 0 ? 'simple/demo-pkg/' : `demo-pkg/${WHEEL}`}`, {
        headers: { 'User-Agent': `agent-${i}-${'x'.repeat(1400)}`, Accept: JSON_TYPE },
      }),
    ),
  );
  await eventually('a line per request', () => logLines(server).filter((line) => line.includes('"user_agent":"agent-')).length >= requests);
  const entries = logLines(server).map((line) => JSON.parse(line) as Record<string, unknown>);
  const ours = entries.filter((e) => String(e.user_agent).startsWith('agent-'));
  assert.equal(ours.length, requests);
  assert.deepEqual(new Set(ours.map((e) => e.route)), new Set(['page', 'file']));
  assert.ok(ours.every((e) => e.status === 200 && typeof e.duration === 'number' && e.cache === 'local' && e.aborted === false));
  assert.deepEqual(Object.keys(ours[0] as object), [
    'time',
    'client',
    'user',
    'method',
    'url',
    'protocol',
    'status',
    'bytes',
    'referrer',
    'user_agent',
    'duration',
    'cache',
    'route',
    'aborted',
  ]);

  const after = await metricsOf(server);
  assert.equal(after.value('dib_pypi_processes'), 2, 'both processes counted');
  const served = (m: typeof after) =>
    m.value('dib_pypi_http_requests_total', { route: 'page', code: '200' }) + m.value('dib_pypi_http_requests_total', { route: 'file', code: '200' });
  assert.equal(served(after) - served(before), requests, 'the sum over both processes');
  assert.equal(after.value('dib_pypi_http_requests_total', { route: 'metrics', code: '200' }), 1, 'the first scrape, counted in whichever process answered it');
  assert.equal(after.value('dib_pypi_http_request_duration_seconds_count', { route: 'page' }), requests / 2);
  const workers = server.workerPids();
  assert.equal(workers.length, 2);
});

test('/health: 503 naming the problem when the mirror directory goes away, ok again when it is back', async () => {
  await using mirror = makeTempDir('dib-pypi-health-');
  await makeMirror(mirror.path);
  await using server = await startServe([mirror.path, '--workers', '1']);
  const ok = await httpRequest(`${server.url}health`);
  assert.equal(ok.status, 200);
  const body = JSON.parse(ok.body.toString()) as { status: string; problems: unknown[]; disk: { freeBytes: number } };
  assert.equal(body.status, 'ok');
  assert.deepEqual(body.problems, []);
  assert.ok(body.disk.freeBytes > 0);

  const moved = `${mirror.path}.moved`;
  renameSync(mirror.path, moved);
  try {
    let failed: { status: number; body: Buffer } | undefined;
    for (let i = 0; i < 40 && failed?.status !== 503; i++) {
      failed = await httpRequest(`${server.url}health`);
      if (failed.status !== 503) await new Promise((done) => setTimeout(done, 100));
    }
    assert.equal(failed?.status, 503, 'unhealthy within a few seconds');
    const report = JSON.parse(failed.body.toString()) as { status: string; problems: { check: string; message: string }[] };
    assert.equal(report.status, 'fail');
    assert.equal(report.problems[0]?.check, 'mirror');
    assert.match(report.problems[0]?.message ?? '', /ENOENT/);
    assert.ok(!failed.body.toString().includes(mirror.path), 'no host path in the answer');
  } finally {
    renameSync(moved, mirror.path);
  }
  await new Promise((done) => setTimeout(done, 1100));
  assert.equal((await httpRequest(`${server.url}health`)).status, 200);
  const metrics = await metricsOf(server);
  assert.ok(metrics.value('dib_pypi_http_requests_total', { route: 'health', code: '503' }) >= 1);
});

test('as a cache: hits, misses and stale pages counted; upstream down is degraded with pages kept, 503 with nothing kept', async () => {
  await using upstreamDir = makeTempDir('dib-pypi-health-up-');
  await makeMirror(upstreamDir.path);
  await using upstream = await startFaultUpstream(upstreamDir.path);
  await using cache = makeTempDir('dib-pypi-health-cache-');
  await using server = await startServe([cache.path, '--upstream', upstream.url, '--ttl', '0.2', '--timeout', '1', '--access-log']);
  assert.equal((await httpRequest(`${server.url}simple/demo-pkg/`)).status, 200);
  assert.equal((await httpRequest(`${server.url}simple/demo-pkg/${WHEEL}`)).status, 200);
  assert.equal((await httpRequest(`${server.url}simple/demo-pkg/${WHEEL}`)).status, 200);
  assert.equal(JSON.parse((await httpRequest(`${server.url}health`)).body.toString()).status, 'ok');

  await new Promise((done) => setTimeout(done, 300)); // past the TTL
  upstream.mode = 'error-500';
  const stale = await httpRequest(`${server.url}simple/demo-pkg/`);
  assert.equal(stale.headers['x-dib-pypi-cache'], 'stale');
  const degraded = await httpRequest(`${server.url}health`);
  assert.equal(degraded.status, 200, 'a cache that still serves is not taken out of service');
  const report = JSON.parse(degraded.body.toString()) as { status: string; problems: { check: string; message: string }[] };
  assert.equal(report.status, 'degraded');
  assert.equal(report.problems[0]?.check, 'upstream');
  assert.match(report.problems[0]?.message ?? '', /500/);

  const cacheColumn = logLines(server)
    .map((line) => COMBINED.exec(line))
    .filter((f): f is RegExpExecArray => f !== null && (f[4] ?? '').startsWith('GET /simple/demo-pkg/'))
    .map((f) => f[10]);
  assert.deepEqual(cacheColumn, ['refreshed', 'miss', 'hit', 'stale']);
  assert.ok(
    eventLines(server).some((line) => line.includes('upstream failed')),
    `the upstream failure on stderr, with a timestamp:\n${server.output()}`,
  );

  const metrics = await metricsOf(server);
  assert.equal(metrics.value('dib_pypi_cache_requests_total', { kind: 'page', result: 'refreshed' }), 1);
  assert.equal(metrics.value('dib_pypi_cache_requests_total', { kind: 'page', result: 'stale' }), 1);
  assert.equal(metrics.value('dib_pypi_cache_requests_total', { kind: 'file', result: 'miss' }), 1);
  assert.equal(metrics.value('dib_pypi_cache_requests_total', { kind: 'file', result: 'hit' }), 1);
  assert.equal(metrics.value('dib_pypi_upstream_requests_total', { kind: 'file', outcome: 'ok' }), 1);
  assert.ok(metrics.value('dib_pypi_upstream_errors_total', { kind: 'page' }) >= 1);
  assert.ok(metrics.value('dib_pypi_upstream_request_duration_seconds_count', { kind: 'page' }) >= 2);
  assert.ok(!metrics.samples.some((s) => Object.values(s.labels).some((v) => v.includes('127.0.0.1'))), 'no upstream URL in the labels');

  // An empty cache in front of an upstream that does not answer can serve nothing: 503.
  await using empty = makeTempDir('dib-pypi-health-empty-');
  await using lonely = await startServe([empty.path, '--upstream', `http://127.0.0.1:${await freePort()}/simple/`, '--timeout', '1']);
  assert.equal((await httpRequest(`${lonely.url}simple/demo-pkg/`)).status, 502);
  const down = await httpRequest(`${lonely.url}health`);
  assert.equal(down.status, 503, down.body.toString());
  assert.equal(JSON.parse(down.body.toString()).problems[0].check, 'upstream');
});

test('serve --log-format: only with --access-log, combined or json', () => {
  const alone = runCli(['serve', '/tmp', '--log-format', 'json']);
  assert.equal(alone.status, 2);
  assert.match(alone.stderr, /--log-format.*only with --access-log/);
  const bad = runCli(['serve', '/tmp', '--access-log', '--log-format', 'xml']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /combined or json/);
});
