// parseIndexUrl, parseRetries, parseFlagVariable and scanMirrorUrls on their own: one row per input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlagVariable, parseIndexUrl, parseRetries } from '../../../src/plan/parse-values.js';
import { DIB_PREFIX, LEGACY_PREFIX, scanMirrorUrls, type MirrorUrlScan } from '../../../src/plan/collect-mirror-urls.js';
import { UsageError } from '../../../src/errors.js';
import type { EnvMap } from '../../../src/plan/types.js';

function assertUsageError(run: () => unknown, message: string, source: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof UsageError, `expected UsageError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    assert.equal(error.message, message);
    assert.equal(error.source, source);
    return true;
  });
}

const GOOD_URLS: { raw: string; out: string }[] = [
  { raw: 'file:///tmp/pypi', out: 'file:///tmp/pypi' },
  { raw: 'file://localhost/tmp/pypi', out: 'file://localhost/tmp/pypi' },
  { raw: 'http://mirror.local/simple/', out: 'http://mirror.local/simple/' },
  { raw: 'https://mirror.example:8443/simple', out: 'https://mirror.example:8443/simple' },
  { raw: 'http://user:s3cret@mirror.local:8080/simple/', out: 'http://user:s3cret@mirror.local:8080/simple/' },
  { raw: 'http://[::1]:8080/simple/', out: 'http://[::1]:8080/simple/' },
  { raw: 'http://u:p=w;d@h/simple', out: 'http://u:p%3Dw%3Bd@h/simple' },
  { raw: 'http://h/a=b;c/', out: 'http://h/a%3Db%3Bc/' },
  { raw: 'http://h/a=b?q', out: 'http://h/a%3Db?q' },
  { raw: 'http://h/simple?', out: 'http://h/simple?' },
  { raw: 'http://h/simple?q&r', out: 'http://h/simple?q&r' },
];

for (const { raw, out } of GOOD_URLS) {
  test(`parseIndexUrl: ${JSON.stringify(raw)} -> ${JSON.stringify(out)}`, () => {
    assert.equal(parseIndexUrl(raw, 'X'), out);
  });
}

const BAD_URLS: { raw: string; detail: string }[] = [
  { raw: '', detail: 'not a URL: ""' },
  { raw: 'x', detail: 'not a URL: "x"' },
  { raw: 'ftp://h/', detail: 'unsupported scheme "ftp:" in "ftp://h/": use http://, https:// or file://' },
  { raw: 'htp:/x', detail: 'unsupported scheme "htp:" in "htp:/x": use http://, https:// or file://' },
  { raw: 'data:text/html,x', detail: 'unsupported scheme "data:" in "data:text/html,x": use http://, https:// or file://' },
  { raw: 'http://a b/', detail: 'contains whitespace at character 9: "http://a b/" (give one URL per variable or flag)' },
  { raw: 'http://a/\tb', detail: 'contains whitespace at character 10: "http://a/\\tb" (give one URL per variable or flag)' },
  { raw: 'file://host/x', detail: 'a file:// URL must not name a host: "file://host/x" (write file:///path)' },
  { raw: 'http://h/#', detail: 'a fragment (#...) has no meaning in an index URL: "http://h/#"' },
  { raw: 'http://h/?a#b', detail: 'a fragment (#...) has no meaning in an index URL: "http://h/?a#b"' },
  { raw: 'http://h/?a=b', detail: `'=' and ';' in the query cannot be written to pip.conf: "http://h/?a=b"` },
  { raw: 'http://u:p@h/?x;y', detail: `'=' and ';' in the query cannot be written to pip.conf: "http://u:***@h/?x;y"` },
];

for (const { raw, detail } of BAD_URLS) {
  test(`parseIndexUrl: ${JSON.stringify(raw)} is refused`, () => {
    assertUsageError(() => parseIndexUrl(raw, 'SOME_ORIGIN'), `SOME_ORIGIN: ${detail}`, 'SOME_ORIGIN');
  });
}

const RETRIES: { raw: string; value?: number; detail?: string }[] = [
  { raw: '0', value: 0 },
  { raw: '5', value: 5 },
  { raw: '\t12\n', value: 12 },
  { raw: '000', value: 0 },
  { raw: '1000', value: 1000 },
  { raw: '1001', detail: 'too large (at most 1000): 1001' },
  { raw: '9007199254740993', detail: 'too large (at most 1000): 9007199254740993' },
  { raw: '', detail: 'not a non-negative integer: ""' },
  { raw: '-0', detail: 'not a non-negative integer: "-0"' },
  { raw: '-1', detail: 'not a non-negative integer: "-1"' },
  { raw: '3.5', detail: 'not a non-negative integer: "3.5"' },
  { raw: '3.', detail: 'not a non-negative integer: "3."' },
  { raw: 'abc', detail: 'not a non-negative integer: "abc"' },
  { raw: 'Infinity', detail: 'not a non-negative integer: "Infinity"' },
  { raw: '0b1', detail: 'not a non-negative integer: "0b1"' },
  { raw: '1_000', detail: 'not a non-negative integer: "1_000"' },
];

for (const row of RETRIES) {
  test(`parseRetries: ${JSON.stringify(row.raw)}`, () => {
    if (row.detail === undefined) assert.equal(parseRetries(row.raw, 'R'), row.value);
    else assertUsageError(() => parseRetries(row.raw, 'R'), `R: ${row.detail}`, 'R');
  });
}

const FLAG_WORDS: { raw: string | undefined; value: boolean }[] = [
  { raw: undefined, value: false },
  { raw: '', value: false },
  { raw: '   ', value: false },
  { raw: '0', value: false },
  { raw: 'false', value: false },
  { raw: 'False', value: false },
  { raw: 'no', value: false },
  { raw: 'NO', value: false },
  { raw: 'off', value: false },
  { raw: 'n', value: false },
  { raw: '\toff\n', value: false },
  { raw: '1', value: true },
  { raw: 'true', value: true },
  { raw: 'yes', value: true },
  { raw: 'on', value: true },
  { raw: 'offline', value: true },
  { raw: '0.0', value: true },
];

for (const { raw, value } of FLAG_WORDS) {
  test(`parseFlagVariable: ${JSON.stringify(raw)} -> ${value}`, () => {
    assert.equal(parseFlagVariable(raw), value);
  });
}

// ---------------------------------------------------------------------------------------------

const SCANS: { name: string; vars: EnvMap; prefix: string; expected: MirrorUrlScan }[] = [
  { name: 'nothing', vars: {}, prefix: DIB_PREFIX, expected: { urls: [], ignoredNames: [] } },
  {
    name: 'numeric order, bare first, gaps',
    vars: { DIB_PYPI_MIRROR_URL_10: 'j', DIB_PYPI_MIRROR_URL_2: 'b', DIB_PYPI_MIRROR_URL: 'a', DIB_PYPI_MIRROR_URL_9: 'i' },
    prefix: DIB_PREFIX,
    expected: {
      urls: [
        { name: 'DIB_PYPI_MIRROR_URL', value: 'a' },
        { name: 'DIB_PYPI_MIRROR_URL_2', value: 'b' },
        { name: 'DIB_PYPI_MIRROR_URL_9', value: 'i' },
        { name: 'DIB_PYPI_MIRROR_URL_10', value: 'j' },
      ],
      ignoredNames: [],
    },
  },
  {
    name: 'values are returned as given (not trimmed, not parsed)',
    vars: { DIB_PYPI_MIRROR_URL: ' not a url ' },
    prefix: DIB_PREFIX,
    expected: { urls: [{ name: 'DIB_PYPI_MIRROR_URL', value: ' not a url ' }], ignoredNames: [] },
  },
  {
    name: 'empty, blank and undefined values skipped; prefix-only names ignored and sorted',
    vars: { DIB_PYPI_MIRROR_URL: '', DIB_PYPI_MIRROR_URL_1: '\n', DIB_PYPI_MIRROR_URL_2: undefined, DIB_PYPI_MIRROR_URL_Z: '', DIB_PYPI_MIRROR_URLA: 'x' },
    prefix: DIB_PREFIX,
    expected: { urls: [], ignoredNames: ['DIB_PYPI_MIRROR_URLA', 'DIB_PYPI_MIRROR_URL_Z'] },
  },
  {
    name: 'legacy prefix does not see the DIB family',
    vars: { DIB_PYPI_MIRROR_URL: 'a', PYPI_MIRROR_URL_1: 'b', PYPI_MIRROR_URLS: 'c' },
    prefix: LEGACY_PREFIX,
    expected: { urls: [{ name: 'PYPI_MIRROR_URL_1', value: 'b' }], ignoredNames: ['PYPI_MIRROR_URLS'] },
  },
  {
    name: 'non-ASCII digits are not numbers',
    vars: { DIB_PYPI_MIRROR_URL_٣: 'x', DIB_PYPI_MIRROR_URL_3: 'y' },
    prefix: DIB_PREFIX,
    expected: { urls: [{ name: 'DIB_PYPI_MIRROR_URL_3', value: 'y' }], ignoredNames: ['DIB_PYPI_MIRROR_URL_٣'] },
  },
];

for (const row of SCANS) {
  test(`scanMirrorUrls: ${row.name}`, () => {
    assert.deepEqual(scanMirrorUrls(row.vars, row.prefix), row.expected);
  });
}
