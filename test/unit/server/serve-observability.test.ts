// The pure parts of serve's logs, health and metrics: access log lines (escaping, redaction, bounded
// fields), the health verdict for each combination of facts, and the Prometheus text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basicAuthUser, clfTime, escapeLogText, formatCombined, formatJsonLine, type AccessEntry } from '../../../src/server/access-log.js';
import { judgeHealth, MIN_FREE_BYTES, type HealthFacts } from '../../../src/server/health.js';
import { escapeLabelValue, mergeSnapshots, Metrics, renderMetrics } from '../../../src/server/metrics.js';
import { routeLabel } from '../../../src/server/observe.js';
import { route } from '../../../src/server/routes.js';
import { parseExposition } from '../../helpers/prometheus.js';

const ENTRY: AccessEntry = {
  startMs: Date.UTC(2026, 11, 7, 19, 5, 1, 250),
  client: '127.0.0.1',
  user: undefined,
  method: 'GET',
  url: '/simple/x/',
  httpVersion: '1.1',
  status: 200,
  bytes: 1234,
  referrer: undefined,
  userAgent: 'pip/23.0.1 {"python":"3.11"}',
  durationSeconds: 0.0031,
  cache: 'hit',
  route: 'page',
  isAborted: false,
};

test('combined: Apache combined format, then duration and cache status', () => {
  assert.equal(
    formatCombined(ENTRY),
    '127.0.0.1 - - [07/Dec/2026:19:05:01 +0000] "GET /simple/x/ HTTP/1.1" 200 1234 "-" "pip/23.0.1 {\\"python\\":\\"3.11\\"}" 0.003 hit',
  );
  assert.equal(
    formatCombined({
      ...ENTRY,
      user: 'alice',
      status: 304,
      bytes: 0,
      referrer: 'http://example.test/',
      userAgent: undefined,
      cache: undefined,
      durationSeconds: 1.23456,
    }),
    '127.0.0.1 - alice [07/Dec/2026:19:05:01 +0000] "GET /simple/x/ HTTP/1.1" 304 - "http://example.test/" "-" 1.235 -',
  );
  assert.equal(clfTime(Date.UTC(2027, 0, 2, 3, 4, 5)), '[02/Jan/2027:03:04:05 +0000]');
});

test('escaping: no quote, backslash, newline or control character reaches the line unescaped (as Apache)', () => {
  for (const [input, output] of [
    ['plain', 'plain'],
    ['a"b', 'a\\"b'],
    ['a\\b', 'a\\\\b'],
    ['line\nnext\r', 'line\\nnext\\r'],
    ['\t\b\v', '\\t\\b\\v'],
    ['\x1b[31mred\x7f\x00', '\\x1b[31mred\\x7f\\x00'],
    ['caf\u00e9', 'caf\\xe9'],
    ['\u20ac', '\\xe2\\x82\\xac'],
  ] as const) {
    assert.equal(escapeLogText(input), output, JSON.stringify(input));
  }
  const forged = formatCombined({ ...ENTRY, userAgent: 'x" 200 1 "-" "y\n127.0.0.1 - admin [', url: '/a"b c', client: 'a b' });
  assert.equal(forged.split('\n').length, 1);
  // The fields are still found by a combined-format reader: exactly the quotes we put there are unescaped.
  const fields = /^(\S+) - (\S+) (\[[^\]]+\]) "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)" (\d+\.\d{3}) (\S+)$/.exec(forged);
  assert.ok(fields !== null, forged);
  assert.equal(fields[1], 'a\\x20b');
  assert.equal(fields[4], 'GET /a\\"b c HTTP/1.1');
  assert.equal(fields[8], 'x\\" 200 1 \\"-\\" \\"y\\n127.0.0.1 - admin [');
});

test('redaction: a URL with user:password in the request, referrer or user agent never shows its password', () => {
  const secret = {
    ...ENTRY,
    url: '/simple/?next=https://bob:hunter2@host/x',
    referrer: 'https://carol:s3cret@ref.test/',
    userAgent: 'tool http://dave:pa55@h/',
  };
  for (const line of [formatCombined(secret), formatJsonLine(secret)]) {
    for (const password of ['hunter2', 's3cret', 'pa55']) assert.ok(!line.includes(password), line);
    assert.match(line, /bob:\*\*\*@host/);
  }
  // Clipped after redaction: a long URL cut in its userinfo cannot leave a password behind.
  const long = formatCombined({ ...ENTRY, url: `/${'a'.repeat(1000)}?u=https://eve:topsecret@h/` });
  assert.ok(!long.includes('topsecret'));
  assert.ok(long.length < 4096);
});

test('fields are bounded: a line stays below PIPE_BUF (4096 bytes) whatever the client sends', () => {
  const huge = { ...ENTRY, url: `/${'%'.repeat(16000)}`, userAgent: '\x01'.repeat(8000), referrer: '"'.repeat(8000), user: 'u'.repeat(1000) };
  for (const line of [formatCombined(huge), formatJsonLine(huge), formatJsonLine({ ...huge, userAgent: '\u20ac'.repeat(4000) })]) {
    assert.ok(Buffer.byteLength(line) < 4096, `${Buffer.byteLength(line)} bytes`);
  }
  assert.equal(JSON.parse(formatJsonLine(huge)).user_agent.endsWith('...'), true);
});

test('JSON lines: one object, fixed keys in a fixed order, null for what is absent', () => {
  const line = formatJsonLine({ ...ENTRY, userAgent: 'a"b\nc', user: 'alice' });
  assert.ok(!line.includes('\n'));
  const parsed = JSON.parse(line) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), [
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
  assert.deepEqual(parsed, {
    time: '2026-12-07T19:05:01.250Z',
    client: '127.0.0.1',
    user: 'alice',
    method: 'GET',
    url: '/simple/x/',
    protocol: 'HTTP/1.1',
    status: 200,
    bytes: 1234,
    referrer: null,
    user_agent: 'a"b\nc',
    duration: 0.0031,
    cache: 'hit',
    route: 'page',
    aborted: false,
  });
});

test('the user is the Basic-auth user name, never the password; other schemes give none', () => {
  const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
  assert.equal(basicAuthUser(basic('alice:secret')), 'alice');
  assert.equal(basicAuthUser(basic('__token__:pypi-abc:def')), '__token__');
  assert.equal(basicAuthUser(basic('nopassword')), 'nopassword');
  assert.equal(basicAuthUser(basic(':only-password')), undefined);
  assert.equal(basicAuthUser('Bearer abc'), undefined);
  assert.equal(basicAuthUser(undefined), undefined);
  assert.equal(basicAuthUser('basic !!!'), undefined);
});

test('route labels are a small fixed set, never the path', () => {
  assert.deepEqual(route('GET', '/metrics'), { kind: 'metrics' });
  for (const [method, url, label] of [
    ['GET', '/', 'root'],
    ['GET', '/simple/?format=json', 'root'],
    ['GET', '/simple/demo/', 'page'],
    ['GET', '/demo/demo-1.0-py3-none-any.whl', 'file'],
    ['GET', '/simple/demo/demo-1.0-py3-none-any.whl.metadata', 'metadata'],
    ['GET', '/simple/Demo/', 'redirect'],
    ['GET', '/health', 'health'],
    ['GET', '/metrics', 'metrics'],
    ['POST', '/legacy/', 'upload'],
    ['GET', '/wp-login.php', 'other'],
    ['DELETE', '/x/y/z', 'other'],
  ] as const) {
    assert.equal(routeLabel(method, url), label, `${method} ${url}`);
  }
});

const DISK_OK = { freeBytes: 50 * 1024 ** 3, sizeBytes: 100 * 1024 ** 3, freeInodes: 1e6, inodes: 2e6 };
const HEALTHY: HealthFacts = { mirrorProblem: undefined, hasNoIndex: false, disk: DISK_OK, hasKeptPages: true, isWriting: false, proxy: undefined };
const UP = { url: 'http://up.test/simple/', state: 'up' };
const DOWN = { url: 'http://down.test/simple/', state: 'down', lastError: 'connect ECONNREFUSED' };

test('health: each fact gives its status (fail is 503; degraded still serves)', () => {
  for (const [why, facts, status, checks] of [
    ['all well', HEALTHY, 'ok', []],
    ['mirror missing', { ...HEALTHY, mirrorProblem: 'ENOENT', disk: undefined }, 'fail', ['mirror']],
    ['no index, plain mirror', { ...HEALTHY, hasNoIndex: true }, 'fail', ['mirror']],
    ['no index, cache (starts empty)', { ...HEALTHY, hasNoIndex: true, proxy: { offline: false, upstreams: [UP] } }, 'ok', []],
    ['disk nearly full, read-only mirror', { ...HEALTHY, disk: { ...DISK_OK, freeBytes: MIN_FREE_BYTES - 1 } }, 'degraded', ['disk']],
    ['disk nearly full, server that writes', { ...HEALTHY, isWriting: true, disk: { ...DISK_OK, freeBytes: MIN_FREE_BYTES - 1 } }, 'fail', ['disk']],
    ['below 1 % free', { ...HEALTHY, isWriting: true, disk: { ...DISK_OK, freeBytes: 0.009 * DISK_OK.sizeBytes } }, 'fail', ['disk']],
    ['inodes nearly gone', { ...HEALTHY, isWriting: true, disk: { ...DISK_OK, freeInodes: 10 } }, 'fail', ['disk']],
    ['one upstream down of two', { ...HEALTHY, proxy: { offline: false, upstreams: [UP, DOWN] } }, 'degraded', ['upstream']],
    ['every upstream down, pages kept', { ...HEALTHY, proxy: { offline: false, upstreams: [DOWN] } }, 'degraded', ['upstream']],
    ['every upstream down, nothing kept', { ...HEALTHY, hasKeptPages: false, proxy: { offline: false, upstreams: [DOWN] } }, 'fail', ['upstream']],
    [
      'last contact failed (circuit closed again)',
      { ...HEALTHY, proxy: { offline: false, upstreams: [{ ...UP, lastError: 'HTTP 503' }] } },
      'degraded',
      ['upstream'],
    ],
    ['--offline: upstream not a problem', { ...HEALTHY, proxy: { offline: true, upstreams: [{ ...DOWN, state: 'not contacted' }] } }, 'ok', []],
  ] as const) {
    const verdict = judgeHealth(facts as HealthFacts);
    assert.equal(verdict.status, status, why);
    assert.deepEqual(
      verdict.problems.map((p) => p.check),
      checks,
      why,
    );
  }
  const message = judgeHealth({ ...HEALTHY, mirrorProblem: 'ENOENT' }).problems[0]?.message ?? '';
  assert.match(message, /ENOENT/);
});

test('metrics: valid text format, histograms cumulative, snapshots of several processes add up', () => {
  const one = new Metrics();
  one.add('dib_pypi_http_requests_total', { route: 'file', code: '200' });
  one.add('dib_pypi_http_requests_total', { route: 'file', code: '200' });
  one.add('dib_pypi_http_response_bytes_total', { route: 'file' }, 1000);
  one.observe('dib_pypi_http_request_duration_seconds', { route: 'file' }, 0.002);
  one.observe('dib_pypi_http_request_duration_seconds', { route: 'file' }, 100);
  one.set('dib_pypi_open_connections', {}, 3);
  const two = new Metrics();
  two.add('dib_pypi_http_requests_total', { route: 'file', code: '200' });
  two.add('dib_pypi_http_requests_total', { route: 'page', code: '404' });
  two.observe('dib_pypi_http_request_duration_seconds', { route: 'file' }, 0.0005);
  two.set('dib_pypi_open_connections', {}, 2);
  const text = renderMetrics(mergeSnapshots([one.snapshot(), two.snapshot()]));
  const parsed = parseExposition(text);
  assert.equal(parsed.value('dib_pypi_http_requests_total', { route: 'file', code: '200' }), 3);
  assert.equal(parsed.value('dib_pypi_http_requests_total', { route: 'page', code: '404' }), 1);
  assert.equal(parsed.value('dib_pypi_http_response_bytes_total', { route: 'file' }), 1000);
  assert.equal(parsed.value('dib_pypi_open_connections'), 5);
  assert.equal(parsed.value('dib_pypi_http_request_duration_seconds_count', { route: 'file' }), 3);
  assert.equal(parsed.value('dib_pypi_http_request_duration_seconds_bucket', { route: 'file', le: '0.001' }), 1);
  assert.equal(parsed.value('dib_pypi_http_request_duration_seconds_bucket', { route: 'file', le: '0.005' }), 2);
  assert.equal(parsed.value('dib_pypi_http_request_duration_seconds_bucket', { route: 'file', le: '30' }), 2);
  assert.equal(parsed.value('dib_pypi_http_request_duration_seconds_bucket', { route: 'file', le: '+Inf' }), 3);
  assert.equal(parsed.types.get('dib_pypi_http_request_duration_seconds'), 'histogram');
  assert.equal(parsed.types.get('dib_pypi_open_connections'), 'gauge');
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  assert.throws(() => parseExposition('no_type_declared 1\n'), /no TYPE/);
  assert.throws(() => parseExposition('# TYPE x counter\nx 1\n'), /_total/);
});
